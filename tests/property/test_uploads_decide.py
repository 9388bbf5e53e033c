"""One answer on every path: a user-file row, or a group of a group file, is refused exactly
when a request it implies is denied by ``decide``, and what ``apply`` did agrees with ``decide``
afterwards (U2, U4, U5, U7, G6, G8, G11, E5, V3)."""

from __future__ import annotations

import attrs
from hypothesis import event, given
from hypothesis import strategies as st

from caaspp_authz import Action, Directory, RuleSet, decide
from caaspp_authz.accounts import Account, Assignment, Email
from caaspp_authz.catalog import ROLES, Role
from caaspp_authz.decision import Decision
from caaspp_authz.orgs import CDSCode
from caaspp_authz.resources import Grant, Group, GroupAssignment, GroupKey
from caaspp_authz.strategies import directories
from caaspp_authz.uploads import GROUP_HEADER, apply_users, validate_groups, validate_users
from tests.uploadfiles import csv_bytes

NEW = Email("row.person@newcomer.org")


def _after_replacing(d: Directory, account: Account, removed: list[Assignment]) -> Directory:
    """The directory once the row's replacements (U4) are made: the account without them."""
    changed = attrs.evolve(
        account, assignments=[a for a in account.assignments if a not in removed]
    )
    return Directory.build(
        organizations=d.tree,
        accounts=[changed if a.email == account.email else a for a in d.accounts.values()],
        rule_set=d.rule_set,
    )


def _implied(
    d: Directory, uploader: str, email: Email, role: Role, org: CDSCode
) -> tuple[list[Decision], Decision | None, list[Assignment]]:
    """The requests the rulebook says a row implies, decided one by one: those that must be
    allowed, ``edit_account`` (whose denial is no error, U7), and the assignments replaced."""
    user = d.user(uploader)
    organization = d.tree.organizations[org]
    required = [decide(user, Action.UPLOAD_USERS, organization)]  # G9
    account = d.account(email)
    grant = Grant(email, role, org, credentialed=role.needs_credential)  # U6
    if account is None:
        required.append(decide(user, Action.ADD_ROLE, grant))
        return required, None, []
    removed: list[Assignment] = []
    for a in account.assignments:  # U4: the row replaces the other roles at its organization
        if a.org != org or a.role == role:
            continue
        removal = decide(user, Action.REMOVE_ROLE, Grant(email, a.role, a.org, primary=a.primary))
        if d.rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
            required.append(removal)  # G6: every role there is replaced
        if removal.allowed:
            removed.append(a)  # multi-role: only the roles the uploader governs
    if not account.active and account.assignments:  # G11, U7
        required.append(decide(user, Action.REACTIVATE_ACCOUNT, account))
    after = _after_replacing(d, account, removed) if removed else d
    required.append(decide(after.user(uploader), Action.ADD_ROLE, grant))
    return required, decide(user, Action.EDIT_ACCOUNT, account), removed


def _grantable(d: Directory, uploader: str, orgs: list[CDSCode]) -> list[tuple[Role, CDSCode]]:
    user = d.user(uploader)
    return [
        (r, o)
        for r in ROLES
        for o in orgs
        if decide(user, Action.ADD_ROLE, Grant(NEW, r, o, credentialed=True)).allowed
    ]


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Directory, str, tuple[str, ...], Email, Role, CDSCode]:
    d = draw(directories(max_accounts=8, max_students=0, max_groups=0))
    emails: list[Email] = sorted(d.accounts) or [NEW]
    orgs = sorted(d.tree.organizations)
    grantable = {e: _grantable(d, e, orgs) for e in emails}
    granting = [e for e in emails if grantable[e]]
    # mostly an uploader who may grant something, and a role it may grant to a new account,
    # so that rows are often valid; sometimes anything at all
    mostly = draw(st.integers(0, 4)) > 0
    if granting and mostly:
        uploader = draw(st.sampled_from(granting))
        role, org = draw(st.sampled_from(grantable[uploader]))
    else:
        uploader = draw(st.sampled_from(emails))
        role = draw(st.sampled_from(ROLES))
        org = draw(st.sampled_from(orgs))
    email = draw(st.sampled_from([*emails, NEW]))
    account = d.account(email)
    if account is not None and draw(st.booleans()):
        names = (account.first_name, account.last_name, account.phone)
    else:
        names = ("Row", "Person", "213-555-0199")
    row = (names[0], names[1], org, email, names[2], role.name)
    return d, uploader, row, email, role, org


@given(_cases())
def test_a_row_is_refused_exactly_when_a_request_it_implies_is_denied(
    case: tuple[Directory, str, tuple[str, ...], Email, Role, CDSCode],
) -> None:
    """U2, U4, U7, G6, G9, G11, E5: a row of a well-formed file has no error exactly when every
    request it implies is allowed; it is warned under U7 exactly when it changes the names of an
    account that ``edit_account`` may not change."""
    d, uploader, row, email, role, org = case
    v = validate_users(csv_bytes([row]), d, uploader=uploader)
    required, edit, _ = _implied(d, uploader, email, role, org)
    event(f"existing={d.account(email) is not None} valid={v.valid}")
    assert v.valid == all(r.allowed for r in required), (v.problems, required)
    account = d.account(email)
    changes_names = account is not None and tuple(row[i] for i in (0, 1, 4)) != (
        account.first_name,
        account.last_name,
        account.phone,
    )
    warned = "U7" in [p.rule for p in v.warnings]
    assert warned == (changes_names and edit is not None and not edit.allowed)


