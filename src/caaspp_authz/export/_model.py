"""What both exports share: object ids, the exported names, and how a request becomes checks.

Nothing here imports an engine. The names an engine decides on are derived from the catalog
(:class:`~caaspp_authz.catalog.Permission`, :class:`~caaspp_authz.catalog.Capability`) and
the decision's policy table, so a catalog row that changes flows into both exports.

A request becomes a :class:`Plan`: either engine checks that must all allow, or a verdict the
library reaches before asking an engine (a denial for a resource no engine holds, or an action
the engines are not given), with the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from caaspp_authz.catalog import Capability, Permission, Role
from caaspp_authz.decision import Action
from caaspp_authz.directory import Directory
from caaspp_authz.orgs import Organization
from caaspp_authz.resources import GroupKey, Report, ResourceLink, Student, ToolsForTeachers

__all__ = [
    "EXPORTED",
    "GROUP_PERMISSIONS",
    "HELD",
    "LIBRARY_ONLY",
    "ORGANIZATION_ACTIONS",
    "PLATFORM",
    "SITE_ONLY",
    "Check",
    "Plan",
    "Verdict",
    "decode",
    "encode",
    "group_id",
    "holding_names",
    "plan",
    "role_id",
]

PLATFORM = "ca"
"""The one platform object: the State's deployment (Tools for Teachers, the test-site marker)."""

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def encode(text: str) -> str:
    """An object id for any text: letters, digits, ``_`` and ``-`` kept, every other byte
    written ``=XX`` (SpiceDB ids allow ``[a-zA-Z0-9/_|\\-=+]`` only). Reversible."""
    out: list[str] = []
    for ch in text:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"={b:02x}" for b in ch.encode("utf-8"))
    return "".join(out) or "="


