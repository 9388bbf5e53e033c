"""caaspp_authz: who may do what in California's CAASPP and ELPAC assessment systems.

The everyday API: load a directory, resolve a user and a resource, and ask ``can``::

    from caaspp_authz import Action, can, load_directory

    directory = load_directory("examples/directory.json")
    teacher = directory.user("teacher@example.org")
    student = directory.student("1000000001")
    can(teacher, Action.VIEW_STUDENT_RESULTS, student)
"""

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

from caaspp_authz import _layered as _layered  # Directory.with_changes: imported once, here
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet, canonical_email
from caaspp_authz.catalog import (
    GRANTS,
    ROLES,
    Capability,
    Form,
    GrantRule,
    Permission,
    Program,
    Role,
    RoleLevel,
    at_least,
    highest,
    resolve_role,
    role,
)
from caaspp_authz.decision import Action, Decision, can, decide, explain, governs
from caaspp_authz.directory import Directory, User
from caaspp_authz.errors import (
    CaasppAuthzError,
    DirectoryError,
    InvalidCDSCode,
    InvalidEmail,
    Problem,
    RequestError,
    Severity,
    UnknownRole,
)
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree, parse_cds
from caaspp_authz.request import Request
from caaspp_authz.resources import (
    Assessment,
    CustomGroup,
    Grant,
    Group,
    GroupAssignment,
    GroupKey,
    ProgramScope,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
)
from caaspp_authz.serialize import dump_directory, load_directory

try:
    __version__: str = _version("caaspp-authz")
    """The installed distribution's version (``caaspp-authz --version`` prints it)."""
except _NotInstalled:  # pragma: no cover - run from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "GRANTS",
    "ROLES",
    "Account",
    "Action",
    "Assessment",
    "Assignment",
    "CDSCode",
    "CaasppAuthzError",
    "Capability",
    "CustomGroup",
    "Decision",
    "Directory",
    "DirectoryError",
    "Email",
    "Form",
    "Grant",
    "GrantRule",
    "Group",
    "GroupAssignment",
    "GroupKey",
    "InvalidCDSCode",
    "InvalidEmail",
    "Level",
    "OrgTree",
    "Organization",
    "Permission",
    "Problem",
    "Program",
    "ProgramScope",
    "Report",
    "Request",
    "RequestError",
    "ResourceLink",
    "Role",
    "RoleLevel",
    "RuleSet",
    "Severity",
    "Student",
    "ToolsForTeachers",
    "Unknown",
    "UnknownRole",
    "User",
    "at_least",
    "can",
    "canonical_email",
    "decide",
    "dump_directory",
    "explain",
    "governs",
    "highest",
    "load_directory",
    "parse_cds",
    "resolve_role",
    "role",
]
