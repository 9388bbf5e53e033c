"""Invariants of the whole policy over drawn directories and requests.

Deny by default, scope containment, no escalation, monotonicity, determinism and independence
from the order of assignments, and agreement of ``can``, ``decide`` and the directory format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caaspp_authz import (
    GRANTS,
    Account,
    Action,
    CustomGroup,
    Directory,
    Grant,
    GrantRule,
    GroupAssignment,
    Organization,
    Role,
    RoleLevel,
    Unknown,
    at_least,
    can,
    decide,
    dump_directory,
    governs,
    load_directory,
)
from caaspp_authz.catalog import SUPERINTENDENT, Where, by_name
from caaspp_authz.decision import actions_on
from tests.property.support import (
    Request,
    rebuild,
    same_resource,
    same_user,
    scenarios,
    touched,
)

_ACCOUNT_ACTIONS = actions_on(Account)
_GRANT_ACTIONS = actions_on(Grant)
_G1_GRANTEES = frozenset(g.grantee for g in GRANTS if g.grantor == SUPERINTENDENT)


def _key(directory: Directory, request: Request) -> tuple[bool, tuple[str, ...], str]:
    user, action, resource = request
    d = decide(same_user(directory, user), action, same_resource(directory, resource))
    return d.allowed, d.rules, d.reason


@given(scenarios())
def test_decide_is_total_deterministic_and_agrees_with_can(
    scenario: tuple[Directory, list[Request]],
) -> None:
    """decide never raises on a drawn request, answers the same twice, and can == allowed."""
    _directory, found = scenario
    for user, action, resource in found:
        first = decide(user, action, resource)
        assert decide(user, action, resource) == first
        assert can(user, action, resource) is first.allowed
        if first.allowed:
            assert first.fix is None


@given(scenarios())
def test_unknown_or_inactive_is_denied(scenario: tuple[Directory, list[Request]]) -> None:
    """G11, E1: an unknown principal, an inactive one, or an unknown resource is denied."""
    _directory, found = scenario
    for user, action, resource in found:
        if user.account is None or not user.active or isinstance(resource, Unknown):
            assert not can(user, action, resource)


def _strip_forms(account: Account) -> Account:
    return attrs.evolve(account, forms={})


@given(scenarios(), st.data())
def test_no_assignment_in_force_is_denied(
    scenario: tuple[Directory, list[Request]], data: st.DataObject
) -> None:
    """Deny by default (G10): with no assignment in force a user may only reset its own
    password (G7), edit its own demographics (G8), delete its own custom groups (V4) and, as
    superintendent, grant what G1 lets it grant and act on accounts of its LEA (G8)."""
    directory, found = scenario
    emails = sorted(directory.accounts)
    stripped = set(data.draw(st.lists(st.sampled_from(emails)))) if emails else set()
    changed = rebuild(
        directory,
        change=lambda a: _strip_forms(a) if a.email in stripped else a,
    )
    for request in found:
        user, action, resource = request
        user, resource = same_user(changed, user), same_resource(changed, resource)
        if user.account is None or user.in_force:
            continue
        decision = decide(user, action, resource)
        if not decision.allowed:
            continue
        if isinstance(resource, Account) and resource.email == user.email:
            assert action in (Action.RESET_PASSWORD, Action.EDIT_ACCOUNT), decision
            continue
        if action is Action.DELETE_CUSTOM_GROUP:
            assert isinstance(resource, CustomGroup)
            assert resource.owner == user.email, decision
            continue
        # R6, G1, G8: the superintendent's only powers, at its own LEA.
        lea = user.account.superintendent_of
        assert lea is not None, decision
        tree = changed.tree
        if action in _GRANT_ACTIONS:
            assert isinstance(resource, Grant)
            assert resource.role.name in _G1_GRANTEES
            assert resource.organization == lea
        else:
            assert action in _ACCOUNT_ACTIONS, decision
            assert isinstance(resource, Account)
            target = changed.accounts[resource.email]
            assert target.superintendent_of is None
            assert target.assignments
            assert all(tree.organizations[a.org].lea_code == lea for a in target.assignments), (
                decision,
                target.assignments,
                lea,
                [tree.organizations[a.org] for a in target.assignments],
                user.account,
            )


@given(scenarios())
def test_scope_containment(scenario: tuple[Directory, list[Request]]) -> None:
    """O4, G2: an allowed request touches only organizations its user's in-force
    assignments cover (or, for G1, the superintendent's own LEA)."""
    directory, found = scenario
    tree = directory.tree
    for user, action, resource in found:
        decision = decide(user, action, resource)
        if not decision.allowed or user.account is None:
            continue
        held = {a.org for a in user.in_force}
        if action in _GRANT_ACTIONS:
            # G2: grants reach only inside the actor's own LEA, at the LEA level or lower.
            held_leas = {tree.organizations[c].lea_code for c in held}
            if user.account.superintendent_of is not None:
                held_leas.add(user.account.superintendent_of)
            for code in touched(directory, resource):
                org = tree.get(code)
                assert org is not None
                assert org.lea_code in held_leas, decision
            continue
        if action in _ACCOUNT_ACTIONS:
            continue
        if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
            assert held, decision  # V7: whatever the organization, but a role in force
            continue
        for code in touched(directory, resource):
            assert not held.isdisjoint(tree.covering(code)), (action, code, decision)


# The rows of the grant matrix whose grantee carries capabilities its grantor lacks, all for
# IA Administrator Only, a role of both programs granted by the coordinators of either (G3,
# decision on "both programs" roles): the ELPAC coordinators grant a role that administers and
# hand-scores CAASPP interim assessments (T1, T3), and the CAASPP coordinators one that sees
# the ELPAC interim completion status (T3, per program).
CAPABILITY_EXCEPTIONS = frozenset(
    (grantor, "IA Administrator Only")
    for grantor in (
        "LEA CAASPP Coordinator",
        "Site CAASPP Coordinator",
        "LEA ELPAC Coordinator",
        "Site ELPAC Coordinator",
    )
)


@given(scenarios(max_requests=8))
def test_no_escalation_in_decisions(scenario: tuple[Directory, list[Request]]) -> None:
    """G3, G6: whoever may add role R at O holds, over O, every permission R carries, and every
    capability but those CAPABILITY_EXCEPTIONS names; the superintendent (R6, G1) holds none."""
    _directory, found = scenario
    for user, action, resource in found:
        if action is not Action.ADD_ROLE or not can(user, action, resource):
            continue
        assert isinstance(resource, Grant)
        role, code = resource.role, resource.organization
        power = governs(user, role, code, primary=resource.primary)
        assert power is not None
        if power.rule.grantor == SUPERINTENDENT:
            continue  # R6, G1: the superintendent holds no role, yet designates coordinators
        for p in role.permissions:
            assert user.covers(p.value, code), (role, p)
        if (power.rule.grantor, role.name) in CAPABILITY_EXCEPTIONS:
            continue
        for key in role.scope_keys:
            assert user.covers(key, code), (role, key)


def _powers(role: Role, *, primary: bool) -> frozenset[tuple[str, RoleLevel]]:
    """The (grantee, level reached) pairs a holder of ``role`` may grant (G1, G3)."""
    reach = {
        Where.HOLDER: (role.level,),
        Where.SCHOOLS: (RoleLevel.SCHOOL,),
        Where.HOLDER_OR_SCHOOLS: (role.level, RoleLevel.SCHOOL),
    }
    return frozenset(
        (g.grantee, level)
        for g in GRANTS
        if g.grantor == role.name and (primary or not g.grantor_primary_only)
        for level in reach[g.where]
    )


@pytest.mark.parametrize("row", GRANTS, ids=lambda g: f"{g.grantor}->{g.grantee}")
def test_no_escalation_in_the_grant_matrix(row: GrantRule) -> None:
    """G1, G3, E4: every row of the grant matrix grants a role whose permissions and
    capabilities its grantor holds and whose grant powers are strictly below the grantor's.

    Exceptions, stated: the superintendent holds no role (R6) and designates LEA coordinators
    (G1); the ELPAC coordinators grant IA Administrator Only (G3, CAPABILITY_EXCEPTIONS).
    """
    if row.grantor == SUPERINTENDENT:
        assert row.rule == "G1"
        assert by_name(row.grantee).has_primary  # R7: it designates coordinators only
        return
    grantor, grantee = by_name(row.grantor), by_name(row.grantee)
    assert grantor.permissions >= grantee.permissions
    if (row.grantor, row.grantee) in CAPABILITY_EXCEPTIONS:
        assert not grantor.scope_keys >= grantee.scope_keys  # the exception is real
    else:
        assert grantor.scope_keys >= grantee.scope_keys
        assert at_least(grantor, grantee)
    # A grant row for the same role exists only for the primary (G1), who grants a secondary.
    mine = _powers(grantor, primary=row.grantor_primary_only)
    theirs = _powers(grantee, primary=row.may_grant_primary)
    assert theirs < mine


def _without(account: Account, *, index: int) -> Account:
    kept = [a for i, a in enumerate(account.assignments) if i != index]
    return attrs.evolve(account, assignments=kept)


def _self_targeted(user_email: str, resource: object) -> bool:
    if isinstance(resource, Account):
        return resource.email == user_email
    if isinstance(resource, Grant | GroupAssignment):
        return resource.to == user_email
    return False


@given(scenarios(max_requests=8), st.data())
def test_monotonicity(scenario: tuple[Directory, list[Request]], data: st.DataObject) -> None:
    """Taking from the actor (one assignment, its forms, its active status) never turns a
    denial into an allowance.

    Excluded, as inherently non-monotone: requests whose target is the actor itself (G8, E3:
    its own roles are both its powers and the thing acted on); G5, a site grant power does not
    grant a role the actor holds at another organization, so removing that assignment enables
    the grant; and R7, removing the actor's own primary assignment frees the primary it was
    blocking. Both are excluded only when the removed assignment is of the role the request
    concerns.
    """
    directory, found = scenario
    for user, action, resource in found:
        account = user.account
        if account is None or can(user, action, resource):
            continue
        if _self_targeted(user.email, resource):
            continue
        variants = [
            (_change(directory, user.email, _deactivate), "inactive"),
            (_change(directory, user.email, _strip_forms), "forms"),
        ]
        if account.assignments:
            index = data.draw(st.integers(0, len(account.assignments) - 1))
            removed = account.assignments[index]
            if not _concerns(directory, action, resource, removed.role.name):
                cut = functools.partial(_without, index=index)
                variants.append((_change(directory, user.email, cut), f"without {removed}"))
        for changed, how in variants:
            again = same_resource(changed, resource)
            assert not can(same_user(changed, user), action, again), (how, action, resource)


def _deactivate(account: Account) -> Account:
    return attrs.evolve(account, active=False)


def _change(directory: Directory, email: str, change: Callable[[Account], Account]) -> Directory:
    return rebuild(directory, change=lambda a: change(a) if a.email == email else a)


def _concerns(directory: Directory, action: Action, resource: object, role_name: str) -> bool:
    """G5, R7: whether the request grants or governs the role ``role_name``."""
    if isinstance(resource, Grant):
        return resource.role.name == role_name
    if isinstance(resource, Account) and action in _ACCOUNT_ACTIONS:
        target = directory.account(resource.email)
        return target is not None and any(a.role.name == role_name for a in target.assignments)
    return False


@given(scenarios())
def test_order_of_assignments_does_not_matter(scenario: tuple[Directory, list[Request]]) -> None:
    """P4, G6: reversing each account's assignments and the order of accounts changes no
    decision."""
    directory, found = scenario
    reordered = rebuild(
        directory,
        accounts=[
            attrs.evolve(a, assignments=tuple(reversed(a.assignments)))
            for a in reversed(list(directory.accounts.values()))
        ],
    )
    for request in found:
        assert _key(reordered, request) == _key(directory, request)


@given(scenarios())
def test_dump_and_load_keep_every_decision(scenario: tuple[Directory, list[Request]]) -> None:
    """The directory format round-trips to the same decisions."""
    directory, found = scenario
    again = load_directory(dump_directory(directory))
    for request in found:
        assert _key(again, request) == _key(directory, request)


_ = Organization


@given(scenarios(max_requests=8))
def test_account_actions_stay_in_the_actors_leas(
    scenario: tuple[Directory, list[Request]],
) -> None:
    """G8, G11: an allowed action on another's account, or a grant to an inactive account, only
    touches roles in LEAs where the actor holds a role in force or is superintendent; a site
    coordinator never acts on a peer coordinator; G7: a password reset of an active account
    needs one role in such an LEA."""
    directory, found = scenario
    tree = directory.tree
    for user, action, resource in found:
        if not can(user, action, resource) or user.account is None:
            continue
        if action in _ACCOUNT_ACTIONS:
            assert isinstance(resource, Account)
            target = directory.accounts[resource.email]
            if target.email == user.email:
                continue
        elif action is Action.ADD_ROLE:
            assert isinstance(resource, Grant)
            found_target = directory.account(resource.to)
            if found_target is None or found_target.active:
                continue
            target = found_target
        else:
            continue
        assert target.superintendent_of is None
        mine = {tree.organizations[a.org].lea_code for a in user.in_force}
        if user.account.superintendent_of is not None:
            mine.add(user.account.superintendent_of)
        over_sites = user.account.superintendent_of is not None or any(
            h.role.lea_coordinator for h in user.in_force
        )
        if action is Action.RESET_PASSWORD and target.active:
            # G7: resetting an active account's password needs one of its roles covered.
            assert any(tree.organizations[a.org].lea_code in mine for a in target.assignments)
            continue
        for a in target.assignments:
            assert tree.organizations[a.org].lea_code in mine, (action, a)
            assert over_sites or not a.role.coordinator, (action, a)
