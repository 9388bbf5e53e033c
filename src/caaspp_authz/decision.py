"""The decision: ``can(user, action, resource)`` and ``decide(...)``.

Deny by default: an action is allowed only when one of the checks below allows it. The checks
read the catalog tables through the user's precomputed scopes; none names a role. Each action
is one row of :data:`POLICY`: the resource kinds it takes and the check that decides it.

A :class:`Decision` carries the rule IDs that decided it, a reason, and for a denial what would
change the answer. Allowing decisions on the hot paths are shared constants, so ``can`` does
not allocate.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from caaspp_authz._access import may_be_assigned, student_check
from caaspp_authz.accounts import Account, Assignment, RuleSet
from caaspp_authz.catalog import (
    AT_TEST_SITES,
    SUPERINTENDENT,
    Capability,
    Form,
    Permission,
    Program,
    Role,
    RoleLevel,
    Where,
    by_name,
    highest,
    scope_key,
)
from caaspp_authz.directory import GrantPower, User
from caaspp_authz.orgs import CDSCode, Level, Organization, is_lea_code
from caaspp_authz.resources import (
    Assessment,
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
    ProgramScope,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
)

__all__ = [
    "POLICY",
    "Action",
    "ActionRule",
    "Decision",
    "actions_on",
    "can",
    "covers",
    "decide",
    "governs",
    "organization_need",
]


class Action(enum.Enum):
    """Every action a request may name (INTERFACES.md); ``Action("view_group")`` works too."""

    VIEW_STUDENT_RESULTS = "view_student_results"
    VIEW_GROUP = "view_group"
    CREATE_GROUP = "create_group"
    EDIT_GROUP = "edit_group"
    DELETE_GROUP = "delete_group"
    ASSIGN_GROUP = "assign_group"
    CREATE_CUSTOM_GROUP = "create_custom_group"
    EDIT_CUSTOM_GROUP = "edit_custom_group"
    DELETE_CUSTOM_GROUP = "delete_custom_group"
    VIEW_CUSTOM_GROUP = "view_custom_group"
    CREATE_AGGREGATE_REPORT = "create_aggregate_report"
    VIEW_AGGREGATE_REPORT = "view_aggregate_report"
    EXPORT_AGGREGATE_REPORT = "export_aggregate_report"
    MANAGE_RESOURCE_LINKS = "manage_resource_links"
    ACCESS_TOOLS_FOR_TEACHERS = "access_tools_for_teachers"
    UPLOAD_USERS = "upload_users"
    UPLOAD_GROUPS = "upload_groups"
    ADMINISTER_SUMMATIVE = "administer_summative"
    ADMINISTER_ALTERNATE = "administer_alternate"
    ADMINISTER_INTERIM = "administer_interim"
    ADMINISTER_PRACTICE = "administer_practice"
    ADMINISTER_ELPAC = "administer_elpac"
    MANAGE_TEST_SETTINGS = "manage_test_settings"
    HAND_SCORE_INTERIM = "hand_score_interim"
    VIEW_COMPLETION_STATUS = "view_completion_status"
    EDIT_ACCOUNT = "edit_account"
    DEACTIVATE_ACCOUNT = "deactivate_account"
    REACTIVATE_ACCOUNT = "reactivate_account"
    RESET_PASSWORD = "reset_password"
    DELETE_ACCOUNT = "delete_account"
    ADD_ROLE = "add_role"
    REMOVE_ROLE = "remove_role"

    # Members are singletons compared by identity: hash them by identity too, in C, so that
    # looking an action up in the policy table costs no Python-level call.
    __hash__ = object.__hash__


@attrs.frozen
class Decision:
    """The answer to a request: allowed or not, the rule IDs that decided it, and why.

    ``fix`` says, for a denial, what would change the answer; it is ``None`` when allowed or
    when nothing the user could do would.
    """

    allowed: bool
    rules: tuple[str, ...]
    reason: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The decision line of the command-line format (INTERFACES.md)."""
        return {
            "allowed": self.allowed,
            "rules": list(self.rules),
            "reason": self.reason,
            "fix": self.fix,
        }


def _allow(rules: tuple[str, ...], reason: str) -> Decision:
    return Decision(True, rules, reason)


def _deny(rules: tuple[str, ...], reason: str, fix: str | None = None) -> Decision:
    return Decision(False, rules, reason, fix)


Check = Callable[[User, Any], Decision]
Quick = Callable[[User, Any], Decision | None]


@attrs.frozen
class ActionRule:
    """One row of the policy: the resource kinds an action takes and the check deciding it.

    ``quick``, where present, returns the same allowing decision as ``check`` and ``None`` where
    ``check`` denies, without building the explanation of a denial; ``can`` uses it on the hot
    paths.
    """

    kinds: tuple[type, ...]
    check: Check
    quick: Quick | None = None


# --- scope helpers (O4, P4) ------------------------------------------------------------------


