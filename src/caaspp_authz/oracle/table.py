"""The exhaustive decision table, as directories and the requests decided against them.

The table enumerates, for each rule set (E7), every actor (each role in force, with forms on
file and a credential; the primary and a secondary LEA coordinator, R7; the superintendent, R6)
× every action × every relation between the actor's organization and the resource's (O4) × the
resource variants that matter (a student with and without an assigned group, V1; each target
role of a grant or an account action, active or inactive, G3, G8, G11; the program and
assessment of the per-program actions, T2, T3). One :class:`World` is built per rule set and
actor: a directory holding a separate canonical resource for every relation and variant, so
that no two cells share the objects their decision reads.

The conformance corpus (:mod:`caaspp_authz.oracle.corpus`) is written from these worlds, and
``caaspp-authz check-policy`` and ``caaspp-authz diff`` read them.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from caaspp_authz.accounts import Account, Assignment, Email, RuleSet
from caaspp_authz.catalog import ROLES, Form, Program, Role, RoleLevel, by_name
from caaspp_authz.decision import Action, decide
from caaspp_authz.directory import Directory
from caaspp_authz.orgs import CDSCode, Level, Organization
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
)

__all__ = ["HEADER", "Case", "Cell", "World", "rows", "worlds"]

HEADER = ("rule_set", "role", "action", "relation", "variant", "allowed", "rules")
"""The columns of a line of the table, as :func:`rows` gives them."""

LEA_A = CDSCode("01000010000000")
SCHOOL_A1 = CDSCode("01000010000001")
SCHOOL_A2 = CDSCode("01000010000002")
LEA_B = CDSCode("01000020000000")
SCHOOL_B1 = CDSCode("01000020000001")
ORGS = (
    Organization(LEA_A, "District A", Level.LEA),
    Organization(SCHOOL_A1, "School A1", Level.SCHOOL, LEA_A),
    Organization(SCHOOL_A2, "School A2", Level.SCHOOL, LEA_A),
    Organization(LEA_B, "District B", Level.LEA),
    Organization(SCHOOL_B1, "School B1", Level.SCHOOL, LEA_B),
)
LEAS = frozenset({LEA_A, LEA_B})

# Relations: where the resource's organization is, seen from the actor's organization.
AT_SCHOOL = {  # the actor holds its role at school A1
    "school:same_school": SCHOOL_A1,
    "school:sibling_school": SCHOOL_A2,
    "school:lea_of_holder_school": LEA_A,
    "school:other_lea": LEA_B,
    "school:school_in_other_lea": SCHOOL_B1,
}
AT_LEA = {  # the actor holds its role at LEA A
    "lea:holder_lea": LEA_A,
    "lea:school_in_holder_lea": SCHOOL_A1,
    "lea:other_lea": LEA_B,
    "lea:school_in_other_lea": SCHOOL_B1,
}
ACTOR = Email("actor@example.org")
YEAR = 2026
ALL_FORMS = {p: frozenset(Form) for p in Program}
SUPERINTENDENT = "Superintendent (R6)"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _holdable(role: Role, code: CDSCode) -> bool:
    return role.may_be_held_at(lea=code in LEAS, test_site=code not in LEAS)


def _actors() -> Iterator[tuple[str, Account, dict[str, CDSCode]]]:
    """Every actor: a role in force at a school or an LEA, and the superintendent (R6)."""
    for role in ROLES:
        places = []
        if role.level in (RoleLevel.SCHOOL, RoleLevel.ANY):
            places.append(("school", SCHOOL_A1, AT_SCHOOL))
        if role.level in (RoleLevel.LEA, RoleLevel.ANY):
            places.append(("LEA", LEA_A, AT_LEA))
        for level, code, relations in places:
            primaries = (True, False) if role.has_primary else (False,)
            for primary in primaries:
                name = role.name
                if role.level is RoleLevel.ANY:
                    name += f" (at {level})"
                if role.has_primary:
                    name += " (primary)" if primary else " (secondary)"
                account = Account(
                    ACTOR,
                    credentialed=True,
                    forms=ALL_FORMS,
                    assignments=[Assignment(role, code, primary)],
                )
                yield name, account, relations
    yield SUPERINTENDENT, Account(ACTOR, forms=ALL_FORMS, superintendent_of=LEA_A), AT_LEA


class _Builder:
    """Collects one actor's canonical resources and the requests on them."""

    def __init__(self) -> None:
        self.accounts: dict[Email, Account] = {}
        self.students: list[Student] = []
        self.groups: list[Group] = []
        self.customs: list[CustomGroup] = []
        self.requests: list[tuple[Action, str, str, object]] = []
        self._n = 0

    def _ssid(self) -> str:
        self._n += 1
        return f"{self._n:010d}"

    def target(self, role: Role, code: CDSCode, tag: str, *, active: bool = True) -> Account:
        email = Email(f"{_slug(role.name)}.{tag}@{code}.org")
        account = Account(
            email,
            credentialed=True,
            active=active,
            forms=ALL_FORMS,
            assignments=[Assignment(role, code)],
        )
        self.accounts[email] = account
        return account

    def add(self, action: Action, relation: str, variant: str, resource: object) -> None:
        self.requests.append((action, relation, variant, resource))

    def relation(self, relation: str, code: CDSCode) -> None:
        self._cers(relation, code)
        self.add(Action.CREATE_AGGREGATE_REPORT, relation, "-", Report((code,)))
        self.add(Action.VIEW_AGGREGATE_REPORT, relation, "-", Report((code,)))
        self.add(Action.EXPORT_AGGREGATE_REPORT, relation, "-", Report((code,)))
        self.add(Action.MANAGE_RESOURCE_LINKS, relation, "-", ResourceLink(code))
        self.add(Action.ACCESS_TOOLS_FOR_TEACHERS, relation, "-", ToolsForTeachers())
        org = next(o for o in ORGS if o.cds == code)
        for action in Action:
            if action.value.startswith(("administer_", "upload_")) or action in (
                Action.MANAGE_TEST_SETTINGS,
                Action.HAND_SCORE_INTERIM,
                Action.VIEW_COMPLETION_STATUS,
            ):
                self.add(action, relation, "-", org)
        # T2, T3: the per-program actions for each program and assessment.
        self.add(Action.MANAGE_TEST_SETTINGS, relation, "ELPAC", ProgramScope(org, Program.ELPAC))
        for program in Program:
            for assessment in Assessment:
                self.add(
                    Action.VIEW_COMPLETION_STATUS,
                    relation,
                    f"{program.value} {assessment.value}",
                    ProgramScope(org, program, assessment),
                )
        tag = _slug(relation)
        for role in ROLES:
            if not _holdable(role, code):
                continue
            held = self.target(role, code, tag)
            for action in (
                Action.EDIT_ACCOUNT,
                Action.DEACTIVATE_ACCOUNT,
                Action.REACTIVATE_ACCOUNT,
                Action.RESET_PASSWORD,
                Action.DELETE_ACCOUNT,
            ):
                self.add(action, relation, f"target {role.name}", held)
            # G7, G8, G11: an inactive account holding the role.
            asleep = self.target(role, code, f"{tag}.inactive", active=False)
            for action in (Action.REACTIVATE_ACCOUNT, Action.RESET_PASSWORD):
                self.add(action, relation, f"inactive target {role.name}", asleep)
            self.add(
                Action.ADD_ROLE,
                relation,
                f"{role.name} to an inactive holder",
                Grant(asleep.email, role, code, credentialed=True),
            )
            self.add(Action.REMOVE_ROLE, relation, role.name, Grant(held.email, role, code))
            new = Email(f"new.{_slug(role.name)}.{tag}@example.org")
            self.add(
                Action.ADD_ROLE, relation, role.name, Grant(new, role, code, credentialed=True)
            )
            if role.has_primary:
                self.add(
                    Action.ADD_ROLE,
                    relation,
                    f"{role.name} (primary)",
                    Grant(new, role, code, primary=True, credentialed=True),
                )

    def _cers(self, relation: str, code: CDSCode) -> None:
        """V1–V4 on a student and groups at ``code``, with and without an assigned group."""
        if code in LEAS:
            return  # students and groups belong to schools
        tag = _slug(relation)
        # V3: an assignee holding a role the group opens to (PII_GROUP at its school).
        assignee = self.target(by_name("Educator—Roster"), code, f"{tag}.assignee")
        idle = self.target(by_name("Tools for Teachers Only"), code, f"{tag}.idle")
        same_lea = code.startswith(str(LEA_A)[:7])
        for assigned in (True, False):
            if assigned and not same_lea:
                continue  # V3: a group is assigned only to users with a role in its LEA
            variant = "assigned group" if assigned else "no assigned group"
            ssid = self._ssid()
            self.students.append(Student(ssid, code))
            key = GroupKey(code, YEAR, f"{tag} {variant}")
            users = {assignee.email} | ({ACTOR} if assigned else set())
            self.groups.append(Group(key, "All", {ssid}, users))
            self.add(Action.VIEW_STUDENT_RESULTS, relation, variant, self.students[-1])
            for action in (Action.VIEW_GROUP, Action.EDIT_GROUP, Action.DELETE_GROUP):
                self.add(action, relation, variant, key)
            self.add(Action.ASSIGN_GROUP, relation, variant, GroupAssignment(key, assignee.email))
            self.add(  # V3: a group opens nothing to Tools for Teachers Only
                Action.ASSIGN_GROUP,
                relation,
                f"{variant}, to Tools for Teachers Only",
                GroupAssignment(key, idle.email),
            )
            mine = CustomGroup(ACTOR, f"{tag} {variant}", {ssid})
            self.add(Action.CREATE_CUSTOM_GROUP, relation, variant, mine)
            existing = CustomGroup(ACTOR, f"{tag} {variant} existing", {ssid})
            self.customs.append(existing)
            for action in (
                Action.EDIT_CUSTOM_GROUP,
                Action.DELETE_CUSTOM_GROUP,
                Action.VIEW_CUSTOM_GROUP,
            ):
                self.add(action, relation, variant, existing)
        self.add(Action.CREATE_GROUP, relation, "new group", GroupKey(code, YEAR, f"{tag} new"))


