"""The queries on the shipped example directory."""

from __future__ import annotations

import pytest

from caaspp_authz import (
    Action,
    CDSCode,
    Directory,
    GroupKey,
    Organization,
    RequestError,
    Student,
    Unknown,
    can,
)
from caaspp_authz.queries import allowed_actions, can_many, grantable, visible, who_can

SCHOOL_1 = "19647331111111"
PERIOD_1 = GroupKey(CDSCode(SCHOOL_1), 2026, "Period 1")
V = Action.VIEW_STUDENT_RESULTS


def _ssids(students: list[Student]) -> list[str]:
    return [s.ssid for s in students]


def test_teacher_sees_its_assigned_group_only(example: Directory) -> None:
    """V1, V2: a test administrator sees the students of its assigned group, in order."""
    teacher = example.user("teacher@example.org")
    assert _ssids(visible(teacher, V)) == ["1000000001", "1000000002"]
    everyone = list(example.students.values())
    assert _ssids(visible(teacher, V, reversed(everyone))) == ["1000000002", "1000000001"]


def test_lea_coordinator_sees_its_lea_not_the_charter(example: Directory) -> None:
    """O3, O4, V1: an LEA's PII covers its schools; a direct-funded charter is another LEA."""
    coordinator = example.user("caaspp.coordinator@example.org")
    expected = [f"100000000{i}" for i in range(1, 7)]
    assert _ssids(visible(coordinator, V)) == expected
    assert _ssids(visible(coordinator, V, example.students.values())) == expected


def test_inactive_and_unknown_users_see_nothing(example: Directory) -> None:
    """G11, E1: an inactive account and an e-mail with no account see nothing at all."""
    for email in ("former.teacher@example.org", "nobody@example.org"):
        user = example.user(email)
        assert visible(user, V) == []
        assert visible(user, Action.ADMINISTER_SUMMATIVE) == []
        assert allowed_actions(user, example.organization(SCHOOL_1)) == []
        assert grantable(user, example) == []


def test_forms_missing_see_nothing(example: Directory) -> None:
    """G10: an assignment whose forms are not on file opens nothing."""
    assert visible(example.user("no.forms@example.org"), Action.ADMINISTER_SUMMATIVE) == []


def test_a_mixed_list_keeps_only_students(example: Directory) -> None:
    """V1: a group key, an unknown and an organization in a student list are never visible."""
    coordinator = example.user("site.coordinator@example.org")
    student = example.student("1000000001")
    school = example.organization(SCHOOL_1)
    mixed = [PERIOD_1, student, Unknown("student", "1"), school, student]
    assert visible(coordinator, V, mixed) == [student, student]


def test_groups_and_organizations(example: Directory) -> None:
    """V3, T1: a site coordinator sees its school's group and administers at its school."""
    coordinator = example.user("site.coordinator@example.org")
    assert visible(coordinator, Action.VIEW_GROUP) == [PERIOD_1]
    assert visible(coordinator, Action.EDIT_GROUP) == [PERIOD_1]
    assert visible(coordinator, Action.CREATE_GROUP) == []
    orgs = visible(coordinator, Action.ADMINISTER_SUMMATIVE)
    assert [o.cds for o in orgs] == [SCHOOL_1]
    assert all(isinstance(o, Organization) for o in orgs)


def test_unlisted_resources_need_a_list(example: Directory) -> None:
    """Reports and grants are not listed by the directory: visible needs them passed."""
    with pytest.raises(RequestError, match="pass the resources") as raised:
        visible(example.user("teacher@example.org"), Action.ADD_ROLE)
    assert str(raised.value).startswith("`add_role` acts on a Grant, which the directory")


def test_who_can_view_a_student(example: Directory) -> None:
    """V1, V2, O4: PII over the school or its LEA, or the assigned group with PII_GROUP."""
    student = example.student("1000000004")
    assert student is not None
    assert [u.email for u in who_can(V, student, example)] == [
        "caaspp.coordinator@example.org",
        "caaspp.secondary@example.org",
        "elpac.coordinator@example.org",
        "district.educator@example.org",
        "site.educator@example.org",
        "roster@example.org",
    ]


def test_who_can_skips_inactive_accounts(example: Directory) -> None:
    """G11: an inactive test administrator is never among those allowed."""
    school = example.organization("19647333333333")
    allowed = who_can(Action.ADMINISTER_SUMMATIVE, school, example)
    assert "former.teacher@example.org" not in [u.email for u in allowed]
    assert [u.email for u in allowed] == [
        "caaspp.coordinator@example.org",
        "caaspp.secondary@example.org",
    ]