def _holds(user: User, name: str, code: str) -> bool:
    """The user holds permission/capability ``name`` at an organization covering ``code`` (O4)."""
    reach = user.reach.get(name)
    return reach is not None and code in reach


def _missing_forms(account: Account, role: Role, forms: frozenset[Form]) -> str:
    """G10: the forms of ``forms`` not on file for the programs of ``role``, as text."""
    return ", ".join(
        f"{p.value} {f.value}"
        for p in sorted(role.programs, key=lambda p: p.value)
        for f in sorted(forms, key=lambda f: f.value)
        if f not in account.forms.get(p, frozenset())
    )


def _with_forms(account: Account, assignments: list[Assignment]) -> Account:
    """The account with every form the roles of ``assignments`` need on file (G10)."""
    forms = {p: set(f) for p, f in account.forms.items()}
    for a in assignments:
        for p in a.role.programs:
            forms.setdefault(p, set()).update(a.role.forms)
    return attrs.evolve(account, forms=forms)


def _for_want_of_forms(
    user: User, entry: ActionRule, resource: object, denied: Decision
) -> Decision:
    """G10: a denial that missing forms cause names the forms, in any action.

    The forms are the cause when the same request would be allowed were they on file: all the
    user's assignments that are not in force are tried together (one more check, the usual
    cost of such a denial), and when that opens the request, each alone, so that the denial
    names the fewest forms that would do. Only the user's own assignments are named.
    """
    account = user.account
    if account is None or len(user.in_force) == len(account.assignments):
        return denied
    dormant = [a for a in _in_order(account.assignments) if not account.in_force(a)]

    def opens(tried: list[Assignment]) -> bool:
        filled = user.directory._make_user(user.email, _with_forms(account, tried))
        return entry.check(filled, resource).allowed

    if not opens(dormant):
        return denied
    alone = [[a] for a in dormant] if len(dormant) > 1 else []
    tried = next((t for t in alone if opens(t)), dormant)
    roles = " and ".join(f"`{a.role}` at `{a.org}`" for a in tried)
    forms = "; ".join(_missing_forms(account, a.role, a.role.forms) for a in tried)
    verb = "is" if len(tried) == 1 else "are"
    return _deny(
        (*denied.rules, "G10"),
        f"{roles}, held by `{user.email}`, would allow it but {verb} not in force "
        f"until these forms are on file: {forms}",
        f"put these forms on file: {forms}",
    )


def _in_order(assignments: tuple[Assignment, ...]) -> list[Assignment]:
    """Assignments in a fixed order, so that a reason never depends on how a directory lists
    them (P4: a user's access is the union of its assignments, in no order)."""
    return sorted(assignments, key=lambda a: (a.role.name, a.org, a.primary))


def _denied_over(user: User, name: str, code: str, rules: tuple[str, ...]) -> Decision:
    """A denial for lack of ``name`` over ``code`` (G10 names missing forms where they are why)."""
    return _deny(
        rules,
        f"`{user.email}` holds no {name} over `{code}`",
        f"needs a role carrying {name} at {_org_text(user, code)}",
    )


def _org_text(user: User, code: str) -> str:
    org = user.directory.organization(code)
    if org is None or org.lea is None:
        return f"`{code}`"
    return f"`{code}` (or its LEA `{org.lea}`)"


# --- V1, V2: student results -----------------------------------------------------------------

_PII = Permission.PII.value
_PII_GROUP = Permission.PII_GROUP.value
_GROUP_ADMIN = Permission.GROUP_ADMIN.value
_ALLOW_PII = _allow(("V1", "P2", "O4"), "holds PII over the school where the result was earned")
_ALLOW_GROUP = _allow(
    ("V1", "V2", "P2", "O4"),
    "the student is in a group assigned to the user, who holds PII_GROUP over the school",
)


def _held(user: User, student: Student) -> bool:
    """Whether the directory holds this student (the same SSID at the same school)."""
    held = user.directory.students
    return student._home is held or held.get(student.ssid) == student


_student_allowance: Callable[[User, Student], Decision | None] = student_check(
    _ALLOW_PII, _ALLOW_GROUP, _held
)
"""V1, V2: PII covering the school, or PII_GROUP covering it and an assigned group.

The student must be the directory's: a value the directory does not hold for that SSID
(another school, or no such student) is unknown input and denied. That is checked only
before allowing, so a denial costs no lookup in the student index."""


def _view_student(user: User, student: Student) -> Decision:
    """V1, V2: the allowance, or a denial saying what would change the answer."""
    allowed = _student_allowance(user, student)
    if allowed is not None:
        return allowed
    if user.directory.students.get(student.ssid) != student:
        return _deny(
            ("V1",), f"the directory holds no student `{student.ssid}` at `{student.school}`"
        )
    school = student.school
    return _deny(
        ("V1", "V2"),
        f"`{user.email}` holds no PII over school `{school}` and no assigned group with "
        f"student `{student.ssid}` under PII_GROUP",
        f"needs PII at school {_org_text(user, school)}, or a group assigned to you that holds "
        f"student `{student.ssid}` and PII_GROUP there",
    )


