"""The decision: ``can(user, action, resource)`` and ``decide(...)``.

Deny by default: an action is allowed only when one of the checks below (or, for grants and
whole accounts, of :mod:`caaspp_authz._grants`) allows it. The checks read the catalog tables
through the user's precomputed scopes; none names a role. Each action is one row of
:data:`POLICY`: the resource kinds it takes and the check that decides it.

A :class:`Decision` carries the rule IDs that decided it, a reason, and for a denial what would
change the answer. Allowing decisions on the hot paths are shared constants, so ``can`` does
not allocate.

What a denial tells (FERPA): ``decide`` gives the principal a text that names only what it may
already see: its own roles, scopes and forms, organizations (public CDS data), and a person or
a student only where it could view them anyway. Whether an SSID or an account exists, where a
student's results were earned, and another account's roles, organizations and superintendency
are named only by :func:`explain`, the audit call, with the same rule IDs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from caaspp_authz._access import may_be_assigned, student_check
from caaspp_authz._answer import Action, Decision, for_audit, for_principal
from caaspp_authz._answer import allow as _allow
from caaspp_authz._answer import deny as _deny
from caaspp_authz._answer import in_order as _in_order
from caaspp_authz._grants import (
    account_action,
    add_role,
    covers,
    governs,
    not_acted_on,
    remove_role,
)
from caaspp_authz.accounts import Account, Assignment
from caaspp_authz.catalog import (
    AT_TEST_SITES,
    Capability,
    Form,
    Permission,
    Program,
    Role,
    scope_key,
)
from caaspp_authz.directory import User
from caaspp_authz.errors import kinds, shown
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
    "explain",
    "governs",
    "organization_need",
]


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
    full = (
        f"{roles}, held by `{user.email}`, would allow it but {verb} not in force "
        f"until these forms are on file: {forms}"
    )
    fix = f"put these forms on file: {forms}"
    if type(resource) is not Student:
        return _deny((*denied.rules, "G10"), full, fix)
    # The organization of the role that would open a student's results tells where they were
    # earned: the principal's text names the roles and forms, not where the roles are held.
    mine = " and ".join(f"`{a.role}`" for a in tried)
    return _deny(
        (*denied.rules, "G10"),
        f"{mine}, held by `{user.email}`, would allow it but {verb} not in force until these "
        f"forms are on file: {forms}",
        fix,
        audit=(full, fix),
    )


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
    """Whether the directory holds this student (the same SSID at the same school).

    A student the user's directory made is held; one another directory made is not (V1: a
    decision is taken on one directory); one built by hand is held when equal to the record.
    """
    held = user.directory.students
    home = student._home
    return home is held or (home is None and held.get(student.ssid) == student)


_student_allowance: Callable[[User, Student], Decision | None] = student_check(
    _ALLOW_PII, _ALLOW_GROUP, _held
)
"""V1, V2: PII covering the school, or PII_GROUP covering it and an assigned group.

