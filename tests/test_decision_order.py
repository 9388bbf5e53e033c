"""Decisions do not depend on the order in which a directory lists an account's roles."""

from __future__ import annotations

from caaspp_authz import Account, Action, Assignment, Directory, Email, RuleSet, decide, role
from caaspp_authz.orgs import CDSCode, Level, Organization

LEA = CDSCode("01000000000000")
SCHOOL = CDSCode("01000000000001")


def _directory(*, reverse: bool) -> Directory:
    held = [
        Assignment(role("Educator—District"), LEA),
        Assignment(role("LS Correspondence Administrator"), LEA),
    ]
    target = Account(Email("both@example.org"), assignments=held[::-1] if reverse else held)
    actor = Account(
        Email("site@example.org"),
        assignments=[Assignment(role("Site CAASPP Coordinator"), SCHOOL)],
    )
    return Directory.build(
        organizations=[
            Organization(LEA, "District", Level.LEA),
            Organization(SCHOOL, "School", Level.SCHOOL, LEA),
        ],
        accounts=[actor, target],
        rule_set=RuleSet.MULTI_ROLE,
    )


def test_account_action_decision_ignores_assignment_order() -> None:
    """G8, P4: the denial names the same ungoverned role whatever order the roles are in."""
    decisions = set()
    for reverse in (False, True):
        d = _directory(reverse=reverse)
        target = d.account("both@example.org")
        assert target is not None
        decisions.add(decide(d.user("site@example.org"), Action.DEACTIVATE_ACCOUNT, target))
    assert len(decisions) == 1
