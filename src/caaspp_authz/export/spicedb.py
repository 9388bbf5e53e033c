"""The policy and a directory as SpiceDB takes them: a schema, and relationships.

The schema is generated from the catalog: the role catalog's rows are *data* (a role carries a
permission when ``role:R#<permission>@user:*`` is written), so a catalog row that changes is a
relationship that changes, and the schema only names the permissions and capabilities
(P1, T1–T3, G9) and the rules that combine them (O4, V1, V3, V5–V7, U5, T1–T3, G9, G10, G11).

The objects:

- ``user:E``: a principal (its e-mail, encoded by :func:`~caaspp_authz.export._model.encode`);
- ``account:E``: ``account:E#active@user:E`` while the account is active (G11), so every path
  to a permission passes through an active account;
- ``role:R``: one per catalog row, with one relation per permission and capability it carries;
- ``role_binding:E|R|O``: an assignment of role R to account E at organization O;
  ``role_binding:B#subject@account:E#active`` is written only while the assignment is in force
  (its forms are on file, G10), ``#granted@role:R`` always;
- ``organization:O``: ``#parent`` is the LEA of a school (O3), ``#binding`` the assignments held
  there, ``#site@platform:ca`` marks a test site (O3, T1); ``held_<name>`` is held there or at
  its LEA (O4);
- ``student:S``: ``#school`` where its results were earned, ``#group`` the assigned groups
  listing it (V1, V2);
- ``group:G``: ``#school`` and ``#assignee`` (V3);
- ``platform:ca``: Tools for Teachers (V7) and the test-site marker.

Relationships are :class:`Relationship` values; :func:`relationships` lists a directory's,
:func:`zed_import` writes the file ``zed import`` reads. Nothing here imports an engine: the
API's protobuf messages are built by the caller (the tests and the how-to show how).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from caaspp_authz.catalog import ROLES, Permission, by_name
from caaspp_authz.decision import Action
from caaspp_authz.directory import Directory
from caaspp_authz.export._model import (
    GROUP_PERMISSIONS,
    HELD,
    PLATFORM,
    SITE_KEYS,
    Plan,
    Verdict,
    encode,
    group_id,
    holding_names,
    plan,
    role_id,
)

__all__ = [
    "Relationship",
    "account_relationships",
    "binding_id",
    "binding_relationships",
    "catalog_relationships",
    "check_request",
    "group_relationships",
    "organization_relationships",
    "parse_relationship",
    "relationship_counts",
    "relationships",
    "schema",
    "zed_import",
]


@attrs.frozen(order=True)
class Relationship:
    """``resource_type:resource_id#relation@subject_type:subject_id[#subject_relation]``."""

    resource_type: str
    resource_id: str
    relation: str
    subject_type: str
    subject_id: str
    subject_relation: str = ""

    def __str__(self) -> str:
        subject = f"{self.subject_type}:{self.subject_id}"
        if self.subject_relation:
            subject += f"#{self.subject_relation}"
        return f"{self.resource_type}:{self.resource_id}#{self.relation}@{subject}"

    def to_json(self) -> dict[str, Any]:
        """The relationship as the SpiceDB HTTP API writes it."""
        subject: dict[str, Any] = {
            "object": {"objectType": self.subject_type, "objectId": self.subject_id}
        }
        if self.subject_relation:
            subject["optionalRelation"] = self.subject_relation
        return {
            "resource": {"objectType": self.resource_type, "objectId": self.resource_id},
            "relation": self.relation,
            "subject": subject,
        }


_TUPLE = re.compile(
    r"(?P<rt>[a-z_][a-z0-9_]*):(?P<ri>[^#@\s]+)#(?P<rel>[a-z_][a-z0-9_]*)"
    r"@(?P<st>[a-z_][a-z0-9_]*):(?P<si>[^#@\s]+)(?:#(?P<sr>[a-z_][a-z0-9_]*))?"
)


def parse_relationship(text: str) -> Relationship:
    """The relationship a tuple string names; raises ``ValueError`` naming the text."""
    m = _TUPLE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"`{text[:200]}` is not a relationship")
    return Relationship(m["rt"], m["ri"], m["rel"], m["st"], m["si"], m["sr"] or "")


# --- the schema ---------------------------------------------------------------------------


def _or(*terms: str) -> str:
    return " + ".join(terms)