def test_who_can_falls_back_for_accounts(example: Directory) -> None:
    """G7, G8: the rarer actions are decided for every account."""
    target = example.account("teacher@example.org")
    allowed = who_can(Action.RESET_PASSWORD, target, example)
    assert [u.email for u in allowed] == [
        u.email for u in example.users() if can(u, Action.RESET_PASSWORD, target)
    ]
    assert "teacher@example.org" in [u.email for u in allowed]


def test_allowed_actions_of_a_student(example: Directory) -> None:
    """V1: the only action on a student is viewing its results."""
    student = example.student("1000000001")
    assert allowed_actions(example.user("teacher@example.org"), student) == [V]
    assert allowed_actions(example.user("tools@example.org"), student) == []


def test_grantable_by_a_site_coordinator(example: Directory) -> None:
    """G3, G5: a site coordinator grants the roles of its row at its own school only."""
    pairs = grantable(example.user("site.coordinator@example.org"), example)
    assert {code for _, code in pairs} == {SCHOOL_1}
    assert "Site CAASPP Coordinator" not in [role.name for role, _ in pairs]
    assert "Tools for Teachers Only" in [role.name for role, _ in pairs]


def test_grantable_by_the_superintendent(example: Directory) -> None:
    """G1: the superintendent designates the LEA coordinators at its LEA."""
    pairs = grantable(example.user("superintendent@example.org"), example)
    assert [(role.name, code) for role, code in pairs] == [
        ("LEA CAASPP Coordinator", "19647330000000"),
        ("LEA ELPAC Coordinator", "19647330000000"),
    ]


def test_can_many_matches_can(example: Directory) -> None:
    """can_many answers each request as can does, students and otherwise."""
    batch = [
        (u, a, r)
        for u in example.users()
        for a, r in [
            (V, example.student("1000000001")),
            (V, example.student("1000000008")),
            (Action.VIEW_GROUP, PERIOD_1),
            (Action.ADMINISTER_SUMMATIVE, example.organization(SCHOOL_1)),
        ]
    ]
    assert can_many(batch) == [can(u, a, r) for u, a, r in batch]


def test_queries_follow_t1_test_sites(example: Directory) -> None:
    """T1: no one administers a test at an LEA that is not a test site, in the queries too."""
    lea = example.organization("19647330000000")
    school = example.organization(SCHOOL_1)
    assert lea is not None
    assert school is not None
    coordinator = example.user("caaspp.coordinator@example.org")
    assert who_can(Action.ADMINISTER_SUMMATIVE, lea, example) == []
    assert coordinator in who_can(Action.ADMINISTER_SUMMATIVE, school, example)
    assert visible(coordinator, Action.ADMINISTER_SUMMATIVE, [lea, school]) == [school]
    assert lea not in visible(coordinator, Action.ADMINISTER_SUMMATIVE)
    assert Action.ADMINISTER_SUMMATIVE not in allowed_actions(coordinator, lea)


def test_queries_follow_t2_t3_programs(example: Directory) -> None:
    """T2, T3: the queries answer per program and assessment, as can does."""
    from caaspp_authz import Assessment, Program, ProgramScope

    school = example.organization(SCHOOL_1)
    assert school is not None
    elpac = ProgramScope(school, Program.ELPAC)
    site_elpac = example.user("site.elpac@example.org")
    site_caaspp = example.user("site.coordinator@example.org")
    interim = example.user("interim@example.org")
    assert visible(site_elpac, Action.MANAGE_TEST_SETTINGS, [school, elpac]) == [elpac]
    assert visible(site_caaspp, Action.MANAGE_TEST_SETTINGS, [school, elpac]) == [school]
    managers = who_can(Action.MANAGE_TEST_SETTINGS, elpac, example)
    assert site_elpac in managers
    assert site_caaspp not in managers
    for program in Program:
        scope = ProgramScope(school, program, Assessment.INTERIM)
        assert interim in who_can(Action.VIEW_COMPLETION_STATUS, scope, example)
    assert interim not in who_can(Action.VIEW_COMPLETION_STATUS, school, example)
    for user in example.users():
        for resource in (school, elpac):
            got = user in who_can(Action.MANAGE_TEST_SETTINGS, resource, example)
            assert got is can(user, Action.MANAGE_TEST_SETTINGS, resource)


def test_a_program_scope_is_kept_only_for_an_action_that_takes_one(example: Directory) -> None:
    """G9, T2: visible keeps what can allows, so a program scope listed for `upload_users`
    (which takes a plain organization) is dropped, as `can` denies it."""
    from caaspp_authz import Action, ProgramScope, can

    user = example.user("caaspp.coordinator@example.org")
    lea = example.organization("19647330000000")
    assert lea is not None
    scope = ProgramScope(lea)
    assert can(user, Action.UPLOAD_USERS, lea)
    assert not can(user, Action.UPLOAD_USERS, scope)
    assert visible(user, Action.UPLOAD_USERS, [scope, lea]) == [lea]
