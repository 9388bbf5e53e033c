"""The policy and a directory as Cedar takes them: a schema, policies and entities.

Generated from the catalog, like the SpiceDB export, with the same object ids:

- ``User``: ``active`` (G11) and ``assigned``, the groups assigned to it (V1, V3); its parents
  are the ``RoleAt`` entities of its assignments in force (G10);
- ``RoleAt::"<role>|<org>"``: a role held at an organization; its parents are the
  ``Holding`` entities of every permission and capability the catalog gives the role there
  (R2, P2, T1–T3, G9): the catalog is entity data;
- ``Holding::"<name>|<org>"``: a permission or capability held at an organization; one held at
  an LEA is a child of the same holding at each of its schools (O4), and every holding is a
  child of ``Holding::"<name>|anywhere"`` (V7);
- ``Organization``: ``test_site`` (O3) and, for each name, ``held_<name>``, its ``Holding``;
- ``Student``: ``school`` and ``groups``, the assigned groups listing it (V1, V2);
- ``Group``: ``school`` (V3); ``Platform::"ca"``: Tools for Teachers (V7).

Cedar's ``in`` follows the hierarchy, so "a user holds PII over this school" is
``principal in resource.school.held_pii``. Cedar has no list API and no join: the group path of
V1 is ``principal.assigned.containsAny(resource.groups)``. Nothing here imports ``cedarpy``.
"""

from __future__ import annotations

from typing import Any

from caaspp_authz.catalog import ROLES, Permission
from caaspp_authz.decision import Action
from caaspp_authz.directory import Directory
from caaspp_authz.export._model import (
    EXPORTED,
    GROUP_PERMISSIONS,
    HELD,
    ORGANIZATION_ACTIONS,
    PLATFORM,
    REPORT_ACTIONS,
    SITE_KEYS,
    Check,
    Verdict,
    encode,
    group_id,
    holding_names,
    plan,
    role_id,
)

__all__ = ["entities", "policies", "request_for", "requests_for", "schema"]

ANYWHERE = "anywhere"
"""The organization part of the holdings that say "held somewhere" (V7)."""

_TYPES = {
    "student": "Student",
    "group": "Group",
    "organization": "Organization",
    "platform": "Platform",
}


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": kind, "id": ident}


def _ref(kind: str, ident: str) -> dict[str, Any]:
    return {"__entity": _uid(kind, ident)}


def _entity(kind: str) -> dict[str, Any]:
    return {"type": "Entity", "name": kind}


def schema() -> dict[str, Any]:
    """The Cedar schema, in Cedar's JSON schema format, generated from the catalog's names."""
    names = holding_names()
    org_attrs: dict[str, Any] = {"test_site": {"type": "Boolean"}}
    org_attrs.update({f"held_{n}": _entity("Holding") for n in names})

    def record(attrs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "Record", "attributes": attrs}

    entity_types = {
        "User": {
            "memberOfTypes": ["RoleAt"],
            "shape": record(
                {
                    "active": {"type": "Boolean"},
                    "assigned": {"type": "Set", "element": _entity("Group")},
                }
            ),
        },
        "RoleAt": {"memberOfTypes": ["Holding"]},
        "Holding": {"memberOfTypes": ["Holding"]},
        "Organization": {"shape": record(org_attrs)},
        "Group": {"shape": record({"school": _entity("Organization")})},
        "Student": {
            "shape": record(
                {
                    "school": _entity("Organization"),
                    "groups": {"type": "Set", "element": _entity("Group")},
                }
            )
        },
        "Platform": {},
    }

    def applies(resource: str) -> dict[str, Any]:
        return {
            "appliesTo": {
                "principalTypes": ["User"],
                "resourceTypes": [resource],
                "context": record({}),
            }
        }

    actions: dict[str, Any] = {}
    for action in sorted(EXPORTED - ORGANIZATION_ACTIONS - REPORT_ACTIONS, key=lambda a: a.value):
        actions[action.value] = applies(_TYPES[_resource_type(action)])
    for name in holding_names():  # O4: a holding over an organization, one action each
        actions[f"held_{name}"] = applies("Organization")
    for key in sorted(SITE_KEYS):  # T1: and at a test site
        actions[f"site_{HELD[key]}"] = applies("Organization")
    return {"": {"entityTypes": entity_types, "actions": actions}}


