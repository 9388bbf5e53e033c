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

from caaspp_authz.accounts import Account, Assignment, RuleSet
from caaspp_authz.catalog import (
    GRANTS,
    SUPERINTENDENT,
    Capability,
    Form,
    Permission,
    Role,
    RoleLevel,
    Where,
    by_name,
    highest,
)
from caaspp_authz.directory import GrantPower, User
from caaspp_authz.orgs import Level, Organization
from caaspp_authz.resources import (
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
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
    "decide",
    "governs",
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


# Members are singletons compared by identity: hash them by identity too, in C, so that looking
# an action up in the policy table costs no Python-level call. Set after the class so that its
# declared type stays Enum's own (type checkers see one `__hash__`, not an ambiguous override).
Action.__hash__ = object.__hash__  # type: ignore[method-assign]


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


def _dormant(user: User, name: str, code: str) -> str | None:
    """G10: an assignment that would allow this but is not in force (its forms are missing)."""
    account = user.account
    if account is None:
        return None
    covering = user.directory.tree.covering(code)
    for a in _in_order(account.assignments):
        carries = {p.value for p in a.role.permissions} | {c.value for c in a.role.capabilities}
        if name in carries and a.org in covering and not account.in_force(a):
            return _not_in_force(account, a)
    return None


def _missing_forms(account: Account, role: Role, forms: frozenset[Form]) -> str:
    """G10: the forms of ``forms`` not on file for the programs of ``role``, as text."""
    return ", ".join(
        f"{p.value} {f.value}"
        for p in sorted(role.programs, key=lambda p: p.value)
        for f in sorted(forms, key=lambda f: f.value)
        if f not in account.forms.get(p, frozenset())
    )


def _not_in_force(account: Account, a: Assignment) -> str:
    missing = _missing_forms(account, a.role, a.role.forms)
    return f"`{a.role}` at `{a.org}` is not in force until these forms are on file: {missing}"


def _dormant_grant(user: User, role: Role, code: str, *, primary: bool) -> Decision | None:
    """G1, G10: a denial naming the forms whose absence alone keeps a grant row from the user."""
    account = user.account
    assert account is not None  # decide() denies an unknown principal first
    tree = user.directory.tree
    for g in GRANTS:
        if g.grantee != role.name or (primary and not g.may_grant_primary):
            continue
        if g.grantor == SUPERINTENDENT:
            sup = account.superintendent_of
            if sup is not None and _reaches(user, GrantPower(g, sup, Level.LEA), code):
                missing = _missing_forms(account, role, g.grantor_forms)
                return _deny(
                    (g.rule, "G10"),
                    f"`{user.email}` may designate `{role}` only with its forms on file",
                    f"put these forms on file: {missing}",
                )
            continue
        for a in account.assignments:
            org = tree.get(a.org)
            if (
                a.role.name != g.grantor
                or account.in_force(a)
                or (g.grantor_primary_only and not a.primary)
                or org is None
                or not _reaches(user, GrantPower(g, a.org, org.level), code)
            ):
                continue
            return _deny(
                (g.rule, "G10"),
                f"`{user.email}` holds no role in force that grants `{role}` at `{code}`",
                _not_in_force(account, a),
            )
    return None


def _in_order(assignments: tuple[Assignment, ...]) -> list[Assignment]:
    """Assignments in a fixed order, so that a reason never depends on how a directory lists
    them (P4: a user's access is the union of its assignments, in no order)."""
    return sorted(assignments, key=lambda a: (a.role.name, a.org, a.primary))


def _denied_over(user: User, name: str, code: str, rules: tuple[str, ...]) -> Decision:
    """A denial for lack of ``name`` over ``code``, naming missing forms where that is why."""
    dormant = _dormant(user, name, code)
    if dormant is not None:
        return _deny(
            (*rules, "G10"), f"`{user.email}` holds no {name} in force over `{code}`", dormant
        )
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


def _student_allowance(user: User, student: Student) -> Decision | None:
    """V1, V2: PII covering the school, or PII_GROUP covering it and an assigned group.

    The student must be the directory's: a value the directory does not hold for that SSID
    (another school, or no such student) is unknown input and denied. That is checked only
    before allowing, so a denial costs no lookup in the student index.
    """
    school = student.school
    reach = user.reach
    pii = reach.get(_PII)
    if pii is not None and school in pii:
        return _ALLOW_PII if _held(user, student) else None
    if student.ssid in user.group_students:
        held = reach.get(_PII_GROUP)
        if held is not None and school in held:
            return _ALLOW_GROUP if _held(user, student) else None
    return None


def _held(user: User, student: Student) -> bool:
    """Whether the directory holds this student (the same SSID at the same school)."""
    held = user.directory.students
    return student._home is held or held.get(student.ssid) == student


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
    dormant = _dormant(user, _PII, school) or _dormant(user, _PII_GROUP, school)
    if dormant is not None:
        return _deny(
            ("V1", "G10"), f"`{user.email}` holds no role in force over `{school}`", dormant
        )
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
    """V3: GROUP_ADMIN over the school; the assignee holds a role in the group's LEA."""
    key = assignment.group
    decided = _edit_group(user, key)
    if not decided.allowed:
        return decided
    directory = user.directory
    target = directory.account(assignment.to)
    if target is None:
        return _deny(("V3",), f"unknown account `{assignment.to}`")
    school = directory.organization(key.school)
    assert school is not None  # checked by _manage_group
    if not any(
        (org := directory.organization(a.org)) is not None and org.lea_code == school.lea_code
        for a in target.assignments
    ):
        return _deny(
            ("V3",),
            f"`{target.email}` holds no role in LEA `{school.lea_code}`",
            f"assign groups only to users with a role in LEA `{school.lea_code}`",
        )
    return _allow(
        ("V3", "P2", "O4"), "holds GROUP_ADMIN over the school; the assignee is in its LEA"
    )


# --- V4: custom groups ------------------------------------------------------------------------


def _custom_group(
    *, create: bool, members: Literal["requested", "stored", "none"]
) -> Callable[[User, CustomGroup], Decision]:
    def check(user: User, group: CustomGroup) -> Decision:
        """V4: a user's own custom groups, from its assigned groups, with PII_GROUP.

        Creating and editing check the requested members; viewing checks the stored ones, so
        a group whose students the owner may no longer see (a group unassigned, a role gone)
        stays closed; deleting reveals nothing and needs ownership only.
        """
        if group.owner != user.email:
            return _deny(("V4",), "custom groups are seen and changed by their owner only")
        if not user.scopes.get(_PII_GROUP):
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


def _code_of(resource: object) -> str:
    if isinstance(resource, ResourceLink):
        return resource.organization
    assert isinstance(resource, Organization)
    return resource.cds


def _over_org(name: str, rules: tuple[str, ...], kinds: tuple[type, ...]) -> ActionRule:
    """V6, T1–T3, G9, U5: ``name`` held at an organization covering the resource's (O4)."""
    allowed = _allow((*rules, "O4"), f"holds {name} over the organization")

    def quick(user: User, resource: object) -> Decision | None:
        return allowed if _holds(user, name, _code_of(resource)) else None

    def check(user: User, resource: object) -> Decision:
        code = _code_of(resource)
        if user.directory.organization(code) is None:
            return _deny(rules, f"unknown organization `{code}`")
        if _holds(user, name, code):
            return allowed
        return _denied_over(user, name, code, rules)

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


def governs(user: User, role: Role, code: str, *, primary: bool = False) -> GrantPower | None:
    """The grant row by which the user may grant ``role`` at ``code`` (G6), or ``None``.

    G1/G3/G4: a row of the grant matrix for a role the user holds in force, reaching ``code``;
    R7: only a row that may grant primary grants a primary; G5: a site grant power does not
    grant a role the user holds at another organization.
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
        if rule.grantor_forms and not all(
            account.has_forms(p, rule.grantor_forms) for p in role.programs
        ):
            continue
        if _site_grantor(power) and any(
            a.role == role and a.org != code for a in account.assignments
        ):  # G5
            continue
        return power
    return None


_ACCOUNT_ACTION_RULES = ("G8", "G6")


def _account_action(*, self_allowed: bool) -> Callable[[User, Account], Decision]:
    def check(user: User, target: Account) -> Decision:
        """G7, G8: act on an account when governing every role it holds; self password reset."""
        current = user.directory.account(target.email)
        if current is None:
            return _deny(("G8",), f"unknown account `{target.email}`")
        if self_allowed and current.email == user.email:
            return _allow(("G7",), "every active user may reset its own password")
        if current.superintendent_of is not None:
            return _deny(
                ("G8", "R6"),
                f"`{current.email}` is the superintendent of `{current.superintendent_of}`, "
                "whom no role governs",
            )
        if not current.assignments:
            return _deny(
                _ACCOUNT_ACTION_RULES,
                f"`{current.email}` holds no role, so no one else governs it",
            )
        for a in _in_order(current.assignments):
            if governs(user, a.role, a.org, primary=a.primary) is None:
                return _deny(
                    _ACCOUNT_ACTION_RULES,
                    f"`{user.email}` does not govern `{a.role}` at `{a.org}` held by "
                    f"`{current.email}`",
                    "an account is acted on by whoever may grant every role it holds",
                )
        return _allow(
            ("G8", "G6", "G7") if self_allowed else _ACCOUNT_ACTION_RULES,
            "governs every role the account holds",
        )

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


def _add_role(user: User, grant: Grant) -> Decision:
    """G1–G6, R5, R7, E2–E5, G11: whether the user may grant this role here to this account."""
    problem = _grant_checks(user, grant)
    if problem is not None:
        return problem
    role, code = grant.role, grant.organization
    primary = grant.primary and role.has_primary
    power = governs(user, role, code, primary=primary)
    if power is None:
        dormant = _dormant_grant(user, role, code, primary=primary)
        if dormant is not None:
            return dormant
        return _deny(
            ("G3", "G1", "G2", "G5", "G6"),
            f"`{user.email}` may not grant `{role}`{' as primary' if primary else ''} at `{code}`",
            "ask a coordinator who may grant it there (see the grant matrix, G3)",
        )
    directory = user.directory
    target = directory.account(grant.to)
    if primary:
        holder = directory.primaries.get((code, role.name))
        if holder is not None and holder != grant.to:
            return _deny(
                ("R7",),
                f"`{holder}` is already the primary `{role}` at `{code}`",
                "remove the current primary first, or grant a secondary",
            )
    if target is not None and directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
        others = [a for a in _in_order(target.assignments) if a.role != role]
        same_site = [a for a in others if a.org == code]
        if same_site:
            top = highest([role, *(a.role for a in same_site)])
            return _deny(
                ("E4",),
                f"`{target.email}` already holds `{same_site[0].role}` at `{code}`",
                f"grant only `{top}`, the highest" if top else "use a different e-mail address",
            )
        if others:
            return _deny(
                ("E3",),
                f"`{target.email}` holds `{others[0].role}`; one account holds one role",
                "use a different e-mail address for this role",
            )
    if role.needs_credential and not grant.credentialed and not (target and target.credentialed):
        return _deny(
            ("R5",),
            f"`{role}` must be held by a licensed or credentialed employee",
            "attest the credential with `credentialed: true`",
        )
    rules = (power.rule.rule, "G6") if power.rule.rule != "G3" else ("G3", "G6")
    if target is not None and not target.active:
        return _allow(
            (*rules, "G11"), "may grant the role here; the grant reactivates the account"
        )
    return _allow(rules, f"may grant `{role}` at `{code}`")


def _remove_role(user: User, grant: Grant) -> Decision:
    """G6: removing a role needs exactly the power to grant it there."""
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
    return _allow(("G6",), f"governs `{held.role}` at `{held.org}`")


# --- the policy table ------------------------------------------------------------------------

_ORG = (Organization,)
_CAP_RULES: Mapping[Capability, tuple[str, ...]] = {
    Capability.ADMINISTER_SUMMATIVE: ("T1",),
    Capability.ADMINISTER_ALTERNATE: ("T1",),
    Capability.ADMINISTER_INTERIM: ("T1",),
    Capability.ADMINISTER_PRACTICE: ("T1",),
    Capability.ADMINISTER_ELPAC: ("T1",),
    Capability.MANAGE_TEST_SETTINGS: ("T2",),
    Capability.HAND_SCORE_INTERIM: ("T3",),
    Capability.VIEW_COMPLETION_STATUS: ("T3",),
    Capability.UPLOAD_USERS: ("G9",),
}

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
    Action.MANAGE_RESOURCE_LINKS: _over_org(
        Permission.INSTRUCTIONAL_RESOURCE_ADMIN.value, ("V6", "P2"), (ResourceLink,)
    ),
    Action.ACCESS_TOOLS_FOR_TEACHERS: _anywhere(
        Permission.DL_END_USER.value, ("V7", "P2"), (ToolsForTeachers,)
    ),
    Action.UPLOAD_GROUPS: _over_org(_GROUP_ADMIN, ("U5", "V3"), _ORG),
    **{Action(cap.value): _over_org(cap.value, rules, _ORG) for cap, rules in _CAP_RULES.items()},
    Action.EDIT_ACCOUNT: ActionRule((Account,), _account_action(self_allowed=False)),
    Action.DEACTIVATE_ACCOUNT: ActionRule((Account,), _account_action(self_allowed=False)),
    Action.REACTIVATE_ACCOUNT: ActionRule((Account,), _account_action(self_allowed=False)),
    Action.DELETE_ACCOUNT: ActionRule((Account,), _account_action(self_allowed=False)),
    Action.RESET_PASSWORD: ActionRule((Account,), _account_action(self_allowed=True)),
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
    assignment whose forms are not on file grants nothing.
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
        return _deny((), f"{resource}")
    if not isinstance(resource, entry.kinds):
        kinds = " or ".join(k.__name__ for k in entry.kinds)
        return _deny((), f"`{action.value}` acts on a {kinds}, not on `{resource!r}`")
    return entry.check(user, resource)


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