The student must be the directory's: a value the directory does not hold for that SSID
(another school, or no such student) is unknown input and denied. That is checked only
before allowing, so a denial costs no lookup in the student index."""


_STUDENT_FIX = (
    "needs PII over the school where the student's results were earned, or a group assigned "
    "to you that holds the student and PII_GROUP there"
)


def _student_denied(
    user: User,
    ssid: str,
    audit: Callable[[], tuple[str, str | None]] | tuple[str, str | None],
) -> Decision:
    """V1, V2: the denial of a student's results, one text whether the directory holds the SSID
    or not, naming no school (where the results were earned is the student's record)."""
    return _deny(
        ("V1", "V2"),
        f"`{user.email}` may not view the results of student `{ssid}`",
        _STUDENT_FIX,
        audit=audit,
    )


def _view_student(user: User, student: Student) -> Decision:
    """V1, V2: the allowance, or a denial saying what would change the answer.

    The principal's text is the same for a student the directory does not hold; the school
    is named by :func:`explain` only.
    """
    allowed = _student_allowance(user, student)
    if allowed is not None:
        return allowed
    return _student_denied(user, student.ssid, lambda: _student_audit(user, student))


def _student_audit(user: User, student: Student) -> tuple[str, str | None]:
    """V1: the audit text of a student denial, naming the school (``explain`` only)."""
    ssid, school = student.ssid, student.school
    if user.directory.students.get(ssid) != student:
        return f"the directory holds no student `{ssid}` at `{school}`", None
    return (
        f"`{user.email}` holds no PII over school `{school}` and no assigned group with "
        f"student `{ssid}` under PII_GROUP",
        f"needs PII at school {_org_text(user, school)}, or a group assigned to you that "
        f"holds student `{ssid}` and PII_GROUP there",
    )


def sees_student(user: User, student: Student) -> bool:
    """Whether the user may view the student's results (V1); the check, without the prelude."""
    return _student_allowance(user, student) is not None


# --- V3: assigned student groups --------------------------------------------------------------


def _view_group(user: User, key: GroupKey) -> Decision:
    """V3: GROUP_ADMIN or PII over the group's school, or assigned to it with PII_GROUP.

    Whether a group exists is told only to whoever sees every group of its school.
    """
    school = key.school
    if user.directory.group(key) is None:
        if _holds(user, _GROUP_ADMIN, school) or _holds(user, _PII, school):
            return _deny(("V3",), f"there is no group {key}")
        return _group_hidden(user, key, f"there is no group {key}")
    if _holds(user, _GROUP_ADMIN, school):
        return _allow(("V3", "P2", "O4"), "holds GROUP_ADMIN over the group's school")
    if _holds(user, _PII, school):
        return _allow(("V3", "P2", "O4"), "holds PII over the group's school")
    if key in user.groups and _holds(user, _PII_GROUP, school):
        return _allow(("V3", "V2"), "the group is assigned to the user, who holds PII_GROUP there")
    return _group_hidden(user, key, None)


def _group_hidden(user: User, key: GroupKey, audit: str | None) -> Decision:
    """V3: the denial of a group, the same whether the group exists or not."""
    reason = f"`{user.email}` may not see group {key}"
    fix = (
        f"needs GROUP_ADMIN or PII at {_org_text(user, key.school)}, or the group assigned "
        "to you with PII_GROUP there"
    )
    return _deny(("V3",), reason, fix, audit=None if audit is None else (audit, None))


def _manage_group(*, must_exist: bool) -> Callable[[User, GroupKey], Decision]:
    def check(user: User, key: GroupKey) -> Decision:
        """V3: GROUP_ADMIN over the group's school creates, edits and deletes groups."""
        # Whether the group exists is told only to GROUP_ADMIN over its school (V3).
        if user.directory.organization(key.school) is None:
            return _deny(("V3",), f"unknown school `{key.school}`")
        if not user.directory.tree.is_test_site(key.school):
            return _deny(("V3",), f"`{key.school}` is not a school: a group belongs to a school")
        if not _holds(user, _GROUP_ADMIN, key.school):
            return _denied_over(user, _GROUP_ADMIN, key.school, ("V3",))
        exists = user.directory.group(key) is not None
        if must_exist and not exists:
            return _deny(("V3",), f"there is no group {key}")
        if not must_exist and exists:
            return _deny(("V3",), f"group {key} already exists", "edit the existing group")
        return _allow(("V3", "P2", "O4"), "holds GROUP_ADMIN over the group's school")

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
    if target is None or not may_be_assigned(directory.tree, target, key.school):
        # One text whether the account exists or not; its roles are named by `explain` only.
        fix = (
            "assign a group only to a user with a role carrying PII_GROUP or PII at its "
            f"school {_org_text(user, key.school)}"
        )
        audit = (
            f"unknown account `{assignment.to}`"
            if target is None
            else f"the group would open nothing to `{target.email}`: it holds no role "
            f"carrying PII_GROUP or PII over `{key.school}`"
        )
        return _deny(
            ("V3",),
            f"the group would open nothing to `{assignment.to}`",
            fix,
            audit=(audit, fix),
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
                if (
                    student is None
                    or ssid not in user.custom_sources
                    or not sees_student(user, student)
                ):
                    # One text whether the directory holds the SSID or not (V1).
                    fix = (
                        "a custom group takes students from your assigned groups only (of 200 "
                        "or fewer students where your role limits it)"
                    )
                    reason = (
                        f"student `{ssid}` is not in a group assigned to `{user.email}` that "
                        "may be a source of custom groups"
                    )
                    audit = f"unknown student `{ssid}`" if student is None else reason
                    return _deny(("V4", "V1"), reason, fix, audit=(audit, fix))
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
        a: ActionRule((Account,), account_action(a))
        for a in (
            Action.EDIT_ACCOUNT,
            Action.DEACTIVATE_ACCOUNT,
            Action.REACTIVATE_ACCOUNT,
            Action.DELETE_ACCOUNT,
            Action.RESET_PASSWORD,
        )
    },
    Action.ADD_ROLE: ActionRule((Grant,), add_role),
    Action.REMOVE_ROLE: ActionRule((Grant,), remove_role),
}
"""Every action, the resource kinds it takes, and the check that decides it."""


def actions_on(kind: type) -> frozenset[Action]:
    """Every action whose resource is of ``kind`` (a row of :data:`POLICY` taking it)."""
    return frozenset(a for a, rule in POLICY.items() if kind in rule.kinds)


