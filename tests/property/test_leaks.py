"""FERPA, on generated directories: `decide` and `explain` agree, and a denial names no more
than the principal may already see."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from caaspp_authz import (
    Account,
    Action,
    Decision,
    Directory,
    Grant,
    Unknown,
    User,
    can,
    decide,
    explain,
)
from caaspp_authz.decision import covers
from caaspp_authz.strategies import directories
from tests.property.support import Request, scenarios

V = Action.VIEW_STUDENT_RESULTS
ACCOUNT_ACTIONS = (
    Action.EDIT_ACCOUNT,
    Action.DEACTIVATE_ACCOUNT,
    Action.REACTIVATE_ACCOUNT,
    Action.DELETE_ACCOUNT,
    Action.RESET_PASSWORD,
)


def _text(decision: Decision) -> str:
    return f"{decision.reason} {decision.fix or ''}"


@given(scenarios())
def test_decide_and_explain_agree_on_allowed_and_rules(
    scenario: tuple[Directory, list[Request]],
) -> None:
    """`explain` decides as `decide` and `can` do: the same `allowed` and `rules`, and the very
    same decision when allowed."""
    _directory, found = scenario
    for user, action, resource in found:
        principal, audit = decide(user, action, resource), explain(user, action, resource)
        assert (audit.allowed, audit.rules) == (principal.allowed, principal.rules)
        assert can(user, action, resource) is principal.allowed
        if principal.allowed:
            assert audit == principal


@given(directories())
def test_a_student_denial_names_no_school_and_reads_as_an_unknown_ssid(
    directory: Directory,
) -> None:
    """V1: a principal denied a student's results is not told the school where they were
    earned, and reads the same denial as for an SSID the directory does not hold."""
    for user in directory.users():
        for student in directory.students.values():
            decision = decide(user, V, student)
            if decision.allowed:
                continue
            assert student.school not in _text(decision)
            if "G10" in decision.rules:
                continue  # its own role over the school waits for forms (docs/security.md)
            unknown = decide(user, V, Unknown("student", student.ssid))
            assert unknown == decision


def _named(user: User, target: Account) -> set[str]:
    """The role names of ``target`` a denial may not tell ``user``: those it covers no
    assignment of (E2: one role may be held at several organizations, some covered, some not)
    and does not hold itself (its own roles are its to read)."""
    own = {a.role.name for a in user.account.assignments} if user.account else set()
    seen = {a.role.name for a in target.assignments if covers(user, a)}
    return {a.role.name for a in target.assignments} - seen - own


@given(directories(), st.data())
def test_an_account_denial_names_no_role_the_principal_does_not_cover(
    directory: Directory, data: st.DataObject
) -> None:
    """G8, G6, E3, E4, R6: a denied account action, role grant or removal names no role of the
    account that the principal does not cover, and no superintendency but its own."""
    accounts = list(directory.accounts.values())
    for user in directory.users():
        for target in accounts:
            hidden = _named(user, target)
            requests: list[tuple[Action, object]] = [(a, target) for a in ACCOUNT_ACTIONS]
            if target.assignments:
                held = data.draw(st.sampled_from(target.assignments))
                grant = Grant(target.email, held.role, held.org)
                requests += [(Action.REMOVE_ROLE, grant)]
            if user.account is not None and user.account.assignments:
                mine = data.draw(st.sampled_from(user.account.assignments))
                requests += [(Action.ADD_ROLE, Grant(target.email, mine.role, mine.org))]
            for action, resource in requests:
                decision = decide(user, action, resource)
                if decision.allowed:
                    continue
                text = _text(decision)
                if isinstance(resource, Grant):
                    hidden_here = hidden - {resource.role.name}  # the request named it
                else:
                    hidden_here = hidden
                for name in hidden_here:
                    assert f"`{name}`" not in text, (action, decision)
                if target.email != user.email:
                    assert "R6" not in decision.rules
                    assert "is the superintendent" not in text