def sees_student(user: User, student: Student) -> bool:
    """Whether the user may view the student's results (V1); the check, without the prelude."""
    return _student_allowance(user, student) is not None


# --- V3: assigned student groups --------------------------------------------------------------


def _view_group(user: User, key: GroupKey) -> Decision:
    """V3: GROUP_ADMIN or PII over the group's school, or assigned to it with PII_GROUP."""
    if user.directory.group(key) is None:
        return _deny(("V3",), f"there is no group {key}")
    school = key.school
    if _holds(user, _GROUP_ADMIN, school):
        return _allow(("V3", "P2", "O4"), "holds GROUP_ADMIN over the group's school")
    if _holds(user, _PII, school):
        return _allow(("V3", "P2", "O4"), "holds PII over the group's school")
    if key in user.groups and _holds(user, _PII_GROUP, school):
        return _allow(("V3", "V2"), "the group is assigned to the user, who holds PII_GROUP there")
    return _deny(
        ("V3",),
        f"`{user.email}` may not see group {key}",
        f"needs GROUP_ADMIN or PII at {_org_text(user, school)}, or the group assigned to you "
        "with PII_GROUP there",
    )


def _manage_group(*, must_exist: bool) -> Callable[[User, GroupKey], Decision]:
    def check(user: User, key: GroupKey) -> Decision:
        """V3: GROUP_ADMIN over the group's school creates, edits and deletes groups."""
        exists = user.directory.group(key) is not None
        if must_exist and not exists:
            return _deny(("V3",), f"there is no group {key}")
        if not must_exist and exists:
            return _deny(("V3",), f"group {key} already exists", "edit the existing group")
        if user.directory.organization(key.school) is None:
            return _deny(("V3",), f"unknown school `{key.school}`")
        if not user.directory.tree.is_test_site(key.school):
            return _deny(("V3",), f"`{key.school}` is not a school: a group belongs to a school")
        if _holds(user, _GROUP_ADMIN, key.school):
            return _allow(("V3", "P2", "O4"), "holds GROUP_ADMIN over the group's school")
        return _denied_over(user, _GROUP_ADMIN, key.school, ("V3",))

    return check


_edit_group = _manage_group(must_exist=True)


def _assign_group(user: User, assignment: GroupAssignment) -> Decision:
    """V3: GROUP_ADMIN over the school; the group would open something to the assignee.

    V3 (revised decision): the assignee holds a role carrying PII_GROUP or PII over the
    group's school, in force or not, its account active or not.
    """
    key = assignment.group
    decided = _edit_group(user, key)
    if not decided.allowed:
        return decided
    directory = user.directory
    target = directory.account(assignment.to)
    if target is None:
        return _deny(("V3",), f"unknown account `{assignment.to}`")
    if not may_be_assigned(directory.tree, target, key.school):
        return _deny(
            ("V3",),
            f"the group would open nothing to `{target.email}`: it holds no role carrying "
            f"PII_GROUP or PII over `{key.school}`",
            "assign a group only to a user with a role carrying PII_GROUP or PII at its "
            f"school {_org_text(user, key.school)}",
        )
    return _allow(
        ("V3", "P2", "O4"),
        "holds GROUP_ADMIN over the school; the assignee holds a role the group opens to",
    )


# --- V4: custom groups ------------------------------------------------------------------------


def _custom_group(
    *, create: bool, members: Literal["requested", "stored", "none"]
) -> Callable[[User, CustomGroup], Decision]:
    def check(user: User, group: CustomGroup) -> Decision:
        """V4: a user's own custom groups, from its assigned groups, with PII_GROUP.

        Creating and editing check the requested members; viewing checks the stored ones, so
        a group whose students the owner may no longer see (a group unassigned, a role gone)
        stays closed; deleting reveals nothing and needs ownership only (V4 decision; the
        active account is checked before, G11), so an owner whose roles lapsed cleans up.
        """
        if group.owner != user.email:
            return _deny(("V4",), "custom groups are seen and changed by their owner only")
        if members != "none" and not user.scopes.get(_PII_GROUP):
            return _deny(("V4", "P2"), f"`{user.email}` holds no PII_GROUP", "needs PII_GROUP")
        stored = user.directory.custom_group(group.owner, group.name)
        if create and stored is not None:
            return _deny(("V4",), f"custom group `{group.name}` already exists")
        if not create and stored is None:
            return _deny(("V4",), f"there is no custom group `{group.name}`")
        checked = (
            group.students
            if members == "requested"
            else stored.students
            if members == "stored" and stored is not None
            else frozenset()
        )
        if members == "none":
            return _allow(("V4", "G11"), "the user's own custom group: deleting needs ownership")
        if checked:
            for ssid in sorted(checked):
                student = user.directory.student(ssid)
                if student is None:
                    return _deny(("V4",), f"unknown student `{ssid}`")
                if ssid not in user.custom_sources or not sees_student(user, student):
                    return _deny(
                        ("V4", "V1"),
                        f"student `{ssid}` is not in a group assigned to `{user.email}` that "
                        "may be a source of custom groups",
                        "a custom group takes students from your assigned groups only (of 200 "
                        "or fewer students where your role limits it)",
                    )
        return _allow(("V4", "P2"), "the user's own custom group, from its assigned groups")

    return check


