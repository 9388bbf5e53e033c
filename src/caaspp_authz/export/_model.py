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

from caaspp_authz.catalog import AT_TEST_SITES, ROLES, Permission, Role
from caaspp_authz.decision import POLICY, Action, actions_on, organization_need
from caaspp_authz.directory import Directory
from caaspp_authz.orgs import CDSCode, Level, Organization
from caaspp_authz.resources import GroupKey, Report, ResourceLink, Student

__all__ = [
    "EXPORTED",
    "GROUP_PERMISSIONS",
    "HELD",
    "LIBRARY_ONLY",
    "ORGANIZATION_ACTIONS",
    "PLATFORM",
    "REPORT_ACTIONS",
    "SITE_KEYS",
    "SITE_ONLY",
    "Check",
    "Plan",
    "Verdict",
    "decode",
    "encode",
    "engine_name",
    "group_id",
    "holding_names",
    "organization_permission",
    "plain_permission",
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


def engine_name(key: str) -> str:
    """The engine's name of a scope key: ``PII`` → ``pii``, ``manage_test_settings:ELPAC`` →
    ``manage_test_settings_elpac``."""
    return key.lower().replace(":", "_")


def _keys() -> tuple[str, ...]:
    """P2, T1–T3, G9: every scope key a role of the catalog may carry, permissions first."""
    carried = set().union(*(r.scope_keys for r in ROLES))
    first = [p.value for p in Permission]
    return (*first, *sorted(carried - set(first)))


HELD: Mapping[str, str] = {k: engine_name(k) for k in _keys()}
"""Every scope key of the catalog (``"PII"``, ``"manage_test_settings:ELPAC"``) → its engine
name; the keys are those of :attr:`Role.scope_keys <caaspp_authz.catalog.Role.scope_keys>`."""


def holding_names() -> tuple[str, ...]:
    """P1, T1–T3, G9: every scope key a role may carry, as engine names."""
    return tuple(HELD.values())


_SAMPLES: tuple[object, ...] = (
    Organization(CDSCode("00000000000000"), "", Level.LEA),
    ResourceLink(CDSCode("00000000000000")),
)


def _plain_need(action: Action) -> str | None:
    for sample in _SAMPLES:
        if isinstance(sample, POLICY[action].kinds):
            need = organization_need(action, sample)
            if need is not None:
                return need[0]
    return None


ORGANIZATION_ACTIONS: frozenset[Action] = frozenset(
    a for a in Action if _plain_need(a) is not None
)
"""V6, T1–T3, G9, U5: the actions decided by a permission or capability held over an
organization (O4), as :func:`~caaspp_authz.decision.organization_need` names it."""

SITE_ONLY: frozenset[Action] = frozenset(Action(c.value) for c in AT_TEST_SITES)
"""T1: the actions over an organization asked at test sites only (the catalog's
``AT_TEST_SITES``): their engine permission also needs the organization to be a test site."""

SITE_KEYS: frozenset[str] = frozenset(
    key for a in SITE_ONLY if (key := _plain_need(a)) is not None
)
"""The scope keys of the test-site-only actions, which get a ``site_`` permission."""

REPORT_ACTIONS: frozenset[Action] = actions_on(Report)
"""V5: the report actions, one check of CUSTOM_AGGREGATE_REPORTER per organization."""


def organization_permission(action: Action, key: str) -> str:
    """The organization's engine permission for ``action`` needing ``key`` (O4, T1)."""
    name = HELD[key]
    return f"site_{name}" if action in SITE_ONLY else f"held_{name}"


def plain_permission(action: Action) -> str:
    """The engine permission of ``action`` on a plain organization (or resource link)."""
    key = _plain_need(action)
    assert key is not None, action
    return organization_permission(action, key)


GROUP_PERMISSIONS = (Action.VIEW_GROUP, Action.EDIT_GROUP, Action.DELETE_GROUP)
"""V3: the actions on an existing assigned group, engine permissions of the group."""

EXPORTED: frozenset[Action] = frozenset(
    {
        Action.VIEW_STUDENT_RESULTS,
        *GROUP_PERMISSIONS,
        Action.CREATE_GROUP,
        Action.ACCESS_TOOLS_FOR_TEACHERS,
        *ORGANIZATION_ACTIONS,
        *REPORT_ACTIONS,
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
    if not isinstance(resource, POLICY[action].kinds):
        return _denied(f"`{action.value}` does not act on `{type(resource).__name__}`")
    if action is Action.VIEW_STUDENT_RESULTS:
        assert isinstance(resource, Student)
        if directory.students.get(resource.ssid) != resource:  # V1: the directory's student
            return _denied(f"the directory holds no student `{resource.ssid}` there")
        return _engine(Check("student", encode(resource.ssid), action.value))
    if action in GROUP_PERMISSIONS or action is Action.CREATE_GROUP:
        assert isinstance(resource, GroupKey)
        if action is Action.CREATE_GROUP:
            if resource in directory.groups:
                return _denied(f"group {resource} already exists")  # V3
            return _engine(Check("organization", encode(resource.school), action.value))
        return _engine(Check("group", group_id(resource), action.value))
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        return _engine(Check("platform", PLATFORM, action.value))  # V7
    if action in REPORT_ACTIONS:
        assert isinstance(resource, Report)
        if not resource.organizations:
            return _denied("the report names no organization")  # V5
        held = f"held_{HELD[Permission.CUSTOM_AGGREGATE_REPORTER.value]}"
        codes = dict.fromkeys(resource.organizations)
        return _engine(*(Check("organization", encode(code), held) for code in codes))  # V5
    need = organization_need(action, resource)
    if need is None:  # T2: an assessment the action does not take
        return _denied(f"`{action.value}` does not take this resource")
    key, code = need  # V6, T1–T3, G9, U5
    return _engine(Check("organization", encode(code), organization_permission(action, key)))