@given(_cases())
def test_apply_then_decide_agrees_with_the_change_report(
    case: tuple[Directory, str, tuple[str, ...], Email, Role, CDSCode],
) -> None:
    """U4, U7, G6, G11: after ``apply``, the account holds what the report says was added,
    not what it says was overridden, is active, has new names only where ``edit_account`` was
    allowed, and the uploader governs (may remove) what it granted."""
    d, uploader, row, email, role, org = case
    if not validate_users(csv_bytes([row]), d, uploader=uploader).valid:
        return
    _, edit, removed = _implied(d, uploader, email, role, org)
    result = apply_users(csv_bytes([row]), d, uploader=uploader)
    after = result.directory
    account = after.account(email)
    assert account is not None
    assert account.active
    held = {(a.role.name, a.org) for a in account.assignments}
    assert (role.name, org) in held
    report = result.changes
    for change in (*report.assignments_added, *report.assignments_overridden):
        assert (change.role, change.org) in held
        if email != uploader:
            grant = Grant(email, role, org)
            assert decide(after.user(uploader), Action.REMOVE_ROLE, grant).allowed
    gone = {(c.previous, c.org) for c in report.assignments_overridden}
    assert gone == {(a.role.name, a.org) for a in removed}
    assert not gone & held
    before = d.account(email)
    if before is not None:
        renamed = (account.first_name, account.last_name, account.phone) != (
            before.first_name,
            before.last_name,
            before.phone,
        )
        assert not renamed or (edit is not None and edit.allowed)
        assert (email in report.accounts_reactivated) == (not before.active)
    else:
        assert report.accounts_created == (email,)


# --- the group file ---------------------------------------------------------------------------


@st.composite
def _group_cases(draw: st.DrawFn) -> tuple[Directory, str, GroupKey, Email]:
    d = draw(directories(max_accounts=8, max_students=6, max_groups=3))
    emails: list[Email] = sorted(d.accounts) or [NEW]
    schools = sorted(c for c in d.tree.organizations if d.tree.is_test_site(c))
    existing = sorted(d.groups, key=lambda k: (k.school, k.name, k.school_year))
    pick_existing = draw(st.booleans())
    if existing and pick_existing:
        key = draw(st.sampled_from(existing))
    elif schools:
        key = GroupKey(draw(st.sampled_from(schools)), 2026, "New group")
    else:
        key = GroupKey(draw(st.sampled_from(sorted(d.tree.organizations))), 2026, "New group")
    org = d.tree.organizations[key.school]
    admins = [e for e in emails if decide(d.user(e), Action.UPLOAD_GROUPS, org).allowed]
    mostly = draw(st.integers(0, 3)) > 0
    uploader = draw(st.sampled_from(admins if admins and mostly else emails))
    local = [
        a.email
        for a in d.accounts.values()
        if any(d.tree.organizations[x.org].lea_code == org.lea_code for x in a.assignments)
    ]
    login = draw(st.sampled_from(local if local and mostly else emails))
    return d, uploader, key, login


@given(_group_cases())
def test_a_group_is_refused_exactly_when_a_request_it_implies_is_denied(
    case: tuple[Directory, str, GroupKey, Email],
) -> None:
    """U5, V3: a well-formed one-group file has no error exactly when ``upload_groups``,
    ``create_group`` or ``edit_group``, and ``assign_group`` to its login are all allowed (the
    assignment decided once the group exists)."""
    d, uploader, key, login = case
    if login not in d.accounts:
        return
    row = (key.name, key.school, str(key.school_year), "All", "", login)
    v = validate_groups(csv_bytes([row], header=GROUP_HEADER), d, uploader=uploader)
    user = d.user(uploader)
    exists = d.group(key) is not None
    required = [
        decide(user, Action.UPLOAD_GROUPS, d.tree.organizations[key.school]),
        decide(user, Action.EDIT_GROUP if exists else Action.CREATE_GROUP, key),
    ]
    after = d
    if not exists and d.tree.is_test_site(key.school):
        after = Directory.build(
            organizations=d.tree,
            accounts=d.accounts.values(),
            students=d.students.values(),
            groups=[*d.groups.values(), Group(key)],
            custom_groups=d.custom_groups.values(),
            rule_set=d.rule_set,
        )
    required.append(decide(after.user(uploader), Action.ASSIGN_GROUP, GroupAssignment(key, login)))
    event(f"exists={exists} valid={v.valid}")
    assert v.valid == all(r.allowed for r in required), (v.problems, required)