# --- V5, V6, V7, T1–T3, G9, U5: a permission or capability over an organization -------------


def _report(user: User, report: Report) -> Decision:
    """V5: CUSTOM_AGGREGATE_REPORTER covering every organization of the report."""
    if not report.organizations:
        return _deny(("V5",), "the report names no organization")
    name = Permission.CUSTOM_AGGREGATE_REPORTER.value
    for code in report.organizations:
        if user.directory.organization(code) is None:
            return _deny(("V5",), f"unknown organization `{code}`")
        if not _holds(user, name, code):
            return _denied_over(user, name, code, ("V5",))
    return _allow(("V5", "P2", "O4"), f"holds {name} over every organization of the report")


_OVER_ORGANIZATION: Mapping[Action, tuple[str, tuple[str, ...]]] = {
    Action.UPLOAD_GROUPS: (_GROUP_ADMIN, ("U5", "V3")),
    Action.MANAGE_RESOURCE_LINKS: (Permission.INSTRUCTIONAL_RESOURCE_ADMIN.value, ("V6", "P2")),
    Action.ADMINISTER_SUMMATIVE: (Capability.ADMINISTER_SUMMATIVE.value, ("T1",)),
    Action.ADMINISTER_ALTERNATE: (Capability.ADMINISTER_ALTERNATE.value, ("T1",)),
    Action.ADMINISTER_INTERIM: (Capability.ADMINISTER_INTERIM.value, ("T1",)),
    Action.ADMINISTER_PRACTICE: (Capability.ADMINISTER_PRACTICE.value, ("T1",)),
    Action.ADMINISTER_ELPAC: (Capability.ADMINISTER_ELPAC.value, ("T1",)),
    Action.HAND_SCORE_INTERIM: (Capability.HAND_SCORE_INTERIM.value, ("T3",)),
    Action.UPLOAD_USERS: (Capability.UPLOAD_USERS.value, ("G9",)),
}
"""Actions over an organization needing one permission or capability there (O4), and the
rules that name it; the two per-program actions are in :data:`_PER_PROGRAM`."""

_PER_PROGRAM: Mapping[tuple[Action, Program, Assessment], str] = {
    **{
        (Action.MANAGE_TEST_SETTINGS, p, Assessment.ALL): scope_key(
            Capability.MANAGE_TEST_SETTINGS, p
        )
        for p in Program
    },
    **{
        (Action.VIEW_COMPLETION_STATUS, p, Assessment.ALL): scope_key(
            Capability.VIEW_COMPLETION_STATUS, p
        )
        for p in Program
    },
    **{
        (Action.VIEW_COMPLETION_STATUS, p, Assessment.INTERIM): scope_key(
            Capability.VIEW_INTERIM_COMPLETION_STATUS, p
        )
        for p in Program
    },
}
"""T2, T3: the scope key a per-program request needs, by action, program and assessment. A
bare organization asks for CAASPP and every report; ``manage_test_settings`` has no
``interim`` row (the key does not apply to it)."""

_PROGRAM_RULES: Mapping[Action, tuple[str, ...]] = {
    Action.MANAGE_TEST_SETTINGS: ("T2",),
    Action.VIEW_COMPLETION_STATUS: ("T3",),
}

_SITE_ONLY = frozenset(Action(c.value) for c in AT_TEST_SITES)
"""T1: the actions a request may ask only at a test site."""


def organization_need(action: Action, resource: object) -> tuple[str, CDSCode] | None:
    """What an action over an organization needs (O4, T1–T3, G9, U5, V6): the permission or
    capability scope key, and the organization it must cover; ``None`` when the resource is
    not one the action takes (or names an ``assessment`` the action does not have)."""
    if isinstance(resource, Organization):
        code, program, assessment = resource.cds, Program.CAASPP, Assessment.ALL
    elif isinstance(resource, ProgramScope):
        code, program, assessment = resource.cds, resource.program, resource.assessment
    elif isinstance(resource, ResourceLink):
        code, program, assessment = resource.organization, Program.CAASPP, Assessment.ALL
    else:
        return None
    found = _OVER_ORGANIZATION.get(action)
    if found is not None:
        return found[0], code
    key = _PER_PROGRAM.get((action, program, assessment))
    return None if key is None else (key, code)


_SAMPLE: Mapping[type, object] = {
    Organization: Organization(CDSCode("00000000000000"), "", Level.LEA),
    ResourceLink: ResourceLink(CDSCode("00000000000000")),
}
"""One value of each plain kind, to read an action's scope key for it once."""


def _code_of(resource: Any) -> CDSCode:
    """The code of a plain organization resource: an Organization's or a ResourceLink's."""
    code: CDSCode = resource.organization if type(resource) is ResourceLink else resource.cds
    return code