def schema() -> str:
    """The SpiceDB schema of the policy, generated from the catalog's permission and
    capability names (P1, T1–T3, G9) and the decision's rules."""
    names = holding_names()
    pii, pii_group = HELD[Permission.PII.value], HELD[Permission.PII_GROUP.value]
    group_admin = HELD[Permission.GROUP_ADMIN.value]
    dl_end_user = HELD[Permission.DL_END_USER.value]
    lines = [
        "/** A principal: a TOMS account's e-mail (E1). */",
        "definition user {}",
        "",
        "/** G11: `active` holds the account's own user while the account is active. */",
        "definition account {",
        "    relation active: user",
        "}",
        "",
        "/** A catalog row (R2, P2, T1-T3, G9): `role:R#<name>@user:*` when R carries <name>. */",
        "definition role {",
        *(f"    relation {n}: user:*" for n in names),
        "}",
        "",
        "/** An assignment (P4); `subject` is written only while it is in force (G10). */",
        "definition role_binding {",
        "    relation subject: account#active",
        "    relation granted: role",
        *(f"    permission {n} = subject & granted->{n}" for n in names),
        "}",
        "",
        "/** The State's deployment: Tools for Teachers (V7) and the test-site marker (O3). */",
        "definition platform {",
        "    relation anyone: user:*",
        "    relation binding: role_binding",
        f"    permission {Action.ACCESS_TOOLS_FOR_TEACHERS.value} = binding->{dl_end_user}",
        "}",
        "",
        "/** An LEA or a school; a holding at an LEA covers its schools (O4). */",
        "definition organization {",
        "    relation parent: organization",
        "    relation binding: role_binding",
        "    relation site: platform",
        *(f"    permission held_{n} = binding->{n} + parent->held_{n}" for n in names),
        "    permission test_site = site->anyone",
        f"    permission {Action.CREATE_GROUP.value} = held_{group_admin} & test_site",
        *(
            f"    permission site_{HELD[k]} = held_{HELD[k]} & test_site"
            for k in sorted(SITE_KEYS)
        ),
        "}",
        "",
        "/** An assigned student group (V3). */",
        "definition group {",
        "    relation school: organization",
        "    relation assignee: user",
        f"    permission {Action.VIEW_GROUP.value} = "
        + _or(
            f"school->held_{group_admin}",
            f"school->held_{pii}",
            f"(assignee & school->held_{pii_group})",
        ),
        *(
            f"    permission {a.value} = school->held_{group_admin}"
            for a in GROUP_PERMISSIONS
            if a is not Action.VIEW_GROUP
        ),
        "}",
        "",
        "/** A student, at the school where its results were earned (V1, V2). */",
        "definition student {",
        "    relation school: organization",
        "    relation group: group",
        f"    permission {Action.VIEW_STUDENT_RESULTS.value} = "
        + _or(f"school->held_{pii}", f"(group->assignee & school->held_{pii_group})"),
        "}",
        "",
    ]
    return "\n".join(lines)


# --- relationships ------------------------------------------------------------------------


def _rel(rt: str, ri: str, rel: str, st: str, si: str, sr: str = "") -> Relationship:
    return Relationship(rt, ri, rel, st, si, sr)


def binding_id(email: str, role_name: str, org: str) -> str:
    """The object id of the assignment of ``role_name`` to ``email`` at ``org``."""
    return f"{encode(email)}|{role_id(by_name(role_name))}|{encode(org)}"


def catalog_relationships() -> Iterator[Relationship]:
    """R2, P2, T1–T3, G9: every catalog row's permissions and capabilities as relationships."""
    for role in ROLES:
        for name in sorted(HELD[k] for k in role.scope_keys):
            yield _rel("role", role_id(role), name, "user", "*")


def binding_relationships(
    email: str, role_name: str, org: str, *, in_force: bool
) -> list[Relationship]:
    """An assignment's relationships (P4, O4, V7); ``subject`` only while in force (G10)."""
    b = binding_id(email, role_name, org)
    found = [
        _rel("role_binding", b, "granted", "role", role_id(by_name(role_name))),
        _rel("organization", encode(org), "binding", "role_binding", b),
        _rel("platform", PLATFORM, "binding", "role_binding", b),
    ]
    if in_force:
        found.append(_rel("role_binding", b, "subject", "account", encode(email), "active"))
    return found


