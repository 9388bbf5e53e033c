"""Hypothesis strategies for caaspp_authz values: codes, e-mails, roles, directories, requests.

Other projects use these to test their own authorization code against this library as a
reference oracle: draw a directory with :func:`directories`, draw requests against it with
:func:`requests`, and compare their answer with :func:`caaspp_authz.can`.

Every strategy follows Hypothesis' own API style: plural names, keyword-only parameters, and
:class:`hypothesis.errors.InvalidArgument` for bad arguments. :func:`directories` always draws
a directory that :meth:`Directory.build <caaspp_authz.directory.Directory.build>` accepts.

This module imports Hypothesis (install the ``hypothesis`` extra: ``pip install
'caaspp-authz[hypothesis]'``); the rest of the library never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ModuleNotFoundError as _missing:  # the `hypothesis` extra is not installed
    raise ModuleNotFoundError(
        "caaspp_authz.strategies needs Hypothesis: pip install 'caaspp-authz[hypothesis]'",
        name="hypothesis",
    ) from _missing

from caaspp_authz._access import may_be_assigned
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet
from caaspp_authz.catalog import ROLES, Form, Program, Role, RoleLevel, Where, by_name
from caaspp_authz.decision import Action, actions_on, sees_student
from caaspp_authz.directory import Directory, User
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree, is_lea_code
from caaspp_authz.resources import (
    SUBJECTS,
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

__all__ = [
    "cds_codes",
    "directories",
    "emails",
    "organizations",
    "requests",
    "roles",
    "rule_sets",
]

_LEA_SUFFIX = "0000000"
_NAMES = ("ada", "ben", "cruz", "dana", "eli", "fay", "gus", "hana", "ivan", "jo")
_DOMAINS = ("example.org", "sample.k12.ca.us", "district.net", "school.edu")
T = TypeVar("T")
_GROUP_NAMES = ("Period 1", "Period 2", "Readers", "Math A", "ELA 7")


def _pick(draw: st.DrawFn, items: Sequence[T]) -> T:
    """One of ``items``, drawn by index: cheaper than a new ``sampled_from`` every time."""
    return items[draw(st.integers(0, len(items) - 1))]


def _some(draw: st.DrawFn, items: Sequence[T], *, min_size: int = 0, max_size: int) -> list[T]:
    """Distinct members of ``items``, in the order drawn."""
    if not items:
        return []
    chosen = draw(
        st.lists(
            st.integers(0, len(items) - 1),
            min_size=min(min_size, len(items)),
            max_size=max_size,
            unique=True,
        )
    )
    return [items[i] for i in chosen]


def _check_count(name: str, value: object, *, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a whole number")
    if value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}")
    return value


# --- simple values --------------------------------------------------------------------------


def cds_codes(*, level: Level | None = None) -> st.SearchStrategy[CDSCode]:
    """14-digit CDS codes (O2): of an LEA (ends in ``0000000``), of a school, or either.

    ``level`` is ``Level.LEA``, ``Level.SCHOOL`` or ``None`` (either); the State has no code.
    """
    if level is not None and not isinstance(level, Level):
        raise InvalidArgument(f"level={level!r} must be a Level or None")
    if level is Level.STATE:
        raise InvalidArgument("level=Level.STATE: the State is implicit and has no CDS code (O3)")
    prefix = st.integers(1, 58).map(lambda c: f"{c:02d}") | st.just("00")
    district = st.integers(0, 99999).map(lambda d: f"{d:05d}")
    lea = st.builds(lambda p, d: CDSCode(p + d + _LEA_SUFFIX), prefix, district)
    school = st.builds(
        lambda p, d, s: CDSCode(f"{p}{d}{s:07d}"), prefix, district, st.integers(1, 9999999)
    )
    if level is Level.LEA:
        return lea
    if level is Level.SCHOOL:
        return school
    return lea | school


def emails() -> st.SearchStrategy[Email]:
    """Canonical e-mail addresses (E1, E6): lower case, single dots between non-empty parts, a
    top-level part of 2 to 10 letters."""
    part = st.text("abcdefghijklmnopqrstuvwxyz0123456789_+-", min_size=1, max_size=6)
    local = st.lists(part, min_size=1, max_size=2).map(".".join)
    label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
    tld = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)
    return st.builds(
        lambda lo, labels, t: Email(f"{lo}@{'.'.join(labels)}.{t}"),
        local,
        st.lists(label, min_size=1, max_size=2),
        tld,
    )


def roles(*, level: RoleLevel | None = None) -> st.SearchStrategy[Role]:
    """Roles of the catalog (R2), optionally only those held at ``level``."""
    if level is not None and not isinstance(level, RoleLevel):
        raise InvalidArgument(f"level={level!r} must be a RoleLevel or None")
    pool = [r for r in ROLES if level is None or r.level is level]
    return st.sampled_from(pool)


def rule_sets() -> st.SearchStrategy[RuleSet]:
    """The e-mail rule sets (E7)."""
    return st.sampled_from(list(RuleSet))


# --- organizations --------------------------------------------------------------------------


@st.composite
def _organizations(draw: st.DrawFn, max_leas: int, max_schools_per_lea: int) -> list[Organization]:
    districts = draw(st.lists(st.integers(0, 99999), min_size=1, max_size=max_leas, unique=True))
    county = draw(st.integers(1, 58))
    orgs: list[Organization] = []
    used: set[str] = set()
    for i, district in enumerate(districts):
        base = f"{county:02d}{district:05d}"
        # O3: now and then a direct-funded charter, an LEA whose code is a school code.
        if draw(st.integers(0, 5)) == 0:
            code = CDSCode(base + f"{draw(st.integers(1, 9999999)):07d}")
            if code not in used:
                used.add(code)
                orgs.append(Organization(code, f"Charter {i}", Level.LEA))
            continue
        lea = CDSCode(base + _LEA_SUFFIX)
        used.add(lea)
        orgs.append(Organization(lea, f"District {i}", Level.LEA))
        for j, number in enumerate(
            draw(st.lists(st.integers(1, 9999999), max_size=max_schools_per_lea, unique=True))
        ):
            # O3: now and then a dependent charter, whose digits name another district.
            other = draw(st.integers(0, 7)) == 0
            digits = f"{county:02d}{(district + 1) % 100000:05d}" if other else base
            code = CDSCode(f"{digits}{number:07d}")
            if code in used:
                continue
            used.add(code)
            orgs.append(Organization(code, f"School {i}.{j}", Level.SCHOOL, lea))
    return orgs


def organizations(
    *, max_leas: int = 3, max_schools_per_lea: int = 3
) -> st.SearchStrategy[list[Organization]]:
    """Valid organization lists for :meth:`OrgTree.build` (O1–O3).

    One to ``max_leas`` LEAs of one county, each with up to ``max_schools_per_lea`` schools;
    now and then a direct-funded charter (an LEA with a school code) or a dependent charter
    (a school whose digits name another district).
    """
    _check_count("max_leas", max_leas, minimum=1)
    _check_count("max_schools_per_lea", max_schools_per_lea, minimum=0)
    return _organizations(max_leas, max_schools_per_lea)


# --- directories ----------------------------------------------------------------------------

_FORM_CHOICES: tuple[frozenset[Form], ...] = (
    frozenset(Form),
    frozenset(Form),
    frozenset(Form),
    frozenset({Form.AFFIDAVIT}),
    frozenset(),
)


_COORDINATORS = tuple(r for r in ROLES if Form.AGREEMENT in r.forms)


def _holdable(role: Role, org: Organization, test_sites: set[CDSCode]) -> bool:
    return role.may_be_held_at(lea=org.level is Level.LEA, test_site=org.cds in test_sites)


@st.composite
def _account(
    draw: st.DrawFn,
    email: Email,
    orgs: Sequence[Organization],
    test_sites: set[CDSCode],
    rule_set: RuleSet,
    primaries: set[tuple[CDSCode, str]],
) -> Account:
    leas = [o.cds for o in orgs if o.level is Level.LEA]
    superintendent = draw(st.integers(0, 6)) == 0
    pairs: list[tuple[Role, Organization]] = []
    if rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
        # E2, E3: one role, at one or more organizations where it may be held (R2).
        if not (superintendent and draw(st.booleans())):
            pool = _COORDINATORS if draw(st.integers(0, 2)) == 0 else ROLES
            role = _pick(draw, pool)
            places = [o for o in orgs if _holdable(role, o, test_sites)]
            if places:
                chosen = _some(draw, places, min_size=1, max_size=2)
                pairs = [(role, o) for o in chosen]
    else:
        # E7: any roles, never the same role twice at one organization.
        candidates = [(r, o) for r in ROLES for o in orgs if _holdable(r, o, test_sites)]
        pairs = _some(draw, candidates, max_size=3)
    assignments: list[Assignment] = []
    for role, org in pairs:
        primary = False
        if role.has_primary and (org.cds, role.name) not in primaries and draw(st.booleans()):
            primaries.add((org.cds, role.name))  # R7: one primary per LEA and role
            primary = True
        assignments.append(Assignment(role, org.cds, primary))
    forms = {p: _pick(draw, _FORM_CHOICES) for p in Program}  # G10
    return Account(
        email=email,
        first_name=_pick(draw, _NAMES).title(),
        last_name="Test",
        phone="213-555-0100",
        active=draw(st.integers(0, 5)) != 0,  # G11: some inactive
        credentialed=draw(st.booleans()),  # R5
        superintendent_of=_pick(draw, leas) if superintendent else None,  # R6
        forms=forms,
        assignments=assignments,
    )


@st.composite
def _directories(
    draw: st.DrawFn,
    rule_set: RuleSet | None,
    max_leas: int,
    max_schools_per_lea: int,
    max_accounts: int,
    max_students: int,
    max_groups: int,
) -> Directory:
    chosen_rules = rule_set if rule_set is not None else draw(rule_sets())
    orgs = draw(_organizations(max_leas, max_schools_per_lea))
    by_code = {o.cds: o for o in orgs}
    test_sites = {o.cds for o in orgs if o.level is Level.SCHOOL or not is_lea_code(o.cds)}
    sites = sorted(test_sites)

    n_accounts = draw(st.integers(0, max_accounts))
    primaries: set[tuple[CDSCode, str]] = set()
    accounts: list[Account] = []
    for i in range(n_accounts):
        email = Email(f"{_pick(draw, _NAMES)}{i}@{_pick(draw, _DOMAINS)}")
        accounts.append(draw(_account(email, orgs, test_sites, chosen_rules, primaries)))

    students: list[Student] = []
    if sites:
        ssids = draw(
            st.lists(
                st.integers(0, 9_999_999_999).map(lambda n: f"{n:010d}"),
                max_size=max_students,
                unique=True,
            )
        )
        students = [Student(s, _pick(draw, sites)) for s in ssids]

    def lea_of(code: CDSCode) -> CDSCode:
        return by_code[code].lea_code

    groups: list[Group] = []
    keys: set[GroupKey] = set()
    tree = OrgTree.build(orgs)
    if sites:
        for _ in range(draw(st.integers(0, max_groups))):
            school = _pick(draw, sites)
            key = GroupKey(school, draw(st.integers(2024, 2026)), _pick(draw, _GROUP_NAMES))
            if key in keys:
                continue
            keys.add(key)
            local = [s.ssid for s in students if s.school == school]
            pool = local if local and draw(st.integers(0, 4)) != 0 else [s.ssid for s in students]
            members = _some(draw, pool, max_size=6)
            # V3: assignees hold a role the group opens to (PII_GROUP or PII at its school).
            eligible = [a.email for a in accounts if may_be_assigned(tree, a, school)]
            users = _some(draw, eligible, max_size=3) if eligible else []
            groups.append(Group(key, _pick(draw, SUBJECTS), frozenset(members), frozenset(users)))

    directory = Directory.build(
        organizations=orgs,
        accounts=accounts,
        students=students,
        groups=groups,
        rule_set=chosen_rules,
    )
    # V4: custom groups built by their owners from the students they may take.
    customs: list[CustomGroup] = []
    for user in directory.users():
        sources = sorted(
            ssid for ssid in user.custom_sources if sees_student(user, directory.students[ssid])
        )
        if not sources or not user.scope("PII_GROUP"):
            continue
        for name in _some(draw, _GROUP_NAMES, max_size=2):
            members = _some(draw, sources, min_size=1, max_size=len(sources))
            customs.append(CustomGroup(user.email, name, frozenset(members)))
    if not customs:
        return directory
    return Directory.build(
        organizations=orgs,
        accounts=accounts,
        students=students,
        groups=groups,
        custom_groups=customs,
        rule_set=chosen_rules,
    )


def directories(
    *,
    rule_set: RuleSet | None = None,
    max_leas: int = 3,
    max_schools_per_lea: int = 3,
    max_accounts: int = 10,
    max_students: int = 20,
    max_groups: int = 4,
) -> st.SearchStrategy[Directory]:
    """Valid directories: :meth:`Directory.build` never raises on what this draws.

    ``rule_set`` fixes the e-mail rule set (E7); ``None`` draws either. Under
    ``one-role-per-email`` an account holds one role, at one or more organizations of the
    right level (E2, E3); under ``multi-role`` up to three role assignments. Forms are
    sometimes missing (G10), some accounts are inactive (G11), some are superintendents (R6),
    some credentialed (R5); groups are assigned to users holding a role carrying PII_GROUP or
    PII at their school (V3); custom
    groups are built by their owners from the students they may take (V4).
    """
    if rule_set is not None and not isinstance(rule_set, RuleSet):
        raise InvalidArgument(f"rule_set={rule_set!r} must be a RuleSet or None")
    _check_count("max_leas", max_leas, minimum=1)
    _check_count("max_schools_per_lea", max_schools_per_lea, minimum=0)
    _check_count("max_accounts", max_accounts, minimum=0)
    _check_count("max_students", max_students, minimum=0)
    _check_count("max_groups", max_groups, minimum=0)
    return _directories(
        rule_set, max_leas, max_schools_per_lea, max_accounts, max_students, max_groups
    )


# --- requests -------------------------------------------------------------------------------

_STUDENT_ACTIONS = actions_on(Student)
_GROUP_ACTIONS = actions_on(GroupKey)
_CUSTOM_ACTIONS = actions_on(CustomGroup)
_REPORT_ACTIONS = actions_on(Report)
_ACCOUNT_ACTIONS = actions_on(Account)
_GRANT_ACTIONS = actions_on(Grant)
_ORG_ACTIONS = actions_on(Organization)
_SCOPE_ACTIONS = actions_on(ProgramScope)


def _new_email(draw: st.DrawFn) -> Email:
    return Email(f"new{draw(st.integers(0, 99))}@newcomer.org")


def _unknown_code(draw: st.DrawFn, directory: Directory) -> CDSCode:
    code = draw(cds_codes())
    return code if code not in directory.tree else CDSCode("99999999999999")


def _rarely(draw: st.DrawFn) -> bool:
    return draw(st.integers(0, 9)) == 0


@st.composite
def _requests(draw: st.DrawFn, directory: Directory) -> tuple[User, Action, object]:
    emails_known = list(directory.accounts)
    if emails_known and not _rarely(draw):
        user = directory.user(_pick(draw, emails_known))
    else:
        user = directory.user(_new_email(draw))  # E1: an unknown principal
    action = _pick(draw, list(Action))
    codes = [o.cds for o in directory.tree]
    resource = draw(_resource(directory, user, action, codes))
    return user, action, resource


@st.composite
def _resource(
    draw: st.DrawFn, directory: Directory, user: User, action: Action, codes: list[CDSCode]
) -> object:
    def code() -> CDSCode:
        return _unknown_code(draw, directory) if _rarely(draw) else _pick(draw, codes)

    def some_email() -> Email:
        known = list(directory.accounts)
        if known and not _rarely(draw):
            return user.email if draw(st.integers(0, 4)) == 0 else _pick(draw, known)
        return _new_email(draw)

    def group_key() -> GroupKey:
        existing = list(directory.groups)
        if existing and draw(st.integers(0, 3)) != 0:
            return _pick(draw, existing)
        return GroupKey(code(), draw(st.integers(2024, 2026)), _pick(draw, _GROUP_NAMES))

    if action in _STUDENT_ACTIONS:
        students = list(directory.students.values())
        if students and not _rarely(draw):
            return _pick(draw, students)
        return Unknown("student", "0000000000")
    if action in _GROUP_ACTIONS:
        return group_key()
    if action is Action.ASSIGN_GROUP:
        return GroupAssignment(group_key(), some_email())
    if action in _CUSTOM_ACTIONS:
        existing = list(directory.custom_groups.values())
        own = [c for c in existing if c.owner == user.email]
        pick = draw(st.integers(0, 3))
        if own and pick < 2:
            found = _pick(draw, own)
        elif existing and pick == 2:
            found = _pick(draw, existing)
        else:
            found = CustomGroup(user.email, _pick(draw, _GROUP_NAMES), frozenset())
        pool = sorted(user.custom_sources) or list(directory.students)
        if action in (Action.CREATE_CUSTOM_GROUP, Action.EDIT_CUSTOM_GROUP) and pool:
            if draw(st.booleans()):
                members = _some(draw, pool, min_size=1, max_size=4)
                found = CustomGroup(found.owner, found.name, frozenset(members))
            elif _rarely(draw):
                found = CustomGroup(found.owner, found.name, frozenset({"0000000000"}))
        return found
    if action in _REPORT_ACTIONS:
        n = draw(st.integers(0 if _rarely(draw) else 1, 3))
        return Report(tuple(code() for _ in range(n)))
    if action is Action.MANAGE_RESOURCE_LINKS:
        return ResourceLink(code())
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        return ToolsForTeachers()
    if action in _ACCOUNT_ACTIONS:
        email = some_email()
        account = directory.account(email)
        return account if account is not None else Unknown("account", email)
    if action in _GRANT_ACTIONS:
        to = some_email()
        target = directory.account(to)
        if (
            action is Action.REMOVE_ROLE
            and target is not None
            and target.assignments
            and draw(st.integers(0, 2)) != 0
        ):
            held = _pick(draw, target.assignments)
            return Grant(to, held.role, held.org, held.primary)
        primary, credentialed = draw(st.booleans()), draw(st.booleans())
        own_rows = draw(st.booleans())
        if user.grant_powers and own_rows:
            # Mostly grants the user's own grant rows could allow (G1, G3).
            power = _pick(draw, user.grant_powers)
            schools = list(directory.tree.schools_of(power.holder))
            reach = [power.holder] if power.rule.where is not Where.SCHOOLS else []
            if power.rule.where is not Where.HOLDER and power.holder_level is Level.LEA:
                reach += schools or [power.holder]
            return Grant(
                to,
                by_name(power.rule.grantee),
                _pick(draw, reach or [power.holder]),
                primary,
                credentialed,
            )
        return Grant(to, _pick(draw, ROLES), code(), primary, credentialed)
    assert action in _ORG_ACTIONS
    chosen = code()
    org = directory.organization(chosen)
    if org is None:
        return Unknown("organization", chosen)
    if action in _SCOPE_ACTIONS and draw(st.booleans()):  # T2, T3: a program, an assessment
        # The request format names an assessment for view_completion_status only (T3).
        assessment = (
            _pick(draw, list(Assessment))
            if action is Action.VIEW_COMPLETION_STATUS
            else Assessment.ALL
        )
        return ProgramScope(org, _pick(draw, list(Program)), assessment)
    return org


def requests(directory: Directory) -> st.SearchStrategy[tuple[User, Action, object]]:
    """Requests ``(user, action, resource)`` against ``directory``, for every :class:`Action`.

    Users and resources come mostly from the directory itself (its accounts, students,
    groups, custom groups and organizations), with now and then an unknown principal, an
    :class:`~caaspp_authz.resources.Unknown` resource, an unknown organization, and new
    e-mails as grant targets (a grant that creates an account).
    """
    if not isinstance(directory, Directory):
        raise InvalidArgument(f"directory={directory!r} must be a Directory")
    return _requests(directory)