def _over_org(action: Action, kinds: tuple[type, ...]) -> ActionRule:
    """V6, T1–T3, G9, U5: a permission or capability held over the organization (O4).

    T1: an ``administer_*`` request on an LEA that is not a test site is denied: tests are
    given at schools and direct-funded charters. T2, T3: the per-program actions need the
    capability for the requested program (CAASPP by default).
    """
    rules = (
        _OVER_ORGANIZATION[action][1] if action in _OVER_ORGANIZATION else _PROGRAM_RULES[action]
    )
    rules_o4 = (*rules, "O4")
    site_only = action in _SITE_ONLY
    allowed = {
        key: _allow(rules_o4, f"holds {key} over the organization")
        for key in {v[0] for v in _OVER_ORGANIZATION.values()} | set(_PER_PROGRAM.values())
    }

    plain = Organization if Organization in kinds else ResourceLink
    plain_key = organization_need(action, _SAMPLE[plain])
    assert plain_key is not None
    key0 = plain_key[0]
    allow0 = allowed[key0]

    def quick(user: User, resource: object) -> Decision | None:
        if type(resource) is plain:  # the common resource: no program, no assessment
            key, code, allow = key0, _code_of(resource), allow0
        else:
            need = organization_need(action, resource)
            if need is None:
                return None
            key, code = need
            allow = allowed[key]
        reach = user.reach.get(key)
        if reach is None or code not in reach:
            return None
        # T1: a known code that is not an LEA's is a test site (O2); only an LEA's code can
        # name an organization that is not one (a direct-funded charter's is a school code).
        if site_only and is_lea_code(code) and not user.directory.tree.is_test_site(code):
            return None
        return allow

    def check(user: User, resource: object) -> Decision:
        need = organization_need(action, resource)
        if need is None:  # T2: `assessment` belongs to view_completion_status only
            return _deny(rules, f"`{action.value}` does not take `assessment: interim`")
        key, code = need
        if user.directory.organization(code) is None:
            return _deny(rules, f"unknown organization `{code}`")
        if site_only and not user.directory.tree.is_test_site(code):
            return _deny(
                ("T1",),
                f"`{code}` is an LEA, not a test site: tests are given at its schools",
                "ask about a school of the LEA (a role held at the LEA reaches each of them)",
            )
        if _holds(user, key, code):
            return allowed[key]
        return _denied_over(user, key, code, rules)

    return ActionRule(kinds, check, quick)


def _anywhere(name: str, rules: tuple[str, ...], kinds: tuple[type, ...]) -> ActionRule:
    """V7: ``name`` held anywhere."""
    allowed = _allow(rules, f"holds {name}")

    def quick(user: User, resource: object) -> Decision | None:
        return allowed if user.scopes.get(name) else None

    def check(user: User, resource: object) -> Decision:
        if user.scopes.get(name):
            return allowed
        return _deny(rules, f"`{user.email}` holds no {name}", f"needs a role carrying {name}")

    return ActionRule(kinds, check, quick)


# --- G1–G8: grants and accounts --------------------------------------------------------------


def _reaches(user: User, power: GrantPower, code: str) -> bool:
    """Whether a grant row reaches organization ``code`` from where it is held (G2, G3)."""
    where = power.rule.where
    tree = user.directory.tree
    if where is Where.HOLDER:
        return code == power.holder
    in_schools = power.holder_level is Level.LEA and tree.site_in(code, power.holder)
    if where is Where.SCHOOLS:
        return in_schools
    return code == power.holder or in_schools


def _site_grantor(power: GrantPower) -> bool:
    """G5: whether the grant row is held through a site-level role (also at a charter, O3)."""
    grantor = power.rule.grantor
    return grantor != SUPERINTENDENT and by_name(grantor).level is RoleLevel.SCHOOL


def _g5_conflict(account: Account, role: Role, code: str) -> Assignment | None:
    """G5: the actor's own assignment of ``role`` at an organization other than ``code``."""
    return next(
        (a for a in _in_order(account.assignments) if a.role == role and a.org != code), None
    )


def governs(user: User, role: Role, code: str, *, primary: bool = False) -> GrantPower | None:
    """The grant row by which the user may grant ``role`` at ``code`` (G6), or ``None``.

    G1/G3/G4: a row of the grant matrix for a role the user holds in force (or, G1, its
    superintendency, which needs no forms), reaching ``code``; R7: only a row that may grant
    primary grants a primary; G5: a site grant power does not grant a role the user holds at
    another organization.
    """
    account = user.account
    if account is None:
        return None
    primary = primary and role.has_primary
    for power in user.grant_powers:
        rule = power.rule
        if rule.grantee != role.name or not _reaches(user, power, code):
            continue
        if primary and not rule.may_grant_primary:
            continue
        if _site_grantor(power) and _g5_conflict(account, role, code) is not None:  # G5
            continue
        return power
    return None