def decide(user: User, action: Action, resource: object) -> Decision:
    """Decide a request; deny by default. Typed but unknown input is denied, never raised on.

    G11: an inactive account may do nothing; G10 is applied in the user's scopes, where an
    assignment whose forms are not on file grants nothing, and a denial that missing forms
    cause names them. A decision is taken on one directory, the user's: the user must be the
    very object its directory holds (not a copy, nor one of another directory), and a student
    must be that directory's own or equal to it (a student of another directory is denied).
    An action that is not an :class:`Action` (a string) is a programming error and raises
    ``TypeError``.

    A denial's ``reason`` and ``fix`` tell the principal only what it may already see: its own
    roles, scopes and forms, organizations, and a person or student only where it could view
    them anyway. A student the directory does not hold is denied with the same text as one it
    may not view. :func:`explain` gives the full detail.
    """
    return for_principal(_decide(user, action, resource))


def explain(user: User, action: Action, resource: object) -> Decision:
    """Decide a request as :func:`decide` does, with the full detail of a denial, for audit.

    **This reveals personal data**: where a student's results were earned, whether an SSID or
    an account exists, another account's roles, organizations and superintendency. Give it to
    auditors and administrators, never to the principal. ``allowed`` and ``rules`` are always
    those of :func:`decide`; only a denial's ``reason`` and ``fix`` differ.
    """
    return for_audit(_decide(user, action, resource))


def _decide(user: User, action: Action, resource: object) -> Decision:
    """The decision with both texts of a denial (``_answer.Audited``)."""
    entry = POLICY.get(action)
    if entry is None:
        return _deny((), f"`{_not_an_action(action)}` is not an action")
    directory = user.directory
    if user.account is None:
        return _deny(("E1",), f"there is no account `{user.email}`")
    if directory._users.get(user.email) is not user:
        return _deny(
            (),
            "the user is not its directory's own",
            "take the user from `Directory.user(email)` of the directory decided on",
        )
    if id(user) not in directory._active:
        return _deny(
            ("G11",),
            f"`{user.email}` is inactive and may do nothing",
            "reactivate the account: a password reset, a role granted one by one, or an upload",
        )
    if isinstance(resource, Unknown):
        return _unknown(user, action, entry, resource)
    if not isinstance(resource, entry.kinds):
        takes = kinds(k.__name__ for k in entry.kinds)
        return _deny((), f"`{action.value}` acts on {takes}, not on {_kind_of(resource)}")
    home = resource._home if type(resource) is Student else None
    if home is not directory.students and home is not None:  # by identity: dicts compare equal
        return _deny(
            ("V1",),
            "the student is of another directory than the user",
            "take the user and the student from the same directory",
        )
    decided = entry.check(user, resource)
    if decided.allowed:
        return decided
    return _for_want_of_forms(user, entry, resource, decided)  # G10, in any action


def can(user: User, action: Action, resource: object) -> bool:
    """Whether ``user`` may do ``action`` on ``resource``: always ``decide(...).allowed``.

    The same prelude as :func:`decide`, then the action's quick check where it has one, so a
    denial on a hot path builds no explanation.
    """
    try:  # a subscript, not `.get`: the method call would double the cost of this line
        entry = POLICY[action]
    except (KeyError, TypeError):  # TypeError: an unhashable action
        _not_an_action(action)  # raises TypeError for what is not an Action
        return False
    directory = user.directory
    if (
        id(user) not in directory._active  # not the directory's own active user (E1, G11)
        or not isinstance(resource, entry.kinds)  # unknown or wrong kind
    ):
        return False
    # A student of another directory is denied by the V1 check itself (`_held`), the one
    # action that takes a student, so that its hot path tests the student's home once.
    quick = entry.quick
    if quick is not None:
        return quick(user, resource) is not None
    return entry.check(user, resource).allowed


def _unknown(user: User, action: Action, entry: ActionRule, resource: Unknown) -> Decision:
    """A resource the directory does not hold: denied. An SSID or an account the action takes
    is denied as one the principal may not act on (the same rules and text), so a denial does
    not tell whether it exists (V1, G8); ``explain`` says it is unknown."""
    audit = (str(resource), resource.fix)
    if resource.kind == "student" and Student in entry.kinds:
        return _student_denied(user, resource.value, audit)
    if resource.kind == "account" and Account in entry.kinds:
        return not_acted_on(user, action, resource.value, audit)
    return _deny(resource.rules, str(resource), resource.fix)


def _not_an_action(action: object) -> str:
    """The text of a genuine :class:`Action` the policy lacks; ``TypeError`` for anything else.

    A string such as ``"view_student_results"`` is a programming error, not a denial.
    """
    if isinstance(action, Action):
        return action.value
    if isinstance(action, str):
        try:
            hint = f"`Action.{Action(action).name}`"
        except ValueError:
            hint = "an `Action(...)` member, such as `Action.VIEW_STUDENT_RESULTS`"
        raise TypeError(f"the action must be {hint}, not the string `{shown(action)}`")
    raise TypeError(
        "the action must be an `Action(...)` member, such as `Action.VIEW_STUDENT_RESULTS`, "
        f"not a {type(action).__name__}"
    )


def _kind_of(resource: object) -> str:
    """A resource's kind for a denial, without its contents (no personal data)."""
    return kinds([type(resource).__name__])
