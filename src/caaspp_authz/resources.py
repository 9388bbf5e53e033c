"""What a request acts on: students, groups, reports, accounts, grants and the rest.

Each resource is a small immutable value. Stored things (a :class:`Student`, a :class:`Group`,
a :class:`CustomGroup`) are what the :class:`~caaspp_authz.directory.Directory` holds; the
others name things by identifier and are resolved against the user's directory when decided.
:class:`Unknown` stands for anything a request named that the directory does not hold: every
action on it is denied, never raised on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from caaspp_authz.accounts import Email
from caaspp_authz.catalog import Program, Role
from caaspp_authz.orgs import CDSCode, Organization

__all__ = [
    "SUBJECTS",
    "Assessment",
    "CustomGroup",
    "Grant",
    "Group",
    "GroupAssignment",
    "GroupKey",
    "GroupRef",
    "ProgramScope",
    "Report",
    "Resource",
    "ResourceLink",
    "Student",
    "ToolsForTeachers",
    "Unknown",
]

SUBJECTS = ("All", "Math", "ELA")
"""The subject codes of a student group (U5)."""


def _masked(ssid: object) -> str:
    """An SSID for a ``repr``: all but its last four characters masked (FERPA)."""
    if not isinstance(ssid, str):
        return f"<{type(ssid).__name__}>"
    return repr("*" * max(len(ssid) - 4, 0) + ssid[-4:])


def _texts(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _emails(values: Iterable[Email]) -> frozenset[Email]:
    return frozenset(values)


def _codes(values: Iterable[CDSCode]) -> tuple[CDSCode, ...]:
    return tuple(values)


@attrs.frozen
class Student:
    """A student, by SSID, and the school where its results were earned (V1).

    Decisions take a student the directory holds: :meth:`Directory.student
    <caaspp_authz.directory.Directory.student>` returns it. A value built by hand is decided
    as the directory's record with the same SSID when equal to it, and denied otherwise.

    Its ``repr`` masks the SSID but for its last four digits (``Student(ssid='******0001',
    school='19647331111111')``): enough to tell test students apart, not a student's
    identifier in a log line.
    """

    ssid: str = attrs.field(repr=lambda ssid: _masked(ssid))
    school: CDSCode
    _home: object = attrs.field(init=False, default=None, eq=False, repr=False)
    """The student index of the directory holding this very value, set when it is built, so
    that a decision knows the value is the directory's own without a lookup."""


@attrs.frozen
class GroupKey:
    """What identifies an assigned student group: its school, school year and name (U5)."""

    school: CDSCode
    school_year: int
    name: str

    def __str__(self) -> str:
        return f"`{self.name}` ({self.school_year}) at `{self.school}`"


GroupRef = GroupKey
"""A request names a group by its key."""


@attrs.frozen
class Group:
    """An assigned student group (V3): its students and the users it is assigned to."""

    key: GroupKey
    subject: str = "All"
    students: frozenset[str] = attrs.field(default=frozenset(), converter=_texts)
    users: frozenset[Email] = attrs.field(default=frozenset(), converter=_emails)


@attrs.frozen
class GroupAssignment:
    """Assigning the group ``group`` to the user ``to`` (V3)."""

    group: GroupKey
    to: Email


@attrs.frozen
class CustomGroup:
    """A user's own custom group (V4): its owner, name and students."""

    owner: Email
    name: str
    students: frozenset[str] = attrs.field(default=frozenset(), converter=_texts)


@attrs.frozen
class Report:
    """A custom aggregate report over some organizations (V5)."""

    organizations: tuple[CDSCode, ...] = attrs.field(converter=_codes)


@attrs.frozen
class ResourceLink:
    """Links to instructional resources published to an organization (V6)."""

    organization: CDSCode


class Assessment(enum.Enum):
    """Which completion status reports a request asks for (T3)."""

    ALL = "all"
    """Every completion status report of the program."""
    INTERIM = "interim"
    """Interim assessment completion status only (what IA Administrator Only sees)."""


@attrs.frozen
class ProgramScope:
    """An organization seen for one program (T2, T3): the resource of ``manage_test_settings``
    and ``view_completion_status``, the request format's ``{"organization": CDS, "program":
    ..., "assessment": ...}``.

    A bare :class:`~caaspp_authz.orgs.Organization` asks the same as this with the defaults:
    CAASPP, the program of the guides that describe both actions, and every report.
    ``assessment`` applies to ``view_completion_status`` only; ``manage_test_settings`` denies
    a scope that names ``interim``.
    """

    organization: Organization
    program: Program = Program.CAASPP
    assessment: Assessment = Assessment.ALL

    @property
    def cds(self) -> CDSCode:
        """The organization's CDS code."""
        return self.organization.cds


@attrs.frozen
class ToolsForTeachers:
    """Tools for Teachers itself (V7)."""


@attrs.frozen
class Grant:
    """Role ``role`` at ``organization`` for the account ``to`` (G1–G6).

    An e-mail with no account yet means creating that account with this role; ``credentialed``
    is the grantor's attestation for a role that needs a credential (R5).
    """

    to: Email
    role: Role
    organization: CDSCode
    primary: bool = False
    credentialed: bool = False


@attrs.frozen
class Unknown:
    """Something a request named that the directory does not hold; always denied.

    ``rules`` and ``fix`` go into the denial: a role name that is no spelling of the catalog
    names R4 and suggests the closest role, as an upload row does.
    """

    kind: str
    value: str
    rules: tuple[str, ...] = ()
    fix: str | None = None

    def __str__(self) -> str:
        return f"unknown {self.kind} `{self.value}`"


Resource = object
"""Any resource value; the action decides which kinds it accepts, and denies the rest."""
