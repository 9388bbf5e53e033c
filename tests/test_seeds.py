"""The seed documents' own examples (E3, E4, G5, V4)."""

from __future__ import annotations

import pytest

from caaspp_authz import DirectoryError
from tests.builders import LEA, SCHOOL_1, SCHOOL_2, acct, ask, build, grant, group, ssids, students

JANE = (
    ("Site CAASPP Coordinator", SCHOOL_1),
    ("CAASPP Test Examiner", SCHOOL_2),
    (
        "CAASPP Test Administrator",
        LEA[:7] + "3333333",
    ),
)
THREE_SCHOOLS = [
    {"cds": LEA, "name": "Sample Unified"},
    {"cds": SCHOOL_1, "name": "School 1"},
    {"cds": SCHOOL_2, "name": "School 2"},
    {"cds": LEA[:7] + "3333333", "name": "School 3"},
]


def test_e3_jane_alder_needs_three_emails_under_one_role_per_email() -> None:
    """E3: Jane Alder's three roles at three sites on one e-mail refuse the directory."""
    with pytest.raises(DirectoryError) as info:
        build(acct("jane@d.org", roles=JANE, credentialed=True), orgs=THREE_SCHOOLS)
    (problem,) = info.value.problems
    assert problem.rule == "E3"
    assert problem.fix == "use a different e-mail address for each role"


def test_e3_jane_alder_with_three_emails_loads() -> None:
    """E2, E3: with a different e-mail for each role, Jane Alder's three roles load."""
    accounts = [
        acct(f"jane{i}@d.org", r, o, credentialed=True) for i, (r, o) in enumerate(JANE, start=1)
    ]
    d = build(*accounts, orgs=THREE_SCHOOLS)
    assert len(d.accounts) == 3


def test_e3_jane_alder_under_multi_role_loads_on_one_email() -> None:
    """E7: under multi-role, Jane Alder's three roles load on one e-mail."""
    d = build(
        acct("jane@d.org", roles=JANE, credentialed=True),
        orgs=THREE_SCHOOLS,
        rule_set="multi-role",
    )
    account = d.account("jane@d.org")
    assert account is not None
    assert len(account.assignments) == 3


def test_e4_jane_alder_holds_only_the_highest_at_school_1() -> None:
    """E4: coordinator and examiner at School 1 is refused; the fix keeps Site CAASPP Coordinator."""
    jane = acct(
        "jane@d.org",
        roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_1)],
        credentialed=True,
    )
    with pytest.raises(DirectoryError) as info:
        build(jane)
    (problem,) = info.value.problems
    assert problem.rule == "E4"
    assert problem.fix == "keep only `Site CAASPP Coordinator`, the highest of them"


def test_g5_school_1_school_2_example_under_multi_role() -> None:
    """G5: a Site CAASPP Coordinator at School 1 who examines at School 2 cannot add an examiner at School 1."""
    d = build(
        acct(
            "jane@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_2)],
            credentialed=True,
        ),
        acct("coord@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        rule_set="multi-role",
    )
    examiner = grant("new@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True)
    denied = ask(d, "jane@d.org", "add_role", examiner)
    assert not denied.allowed
    assert "G5" in denied.rules
    assert ask(d, "coord@d.org", "add_role", examiner).allowed


@pytest.mark.parametrize(("size", "allowed"), [(200, True), (201, False)])
def test_v4_test_administrator_custom_groups_from_groups_of_200_or_fewer(
    size: int, allowed: bool
) -> None:
    """V4: a CAASPP Test Administrator builds custom groups from an assigned group of 200, not 201."""
    members = ssids(size)
    d = build(
        acct("ta@d.org", "CAASPP Test Administrator", SCHOOL_1),
        acct("te@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True),
        students=students(SCHOOL_1, members),
        groups=[group("Big", SCHOOL_1, members, ["ta@d.org", "te@d.org"])],
    )
    custom = {"custom_group": {"owner": "ta@d.org", "name": "Few", "students": members[:3]}}
    decision = ask(d, "ta@d.org", "create_custom_group", custom)
    assert decision.allowed is allowed
    assert "V4" in decision.rules
    # the students stay visible through the group path either way (V1)
    assert ask(d, "ta@d.org", "view_student_results", {"student": members[0]}).allowed
    examiner = {"custom_group": {"owner": "te@d.org", "name": "Few", "students": members[:3]}}
    assert ask(d, "te@d.org", "create_custom_group", examiner).allowed