def covers(user: User, assignment: Assignment) -> bool:
    """G8: whether the user covers an assignment (role R at organization O) of an account.

    (a) it governs R at O (G6); (b) it is the superintendent of the LEA that O is or lies in;
    (c) it holds an LEA coordinator role of either program at that LEA, and R is not an LEA
    coordinator role (those are governed under G1 only); (d) it holds a site coordinator role
    of either program at O (a school, or a direct-funded charter counted as one, T1) and R is
    not a coordinator role. The user's own role must be in force (G10: ``user.in_force``); the
    superintendent needs no forms (G1). Which roles are coordinators is catalog data. An
    upload asks the same through ``edit_account`` and ``reactivate_account`` (U7, G11).
    """
    role, code = assignment.role, assignment.org
    if governs(user, role, code, primary=assignment.primary) is not None:  # (a)
        return True
    account = user.account
    org = user.directory.organization(code)
    if account is None or org is None:
        return False
    lea = org.lea_code
    if account.superintendent_of == lea:  # (b)
        return True
    if role.lea_coordinator:
        return False
    for mine in user.in_force:
        held = mine.role
        if held.lea_coordinator and mine.org == lea:  # (c)
            return True
        if held.site_coordinator and mine.org == code and not role.coordinator:  # (d)
            return True
    return False


def _uncovered(user: User, account: Account) -> str | None:
    """G8: what of ``account`` the user does not cover, as text, or ``None`` when it covers all.

    R6: the superintendency counts as something the account holds, and no one but the
    superintendent itself covers it (no role of the catalog designates a superintendent).
    """
    if account.superintendent_of is not None:
        return f"`{account.email}` is the superintendent of `{account.superintendent_of}`"
    for a in _in_order(account.assignments):
        if not covers(user, a):
            return (
                f"`{user.email}` does not cover `{a.role}` at `{a.org}` held by `{account.email}`"
            )
    return None


_WHO_COVERS = (
    "an account is acted on by whoever covers every role it holds: the superintendent or an "
    "LEA coordinator of its LEA, a site coordinator for the school's staff, or whoever may "
    "grant the role there (G8)"
)


def _account_action(action: Action) -> Callable[[User, Account], Decision]:
    reset = action is Action.RESET_PASSWORD
    own = action in (Action.RESET_PASSWORD, Action.EDIT_ACCOUNT)
    rules: tuple[str, ...] = ("G7", "G8") if reset else ("G8",)

    def check(user: User, target: Account) -> Decision:
        """G7, G8: act on a whole account when covering every role it holds.

        Every active user edits its own demographics and resets its own password (G7, G8).
        G7 (decision): resetting the password of an active account only sends its owner a
        link, so covering one of its roles is enough; an inactive one needs G8 in full.
        """
        current = user.directory.account(target.email)
        if current is None:
            return _deny(("G8",), f"unknown account `{target.email}`")
        if own and current.email == user.email:
            what = "reset its own password" if reset else "edit its own demographics"
            return _allow(rules, f"every active user may {what}")
        if current.superintendent_of is not None:
            return _deny(
                (*rules, "R6"),
                f"`{current.email}` is the superintendent of `{current.superintendent_of}`, "
                "whose account no one else acts on",
            )
        if not current.assignments:
            return _deny(
                rules,
                f"`{current.email}` holds no role, so no one but its owner acts on it",
                "grant the account a role (G11: as if the account were new)",
            )
        if reset and current.active:
            if any(covers(user, a) for a in current.assignments):
                return _allow(rules, "covers a role of the active account; the owner gets a link")
            return _deny(
                rules,
                f"`{user.email}` covers no role held by `{current.email}`",
                "a password reset of an active account needs covering one of its roles (G7, G8)",
            )
        missing = _uncovered(user, current)
        if missing is not None:
            return _deny(rules if current.active else (*rules, "G11"), missing, _WHO_COVERS)
        return _allow(rules, "covers every role the account holds")

    return check


def _grant_checks(user: User, grant: Grant) -> Decision | None:
    directory = user.directory
    org = directory.organization(grant.organization)
    if org is None:
        return _deny(("G2",), f"unknown organization `{grant.organization}`")
    role = grant.role
    if not role.may_be_held_at(
        lea=org.level is Level.LEA, test_site=directory.tree.is_test_site(org.cds)
    ):
        return _deny(
            ("R2",), f"`{role}` is not held at `{org.cds}`: it is a {role.level.value} role"
        )
    return None


def _not_governed(user: User, role: Role, code: str, *, primary: bool) -> Decision:
    """Why the user may not grant ``role`` at ``code``; G5 names the actor's own role and site."""
    account = user.account
    assert account is not None  # decide() denies an unknown principal first
    conflict = _g5_conflict(account, role, code)
    if conflict is not None and any(
        p.rule.grantee == role.name and _site_grantor(p) and _reaches(user, p, code)
        for p in user.grant_powers
    ):
        return _deny(
            ("G5",),
            f"`{user.email}` holds `{role}` at `{conflict.org}`: a site coordinator may not "
            "grant a role its own account holds at a different site",
            "ask the LEA coordinator to grant it",
        )
    return _deny(
        ("G3", "G1", "G2", "G5", "G6"),
        f"`{user.email}` may not grant `{role}`{' as primary' if primary else ''} at `{code}`",
        "ask a coordinator who may grant it there (see the grant matrix, G3)",
    )