def _resource_type(action: Action) -> str:
    """The engine resource type an exported action checks (the same as SpiceDB's)."""
    if action is Action.VIEW_STUDENT_RESULTS:
        return "student"
    if action in GROUP_PERMISSIONS:
        return "group"
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        return "platform"
    return "organization"


def policies() -> str:
    """The Cedar policies, one a rule, generated from the catalog's names."""
    pii, pii_group = HELD[Permission.PII.value], HELD[Permission.PII_GROUP.value]
    group_admin = HELD[Permission.GROUP_ADMIN.value]
    dl = HELD[Permission.DL_END_USER.value]
    out = [
        "// G11: an inactive account (and one the directory does not hold, E1) may do nothing.",
        "forbid (principal, action, resource)",
        "unless { principal is User && principal has active && principal.active };",
        "",
        "// V1: PII over the school where the result was earned.",
        f'permit (principal, action == Action::"{Action.VIEW_STUDENT_RESULTS.value}", '
        "resource is Student)",
        f"when {{ principal in resource.school.held_{pii} }};",
        "",
        "// V1, V2: PII_GROUP over the school, and the student in a group assigned to the user.",
        f'permit (principal, action == Action::"{Action.VIEW_STUDENT_RESULTS.value}", '
        "resource is Student)",
        "when { principal has assigned && principal.assigned.containsAny(resource.groups) "
        f"&& principal in resource.school.held_{pii_group} }};",
        "",
        "// V3: GROUP_ADMIN or PII over the group's school, or assigned with PII_GROUP there.",
        f'permit (principal, action == Action::"{Action.VIEW_GROUP.value}", resource is Group)',
        f"when {{ principal in resource.school.held_{group_admin} "
        f"|| principal in resource.school.held_{pii} "
        "|| (principal has assigned && principal.assigned.contains(resource) "
        f"&& principal in resource.school.held_{pii_group}) }};",
        "",
    ]
    for action in GROUP_PERMISSIONS:
        if action is Action.VIEW_GROUP:
            continue
        out += [
            "// V3: GROUP_ADMIN over the group's school.",
            f'permit (principal, action == Action::"{action.value}", resource is Group)',
            f"when {{ principal in resource.school.held_{group_admin} }};",
            "",
        ]
    out += [
        "// V3: GROUP_ADMIN over a test site creates groups there.",
        f'permit (principal, action == Action::"{Action.CREATE_GROUP.value}", '
        "resource is Organization)",
        f"when {{ resource.test_site && principal in resource.held_{group_admin} }};",
        "",
        "// V7: DL_END_USER anywhere opens Tools for Teachers.",
        f'permit (principal, action == Action::"{Action.ACCESS_TOOLS_FOR_TEACHERS.value}", '
        "resource is Platform)",
        f'when {{ principal in Holding::"{dl}|{ANYWHERE}" }};',
        "",
    ]
    for name in holding_names():
        out += [
            f"// {name} held over the organization (O4).",
            f'permit (principal, action == Action::"held_{name}", resource is Organization)',
            f"when {{ principal in resource.held_{name} }};",
            "",
        ]
    for key in sorted(SITE_KEYS):
        name = HELD[key]
        out += [
            f"// T1: {name} held over a test site.",
            f'permit (principal, action == Action::"site_{name}", resource is Organization)',
            f"when {{ resource.test_site && principal in resource.held_{name} }};",
            "",
        ]
    return "\n".join(out)


def _holding(name: str, code: str) -> str:
    return f"{name}|{code}"