def decode(ident: str) -> str:
    """The text :func:`encode` wrote as ``ident``."""
    if ident == "=":
        return ""
    raw = bytearray()
    i = 0
    while i < len(ident):
        if ident[i] == "=":
            raw.append(int(ident[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(ident[i].encode("ascii"))
            i += 1
    return raw.decode("utf-8")


def _slug(name: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() and ch.isascii() else "_" for ch in name)
    return "_".join(part for part in out.split("_") if part)


def role_id(role: Role) -> str:
    """A role's object id: its current name in lower case, words joined by ``_``."""
    return _slug(role.name)


def group_id(key: GroupKey) -> str:
    """An assigned group's object id: school, school year and encoded name, joined by ``|``."""
    return f"{encode(key.school)}|{key.school_year}|{encode(key.name)}"


def holding_names() -> tuple[str, ...]:
    """P1, T1–T3, G9: every permission and capability a role may carry, as engine names."""
    return (*(p.value.lower() for p in Permission), *(c.value for c in Capability))


HELD: Mapping[str, str] = {
    **{p.value: p.value.lower() for p in Permission},
    **{c.value: c.value for c in Capability},
}
"""A catalog value (``"PII"``, ``"upload_users"``) → its engine name (``pii``, ``upload_users``)."""


def _held(name: Permission | Capability) -> str:
    return HELD[name.value]


ORGANIZATION_ACTIONS: Mapping[Action, str] = {
    Action.MANAGE_RESOURCE_LINKS: _held(Permission.INSTRUCTIONAL_RESOURCE_ADMIN),  # V6
    Action.CREATE_AGGREGATE_REPORT: _held(Permission.CUSTOM_AGGREGATE_REPORTER),  # V5
    Action.VIEW_AGGREGATE_REPORT: _held(Permission.CUSTOM_AGGREGATE_REPORTER),  # V5
    Action.EXPORT_AGGREGATE_REPORT: _held(Permission.CUSTOM_AGGREGATE_REPORTER),  # V5
    Action.UPLOAD_GROUPS: _held(Permission.GROUP_ADMIN),  # U5, V3
    **{Action(c.value): _held(c) for c in Capability},  # T1–T3, G9
}
"""The actions decided by a permission or capability held over an organization (O4): each is
an engine permission of the organization, named as the action, equal to that holding."""

SITE_ONLY: frozenset[Action] = frozenset()
"""The actions over an organization that the decision allows at test sites only (O3, T1):
their engine permission also needs the organization to be a test site. None today: the
decision allows each action over an organization wherever the holding covers it."""

GROUP_PERMISSIONS = (Action.VIEW_GROUP, Action.EDIT_GROUP, Action.DELETE_GROUP)
"""V3: the actions on an existing assigned group, engine permissions of the group."""

EXPORTED: frozenset[Action] = frozenset(
    {
        Action.VIEW_STUDENT_RESULTS,
        *GROUP_PERMISSIONS,
        Action.CREATE_GROUP,
        Action.ACCESS_TOOLS_FOR_TEACHERS,
        *ORGANIZATION_ACTIONS,
    }
)
"""The actions an engine decides (with the library's pre-checks of :func:`plan`)."""

LIBRARY_ONLY: frozenset[Action] = frozenset(Action) - EXPORTED
"""The actions the library decides before it writes anything: grants and account actions
(G1–G8, G11, R5, R7, E2–E5), group assignment (V3) and custom groups (V4)."""


@attrs.frozen
class Check:
    """One engine check: may the principal ``permission`` on ``resource_type:resource_id``."""

    resource_type: str
    resource_id: str
    permission: str


class Verdict(enum.Enum):
    """How a request is decided: by engine checks, or by the library before any engine."""

    ENGINE = "engine"
    DENIED = "denied"
    LIBRARY = "library"


@attrs.frozen
class Plan:
    """A request as an engine takes it: ``checks`` that must all allow (``ENGINE``), or a
    denial before the engine (``DENIED``, with the reason), or an action the engines are not
    given (``LIBRARY``)."""

    verdict: Verdict
    checks: tuple[Check, ...] = ()
    reason: str = ""


def _denied(reason: str) -> Plan:
    return Plan(Verdict.DENIED, (), reason)


def _engine(*checks: Check) -> Plan:
    return Plan(Verdict.ENGINE, checks)


def plan(directory: Directory, action: Action, resource: object) -> Plan:
    """How ``action`` on ``resource`` is asked of an engine holding ``directory``'s export.

    The pre-checks are those the engines cannot make: a resource of the wrong kind or one the
    request names wrongly (a student value that is not the directory's record), a group to
    create that exists already (V3), a report naming no organization (V5). The principal is
    never pre-checked: an unknown or inactive account has no relationship that allows anything.
    """
    if action in LIBRARY_ONLY:
        return Plan(Verdict.LIBRARY, (), f"`{action.value}` is decided by the library")
    if action is Action.VIEW_STUDENT_RESULTS:
        if not isinstance(resource, Student):
            return _denied("not a student")
        if directory.students.get(resource.ssid) != resource:  # V1: the directory's student
            return _denied(f"the directory holds no student `{resource.ssid}` there")
        return _engine(Check("student", encode(resource.ssid), action.value))
    if action in GROUP_PERMISSIONS or action is Action.CREATE_GROUP:
        if not isinstance(resource, GroupKey):
            return _denied("not a group")
        if action is Action.CREATE_GROUP:
            if resource in directory.groups:
                return _denied(f"group {resource} already exists")  # V3
            return _engine(Check("organization", encode(resource.school), action.value))
        return _engine(Check("group", group_id(resource), action.value))
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        if not isinstance(resource, ToolsForTeachers):
            return _denied("not Tools for Teachers")
        return _engine(Check("platform", PLATFORM, action.value))  # V7
    if action is Action.MANAGE_RESOURCE_LINKS:
        if not isinstance(resource, ResourceLink):
            return _denied("not a resource link")
        return _engine(Check("organization", encode(resource.organization), action.value))  # V6
    if action in (
        Action.CREATE_AGGREGATE_REPORT,
        Action.VIEW_AGGREGATE_REPORT,
        Action.EXPORT_AGGREGATE_REPORT,
    ):
        if not isinstance(resource, Report):
            return _denied("not a report")
        if not resource.organizations:
            return _denied("the report names no organization")  # V5
        codes = dict.fromkeys(resource.organizations)
        return _engine(
            *(Check("organization", encode(code), action.value) for code in codes)
        )  # V5
    if not isinstance(resource, Organization):
        return _denied("not an organization")
    return _engine(Check("organization", encode(resource.cds), action.value))  # T1–T3, G9, U5