@attrs.frozen
class Cell:
    """Where a case sits in the table: rule set, actor, action, relation and variant."""

    rule_set: str
    actor: str
    action: str
    relation: str
    variant: str


@attrs.frozen
class Case:
    """One request of a world: its cell and the resource the actor acts on."""

    cell: Cell
    action: Action
    resource: object


@attrs.frozen
class World:
    """One rule set and actor: the directory and every case decided in it."""

    rule_set: RuleSet
    actor: str
    directory: Directory
    cases: tuple[Case, ...]


def worlds() -> Iterator[World]:
    """Every world of the table, in a fixed order (rule set, then actor as :data:`ROLES`)."""
    for rule_set in RuleSet:
        for name, actor, relations in _actors():
            b = _Builder()
            for relation, code in relations.items():
                b.relation(relation, code)
            if not actor.assignments:  # V3: a superintendent holds no role to be assigned groups
                b.groups = [
                    Group(g.key, g.subject, g.students, g.users - {ACTOR}) for g in b.groups
                ]
            directory = Directory.build(
                organizations=ORGS,
                accounts=[actor, *b.accounts.values()],
                students=b.students,
                groups=b.groups,
                custom_groups=b.customs,
                rule_set=rule_set,
            )
            cases = tuple(
                Case(Cell(rule_set.value, name, action.value, relation, variant), action, resource)
                for action, relation, variant, resource in b.requests
            )
            yield World(rule_set, name, directory, cases)


def rows() -> list[tuple[str, ...]]:
    """Every line of the table: ``rule_set, role, action, relation, variant, allowed, rules``.

    Sorted and without repeats, as the golden decision table of the test suite holds them.
    """
    out: set[tuple[str, ...]] = set()
    for world in worlds():
        user = world.directory.user(ACTOR)
        for case in world.cases:
            d = decide(user, case.action, case.resource)
            c = case.cell
            verdict = "allow" if d.allowed else "deny"
            out.add(
                (c.rule_set, c.actor, c.action, c.relation, c.variant, verdict, ",".join(d.rules))
            )
    return sorted(out)