def account_relationships(email: str, *, active: bool) -> list[Relationship]:
    """G11: the account's ``active`` relationship, while it is active."""
    e = encode(email)
    return [_rel("account", e, "active", "user", e)] if active else []


def organization_relationships(directory: Directory) -> Iterator[Relationship]:
    """O3, O4: schools under their LEA; test sites marked (T1)."""
    tree = directory.tree
    for org in tree:
        if org.lea is not None:
            yield _rel("organization", encode(org.cds), "parent", "organization", encode(org.lea))
        if tree.is_test_site(org.cds):
            yield _rel("organization", encode(org.cds), "site", "platform", PLATFORM)


def group_relationships(
    school: str, key_id: str, students: Iterable[str], users: Iterable[str]
) -> list[Relationship]:
    """V1, V3: a group's school, its students' membership and its assignees."""
    found = [_rel("group", key_id, "school", "organization", encode(school))]
    found.extend(_rel("student", encode(s), "group", "group", key_id) for s in sorted(students))
    found.extend(_rel("group", key_id, "assignee", "user", encode(u)) for u in sorted(users))
    return found


def relationships(directory: Directory) -> list[Relationship]:
    """Every relationship of ``directory`` and of the catalog, in a fixed order."""
    found: list[Relationship] = [_rel("platform", PLATFORM, "anyone", "user", "*")]
    found.extend(catalog_relationships())
    found.extend(organization_relationships(directory))
    for account in directory.accounts.values():
        found.extend(account_relationships(account.email, active=account.active))
        for a in account.assignments:
            found.extend(
                binding_relationships(
                    account.email, a.role.name, a.org, in_force=account.in_force(a)
                )
            )
    for s in directory.students.values():
        found.append(_rel("student", encode(s.ssid), "school", "organization", encode(s.school)))
    for g in directory.groups.values():
        found.extend(group_relationships(g.key.school, group_id(g.key), g.students, g.users))
    return sorted(set(found))


def relationship_counts(directory: Directory) -> dict[str, int]:
    """How many relationships :func:`relationships` gives, by kind, without building them
    (for sizing an engine: a statewide directory has millions)."""
    tree = directory.tree
    counts = {
        "catalog": 1 + sum(len(r.scope_keys) for r in ROLES),
        "organizations": sum((org.lea is not None) + tree.is_test_site(org.cds) for org in tree),
        "accounts": 0,
        "assignments": 0,
        "students": len(directory.students),
        "groups": 0,
    }
    for account in directory.accounts.values():
        counts["accounts"] += account.active
        held = {(a.role.name, a.org): account.in_force(a) for a in account.assignments}
        counts["assignments"] += sum(3 + in_force for in_force in held.values())
    members: set[tuple[str, str]] = set()
    for g in directory.groups.values():
        gid = group_id(g.key)
        counts["groups"] += 1 + len(g.users)
        members.update((s, gid) for s in g.students)
    counts["groups"] += len(members)
    return counts


def zed_import(schema_text: str, rels: Sequence[Relationship]) -> str:
    """The YAML file ``zed import`` (and ``zed validate``) reads: schema and relationships."""
    body = "\n".join(f"  {line}" if line else "" for line in schema_text.splitlines())
    tuples = "\n".join(f"  {r}" for r in rels)
    return f"schema: |-\n{body}\nrelationships: |-\n{tuples}\n"


# --- requests -----------------------------------------------------------------------------


def check_request(
    directory: Directory, email: str, action: Action, resource: object
) -> dict[str, Any]:
    """One request in the engine's form (``export --requests``): the CheckPermission fields
    ``resource``, ``permission``, ``subject`` and ``context``; for a request of several checks
    (a report, V5) ``checks`` lists them, all to be allowed; a request the library decides
    itself has ``"library"`` or ``"denied"`` and its reason instead."""
    p: Plan = plan(directory, action, resource)
    subject = {"object": {"objectType": "user", "objectId": encode(email)}}
    if p.verdict is not Verdict.ENGINE:
        return {p.verdict.value: True, "reason": p.reason}
    checks = [
        {
            "resource": {"objectType": c.resource_type, "objectId": c.resource_id},
            "permission": c.permission,
            "subject": subject,
            "context": {},
        }
        for c in p.checks
    ]
    if len(checks) == 1:
        return checks[0]
    return {"checks": checks}