def _e4_fix(user: User, role: Role, code: str, held: list[Assignment]) -> str:
    """E4: a fix that works: the highest role, granted after the lower one goes (or by upload,
    which replaces a role at the organization, U4), or a different e-mail."""
    top = highest([role, *(a.role for a in held)])
    if top is None:
        return "no role among them is the highest: use a different e-mail address for one"
    if top != role:
        return f"nothing to grant: `{top}`, held there, is the highest"
    old = ", ".join(f"`{a.role}`" for a in held)
    if all(governs(user, a.role, a.org, primary=a.primary) is not None for a in held):
        return (
            f"remove {old} at `{code}` first, then grant `{role}`, the highest; or upload the "
            "row, which replaces it there (U4)"
        )
    return f"ask whoever may grant {old} at `{code}` to remove it first, then grant `{role}`"


def _add_role(user: User, grant: Grant) -> Decision:
    """G1–G6, R5, R7, E2–E5, E8, G11: whether the user may grant this role here to this account."""
    problem = _grant_checks(user, grant)
    if problem is not None:
        return problem
    role, code = grant.role, grant.organization
    primary = grant.primary and role.has_primary
    power = governs(user, role, code, primary=primary)
    if power is None:
        return _not_governed(user, role, code, primary=primary)
    directory = user.directory
    target = directory.account(grant.to)
    promoted = False
    if primary:
        # R7: "held" is any assignment marked primary, in force or not, active or not.
        holder = directory.primaries.get((code, role.name))
        if holder is not None and holder != grant.to:
            return _deny(
                ("R7",),
                f"the primary `{role}` at `{code}` is already held",
                "remove the current primary first, or grant a secondary",
            )
        promoted = target is not None and any(
            a.role == role and a.org == code and not a.primary for a in target.assignments
        )
    if target is not None and not target.active and target.assignments:
        # G11: the grant reactivates the account, so it needs covering every role it holds.
        missing = _uncovered(user, target)
        if missing is not None:
            return _deny(
                ("G11", "G8"),
                f"the grant would reactivate `{target.email}`, and {missing}",
                _WHO_COVERS,
            )
    if target is not None and directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
        others = [a for a in _in_order(target.assignments) if a.role != role]
        # E8: the e-mail rules hold across programs: one TOMS login for both.
        e8 = ("E8",) if any(role.programs.isdisjoint(a.role.programs) for a in others) else ()
        same_site = [a for a in others if a.org == code]
        if same_site:
            return _deny(
                ("E4", *e8),
                f"`{target.email}` already holds `{same_site[0].role}` at `{code}`",
                _e4_fix(user, role, code, same_site),
            )
        if others:
            return _deny(
                ("E3", *e8),
                f"`{target.email}` holds `{others[0].role}`; one account holds one role",
                "use a different e-mail address for this role",
            )
    if role.needs_credential and not grant.credentialed and not (target and target.credentialed):
        return _deny(
            ("R5",),
            f"`{role}` must be held by a licensed or credentialed employee",
            "attest the credential with `credentialed: true`",
        )
    rules: tuple[str, ...] = (power.rule.rule, "G6")
    if promoted:
        rules = (*rules, "R7")
    if target is not None and not target.active:
        return _allow(
            (*rules, "G11"), "may grant the role here; the grant reactivates the account"
        )
    if promoted:
        return _allow(rules, f"makes the secondary `{role}` at `{code}` the primary")
    return _allow(rules, f"may grant `{role}` at `{code}`")


def _remove_role(user: User, grant: Grant) -> Decision:
    """G6: removing a role needs exactly the power to grant it there.

    G8: removing an account's last role is allowed, and the reason says that the account is
    left without roles (no one but its owner acts on it then).
    """
    problem = _grant_checks(user, grant)
    if problem is not None:
        return problem
    target = user.directory.account(grant.to)
    if target is None:
        return _deny(("G6",), f"unknown account `{grant.to}`")
    held = next(
        (a for a in target.assignments if a.role == grant.role and a.org == grant.organization),
        None,
    )
    if held is None:
        return _deny(
            ("G6",), f"`{target.email}` holds no `{grant.role}` at `{grant.organization}`"
        )
    if governs(user, held.role, held.org, primary=held.primary) is None:
        return _deny(
            ("G6",),
            f"`{user.email}` does not govern `{held.role}` at `{held.org}`",
            "ask whoever may grant that role there",
        )
    if all(a == held for a in target.assignments):
        return _allow(
            ("G6", "G8"),
            f"governs `{held.role}` at `{held.org}`; it is the account's last role, so the "
            "account is left without roles, and no one but its owner acts on it (to remove "
            "the account, delete it instead while it holds this role)",
        )
    return _allow(("G6",), f"governs `{held.role}` at `{held.org}`")