def entities(directory: Directory) -> list[dict[str, Any]]:
    """The directory as Cedar entities, in Cedar's JSON entity format."""
    names = holding_names()
    tree = directory.tree
    out: list[dict[str, Any]] = [{"uid": _uid("Platform", PLATFORM), "attrs": {}, "parents": []}]
    out.extend(
        {"uid": _uid("Holding", _holding(n, ANYWHERE)), "attrs": {}, "parents": []} for n in names
    )
    for org in tree:
        code = encode(org.cds)
        out.append(
            {
                "uid": _uid("Organization", code),
                "attrs": {
                    "test_site": tree.is_test_site(org.cds),
                    **{f"held_{n}": _ref("Holding", _holding(n, code)) for n in names},
                },
                "parents": [],
            }
        )
        schools = [encode(s) for s in tree.schools_of(org.cds)]
        for n in names:  # O4: a holding at an LEA is in the same holding at its schools
            parents = [_uid("Holding", _holding(n, s)) for s in schools]
            parents.append(_uid("Holding", _holding(n, ANYWHERE)))
            out.append(
                {"uid": _uid("Holding", _holding(n, code)), "attrs": {}, "parents": parents}
            )
    role_ats: set[tuple[str, str]] = set()
    for account in directory.accounts.values():
        in_force = [a for a in account.assignments if account.in_force(a)]  # G10
        role_ats.update((a.role.name, a.org) for a in in_force)
        assigned = [
            _ref("Group", group_id(g.key)) for g in directory.groups_by_user.get(account.email, ())
        ]
        out.append(
            {
                "uid": _uid("User", encode(account.email)),
                "attrs": {"active": account.active, "assigned": assigned},
                "parents": [_uid("RoleAt", _role_at(a.role.name, a.org)) for a in in_force],
            }
        )
    by_name = {r.name: r for r in ROLES}
    for role_name, code in sorted(role_ats):
        role = by_name[role_name]
        carried = sorted(HELD[k] for k in role.scope_keys)
        out.append(
            {
                "uid": _uid("RoleAt", _role_at(role_name, code)),
                "attrs": {},
                "parents": [_uid("Holding", _holding(n, encode(code))) for n in carried],
            }
        )
    groups_of: dict[str, list[dict[str, Any]]] = {}
    for g in directory.groups.values():
        gid = group_id(g.key)
        out.append(
            {
                "uid": _uid("Group", gid),
                "attrs": {"school": _ref("Organization", encode(g.key.school))},
                "parents": [],
            }
        )
        for ssid in g.students:
            groups_of.setdefault(ssid, []).append(_ref("Group", gid))
    for s in directory.students.values():
        out.append(
            {
                "uid": _uid("Student", encode(s.ssid)),
                "attrs": {
                    "school": _ref("Organization", encode(s.school)),
                    "groups": groups_of.get(s.ssid, []),
                },
                "parents": [],
            }
        )
    return out


def _role_at(role_name: str, code: str) -> str:
    return f"{role_id(next(r for r in ROLES if r.name == role_name))}|{encode(code)}"


def request_for(email: str, check: Check) -> dict[str, Any]:
    """One engine check as ``cedarpy.is_authorized`` takes it."""
    return {
        "principal": f'User::"{encode(email)}"',
        "action": f'Action::"{check.permission}"',
        "resource": f'{_TYPES[check.resource_type]}::"{check.resource_id}"',
        "context": {},
    }


def requests_for(
    directory: Directory, email: str, action: Action, resource: object
) -> dict[str, Any]:
    """A request in the engine's form (``export --requests``): the ``is_authorized`` fields,
    or ``checks`` when several must all allow (a report, V5), or ``library``/``denied`` and the
    reason when the library decides it before any engine."""
    p = plan(directory, action, resource)
    if p.verdict is not Verdict.ENGINE:
        return {p.verdict.value: True, "reason": p.reason}
    if len(p.checks) == 1:
        return request_for(email, p.checks[0])
    return {"checks": [request_for(email, c) for c in p.checks]}