# --- the policy table ------------------------------------------------------------------------

_ORG = (Organization,)
_ORG_OR_SCOPE = (Organization, ProgramScope)

POLICY: Mapping[Action, ActionRule] = {
    Action.VIEW_STUDENT_RESULTS: ActionRule((Student,), _view_student, _student_allowance),
    Action.VIEW_GROUP: ActionRule((GroupKey,), _view_group),
    Action.CREATE_GROUP: ActionRule((GroupKey,), _manage_group(must_exist=False)),
    Action.EDIT_GROUP: ActionRule((GroupKey,), _edit_group),
    Action.DELETE_GROUP: ActionRule((GroupKey,), _edit_group),
    Action.ASSIGN_GROUP: ActionRule((GroupAssignment,), _assign_group),
    Action.CREATE_CUSTOM_GROUP: ActionRule(
        (CustomGroup,), _custom_group(create=True, members="requested")
    ),
    Action.EDIT_CUSTOM_GROUP: ActionRule(
        (CustomGroup,), _custom_group(create=False, members="requested")
    ),
    Action.DELETE_CUSTOM_GROUP: ActionRule(
        (CustomGroup,), _custom_group(create=False, members="none")
    ),
    Action.VIEW_CUSTOM_GROUP: ActionRule(
        (CustomGroup,), _custom_group(create=False, members="stored")
    ),
    Action.CREATE_AGGREGATE_REPORT: ActionRule((Report,), _report),
    Action.VIEW_AGGREGATE_REPORT: ActionRule((Report,), _report),
    Action.EXPORT_AGGREGATE_REPORT: ActionRule((Report,), _report),
    Action.MANAGE_RESOURCE_LINKS: _over_org(Action.MANAGE_RESOURCE_LINKS, (ResourceLink,)),
    Action.ACCESS_TOOLS_FOR_TEACHERS: _anywhere(
        Permission.DL_END_USER.value, ("V7", "P2"), (ToolsForTeachers,)
    ),
    **{a: _over_org(a, _ORG) for a in _OVER_ORGANIZATION if a is not Action.MANAGE_RESOURCE_LINKS},
    **{a: _over_org(a, _ORG_OR_SCOPE) for a in _PROGRAM_RULES},
    **{
        a: ActionRule((Account,), _account_action(a))
        for a in (
            Action.EDIT_ACCOUNT,
            Action.DEACTIVATE_ACCOUNT,
            Action.REACTIVATE_ACCOUNT,
            Action.DELETE_ACCOUNT,
            Action.RESET_PASSWORD,
        )
    },
    Action.ADD_ROLE: ActionRule((Grant,), _add_role),
    Action.REMOVE_ROLE: ActionRule((Grant,), _remove_role),
}
"""Every action, the resource kinds it takes, and the check that decides it."""


def actions_on(kind: type) -> frozenset[Action]:
    """Every action whose resource is of ``kind`` (a row of :data:`POLICY` taking it)."""
    return frozenset(a for a, rule in POLICY.items() if kind in rule.kinds)


def decide(user: User, action: Action, resource: object) -> Decision:
    """Decide a request; deny by default. Typed but unknown input is denied, never raised on.

    G11: an inactive account may do nothing; G10 is applied in the user's scopes, where an
    assignment whose forms are not on file grants nothing, and a denial that missing forms
    cause names them.
    """
    entry = POLICY.get(action)
    if entry is None:
        return _deny((), f"`{action}` is not an action")
    if user.account is None:
        return _deny(("E1",), f"there is no account `{user.email}`")
    if not user.active:
        return _deny(
            ("G11",),
            f"`{user.email}` is inactive and may do nothing",
            "reactivate the account: a password reset, a role granted one by one, or an upload",
        )
    if isinstance(resource, Unknown):
        return _deny(resource.rules, f"{resource}", resource.fix)
    if not isinstance(resource, entry.kinds):
        kinds = " or ".join(k.__name__ for k in entry.kinds)
        return _deny((), f"`{action.value}` acts on a {kinds}, not on `{resource!r}`")
    decided = entry.check(user, resource)
    if decided.allowed:
        return decided
    return _for_want_of_forms(user, entry, resource, decided)  # G10, in any action


def can(user: User, action: Action, resource: object) -> bool:
    """Whether ``user`` may do ``action`` on ``resource``: always ``decide(...).allowed``.

    The same prelude as :func:`decide`, then the action's quick check where it has one, so a
    denial on a hot path builds no explanation.
    """
    entry = POLICY.get(action)
    if entry is None or not user.active or not isinstance(resource, entry.kinds):
        return False  # not an action; no account (E1) or inactive (G11); unknown or wrong kind
    quick = entry.quick
    if quick is not None:
        return quick(user, resource) is not None
    return entry.check(user, resource).allowed
