"""Examples for the decision: each rule with an allowed and a denied case (V, T, G, E, R)."""

from __future__ import annotations

from typing import Any

import pytest

from caaspp_authz import (
    Action,
    CDSCode,
    Decision,
    Directory,
    DirectoryError,
    Request,
    Student,
    can,
    decide,
    explain,
)
from caaspp_authz.catalog import by_name
from caaspp_authz.decision import governs
from tests.builders import (
    AT_SCHOOL_2,
    CHARTER,
    ELSEWHERE,
    IN_GROUP,
    LEA,
    NOT_IN_GROUP,
    OTHER_LEA,
    OTHER_SCHOOL,
    SCHOOL_1,
    SCHOOL_2,
    acct,
    ask,
    build,
    district,
    grant,
    group,
    key,
    staff,
)
from tests.builders import students as student_entries

D = district()
Case = tuple[str, str, dict[str, Any], bool]


def _expect(decision: Decision, allowed: bool, rule: str, *, fix: bool = True) -> None:
    assert decision.allowed is allowed, decision
    assert rule in decision.rules, decision
    assert decision.reason
    if allowed:
        assert decision.fix is None
    elif fix:
        assert decision.fix, decision


def _explain(
    directory: Directory, principal: str, action: str, resource: dict[str, Any]
) -> Decision:
    """Explain one request in the request format (the audit detail)."""
    request = Request.from_json(
        {"principal": principal, "action": action, "resource": resource}, directory
    )
    return explain(request.user, request.action, request.resource)


def _can(directory: Directory, principal: str, action: str, resource: dict[str, Any]) -> bool:
    """`can` on one request in the request format (its quick checks, where an action has one)."""
    request = Request.from_json(
        {"principal": principal, "action": action, "resource": resource}, directory
    )
    return can(request.user, request.action, request.resource)


def _student(ssid: str) -> dict[str, Any]:
    return {"student": ssid}


def _org(code: str) -> dict[str, Any]:
    return {"organization": code}


# --- V: CERS and Tools for Teachers ----------------------------------------------------------

V1: list[Case] = [
    ("sc1@d.org", "view_student_results", _student(IN_GROUP), True),
    ("ets1@d.org", "view_student_results", _student(NOT_IN_GROUP), True),
    ("lc@d.org", "view_student_results", _student(AT_SCHOOL_2), True),
    ("ed@d.org", "view_student_results", _student(AT_SCHOOL_2), True),
    ("sc1@d.org", "view_student_results", _student(AT_SCHOOL_2), False),
    ("olc@o.org", "view_student_results", _student(IN_GROUP), False),
    ("lc@d.org", "view_student_results", _student(ELSEWHERE), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V1)
def test_v1_pii_covering_the_school(
    who: str, action: str, resource: dict[str, Any], allowed: bool
) -> None:
    """V1, O4: PII held at the student's school or its LEA opens the student's results."""
    _expect(ask(D, who, action, resource), allowed, "V1")


def test_v1_denial_fix_names_both_paths() -> None:
    """V1: the fix of a denial names both paths; only `explain` names the school and LEA."""
    decision = ask(D, "sc1@d.org", "view_student_results", _student(AT_SCHOOL_2))
    assert decision.fix is not None
    assert "PII over the school" in decision.fix
    assert "PII_GROUP" in decision.fix
    assert SCHOOL_2 not in decision.fix
    audit = _explain(D, "sc1@d.org", "view_student_results", _student(AT_SCHOOL_2))
    assert audit.fix is not None
    assert f"`{SCHOOL_2}` (or its LEA `{LEA}`)" in audit.fix
    assert "PII_GROUP" in audit.fix


V2: list[Case] = [
    ("ta1@d.org", "view_student_results", _student(IN_GROUP), True),
    ("er1@d.org", "view_student_results", _student(IN_GROUP), True),
    ("te1@d.org", "view_student_results", _student(IN_GROUP), True),
    ("lsd1@d.org", "view_student_results", _student(IN_GROUP), True),
    ("ta1@d.org", "view_student_results", _student(NOT_IN_GROUP), False),
    ("er1@d.org", "view_student_results", _student(NOT_IN_GROUP), False),
    ("ta2@d.org", "view_student_results", _student(IN_GROUP), False),
    ("tft@d.org", "view_student_results", _student(IN_GROUP), False),
    ("lsc@d.org", "view_student_results", _student(IN_GROUP), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V2)
def test_v2_group_path(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """V1, V2: PII_GROUP over the school and an assigned group; membership alone opens nothing."""
    _expect(ask(D, who, action, resource), allowed, "V1")


def test_v2_group_path_names_v2() -> None:
    """V2: a result opened through an assigned group names V2."""
    assert "V2" in ask(D, "ta1@d.org", "view_student_results", _student(IN_GROUP)).rules


V3: list[Case] = [
    ("sc1@d.org", "view_group", {"group": key("Period 1")}, True),
    ("lc@d.org", "view_group", {"group": key("Period 1")}, True),
    ("ta1@d.org", "view_group", {"group": key("Period 1")}, True),
    ("ta2@d.org", "view_group", {"group": key("Period 1")}, False),
    ("sc2@d.org", "view_group", {"group": key("Period 1")}, False),
    ("sc1@d.org", "create_group", {"group": key("Period 2")}, True),
    ("lc@d.org", "create_group", {"group": key("Period 2", SCHOOL_2)}, True),
    ("sc1@d.org", "create_group", {"group": key("Period 2", SCHOOL_2)}, False),
    ("ta1@d.org", "create_group", {"group": key("Period 2")}, False),
    ("sc1@d.org", "edit_group", {"group": key("Period 1")}, True),
    ("ta1@d.org", "edit_group", {"group": key("Period 1")}, False),
    ("sc1@d.org", "delete_group", {"group": key("Period 1")}, True),
    ("sc2@d.org", "delete_group", {"group": key("Period 1")}, False),
    (
        "sc1@d.org",
        "assign_group",
        {"group_assignment": {"group": key("Period 1"), "to": "te1@d.org"}},
        True,
    ),
    (
        "sc1@d.org",
        "assign_group",
        {"group_assignment": {"group": key("Period 1"), "to": "ta2@d.org"}},
        False,
    ),
    (
        "sc1@d.org",
        "assign_group",
        {"group_assignment": {"group": key("Period 1"), "to": "ed@d.org"}},
        True,
    ),
    (
        "sc1@d.org",
        "assign_group",
        {"group_assignment": {"group": key("Period 1"), "to": "osc@o.org"}},
        False,
    ),
    (
        "ta1@d.org",
        "assign_group",
        {"group_assignment": {"group": key("Period 1"), "to": "te1@d.org"}},
        False,
    ),
    ("sc1@d.org", "upload_groups", _org(SCHOOL_1), True),
    ("ta1@d.org", "upload_groups", _org(SCHOOL_1), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V3)
def test_v3_assigned_groups(
    who: str, action: str, resource: dict[str, Any], allowed: bool
) -> None:
    """V3: GROUP_ADMIN over the school manages groups; assignees in the LEA; who sees a group."""
    _expect(ask(D, who, action, resource), allowed, "V3")


@pytest.mark.parametrize(
    ("action", "resource", "reason"),
    [
        ("view_group", {"group": key("Nope")}, "there is no group"),
        ("edit_group", {"group": key("Nope")}, "there is no group"),
        ("create_group", {"group": key("Period 1")}, "already exists"),
        ("create_group", {"group": key("New", "19647339999999")}, "unknown school"),
        (
            "assign_group",
            {"group_assignment": {"group": key("Period 1"), "to": "nobody@d.org"}},
            "unknown account",
        ),
    ],
)
def test_v3_missing_or_existing_group_is_denied(
    action: str, resource: dict[str, Any], reason: str
) -> None:
    """V3: an unknown group, school or assignee is denied; creating an existing group is denied
    (the audit text says which)."""
    decision = _explain(D, "sc1@d.org", action, resource)
    assert not decision.allowed
    assert reason in decision.reason
    assert ask(D, "sc1@d.org", action, resource).rules == decision.rules


def _custom(owner: str = "ta1@d.org", name: str = "Readers", *members: str) -> dict[str, Any]:
    return {"custom_group": {"owner": owner, "name": name, "students": list(members)}}


V4: list[Case] = [
    ("ta1@d.org", "create_custom_group", _custom("ta1@d.org", "New", IN_GROUP), True),
    ("ta1@d.org", "create_custom_group", _custom("ta1@d.org", "New", NOT_IN_GROUP), False),
    ("ta1@d.org", "create_custom_group", _custom("ta1@d.org", "Readers", IN_GROUP), False),
    ("ta1@d.org", "edit_custom_group", _custom("ta1@d.org", "Readers", IN_GROUP), True),
    ("ta1@d.org", "edit_custom_group", _custom("ta1@d.org", "Nope", IN_GROUP), False),
    ("ta1@d.org", "view_custom_group", _custom("ta1@d.org", "Readers"), True),
    ("sc1@d.org", "view_custom_group", _custom("ta1@d.org", "Readers"), False),
    ("ta1@d.org", "delete_custom_group", _custom("ta1@d.org", "Readers"), True),
    ("tft@d.org", "create_custom_group", _custom("tft@d.org", "New"), False),
    ("ta2@d.org", "create_custom_group", _custom("ta2@d.org", "New", IN_GROUP), False),
    ("ta1@d.org", "create_custom_group", _custom("ta1@d.org", "New", "9999999999"), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V4)
def test_v4_custom_groups(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """V4: own custom groups, from assigned groups' visible students, with PII_GROUP."""
    _expect(ask(D, who, action, resource), allowed, "V4", fix=False)


def test_v4_denial_fix_says_where_students_come_from() -> None:
    """V4: a student from outside the assigned groups is denied with a fix naming the source."""
    decision = ask(D, "ta1@d.org", "create_custom_group", _custom("ta1@d.org", "N", NOT_IN_GROUP))
    assert decision.fix is not None
    assert "assigned groups" in decision.fix


V5: list[Case] = [
    (
        "lc@d.org",
        "create_aggregate_report",
        {"report": {"organizations": [SCHOOL_1, SCHOOL_2]}},
        True,
    ),
    ("sc1@d.org", "view_aggregate_report", {"report": {"organizations": [SCHOOL_1]}}, True),
    (
        "sc1@d.org",
        "export_aggregate_report",
        {"report": {"organizations": [SCHOOL_1, SCHOOL_2]}},
        False,
    ),
    ("ta1@d.org", "create_aggregate_report", {"report": {"organizations": [SCHOOL_1]}}, False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V5)
def test_v5_aggregate_reports(
    who: str, action: str, resource: dict[str, Any], allowed: bool
) -> None:
    """V5: CUSTOM_AGGREGATE_REPORTER covering every organization of the report."""
    _expect(ask(D, who, action, resource), allowed, "V5")


@pytest.mark.parametrize("orgs", [[], ["19647339999999"]])
def test_v5_empty_or_unknown_report_is_denied(orgs: list[str]) -> None:
    """V5: a report over no organization, or an unknown one, is denied."""
    decision = ask(D, "lc@d.org", "create_aggregate_report", {"report": {"organizations": orgs}})
    _expect(decision, False, "V5", fix=False)


V6: list[Case] = [
    ("sc1@d.org", "manage_resource_links", {"resource_link": {"organization": SCHOOL_1}}, True),
    ("lc@d.org", "manage_resource_links", {"resource_link": {"organization": LEA}}, True),
    ("sc1@d.org", "manage_resource_links", {"resource_link": {"organization": LEA}}, False),
    ("ta1@d.org", "manage_resource_links", {"resource_link": {"organization": SCHOOL_1}}, False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), V6)
def test_v6_resource_links(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """V6: INSTRUCTIONAL_RESOURCE_ADMIN covering the organization the link is published to."""
    _expect(ask(D, who, action, resource), allowed, "V6")


def test_v7_tools_for_teachers() -> None:
    """V7: DL_END_USER anywhere opens Tools for Teachers; a user holding no role is denied."""
    tft = {"tools_for_teachers": True}
    _expect(ask(D, "tft@d.org", "access_tools_for_teachers", tft), True, "V7")
    _expect(ask(D, "ta2@d.org", "access_tools_for_teachers", tft), True, "V7")
    _expect(ask(D, "sup@d.org", "access_tools_for_teachers", tft), False, "V7")


def test_v8_ia_administrator_sees_assigned_group_in_cers() -> None:
    """V8: IA Administrator Only opens results of its assigned group in CERS, and only those."""
    _expect(ask(D, "ia1@d.org", "view_student_results", _student(IN_GROUP)), True, "V1")
    _expect(ask(D, "ia1@d.org", "view_student_results", _student(NOT_IN_GROUP)), False, "V1")


# --- T, G9: test administration ----------------------------------------------------------------

T1: list[tuple[str, str, str, bool]] = [
    ("sc1@d.org", "administer_summative", SCHOOL_1, True),
    ("ta1@d.org", "administer_summative", SCHOOL_1, True),
    ("tate1@d.org", "administer_summative", SCHOOL_1, True),
    ("te1@d.org", "administer_summative", SCHOOL_1, False),
    ("ta1@d.org", "administer_summative", SCHOOL_2, False),
    ("te1@d.org", "administer_alternate", SCHOOL_1, True),
    ("ta1@d.org", "administer_alternate", SCHOOL_1, False),
    ("ia1@d.org", "administer_interim", SCHOOL_1, True),
    ("er1@d.org", "administer_interim", SCHOOL_1, False),
    ("te1@d.org", "administer_practice", SCHOOL_1, True),
    ("ia1@d.org", "administer_practice", SCHOOL_1, False),
    ("se1@d.org", "administer_elpac", SCHOOL_1, True),
    ("le@d.org", "administer_elpac", SCHOOL_2, True),
    ("ete1@d.org", "administer_elpac", SCHOOL_1, True),
    ("sc1@d.org", "administer_elpac", SCHOOL_1, False),
    ("lc@d.org", "administer_summative", SCHOOL_2, True),
    ("lc@d.org", "administer_summative", OTHER_SCHOOL, False),
]


@pytest.mark.parametrize(("who", "action", "code", "allowed"), T1)
def test_t1_administer(who: str, action: str, code: str, allowed: bool) -> None:
    """T1: who administers which tests, and an LEA coordinator across its LEA (decision)."""
    _expect(ask(D, who, action, _org(code)), allowed, "T1")


@pytest.mark.parametrize(
    ("who", "code", "allowed"),
    [
        ("sc1@d.org", SCHOOL_1, True),
        ("se1@d.org", SCHOOL_1, False),
        ("lc@d.org", SCHOOL_2, True),
        ("le@d.org", SCHOOL_2, False),
        ("ta1@d.org", SCHOOL_1, False),
        ("sc1@d.org", SCHOOL_2, False),
    ],
)
def test_t2_test_settings(who: str, code: str, allowed: bool) -> None:
    """T2: coordinators of CAASPP (the default program) assign its test settings; ELPAC
    coordinators and administrators do not."""
    _expect(ask(D, who, "manage_test_settings", _org(code)), allowed, "T2")


@pytest.mark.parametrize(
    ("who", "program", "allowed"),
    [
        ("se1@d.org", "ELPAC", True),
        ("le@d.org", "ELPAC", True),
        ("sc1@d.org", "ELPAC", False),
        ("se1@d.org", "CAASPP", False),
        ("sc1@d.org", "CAASPP", True),
        ("ete1@d.org", "ELPAC", False),
    ],
)
def test_t2_test_settings_per_program(who: str, program: str, allowed: bool) -> None:
    """T2: test settings are managed per program, by the coordinators of that program."""
    resource = {"organization": SCHOOL_1, "program": program}
    _expect(ask(D, who, "manage_test_settings", resource), allowed, "T2")


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("te1@d.org", "hand_score_interim", True),
        ("ia1@d.org", "hand_score_interim", True),
        ("ete1@d.org", "hand_score_interim", False),
        ("se1@d.org", "hand_score_interim", False),
        ("ta1@d.org", "view_completion_status", True),
        ("ete1@d.org", "view_completion_status", False),
        ("se1@d.org", "view_completion_status", False),
        ("ia1@d.org", "view_completion_status", False),
        ("er1@d.org", "view_completion_status", False),
    ],
)
def test_t3_hand_scoring_and_completion(who: str, action: str, allowed: bool) -> None:
    """T3: hand scoring for CAASPP roles; CAASPP completion status (the default) for the CAASPP
    roles but IA Administrator Only, not for the ELPAC roles."""
    _expect(ask(D, who, action, _org(SCHOOL_1)), allowed, "T3")


@pytest.mark.parametrize(
    ("who", "program", "assessment", "allowed"),
    [
        ("ete1@d.org", "ELPAC", "all", True),
        ("se1@d.org", "ELPAC", "all", True),
        ("ta1@d.org", "ELPAC", "all", False),
        ("ia1@d.org", "CAASPP", "all", False),
        ("ia1@d.org", "ELPAC", "all", False),
        ("ia1@d.org", "CAASPP", "interim", True),
        ("ia1@d.org", "ELPAC", "interim", True),
        ("ta1@d.org", "CAASPP", "interim", True),
        ("ete1@d.org", "ELPAC", "interim", True),
        ("ete1@d.org", "CAASPP", "interim", False),
        ("er1@d.org", "CAASPP", "interim", False),
    ],
)
def test_t3_completion_status_per_program_and_assessment(
    who: str, program: str, assessment: str, allowed: bool
) -> None:
    """T3: completion status per program; IA Administrator Only sees interim status only, of
    both programs; whoever sees a program's full reports sees its interim status too."""
    resource = {"organization": SCHOOL_1, "program": program, "assessment": assessment}
    _expect(ask(D, who, "view_completion_status", resource), allowed, "T3")


@pytest.mark.parametrize(
    ("who", "code", "allowed"),
    [
        ("lc@d.org", SCHOOL_1, True),
        ("lc@d.org", LEA, True),
        ("sc1@d.org", SCHOOL_1, True),
        ("le@d.org", SCHOOL_2, True),
        ("sc1@d.org", SCHOOL_2, False),
        ("sc1@d.org", LEA, False),
        ("lc@d.org", OTHER_SCHOOL, False),
        ("ta1@d.org", SCHOOL_1, False),
    ],
)
def test_g9_upload_users(who: str, code: str, allowed: bool) -> None:
    """G9: LEA coordinators upload for their LEA and its schools, site coordinators their school."""
    _expect(ask(D, who, "upload_users", _org(code)), allowed, "G9")


# --- G: grants and accounts ------------------------------------------------------------------

G1: list[Case] = [
    ("sup@d.org", "add_role", grant("new@d.org", "LEA ELPAC Coordinator", LEA), True),
    ("sup@d.org", "add_role", grant("new@d.org", "LEA CAASPP Coordinator", LEA), True),
    ("lc@d.org", "add_role", grant("new@d.org", "LEA CAASPP Coordinator", LEA), True),
    ("le@d.org", "add_role", grant("new@d.org", "LEA ELPAC Coordinator", LEA), True),
    ("lc@d.org", "add_role", grant("new@d.org", "LEA ELPAC Coordinator", LEA), False),
    ("lc2@d.org", "add_role", grant("new@d.org", "LEA CAASPP Coordinator", LEA), False),
    (
        "lc@d.org",
        "add_role",
        grant("new@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        False,
    ),
    ("sup@d.org", "add_role", grant("new@d.org", "LEA CAASPP Coordinator", OTHER_LEA), False),
    ("sc1@d.org", "add_role", grant("new@d.org", "LEA CAASPP Coordinator", LEA), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), G1)
def test_g1_lea_coordinators(
    who: str, action: str, resource: dict[str, Any], allowed: bool
) -> None:
    """G1: the superintendent designates LEA coordinators; a primary adds secondaries only."""
    _expect(ask(D, who, action, resource), allowed, "G1")


def test_g1_superintendent_needs_no_forms_of_its_own() -> None:
    """G1: a superintendent with no forms on file designates LEA coordinators of both programs
    (the coordinator signs after being designated)."""
    d = build(acct("sup@d.org", superintendent_of=LEA, forms={}))
    for role in ("LEA CAASPP Coordinator", "LEA ELPAC Coordinator"):
        decision = ask(d, "sup@d.org", "add_role", grant("n@d.org", role, LEA, primary=True))
        _expect(decision, True, "G1")


G2: list[Case] = [
    ("lc@d.org", "add_role", grant("new@d.org", "CAASPP Test Administrator", SCHOOL_2), True),
    ("lc@d.org", "add_role", grant("new@d.org", "CAASPP Test Administrator", OTHER_SCHOOL), False),
    ("olc@o.org", "add_role", grant("new@d.org", "CAASPP Test Administrator", SCHOOL_1), False),
    ("sc1@d.org", "add_role", grant("new@d.org", "CAASPP Test Administrator", SCHOOL_2), False),
    (
        "lc@d.org",
        "add_role",
        grant("new@d.org", "CAASPP Test Administrator", "19647339999999"),
        False,
    ),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), G2)
def test_g2_within_own_lea(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """G2: an actor grants only within its own LEA, at its level or lower."""
    rule = "G2" if allowed is False else "G3"
    _expect(ask(D, who, action, resource), allowed, rule, fix=False)


def test_r2_role_at_the_wrong_level_is_denied() -> None:
    """R2, G2: a school role cannot be granted at an LEA, nor an LEA role at a school."""
    _expect(
        ask(D, "lc@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", LEA)),
        False,
        "R2",
        fix=False,
    )
    _expect(
        ask(D, "lc@d.org", "add_role", grant("n@d.org", "Educator—District", SCHOOL_1)),
        False,
        "R2",
        fix=False,
    )


G3: list[Case] = [
    ("lc@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", SCHOOL_2), True),
    ("lc@d.org", "add_role", grant("n@d.org", "Tools for Teachers Only", LEA), True),
    ("lc@d.org", "add_role", grant("n@d.org", "Tools for Teachers Only", SCHOOL_1), True),
    ("lc@d.org", "add_role", grant("n@d.org", "Site ELPAC Coordinator", SCHOOL_1), False),
    ("le@d.org", "add_role", grant("n@d.org", "LS Correspondence Administrator", LEA), True),
    ("le@d.org", "add_role", grant("n@d.org", "Site ELPAC Coordinator", SCHOOL_2), True),
    ("le@d.org", "add_role", grant("n@d.org", "IA Administrator Only", SCHOOL_2), True),
    ("le@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", SCHOOL_2), False),
    ("sc1@d.org", "add_role", grant("n@d.org", "Educator - Roster", SCHOOL_1), True),
    ("sc1@d.org", "add_role", grant("n@d.org", "Tools for Teachers User", SCHOOL_1), True),
    ("sc1@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", SCHOOL_1), False),
    ("sc1@d.org", "add_role", grant("n@d.org", "ELPAC Test Examiner", SCHOOL_1), False),
    ("se1@d.org", "add_role", grant("n@d.org", "LS Data Entry", SCHOOL_1), True),
    ("se1@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1), False),
    ("ta1@d.org", "add_role", grant("n@d.org", "Tools for Teachers Only", SCHOOL_1), False),
    ("ets1@d.org", "add_role", grant("n@d.org", "Educator—Roster", SCHOOL_1), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), G3)
def test_g3_grant_matrix(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """G3: each coordinator grants the roles of its row, where the row says; others nothing."""
    _expect(ask(D, who, action, resource), allowed, "G3")


def test_g3_denial_fix_points_to_the_grant_matrix() -> None:
    """G3: a denied grant says whom to ask."""
    decision = ask(D, "ta1@d.org", "add_role", grant("n@d.org", "Educator—Roster", SCHOOL_1))
    assert decision.fix is not None
    assert "G3" in decision.fix


def test_g3_charter_coordinator_grants_school_roles_at_its_charter() -> None:
    """G3, O3: the LEA coordinator of a direct-funded charter grants school roles at the charter."""
    d = build(acct("cc@d.org", "LEA CAASPP Coordinator", CHARTER, primary=True))
    _expect(
        ask(d, "cc@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", CHARTER)),
        True,
        "G3",
    )
    _expect(
        ask(d, "cc@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", SCHOOL_1)),
        False,
        "G3",
    )


def test_g4_educator_district() -> None:
    """G4: Educator—District is granted by the LEA CAASPP coordinator, not by others."""
    _expect(
        ask(D, "lc@d.org", "add_role", grant("n@d.org", "Educator – District", LEA)), True, "G4"
    )
    _expect(
        ask(D, "le@d.org", "add_role", grant("n@d.org", "Educator—District", LEA)), False, "G3"
    )


def test_g5_site_coordinator_cannot_grant_a_role_it_holds_elsewhere() -> None:
    """G5 (multi-role): a site coordinator who is a test examiner elsewhere grants it not here."""
    d = build(
        acct(
            "jane@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_2)],
            credentialed=True,
        ),
        rule_set="multi-role",
    )
    te = grant("n@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True)
    _expect(ask(d, "jane@d.org", "add_role", te), False, "G5")
    ta = grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    _expect(ask(d, "jane@d.org", "add_role", ta), True, "G3")


REMOVALS: list[Case] = [
    ("sc1@d.org", "remove_role", grant("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1), True),
    ("lc@d.org", "remove_role", grant("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1), True),
    ("sup@d.org", "remove_role", grant("lc@d.org", "LEA CAASPP Coordinator", LEA), True),
    ("lc@d.org", "remove_role", grant("lc2@d.org", "LEA CAASPP Coordinator", LEA), True),
    ("lc2@d.org", "remove_role", grant("lc@d.org", "LEA CAASPP Coordinator", LEA), False),
    ("sc2@d.org", "remove_role", grant("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1), False),
    ("ta1@d.org", "remove_role", grant("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1), False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), REMOVALS)
def test_g6_remove_role_needs_power_to_grant(
    who: str, action: str, resource: dict[str, Any], allowed: bool
) -> None:
    """G6: removing a role needs exactly the power to grant it there (a primary: the superintendent)."""
    _expect(ask(D, who, action, resource), allowed, "G6")


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (grant("nobody@d.org", "CAASPP Test Administrator", SCHOOL_1), "unknown account"),
        (grant("te1@d.org", "CAASPP Test Administrator", SCHOOL_1), "holds no"),
        (
            grant("ta1@d.org", "CAASPP Test Administrator", "19647339999999"),
            "unknown organization",
        ),
    ],
)
def test_g6_remove_what_is_not_held_is_denied(resource: dict[str, Any], reason: str) -> None:
    """G6: removing a role the account does not hold, or from no account, is denied (the audit
    text says which)."""
    decision = _explain(D, "sc1@d.org", "remove_role", resource)
    assert not decision.allowed
    assert reason in decision.reason
    assert ask(D, "sc1@d.org", "remove_role", resource).rules == decision.rules


def test_g6_governs_returns_the_grant_row() -> None:
    """G6: governs() names the grant row by which the user may grant a role there."""
    power = governs(D.user("sc1@d.org"), by_name("CAASPP Test Administrator"), SCHOOL_1)
    assert power is not None
    assert power.rule.grantor == "Site CAASPP Coordinator"
    assert governs(D.user("sc1@d.org"), by_name("CAASPP Test Administrator"), SCHOOL_2) is None
    assert governs(D.user("nobody@d.org"), by_name("CAASPP Test Administrator"), SCHOOL_1) is None


G7: list[Case] = [
    ("sc1@d.org", "reset_password", {"account": "ta1@d.org"}, True),
    ("lc@d.org", "reset_password", {"account": "sc1@d.org"}, True),
    ("lc@d.org", "reset_password", {"account": "ed@d.org"}, True),
    ("ta1@d.org", "reset_password", {"account": "ta1@d.org"}, True),
    ("sup@d.org", "reset_password", {"account": "sup@d.org"}, True),
    ("ta1@d.org", "reset_password", {"account": "sc1@d.org"}, False),
    ("sc2@d.org", "reset_password", {"account": "ta1@d.org"}, False),
    ("lc@d.org", "reset_password", {"account": "le@d.org"}, False),
    ("lc@d.org", "reset_password", {"account": "osc@o.org"}, False),
]


@pytest.mark.parametrize(("who", "action", "resource", "allowed"), G7)
def test_g7_reset_password(who: str, action: str, resource: dict[str, Any], allowed: bool) -> None:
    """G7: coordinators reset the passwords of staff they govern; every user its own."""
    decision = ask(D, who, action, resource)
    _expect(decision, allowed, "G7" if allowed else "G8")


@pytest.mark.parametrize(
    "action", ["edit_account", "deactivate_account", "reactivate_account", "delete_account"]
)
def test_g8_account_actions_need_covering_every_role(action: str) -> None:
    """G8: whole-account actions are allowed when the actor covers every role of the account."""
    d = build(
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        acct(
            "te@d.org",
            roles=[("CAASPP Test Examiner", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_2)],
            credentialed=True,
        ),
        acct("ta@d.org", "CAASPP Test Administrator", SCHOOL_1),
        acct("sup@d.org", superintendent_of=LEA),
    )
    _expect(ask(d, "sc1@d.org", action, {"account": "ta@d.org"}), True, "G8")
    _expect(ask(d, "lc@d.org", action, {"account": "te@d.org"}), True, "G8")
    _expect(ask(d, "sc1@d.org", action, {"account": "te@d.org"}), False, "G8")
    _expect(ask(d, "lc@d.org", action, {"account": "sup@d.org"}), False, "G8", fix=False)
    if action != "edit_account":  # G8: every active user edits its own demographics
        _expect(ask(d, "ta@d.org", action, {"account": "ta@d.org"}), False, "G8")


def test_g8_unknown_account_is_denied() -> None:
    """G8: an action on an account the directory does not hold is denied; `explain` says it is
    unknown, the principal's text does not."""
    decision = ask(D, "lc@d.org", "edit_account", {"account": "nobody@d.org"})
    _expect(decision, False, "G8")
    assert "unknown" not in decision.reason
    assert (
        "unknown account"
        in _explain(D, "lc@d.org", "edit_account", {"account": "nobody@d.org"}).reason
    )


def test_g8_decide_on_a_stale_account_value() -> None:
    """G8: an Account value no longer in the directory is denied, not raised on."""
    from caaspp_authz import Account
    from caaspp_authz.accounts import Email

    decision = decide(D.user("lc@d.org"), Action.EDIT_ACCOUNT, Account(Email("gone@d.org")))
    _expect(decision, False, "G8", fix=False)


# --- G10, G11: forms and inactive accounts -----------------------------------------------------

NO_FORMS = build(
    acct("sc@d.org", "Site CAASPP Coordinator", SCHOOL_1, forms={"CAASPP": ["affidavit"]}),
    acct("tft@d.org", "Tools for Teachers Only", SCHOOL_1, forms={}),
    acct("ia@d.org", "IA Administrator Only", SCHOOL_1, forms={"CAASPP": ["affidavit"]}),
    acct("ta@d.org", "CAASPP Test Administrator", SCHOOL_1),
    students=[{"ssid": IN_GROUP, "school": SCHOOL_1}],
    groups=[
        {
            "name": "P",
            "school": SCHOOL_1,
            "school_year": 2026,
            "subject": "All",
            "students": [IN_GROUP],
            "users": ["ia@d.org"],
        }
    ],
)


def test_g10_missing_forms_grant_nothing_and_the_fix_names_them() -> None:
    """G10: an assignment without its forms on file grants nothing; the fix lists the forms."""
    decision = ask(NO_FORMS, "sc@d.org", "administer_summative", _org(SCHOOL_1))
    _expect(decision, False, "G10")
    assert decision.fix is not None
    assert "CAASPP agreement" in decision.fix
    student = ask(NO_FORMS, "sc@d.org", "view_student_results", _student(IN_GROUP))
    _expect(student, False, "G10")


def test_g10_both_programs_need_both_forms() -> None:
    """G10: a role of both programs is not in force with one program's affidavit only."""
    decision = ask(NO_FORMS, "ia@d.org", "view_student_results", _student(IN_GROUP))
    _expect(decision, False, "G10")
    assert decision.fix is not None
    assert "ELPAC affidavit" in decision.fix


def test_g10_grant_without_forms_names_the_forms() -> None:
    """G10: a coordinator without its forms grants nothing, and the fix names the missing forms."""
    decision = ask(NO_FORMS, "sc@d.org", "add_role", grant("n@d.org", "Educator—Roster", SCHOOL_1))
    _expect(decision, False, "G10")
    assert decision.fix is not None
    assert "CAASPP agreement" in decision.fix


def test_g10_tools_for_teachers_only_needs_no_forms() -> None:
    """G10: Tools for Teachers Only is in force with no form on file."""
    decision = ask(
        NO_FORMS, "tft@d.org", "access_tools_for_teachers", {"tools_for_teachers": True}
    )
    _expect(decision, True, "V7")


INACTIVE = build(
    acct("sc@d.org", "Site CAASPP Coordinator", SCHOOL_1),
    acct("old@d.org", "CAASPP Test Administrator", SCHOOL_1, active=False),
)


def test_g11_inactive_account_may_do_nothing() -> None:
    """G11: an inactive account is denied every action, with how to reactivate it as the fix."""
    decision = ask(
        INACTIVE, "old@d.org", "access_tools_for_teachers", {"tools_for_teachers": True}
    )
    _expect(decision, False, "G11")
    assert decision.fix is not None
    assert "password reset" in decision.fix
    _expect(ask(INACTIVE, "old@d.org", "reset_password", {"account": "old@d.org"}), False, "G11")


def test_g11_grant_or_reset_reactivates_an_inactive_account() -> None:
    """G11, G7: granting a role to an inactive account, or resetting its password, is allowed."""
    _expect(
        ask(
            INACTIVE,
            "sc@d.org",
            "add_role",
            grant("old@d.org", "CAASPP Test Administrator", SCHOOL_1),
        ),
        True,
        "G11",
    )
    _expect(ask(INACTIVE, "sc@d.org", "reset_password", {"account": "old@d.org"}), True, "G7")


# --- E3–E5, R5, R6, R7 at grant time ---------------------------------------------------------


def test_e2_same_role_at_another_site_is_granted() -> None:
    """E2: an account may be given the role it holds at another site."""
    te = grant("te1@d.org", "CAASPP Test Examiner", SCHOOL_2)
    _expect(ask(D, "sc2@d.org", "add_role", te), True, "G3")


def test_e3_different_role_at_another_site_is_denied() -> None:
    """E3: under one-role-per-email a grant of a second, different role is denied."""
    decision = ask(
        D, "sc2@d.org", "add_role", grant("te1@d.org", "CAASPP Test Administrator", SCHOOL_2)
    )
    _expect(decision, False, "E3")
    assert decision.fix == "use a different e-mail address for this role"


def test_e3_multi_role_allows_a_second_role() -> None:
    """E3, E7: under multi-role the same grant is allowed."""
    d = district(rule_set="multi-role")
    _expect(
        ask(d, "sc2@d.org", "add_role", grant("te1@d.org", "CAASPP Test Administrator", SCHOOL_2)),
        True,
        "G3",
    )


def test_e4_second_role_at_one_site_names_the_highest() -> None:
    """E4: a second role at one site is denied; the fix names the highest, or asks for an e-mail."""
    higher = ask(
        D, "lc@d.org", "add_role", grant("te1@d.org", "Site CAASPP Coordinator", SCHOOL_1)
    )
    _expect(higher, False, "E4")
    assert higher.fix is not None
    assert "remove `CAASPP Test Examiner`" in higher.fix
    assert "U4" in higher.fix
    incomparable = ask(
        D, "sc1@d.org", "add_role", grant("te1@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    _expect(incomparable, False, "E4")
    assert incomparable.fix is not None
    assert "use a different e-mail address" in incomparable.fix


def test_e5_seed_example_site_coordinator_given_test_administrator_elsewhere() -> None:
    """E5, E3: an active site coordinator at School B given a test administrator role at School A is refused."""
    decision = ask(
        D, "lc@d.org", "add_role", grant("sc2@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    _expect(decision, False, "E3")


def test_r5_credential_is_needed_at_grant_time() -> None:
    """R5: a role needing a credential is granted only with the credential attested or on file."""
    te = "CAASPP Test Examiner"
    denied = ask(D, "sc1@d.org", "add_role", grant("n@d.org", te, SCHOOL_1))
    _expect(denied, False, "R5")
    assert denied.fix is not None
    assert "credentialed: true" in denied.fix
    _expect(
        ask(D, "sc1@d.org", "add_role", grant("n@d.org", te, SCHOOL_1, credentialed=True)),
        True,
        "G3",
    )
    _expect(ask(D, "sc2@d.org", "add_role", grant("te1@d.org", te, SCHOOL_2)), True, "G3")


def test_r6_superintendent_designates_itself() -> None:
    """R6, G1: the superintendent may designate itself LEA coordinator."""
    d = build(acct("sup@d.org", superintendent_of=LEA))
    _expect(
        ask(
            d,
            "sup@d.org",
            "add_role",
            grant("sup@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        ),
        True,
        "G1",
    )


def test_r7_one_primary_per_lea_and_program() -> None:
    """R7: a second primary is denied while one is in place; a secondary is allowed."""
    second = ask(
        D, "sup@d.org", "add_role", grant("n@d.org", "LEA CAASPP Coordinator", LEA, primary=True)
    )
    _expect(second, False, "R7")
    assert second.fix == "remove the current primary first, or grant a secondary"
    d = build(acct("sup@d.org", superintendent_of=LEA))
    first = ask(
        d, "sup@d.org", "add_role", grant("n@d.org", "LEA CAASPP Coordinator", LEA, primary=True)
    )
    _expect(first, True, "G1")


def test_r7_primary_means_nothing_on_other_roles() -> None:
    """R7: `primary` on a role without a primary is ignored at grant time."""
    _expect(
        ask(
            D, "sc1@d.org", "add_role", grant("n@d.org", "Educator—Roster", SCHOOL_1, primary=True)
        ),
        True,
        "G3",
    )


# --- deny by default -------------------------------------------------------------------------


def test_unknown_principal_is_denied() -> None:
    """E1: a principal with no account may do nothing."""
    decision = ask(D, "nobody@d.org", "access_tools_for_teachers", {"tools_for_teachers": True})
    _expect(decision, False, "E1", fix=False)


def test_wrong_resource_kind_is_denied_not_raised() -> None:
    """Deny by default: a typed but wrong resource is denied, never raised on."""
    decision = decide(D.user("lc@d.org"), Action.VIEW_STUDENT_RESULTS, "1000000001")
    assert not decision.allowed
    assert "acts on a Student" in decision.reason
    assert not can(D.user("lc@d.org"), Action.VIEW_GROUP, None)


def test_decision_to_json() -> None:
    """A decision serializes to the command-line decision line."""
    decision = ask(D, "sc1@d.org", "view_student_results", _student(IN_GROUP))
    assert decision.to_json() == {
        "allowed": True,
        "rules": list(decision.rules),
        "reason": decision.reason,
        "fix": None,
    }


def test_g5_applies_to_a_site_coordinator_at_a_direct_funded_charter() -> None:
    """G5, O3: the site coordinator of a charter test site who examines elsewhere grants it not."""
    d = build(
        acct(
            "cc@d.org",
            roles=[("Site CAASPP Coordinator", CHARTER), ("CAASPP Test Examiner", OTHER_SCHOOL)],
            credentialed=True,
        ),
        rule_set="multi-role",
    )
    te = grant("n@d.org", "CAASPP Test Examiner", CHARTER, credentialed=True)
    _expect(ask(d, "cc@d.org", "add_role", te), False, "G5", fix=False)
    ta = grant("n@d.org", "CAASPP Test Administrator", CHARTER)
    _expect(ask(d, "cc@d.org", "add_role", ta), True, "G3")


def test_v1_a_student_the_directory_does_not_hold_is_denied() -> None:
    """V1: a Student value not held by the directory (another school, no such SSID) is denied."""
    coordinator = D.user("sc1@d.org")
    held = D.student(ELSEWHERE)
    assert held is not None
    moved = Student(ELSEWHERE, CDSCode(SCHOOL_1))  # the student earned results in another LEA
    invented = Student("9999999999", CDSCode(SCHOOL_1))
    for student in (moved, invented):
        assert not can(coordinator, Action.VIEW_STUDENT_RESULTS, student)
        assert decide(coordinator, Action.VIEW_STUDENT_RESULTS, student).rules == ("V1", "V2")
    assert can(coordinator, Action.VIEW_STUDENT_RESULTS, D.student(IN_GROUP))


def test_v3_a_group_belongs_to_a_school_not_an_lea() -> None:
    """V3: creating a group at an LEA is denied, and a directory holding one is refused."""
    decision = ask(D, "lc@d.org", "create_group", {"group": key("New", LEA)})
    _expect(decision, False, "V3", fix=False)
    with pytest.raises(DirectoryError, match="is an LEA, not a school"):
        build(
            *_staff_with(),
            groups=[
                {
                    "name": "G",
                    "school": LEA,
                    "school_year": 2026,
                    "subject": "All",
                    "students": [],
                    "users": [],
                }
            ],
        )


def _staff_with(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*staff(), *extra]


def test_g8_no_one_else_acts_on_a_superintendent_who_also_holds_a_role() -> None:
    """G8, R6: a superintendent's account is acted on by itself only, whatever roles it holds;
    R6 and the superintendency are named to auditors, not to the denied principal."""
    d = build(
        *_staff_with(acct("sup.ed@d.org", "Educator—District", LEA, superintendent_of=OTHER_LEA))
    )
    for action in ("deactivate_account", "delete_account", "edit_account", "reset_password"):
        for who in ("olc@o.org", "lc@d.org"):
            decision = ask(d, who, action, {"account": "sup.ed@d.org"})
            _expect(decision, False, "G8")
            assert "R6" not in decision.rules
            assert "superintendent" not in decision.reason
            audit = _explain(d, who, action, {"account": "sup.ed@d.org"})
            assert "superintendent of" in audit.reason
            assert audit.rules == decision.rules
    _expect(
        ask(d, "sup.ed@d.org", "deactivate_account", {"account": "sup.ed@d.org"}),
        False,
        "R6",
        fix=False,
    )
    _expect(ask(d, "sup.ed@d.org", "reset_password", {"account": "sup.ed@d.org"}), True, "G7")


def test_r5_is_decided_after_the_email_rules_so_its_fix_changes_the_answer() -> None:
    """R5, E4: a grant that breaks E4 is denied for E4, not for the missing credential."""
    decision = ask(
        D, "sc1@d.org", "add_role", grant("ets1@d.org", "CAASPP Test Examiner", SCHOOL_1)
    )
    _expect(decision, False, "E4")
    decision = ask(
        D, "sc1@d.org", "add_role", grant("new@d.org", "CAASPP Test Examiner", SCHOOL_1)
    )
    _expect(decision, False, "R5")
    attested = grant("new@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True)
    _expect(ask(D, "sc1@d.org", "add_role", attested), True, "G3")


def test_v4_a_stale_custom_group_loads_with_a_warning_and_stays_closed() -> None:
    """V4: a custom group holding students its owner may not see warns and cannot be viewed."""
    d = build(
        *_staff_with(),
        students=[
            *student_entries(SCHOOL_1, [IN_GROUP]),
            *student_entries(OTHER_SCHOOL, [ELSEWHERE]),
        ],
        custom_groups=[{"owner": "ta1@d.org", "name": "Stale", "students": [ELSEWHERE]}],
    )
    assert [p.rule for p in d.warnings if p.rule == "V4"] == ["V4"]
    stale = {"custom_group": {"owner": "ta1@d.org", "name": "Stale", "students": []}}
    _expect(ask(d, "ta1@d.org", "view_custom_group", stale), False, "V4")
    assert ask(d, "ta1@d.org", "delete_custom_group", stale).allowed


# --- rulebook revision 2: covering accounts (G7, G8, G11), R7, T1–T3, V3, V4, G5, G10, E4, E8 --

COVER = build(
    acct("sup@d.org", superintendent_of=LEA),
    acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
    acct("lc2@d.org", "LEA CAASPP Coordinator", LEA),
    acct("le@d.org", "LEA ELPAC Coordinator", LEA, primary=True),
    acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
    acct("se1@d.org", "Site ELPAC Coordinator", SCHOOL_1),
    acct("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1),
    acct(
        "te@d.org",
        roles=[("CAASPP Test Examiner", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_2)],
        credentialed=True,
    ),
    acct(
        "te.old@d.org",
        roles=[("CAASPP Test Examiner", SCHOOL_1), ("CAASPP Test Examiner", SCHOOL_2)],
        credentialed=True,
        active=False,
    ),
    acct("tft@d.org", "Tools for Teachers Only", LEA),
    acct("norole@d.org"),
    acct("norole.old@d.org", active=False),
    acct("b.old@o.org", "CAASPP Test Administrator", OTHER_SCHOOL, active=False),
    acct("olc@o.org", "LEA CAASPP Coordinator", OTHER_LEA, primary=True),
    acct("lc.noforms@d.org", "LEA CAASPP Coordinator", LEA, forms={"CAASPP": ["affidavit"]}),
)


@pytest.mark.parametrize(
    ("who", "target", "allowed"),
    [
        ("le@d.org", "ta1@d.org", True),  # (c) across programs
        ("se1@d.org", "ta1@d.org", True),  # (d) across programs, at its school
        ("lc@d.org", "se1@d.org", True),  # (c) a site coordinator of the other program
        ("sup@d.org", "le@d.org", True),  # (b) LEA coordinators too
        ("lc@d.org", "le@d.org", False),  # (c) not an LEA coordinator role
        ("lc@d.org", "lc2@d.org", True),  # (a) the primary governs its secondary (G1)
        ("lc2@d.org", "lc@d.org", False),
        ("se1@d.org", "sc1@d.org", False),  # (d) never a peer coordinator
        ("sc1@d.org", "tft@d.org", False),  # (d) at its school only
        ("sc1@d.org", "te@d.org", False),  # a role at another school stays uncovered
        ("olc@o.org", "ta1@d.org", False),  # no one acts in an LEA it does not serve
        ("lc.noforms@d.org", "ta1@d.org", False),  # the actor's role must be in force
    ],
)
def test_g8_cover(who: str, target: str, allowed: bool) -> None:
    """G8: an actor covers an account's roles by (a) governing, (b) superintendency, (c) an LEA
    coordinator role of either program, (d) a site coordinator role of either program."""
    _expect(ask(COVER, who, "edit_account", {"account": target}), allowed, "G8")


def test_g8_actor_without_forms_is_told_the_forms() -> None:
    """G8, G10: an LEA coordinator whose own forms are missing is told which forms to file."""
    decision = ask(COVER, "lc.noforms@d.org", "deactivate_account", {"account": "ta1@d.org"})
    _expect(decision, False, "G10")
    assert decision.fix is not None
    assert "CAASPP agreement" in decision.fix


def test_g8_account_with_no_role_is_acted_on_by_itself_only() -> None:
    """G8: no one acts on an account holding no role; its owner edits its own demographics."""
    for action in ("edit_account", "deactivate_account", "reset_password"):
        _expect(ask(COVER, "sup@d.org", action, {"account": "norole@d.org"}), False, "G8")
    _expect(ask(COVER, "norole@d.org", "edit_account", {"account": "norole@d.org"}), True, "G8")
    _expect(ask(COVER, "norole@d.org", "reset_password", {"account": "norole@d.org"}), True, "G7")


def test_g8_removing_the_last_role_says_so() -> None:
    """G8, G6: removing an account's last role is allowed, and the reason says it is the last."""
    last = ask(
        COVER,
        "sc1@d.org",
        "remove_role",
        grant("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1),
    )
    _expect(last, True, "G6")
    assert "last role" in last.reason
    assert "delete" in last.reason
    one_of_two = ask(
        COVER, "sc1@d.org", "remove_role", grant("te@d.org", "CAASPP Test Examiner", SCHOOL_1)
    )
    _expect(one_of_two, True, "G6")
    assert "last role" not in one_of_two.reason


def test_g7_reset_of_an_active_account_needs_one_role_covered() -> None:
    """G7: a reset of an active account needs covering one of its roles; of an inactive one,
    every role (G8 in full)."""
    _expect(ask(COVER, "sc1@d.org", "reset_password", {"account": "te@d.org"}), True, "G7")
    _expect(ask(COVER, "sc1@d.org", "deactivate_account", {"account": "te@d.org"}), False, "G8")
    _expect(ask(COVER, "sc1@d.org", "reset_password", {"account": "te.old@d.org"}), False, "G8")
    _expect(ask(COVER, "lc@d.org", "reset_password", {"account": "te.old@d.org"}), True, "G7")


def test_g11_granting_to_an_inactive_account_needs_covering_its_roles() -> None:
    """G11: a grant to an inactive account reactivates it, so it needs covering every role the
    account holds; an inactive account with no role is granted a role as if it were new."""
    role = "CAASPP Test Examiner"
    denied = ask(COVER, "sc1@d.org", "add_role", grant("te.old@d.org", role, SCHOOL_1))
    _expect(denied, False, "G11")
    _expect(ask(COVER, "lc@d.org", "add_role", grant("te.old@d.org", role, SCHOOL_1)), True, "G11")
    fresh = grant("norole.old@d.org", "Educator—Roster", SCHOOL_1)
    _expect(ask(COVER, "sc1@d.org", "add_role", fresh), True, "G11")


def test_g11_no_reactivation_across_leas() -> None:
    """G11, G8: LEA A's coordinator may not revive LEA B's inactive teacher by granting it a
    role at A, nor reactivate it outright."""
    revive = grant("b.old@o.org", "CAASPP Test Administrator", SCHOOL_1)
    _expect(ask(COVER, "lc@d.org", "add_role", revive), False, "G11")
    _expect(ask(COVER, "lc@d.org", "reactivate_account", {"account": "b.old@o.org"}), False, "G8")
    _expect(ask(COVER, "olc@o.org", "reactivate_account", {"account": "b.old@o.org"}), True, "G8")


def test_g8_superintendent_account_is_its_own() -> None:
    """G8, R6, U7: no one but the superintendent acts on its account, whatever roles it holds,
    so a site coordinator's upload row never renames it."""
    d = build(
        acct("sup@d.org", "Tools for Teachers Only", SCHOOL_1, superintendent_of=LEA),
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
    )
    _expect(ask(d, "sc1@d.org", "edit_account", {"account": "sup@d.org"}), False, "G8")
    _expect(ask(d, "sup@d.org", "edit_account", {"account": "sup@d.org"}), True, "G8")


def test_r7_a_primary_held_by_an_inactive_account_or_not_in_force_is_held() -> None:
    """R7: a primary is held whether its account is active or not and its role in force or not."""
    extras: list[dict[str, Any]] = [{"active": False}, {"forms": {}}]
    for extra in extras:
        d = build(
            acct("sup@d.org", superintendent_of=LEA),
            acct("old@d.org", "LEA CAASPP Coordinator", LEA, primary=True, **extra),
        )
        second = grant("n@d.org", "LEA CAASPP Coordinator", LEA, primary=True)
        _expect(ask(d, "sup@d.org", "add_role", second), False, "R7")


def test_r7_making_a_secondary_the_primary() -> None:
    """R7: making a secondary the primary is a grant of the primary to the same account."""
    d = build(
        acct("sup@d.org", superintendent_of=LEA),
        acct("lc2@d.org", "LEA CAASPP Coordinator", LEA),
    )
    promote = grant("lc2@d.org", "LEA CAASPP Coordinator", LEA, primary=True)
    decision = ask(d, "sup@d.org", "add_role", promote)
    _expect(decision, True, "R7")
    assert "primary" in decision.reason


@pytest.mark.parametrize(
    "action",
    [
        "administer_summative",
        "administer_alternate",
        "administer_interim",
        "administer_practice",
        "administer_elpac",
    ],
)
def test_t1_tests_are_given_at_test_sites_only(action: str) -> None:
    """T1: an `administer_*` request on an LEA that is not a test site is denied, even for the
    LEA coordinator who may administer at each of its schools."""
    who = "le@d.org" if action == "administer_elpac" else "lc@d.org"
    _expect(ask(D, who, action, _org(LEA)), False, "T1")
    _expect(ask(D, who, action, _org(SCHOOL_1)), True, "T1")
    assert not can(D.user(who), Action(action), D.organization(LEA))


def test_t2_t3_on_an_lea_mean_across_the_lea() -> None:
    """T2, T3: test settings and completion status on an LEA are allowed to holders at the LEA."""
    _expect(ask(D, "lc@d.org", "manage_test_settings", _org(LEA)), True, "T2")
    _expect(ask(D, "lc@d.org", "view_completion_status", _org(LEA)), True, "T3")
    _expect(ask(D, "lc@d.org", "hand_score_interim", _org(LEA)), True, "T3")


def test_t2_assessment_on_test_settings_is_denied_in_python() -> None:
    """T2: a ProgramScope naming `interim` on manage_test_settings is denied, not raised on."""
    from caaspp_authz.resources import Assessment, ProgramScope

    org = D.organization(SCHOOL_1)
    assert org is not None
    scope = ProgramScope(org, assessment=Assessment.INTERIM)
    decision = decide(D.user("sc1@d.org"), Action.MANAGE_TEST_SETTINGS, scope)
    _expect(decision, False, "T2", fix=False)
    assert not can(D.user("sc1@d.org"), Action.MANAGE_TEST_SETTINGS, scope)


def test_v3_assignee_must_hold_a_role_the_group_opens_to() -> None:
    """V3 (revised): a group is assigned only to a user holding a role carrying PII_GROUP or PII
    over its school, in force or not, active or not; a role elsewhere in the LEA is not enough."""
    d = build(
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        acct("ta2@d.org", "CAASPP Test Administrator", SCHOOL_2),
        acct("tft1@d.org", "Tools for Teachers Only", SCHOOL_1),
        acct("ta.old@d.org", "CAASPP Test Administrator", SCHOOL_1, active=False),
        acct("ta.noforms@d.org", "CAASPP Test Administrator", SCHOOL_1, forms={}),
        acct("ed@d.org", "Educator—District", LEA),
        groups=[group("G", SCHOOL_1)],
    )

    def assign(to: str) -> Decision:
        return ask(
            d, "sc1@d.org", "assign_group", {"group_assignment": {"group": key("G"), "to": to}}
        )

    _expect(assign("ta2@d.org"), False, "V3")
    _expect(assign("tft1@d.org"), False, "V3")
    _expect(assign("ta.old@d.org"), True, "V3")
    _expect(assign("ta.noforms@d.org"), True, "V3")
    _expect(assign("ed@d.org"), True, "V3")


def test_v3_a_stale_assignment_still_loads_and_opens_nothing() -> None:
    """V3 (revised): a directory whose group is assigned to a user it no longer opens anything
    to loads, with a warning, and the assignment opens nothing."""
    d = build(
        acct("ta2@d.org", "CAASPP Test Administrator", SCHOOL_2),
        students=student_entries(SCHOOL_1, [IN_GROUP]),
        groups=[group("G", SCHOOL_1, [IN_GROUP], ["ta2@d.org"])],
    )
    assert any(w.rule == "V3" and not w.is_error for w in d.warnings)
    _expect(ask(d, "ta2@d.org", "view_student_results", _student(IN_GROUP)), False, "V1")


def test_v4_owner_deletes_its_custom_group_with_ownership_only() -> None:
    """V4: deleting one's own custom group needs ownership only, so an owner whose roles have
    lapsed still cleans up; no one else deletes it."""
    d = build(
        acct("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1, forms={}),
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        students=student_entries(SCHOOL_1, [IN_GROUP]),
        custom_groups=[{"owner": "ta1@d.org", "name": "Old", "students": [IN_GROUP]}],
    )
    mine = {"custom_group": {"owner": "ta1@d.org", "name": "Old", "students": []}}
    _expect(ask(d, "ta1@d.org", "delete_custom_group", mine), True, "V4")
    _expect(ask(d, "sc1@d.org", "delete_custom_group", mine), False, "V4", fix=False)
    _expect(ask(d, "ta1@d.org", "view_custom_group", mine), False, "V4")


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("access_tools_for_teachers", {"tools_for_teachers": True}),
        (
            "create_custom_group",
            {"custom_group": {"owner": "ia@d.org", "name": "N", "students": [IN_GROUP]}},
        ),
        ("view_group", {"group": key("P")}),
    ],
)
def test_g10_missing_forms_are_named_in_every_action(
    action: str, resource: dict[str, Any]
) -> None:
    """G10: IA Administrator Only with the CAASPP affidavit only is told the ELPAC affidavit is
    missing, not to get a role it already has."""
    decision = ask(NO_FORMS, "ia@d.org", action, resource)
    _expect(decision, False, "G10")
    assert decision.fix is not None
    assert "ELPAC affidavit" in decision.fix
    assert "needs a role" not in decision.fix


def test_g10_forms_are_not_named_when_they_are_not_the_cause() -> None:
    """G10: a denial the forms would not change names no forms."""
    decision = ask(NO_FORMS, "ia@d.org", "manage_test_settings", _org(SCHOOL_1))
    _expect(decision, False, "T2")
    assert "G10" not in decision.rules


def test_r4_a_near_miss_role_in_a_request_suggests_the_closest() -> None:
    """R4: a request naming `Educator-Roster` is denied with the closest role as the fix."""
    decision = ask(D, "sc1@d.org", "add_role", grant("n@d.org", "Educator-Roster", SCHOOL_1))
    _expect(decision, False, "R4")
    assert decision.fix is not None
    assert "`Educator—Roster`" in decision.fix


def test_g5_denial_names_the_role_and_the_other_site() -> None:
    """G5: the denial says which role the site coordinator's own account holds at which site."""
    d = build(
        acct(
            "sc@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Administrator", SCHOOL_2)],
        ),
        rule_set="multi-role",
    )
    decision = ask(
        d, "sc@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    _expect(decision, False, "G5")
    assert "`CAASPP Test Administrator`" in decision.reason
    assert f"`{SCHOOL_2}`" in decision.reason


def test_e4_fix_is_one_that_works() -> None:
    """E4: upgrading Educator—Roster to CAASPP Test Administrator is told to remove the old role
    first (or upload the row, U4), and that fix is allowed and then the grant is."""
    upgrade = grant("er1@d.org", "CAASPP Test Administrator", SCHOOL_1)
    decision = ask(D, "sc1@d.org", "add_role", upgrade)
    _expect(decision, False, "E4")
    assert decision.fix is not None
    assert "remove `Educator—Roster`" in decision.fix
    assert "grant only" not in decision.fix
    removal = ask(D, "sc1@d.org", "remove_role", grant("er1@d.org", "Educator—Roster", SCHOOL_1))
    _expect(removal, True, "G6")
    after = build(acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1), acct("er1@d.org"))
    _expect(ask(after, "sc1@d.org", "add_role", upgrade), True, "G3")


def test_e8_one_role_per_email_spans_both_programs() -> None:
    """E8: under one-role-per-email the Site CAASPP Coordinator is not also given the Site ELPAC
    Coordinator role: the e-mail rules hold across programs."""
    decision = ask(
        D, "le@d.org", "add_role", grant("sc1@d.org", "Site ELPAC Coordinator", SCHOOL_1)
    )
    _expect(decision, False, "E8")
    assert "E4" in decision.rules


def test_g10_names_the_fewest_forms_that_would_do() -> None:
    """G10: of several assignments not in force, the denial names the forms of the one that
    would allow the request."""
    d = build(
        acct(
            "two@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("ELPAC Test Examiner", SCHOOL_1)],
            forms={"CAASPP": ["affidavit"]},
        ),
        rule_set="multi-role",
    )
    decision = ask(d, "two@d.org", "administer_summative", _org(SCHOOL_1))
    _expect(decision, False, "G10")
    assert decision.fix == "put these forms on file: CAASPP agreement"
    elpac = ask(d, "two@d.org", "administer_elpac", _org(SCHOOL_1))
    assert elpac.fix == "put these forms on file: ELPAC affidavit"


def test_g10_text_of_one_role_with_two_forms_missing() -> None:
    """G10: one role not in force is named with its organization and every missing form of its
    program, in order, joined by commas; the fix puts those forms on file."""
    d = build(acct("one@d.org", "Site CAASPP Coordinator", SCHOOL_1, forms={}))
    decision = ask(d, "one@d.org", "administer_summative", _org(SCHOOL_1))
    assert decision.rules == ("T1", "G10")
    assert decision.reason == (
        f"`Site CAASPP Coordinator` at `{SCHOOL_1}`, held by `one@d.org`, would allow it but is "
        "not in force until these forms are on file: CAASPP affidavit, CAASPP agreement"
    )
    assert decision.fix == "put these forms on file: CAASPP affidavit, CAASPP agreement"


def test_g10_text_of_two_roles_needed_together() -> None:
    """G10: when only two roles together would allow it, both are named (with "and", "are")
    and their programs' forms are listed one program after the other."""
    d = build(
        acct(
            "two@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("Site ELPAC Coordinator", SCHOOL_2)],
            forms={},
        ),
        rule_set="multi-role",
    )
    report = {"report": {"organizations": [SCHOOL_1, SCHOOL_2]}}
    decision = ask(d, "two@d.org", "create_aggregate_report", report)
    forms = "CAASPP affidavit, CAASPP agreement; ELPAC affidavit, ELPAC agreement"
    assert decision.rules == ("V5", "G10")
    assert decision.reason == (
        f"`Site CAASPP Coordinator` at `{SCHOOL_1}` and `Site ELPAC Coordinator` at "
        f"`{SCHOOL_2}`, held by `two@d.org`, would allow it but are not in force until these "
        f"forms are on file: {forms}"
    )
    assert decision.fix == f"put these forms on file: {forms}"


def test_e7_each_programs_coordinator_grants_its_role_to_a_shared_coordinator() -> None:
    """E7, G3: under multi-role the LEA CAASPP and LEA ELPAC coordinators each grant their
    program's site coordinator role to the person who holds the other one at that school."""
    d = build(
        acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        acct("le@d.org", "LEA ELPAC Coordinator", LEA, primary=True),
        acct("both@d.org", "Site ELPAC Coordinator", SCHOOL_1),
        rule_set="multi-role",
    )
    caaspp = grant("both@d.org", "Site CAASPP Coordinator", SCHOOL_1)
    _expect(ask(d, "lc@d.org", "add_role", caaspp), True, "G3")
    _expect(ask(d, "le@d.org", "add_role", caaspp), False, "G3")
    remove_elpac = grant("both@d.org", "Site ELPAC Coordinator", SCHOOL_1)
    _expect(ask(d, "le@d.org", "remove_role", remove_elpac), True, "G6")
    _expect(ask(d, "lc@d.org", "remove_role", remove_elpac), False, "G6")


# --- the exact texts of each check's answers (V1–V7, T1–T3, O4, E1) -----------------------------

_GROUP_1 = f"`Period 1` (2026) at `{SCHOOL_1}`"
_AT_SCHOOL_1 = f"`{SCHOOL_1}` (or its LEA `{LEA}`)"
_AT_SCHOOL_2 = f"`{SCHOOL_2}` (or its LEA `{LEA}`)"
_STUDENT_FIX = (
    "needs PII over the school where the student's results were earned, or a group assigned "
    "to you that holds the student and PII_GROUP there"
)
_CUSTOM_FIX = (
    "a custom group takes students from your assigned groups only (of 200 or fewer students "
    "where your role limits it)"
)
_ASSIGN_FIX = (
    "assign a group only to a user with a role carrying PII_GROUP or PII at its school "
    f"{_AT_SCHOOL_1}"
)


def _assignment(name: str, to: str) -> dict[str, Any]:
    return {"group_assignment": {"group": key(name), "to": to}}


# (principal, action, resource, rules, reason, fix, audit reason, audit fix); the audit texts
# are those of `explain`, `None` where they are the principal's own.
TEXTS: dict[str, tuple[Any, ...]] = {
    "V1 allowed by PII": (
        "sc1@d.org", "view_student_results", _student(IN_GROUP), ("V1", "P2", "O4"),
        "holds PII over the school where the result was earned", None, None, None,
    ),
    "V2 allowed by an assigned group": (
        "ta1@d.org", "view_student_results", _student(IN_GROUP), ("V1", "V2", "P2", "O4"),
        "the student is in a group assigned to the user, who holds PII_GROUP over the school",
        None, None, None,
    ),
    "V1 denied, the school named for audit only": (
        "sc1@d.org", "view_student_results", _student(AT_SCHOOL_2), ("V1", "V2"),
        f"`sc1@d.org` may not view the results of student `{AT_SCHOOL_2}`", _STUDENT_FIX,
        f"`sc1@d.org` holds no PII over school `{SCHOOL_2}` and no assigned group with student "
        f"`{AT_SCHOOL_2}` under PII_GROUP",
        f"needs PII at school {_AT_SCHOOL_2}, or a group assigned to you that holds student "
        f"`{AT_SCHOOL_2}` and PII_GROUP there",
    ),
    "V1 an unknown SSID reads as a denied one": (
        "sc1@d.org", "view_student_results", _student("9999999999"), ("V1", "V2"),
        "`sc1@d.org` may not view the results of student `9999999999`", _STUDENT_FIX,
        "unknown student `9999999999`", None,
    ),
    "V3 GROUP_ADMIN sees a group": (
        "sc1@d.org", "view_group", {"group": key("Period 1")}, ("V3", "P2", "O4"),
        "holds GROUP_ADMIN over the group's school", None, None, None,
    ),
    "V3 an assigned group with PII_GROUP": (
        "ta1@d.org", "view_group", {"group": key("Period 1")}, ("V3", "V2"),
        "the group is assigned to the user, who holds PII_GROUP there", None, None, None,
    ),
    "V3 a group not seen reads the same as a missing one": (
        "sc2@d.org", "view_group", {"group": key("Period 1")}, ("V3",),
        f"`sc2@d.org` may not see group {_GROUP_1}",
        f"needs GROUP_ADMIN or PII at {_AT_SCHOOL_1}, or the group assigned to you with "
        "PII_GROUP there",
        None, None,
    ),
    "V3 a missing group, for audit": (
        "ta2@d.org", "view_group", {"group": key("Period 1", SCHOOL_2)}, ("V3",),
        f"`ta2@d.org` may not see group `Period 1` (2026) at `{SCHOOL_2}`",
        f"needs GROUP_ADMIN or PII at {_AT_SCHOOL_2}, or the group assigned to you with "
        "PII_GROUP there",
        f"there is no group `Period 1` (2026) at `{SCHOOL_2}`", None,
    ),
    "V3 a missing group, told to GROUP_ADMIN": (
        "sc1@d.org", "view_group", {"group": key("Nope")}, ("V3",),
        f"there is no group `Nope` (2026) at `{SCHOOL_1}`", None, None, None,
    ),
    "V3 create": (
        "sc1@d.org", "create_group", {"group": key("New")}, ("V3", "P2", "O4"),
        "holds GROUP_ADMIN over the group's school", None, None, None,
    ),
    "V3 create an existing group": (
        "sc1@d.org", "create_group", {"group": key("Period 1")}, ("V3",),
        f"group {_GROUP_1} already exists", "edit the existing group", None, None,
    ),
    "V3 edit a missing group": (
        "sc1@d.org", "edit_group", {"group": key("Nope")}, ("V3",),
        f"there is no group `Nope` (2026) at `{SCHOOL_1}`", None, None, None,
    ),
    "V3 edit without GROUP_ADMIN": (
        "ta1@d.org", "edit_group", {"group": key("Period 1")}, ("V3",),
        f"`ta1@d.org` holds no GROUP_ADMIN over `{SCHOOL_1}`",
        f"needs a role carrying GROUP_ADMIN at {_AT_SCHOOL_1}", None, None,
    ),
    "V3 a group at an LEA": (
        "lc@d.org", "create_group", {"group": key("New", LEA)}, ("V3",),
        f"`{LEA}` is not a school: a group belongs to a school", None, None, None,
    ),
    "V3 assign": (
        "sc1@d.org", "assign_group", _assignment("Period 1", "ta1@d.org"), ("V3", "P2", "O4"),
        "holds GROUP_ADMIN over the school; the assignee holds a role the group opens to",
        None, None, None,
    ),
    "V3 assign to a user it opens nothing to": (
        "sc1@d.org", "assign_group", _assignment("Period 1", "tft@d.org"), ("V3",),
        "the group would open nothing to `tft@d.org`", _ASSIGN_FIX,
        "the group would open nothing to `tft@d.org`: it holds no role carrying PII_GROUP or "
        f"PII over `{SCHOOL_1}`",
        _ASSIGN_FIX,
    ),
    "V3 assign to an unknown account": (
        "sc1@d.org", "assign_group", _assignment("Period 1", "nobody@d.org"), ("V3",),
        "the group would open nothing to `nobody@d.org`", _ASSIGN_FIX,
        "unknown account `nobody@d.org`", _ASSIGN_FIX,
    ),
    "V4 view an own custom group": (
        "ta1@d.org", "view_custom_group", _custom("ta1@d.org", "Readers"), ("V4", "P2"),
        "the user's own custom group, from its assigned groups", None, None, None,
    ),
    "V4 another's custom group": (
        "te1@d.org", "view_custom_group", _custom("ta1@d.org", "Readers"), ("V4",),
        "custom groups are seen and changed by their owner only", None, None, None,
    ),
    "V4 without PII_GROUP": (
        "tft@d.org", "create_custom_group", _custom("tft@d.org", "N", IN_GROUP), ("V4", "P2"),
        "`tft@d.org` holds no PII_GROUP", "needs PII_GROUP", None, None,
    ),
    "V4 create an existing custom group": (
        "ta1@d.org", "create_custom_group", _custom("ta1@d.org", "Readers", IN_GROUP), ("V4",),
        "custom group `Readers` already exists", None, None, None,
    ),
    "V4 edit a missing custom group": (
        "ta1@d.org", "edit_custom_group", _custom("ta1@d.org", "Nope", IN_GROUP), ("V4",),
        "there is no custom group `Nope`", None, None, None,
    ),
    "V4 a student of no assigned group": (
        "ta1@d.org", "create_custom_group", _custom("ta1@d.org", "N", NOT_IN_GROUP),
        ("V4", "V1"),
        f"student `{NOT_IN_GROUP}` is not in a group assigned to `ta1@d.org` that may be a "
        "source of custom groups",
        _CUSTOM_FIX, None, None,
    ),
    "V4 an unknown student, for audit": (
        "ta1@d.org", "create_custom_group", _custom("ta1@d.org", "N", "9999999999"),
        ("V4", "V1"),
        "student `9999999999` is not in a group assigned to `ta1@d.org` that may be a source "
        "of custom groups",
        _CUSTOM_FIX, "unknown student `9999999999`", _CUSTOM_FIX,
    ),
    "V4 create": (
        "ta1@d.org", "create_custom_group", _custom("ta1@d.org", "N", IN_GROUP), ("V4", "P2"),
        "the user's own custom group, from its assigned groups", None, None, None,
    ),
    "V4 delete needs ownership only": (
        "ta1@d.org", "delete_custom_group", _custom("ta1@d.org", "Readers"), ("V4", "G11"),
        "the user's own custom group: deleting needs ownership", None, None, None,
    ),
    "V5 allowed": (
        "lc@d.org", "create_aggregate_report", {"report": {"organizations": [SCHOOL_1, SCHOOL_2]}},
        ("V5", "P2", "O4"),
        "holds CUSTOM_AGGREGATE_REPORTER over every organization of the report", None, None, None,
    ),
    "V5 one organization not covered": (
        "sc1@d.org", "create_aggregate_report", {"report": {"organizations": [SCHOOL_1, SCHOOL_2]}},
        ("V5",),
        f"`sc1@d.org` holds no CUSTOM_AGGREGATE_REPORTER over `{SCHOOL_2}`",
        f"needs a role carrying CUSTOM_AGGREGATE_REPORTER at {_AT_SCHOOL_2}", None, None,
    ),
    "V5 an LEA is named alone": (
        "sc1@d.org", "create_aggregate_report", {"report": {"organizations": [LEA]}}, ("V5",),
        f"`sc1@d.org` holds no CUSTOM_AGGREGATE_REPORTER over `{LEA}`",
        f"needs a role carrying CUSTOM_AGGREGATE_REPORTER at `{LEA}`", None, None,
    ),
    "V5 no organization": (
        "lc@d.org", "create_aggregate_report", {"report": {"organizations": []}}, ("V5",),
        "the report names no organization", None, None, None,
    ),
    "T1 allowed": (
        "ta1@d.org", "administer_summative", _org(SCHOOL_1), ("T1", "O4"),
        "holds administer_summative over the organization", None, None, None,
    ),
    "T1 an LEA is not a test site": (
        "lc@d.org", "administer_summative", _org(LEA), ("T1",),
        f"`{LEA}` is an LEA, not a test site: tests are given at its schools",
        "ask about a school of the LEA (a role held at the LEA reaches each of them)", None, None,
    ),
    "T1 denied": (
        "ta1@d.org", "administer_summative", _org(SCHOOL_2), ("T1",),
        f"`ta1@d.org` holds no administer_summative over `{SCHOOL_2}`",
        f"needs a role carrying administer_summative at {_AT_SCHOOL_2}", None, None,
    ),
    "T3 hand scoring allowed": (
        "ta1@d.org", "hand_score_interim", _org(SCHOOL_1), ("T3", "O4"),
        "holds hand_score_interim over the organization", None, None, None,
    ),
    "G9 upload users allowed": (
        "sc1@d.org", "upload_users", _org(SCHOOL_1), ("G9", "O4"),
        "holds upload_users over the organization", None, None, None,
    ),
    "U5 upload groups allowed": (
        "sc1@d.org", "upload_groups", _org(SCHOOL_1), ("U5", "V3", "O4"),
        "holds GROUP_ADMIN over the organization", None, None, None,
    ),
    "T2 per program": (
        "se1@d.org", "manage_test_settings", {"organization": SCHOOL_1, "program": "ELPAC"},
        ("T2", "O4"), "holds manage_test_settings:ELPAC over the organization", None, None, None,
    ),
    "T3 interim": (
        "sc1@d.org", "view_completion_status",
        {"organization": SCHOOL_1, "program": "CAASPP", "assessment": "interim"}, ("T3", "O4"),
        "holds view_interim_completion_status:CAASPP over the organization", None, None, None,
    ),
    "V6 allowed": (
        "lc@d.org", "manage_resource_links", {"resource_link": {"organization": LEA}},
        ("V6", "P2", "O4"), "holds INSTRUCTIONAL_RESOURCE_ADMIN over the organization",
        None, None, None,
    ),
    "V7 allowed": (
        "tft@d.org", "access_tools_for_teachers", {"tools_for_teachers": True}, ("V7", "P2"),
        "holds DL_END_USER", None, None, None,
    ),
    "V7 denied": (
        "sup@d.org", "access_tools_for_teachers", {"tools_for_teachers": True}, ("V7", "P2"),
        "`sup@d.org` holds no DL_END_USER", "needs a role carrying DL_END_USER", None, None,
    ),
    "E1 no account": (
        "nobody@d.org", "administer_summative", _org(SCHOOL_1), ("E1",),
        "there is no account `nobody@d.org`", None, None, None,
    ),
}  # fmt: skip


_ALLOWED = {
    "V3 GROUP_ADMIN sees a group",
    "V3 an assigned group with PII_GROUP",
    "V3 create",
    "V3 assign",
    "V4 view an own custom group",
    "V4 create",
    "V4 delete needs ownership only",
    "T2 per program",
    "T3 interim",
}


@pytest.mark.parametrize("case", list(TEXTS), ids=list(TEXTS))
def test_texts_of_each_answer(case: str) -> None:
    """V1–V7, T1–T3, G9, U5, O4, E1: each branch of each check answers with its own rules and texts;
    the principal's text names only what it may see, `explain` adds the audit detail, and
    `can` (through the quick checks) gives the same answer."""
    who, action, resource, rules, reason, fix, audit_reason, audit_fix = TEXTS[case]
    decision = ask(D, who, action, resource)
    assert (decision.rules, decision.reason, decision.fix) == (rules, reason, fix)
    assert decision.allowed is (case in _ALLOWED or "allowed" in case)
    assert _can(D, who, action, resource) is decision.allowed
    audit = _explain(D, who, action, resource)
    assert (audit.allowed, audit.rules) == (decision.allowed, rules)
    assert audit.reason == (reason if audit_reason is None else audit_reason)
    assert audit.fix == (fix if audit_reason is None else audit_fix)


def test_texts_of_values_the_request_format_cannot_name() -> None:
    """O4, T1, T2, V3, V5, G11: an organization or school the directory lacks, built in code, is
    denied by name; `assessment: interim` is not a scope of test settings; an inactive account
    is told how it is reactivated."""
    from caaspp_authz.orgs import Level, Organization
    from caaspp_authz.resources import Assessment, GroupKey, ProgramScope, Report

    missing = CDSCode("19647339999999")
    nowhere = Organization(missing, "Nowhere", Level.SCHOOL, CDSCode(LEA))
    ta1 = D.user("ta1@d.org")
    administer = decide(ta1, Action.ADMINISTER_SUMMATIVE, nowhere)
    assert (administer.rules, administer.reason) == (("T1",), f"unknown organization `{missing}`")
    report = decide(D.user("lc@d.org"), Action.CREATE_AGGREGATE_REPORT, Report((missing,)))
    assert (report.rules, report.reason) == (("V5",), f"unknown organization `{missing}`")
    group = decide(ta1, Action.VIEW_GROUP, GroupKey(missing, 2026, "P"))
    assert group.fix == (
        f"needs GROUP_ADMIN or PII at `{missing}`, or the group assigned to you with PII_GROUP "
        "there"
    )
    edit = decide(D.user("sc1@d.org"), Action.EDIT_GROUP, GroupKey(missing, 2026, "P"))
    assert (edit.rules, edit.reason) == (("V3",), f"unknown school `{missing}`")
    school = D.organization(SCHOOL_1)
    assert school is not None
    interim = ProgramScope(school, assessment=Assessment.INTERIM)
    settings = decide(D.user("sc1@d.org"), Action.MANAGE_TEST_SETTINGS, interim)
    assert (settings.rules, settings.reason) == (
        ("T2",),
        "`manage_test_settings` does not take `assessment: interim`",
    )
    inactive = decide(INACTIVE.user("old@d.org"), Action.ADMINISTER_SUMMATIVE, school)
    assert (inactive.rules, inactive.reason, inactive.fix) == (
        ("G11",),
        "`old@d.org` is inactive and may do nothing",
        "reactivate the account: a password reset, a role granted one by one, or an upload",
    )


def test_texts_of_a_resource_of_the_wrong_kind() -> None:
    """A resource of a kind the action does not take is denied naming both kinds, with the
    article the kind's name takes (`an` before a vowel only), and nothing of its contents."""
    school = D.organization(SCHOOL_1)
    student = D.student(IN_GROUP)
    assert school is not None
    assert student is not None
    sc1 = D.user("sc1@d.org")
    decision = decide(sc1, Action.VIEW_STUDENT_RESULTS, school)
    assert decision.rules == ()
    assert decision.reason == "`view_student_results` acts on a Student, not on an Organization"

    class Xylophone:
        pass

    odd = decide(sc1, Action.VIEW_STUDENT_RESULTS, Xylophone())
    assert odd.reason == "`view_student_results` acts on a Student, not on a Xylophone"
    settings = decide(sc1, Action.MANAGE_TEST_SETTINGS, student)
    assert settings.reason == (
        "`manage_test_settings` acts on an Organization or a ProgramScope, not on a Student"
    )


def test_an_action_given_as_text_is_a_programming_error() -> None:
    """An action that is not an `Action` raises `TypeError` naming the member to use; `can`
    and `decide` agree."""
    sc1 = D.user("sc1@d.org")
    school = D.organization(SCHOOL_1)
    known = (
        "the action must be `Action.VIEW_STUDENT_RESULTS`, not the string `view_student_results`"
    )
    unknown = (
        "the action must be an `Action(...)` member, such as `Action.VIEW_STUDENT_RESULTS`, "
        "not the string `fly`"
    )
    other = (
        "the action must be an `Action(...)` member, such as `Action.VIEW_STUDENT_RESULTS`, "
        "not a int"
    )
    for check in (can, decide):
        with pytest.raises(TypeError) as raised:
            check(sc1, "view_student_results", school)  # type: ignore[arg-type]
        assert str(raised.value) == known
        with pytest.raises(TypeError) as raised:
            check(sc1, "fly", school)  # type: ignore[arg-type]
        assert str(raised.value) == unknown
        with pytest.raises(TypeError) as raised:
            check(sc1, 7, school)  # type: ignore[arg-type]
        assert str(raised.value) == other


# --- the exact texts of the grant and account checks (G1–G11, R2, R5–R7, E3, E4, E8) -------------

_PRIMARY = build(
    acct("sup@d.org", superintendent_of=LEA), acct("lc2@d.org", "LEA CAASPP Coordinator", LEA)
)
_WHO_COVERS = (
    "an account is acted on by whoever covers every role it holds: the superintendent or an "
    "LEA coordinator of its LEA, a site coordinator for the school's staff, or whoever may grant "
    "the role there (G8)"
)
_RESET_FIX = (
    "a password reset needs covering one of the account's roles, or every one of them when the "
    "account is inactive (G7, G8)"
)
_NOT_GRANTED = "ask a coordinator who may grant it there (see the grant matrix, G3)"


def _may_not(who: str, action: str, email: str) -> str:
    return f"`{who}` may not `{action}` the account `{email}`"


# (directory, principal, action, resource, allowed, rules, reason, fix, audit reason, audit
# fix): the audit texts are those of `explain`, `None` where they are the principal's own.
GRANT_TEXTS: dict[str, tuple[Any, ...]] = {
    "G7 own password": (
        COVER, "ta1@d.org", "reset_password", {"account": "ta1@d.org"}, True, ("G7", "G8"),
        "every active user may reset its own password", None, None, None,
    ),
    "G8 own demographics": (
        COVER, "ta1@d.org", "edit_account", {"account": "ta1@d.org"}, True, ("G8",),
        "every active user may edit its own demographics", None, None, None,
    ),
    "R6 the superintendent's own account": (
        COVER, "sup@d.org", "deactivate_account", {"account": "sup@d.org"}, False, ("G8", "R6"),
        f"`sup@d.org` is the superintendent of `{LEA}`, whose account no one else acts on",
        None, None, None,
    ),
    "G8 a superintendent's account": (
        COVER, "lc@d.org", "edit_account", {"account": "sup@d.org"}, False, ("G8",),
        _may_not("lc@d.org", "edit_account", "sup@d.org"), _WHO_COVERS,
        f"`sup@d.org` is the superintendent of `{LEA}`, whose account no one else acts on",
        None,
    ),
    "G8 an account with no role": (
        COVER, "lc@d.org", "edit_account", {"account": "norole@d.org"}, False, ("G8",),
        _may_not("lc@d.org", "edit_account", "norole@d.org"), _WHO_COVERS,
        "`norole@d.org` holds no role, so no one but its owner acts on it",
        "grant the account a role (G11: as if the account were new)",
    ),
    "G8 G11 an inactive account with no role": (
        COVER, "lc@d.org", "edit_account", {"account": "norole.old@d.org"}, False,
        ("G8", "G11"), _may_not("lc@d.org", "edit_account", "norole.old@d.org"), _WHO_COVERS,
        "`norole.old@d.org` holds no role, so no one but its owner acts on it",
        "grant the account a role (G11: as if the account were new)",
    ),
    "G7 reset covering one role": (
        COVER, "sc1@d.org", "reset_password", {"account": "te@d.org"}, True, ("G7", "G8"),
        "covers a role of the active account; the owner gets a link", None, None, None,
    ),
    "G7 reset covering none": (
        COVER, "olc@o.org", "reset_password", {"account": "ta1@d.org"}, False, ("G7", "G8"),
        _may_not("olc@o.org", "reset_password", "ta1@d.org"), _RESET_FIX,
        "`olc@o.org` covers no role held by `ta1@d.org`",
        "a password reset of an active account needs covering one of its roles (G7, G8)",
    ),
    "G8 one role not covered": (
        COVER, "sc1@d.org", "edit_account", {"account": "te@d.org"}, False, ("G8",),
        _may_not("sc1@d.org", "edit_account", "te@d.org"), _WHO_COVERS,
        f"`sc1@d.org` does not cover `CAASPP Test Examiner` at `{SCHOOL_2}` held by `te@d.org`",
        _WHO_COVERS,
    ),
    "G7 G11 reset of an inactive account": (
        COVER, "sc1@d.org", "reset_password", {"account": "te.old@d.org"}, False,
        ("G7", "G8", "G11"), _may_not("sc1@d.org", "reset_password", "te.old@d.org"),
        _RESET_FIX,
        f"`sc1@d.org` does not cover `CAASPP Test Examiner` at `{SCHOOL_2}` held by "
        "`te.old@d.org`",
        _WHO_COVERS,
    ),
    "G8 covering every role": (
        COVER, "lc@d.org", "deactivate_account", {"account": "ta1@d.org"}, True, ("G8",),
        "covers every role the account holds", None, None, None,
    ),
    "G8 an unknown account": (
        COVER, "lc@d.org", "edit_account", {"account": "nobody@d.org"}, False, ("G8",),
        _may_not("lc@d.org", "edit_account", "nobody@d.org"), _WHO_COVERS,
        "unknown account `nobody@d.org`", None,
    ),
    "G2 an unknown organization": (
        D, "sc1@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", "19647339999999"),
        False, ("G2",), "unknown organization `19647339999999`", None, None, None,
    ),
    "R2 a site role at an LEA": (
        D, "lc@d.org", "add_role", grant("n@d.org", "Site CAASPP Coordinator", LEA), False,
        ("R2",), f"`Site CAASPP Coordinator` is not held at `{LEA}`: it is a school role",
        None, None, None,
    ),
    "G3 no grant power": (
        D, "ta1@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1),
        False, ("G3", "G1", "G2", "G5", "G6"),
        f"`ta1@d.org` may not grant `CAASPP Test Administrator` at `{SCHOOL_1}`", _NOT_GRANTED,
        None, None,
    ),
    "R7 no grant power as primary": (
        D, "lc2@d.org", "add_role", grant("n@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        False, ("G3", "G1", "G2", "G5", "G6"),
        f"`lc2@d.org` may not grant `LEA CAASPP Coordinator` as primary at `{LEA}`",
        _NOT_GRANTED, None, None,
    ),
    "R7 the primary is held": (
        D, "sup@d.org", "add_role", grant("n@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        False, ("R7",), f"the primary `LEA CAASPP Coordinator` at `{LEA}` is already held",
        "remove the current primary first, or grant a secondary", None, None,
    ),
    "R7 promoting a secondary": (
        _PRIMARY, "sup@d.org", "add_role",
        grant("lc2@d.org", "LEA CAASPP Coordinator", LEA, primary=True), True,
        ("G1", "G6", "R7"),
        f"makes the secondary `LEA CAASPP Coordinator` at `{LEA}` the primary", None, None, None,
    ),
    "G11 reactivating an uncovered account": (
        COVER, "sc1@d.org", "add_role",
        grant("te.old@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True), False,
        ("G11", "G8"),
        "the grant would reactivate `te.old@d.org`, which holds what `sc1@d.org` does not cover",
        _WHO_COVERS,
        "the grant would reactivate `te.old@d.org`, and `sc1@d.org` does not cover `CAASPP "
        f"Test Examiner` at `{SCHOOL_2}` held by `te.old@d.org`",
        _WHO_COVERS,
    ),
    "G11 reactivating": (
        COVER, "olc@o.org", "add_role",
        grant("b.old@o.org", "CAASPP Test Administrator", OTHER_SCHOOL), True,
        ("G3", "G6", "G11"), "may grant the role here; the grant reactivates the account",
        None, None, None,
    ),
    "R5 a credential": (
        D, "sc1@d.org", "add_role", grant("n@d.org", "CAASPP Test Examiner", SCHOOL_1), False,
        ("R5",), "`CAASPP Test Examiner` must be held by a licensed or credentialed employee",
        "attest the credential with `credentialed: true`", None, None,
    ),
    "G3 allowed": (
        D, "sc1@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1),
        True, ("G3", "G6"), f"may grant `CAASPP Test Administrator` at `{SCHOOL_1}`",
        None, None, None,
    ),
    "E4 covered": (
        D, "sc1@d.org", "add_role", grant("er1@d.org", "CAASPP Test Administrator", SCHOOL_1),
        False, ("E4",), f"`er1@d.org` already holds `Educator—Roster` at `{SCHOOL_1}`",
        f"remove `Educator—Roster` at `{SCHOOL_1}` first, then grant `CAASPP Test "
        "Administrator`, the highest; or upload the row, which replaces it there (U4)",
        None, None,
    ),
    "E4 nothing to grant": (
        D, "sc1@d.org", "add_role", grant("ta1@d.org", "Educator—Roster", SCHOOL_1), False,
        ("E4",), f"`ta1@d.org` already holds `CAASPP Test Administrator` at `{SCHOOL_1}`",
        "nothing to grant: `CAASPP Test Administrator`, held there, is the highest", None, None,
    ),
    "E4 E8 another program's role held there": (
        D, "se1@d.org", "add_role", grant("er1@d.org", "ELPAC Test Examiner", SCHOOL_1), False,
        ("E4", "E8"), f"`er1@d.org` already holds `Educator—Roster` at `{SCHOOL_1}`",
        f"ask whoever may grant `Educator—Roster` at `{SCHOOL_1}` to remove it first, then "
        "grant `ELPAC Test Examiner`",
        None, None,
    ),
    "E4 a role not covered, for audit": (
        D, "se1@d.org", "add_role", grant("sc1@d.org", "ELPAC Test Examiner", SCHOOL_1), False,
        ("E4",), f"`sc1@d.org` already holds another role at `{SCHOOL_1}`",
        "ask whoever may grant the role held there to remove it first; or use a different "
        "e-mail address for `ELPAC Test Examiner`",
        f"`sc1@d.org` already holds `Site CAASPP Coordinator` at `{SCHOOL_1}`",
        "no role among them is the highest: use a different e-mail address for one",
    ),
    "E3 E8 another program's role": (
        D, "le@d.org", "add_role", grant("ta1@d.org", "ELPAC Test Examiner", SCHOOL_2), False,
        ("E3", "E8"), "`ta1@d.org` holds `CAASPP Test Administrator`; one account holds one role",
        "use a different e-mail address for this role", None, None,
    ),
    "E3 a role not covered, for audit": (
        D, "se1@d.org", "add_role", grant("ta2@d.org", "ELPAC Test Examiner", SCHOOL_1), False,
        ("E3",), "`ta2@d.org` already holds another role; one account holds one role",
        "use a different e-mail address for this role",
        "`ta2@d.org` holds `CAASPP Test Administrator`; one account holds one role",
        "use a different e-mail address for this role",
    ),
    "G6 remove without the power": (
        D, "ta1@d.org", "remove_role", grant("ta2@d.org", "CAASPP Test Administrator", SCHOOL_2),
        False, ("G6",),
        f"`ta1@d.org` does not govern `CAASPP Test Administrator` at `{SCHOOL_2}`",
        "ask whoever may grant that role there", None, None,
    ),
    "G6 remove from an unknown account": (
        D, "sc1@d.org", "remove_role",
        grant("nobody@d.org", "CAASPP Test Administrator", SCHOOL_1), False, ("G6",),
        f"`nobody@d.org` holds no `CAASPP Test Administrator` at `{SCHOOL_1}`", None,
        "unknown account `nobody@d.org`", None,
    ),
    "G6 remove a role not held there": (
        D, "sc1@d.org", "remove_role", grant("er1@d.org", "CAASPP Test Administrator", SCHOOL_1),
        False, ("G6",), f"`er1@d.org` holds no `CAASPP Test Administrator` at `{SCHOOL_1}`",
        None, None, None,
    ),
    "G6 remove a primary": (
        D, "lc2@d.org", "remove_role", grant("lc@d.org", "LEA CAASPP Coordinator", LEA), False,
        ("G6",), f"`lc2@d.org` does not govern `LEA CAASPP Coordinator` at `{LEA}`",
        "ask whoever may grant that role there", None, None,
    ),
    "G6 G8 remove the last role": (
        D, "sc1@d.org", "remove_role", grant("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1),
        True, ("G6", "G8"),
        f"governs `CAASPP Test Administrator` at `{SCHOOL_1}`; it is the account's last role, "
        "so the account is left without roles, and no one but its owner acts on it (to remove "
        "the account, delete it instead while it holds this role)",
        None, None, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(GRANT_TEXTS), ids=list(GRANT_TEXTS))
def test_texts_of_each_grant_and_account_answer(case: str) -> None:
    """G1–G11, R2, R5–R7, E3, E4, E8: each branch of the grant and account checks answers with
    its own rules and texts; another account's roles are named to the principal only where
    it covers them (G8), and `explain` adds the audit detail."""
    directory, who, action, resource, allowed, rules, reason, fix, audit_reason, audit_fix = (
        GRANT_TEXTS[case]
    )
    decision = ask(directory, who, action, resource)
    assert (decision.allowed, decision.rules) == (allowed, rules)
    assert (decision.reason, decision.fix) == (reason, fix)
    assert _can(directory, who, action, resource) is allowed
    audit = _explain(directory, who, action, resource)
    assert (audit.allowed, audit.rules) == (allowed, rules)
    assert audit.reason == (reason if audit_reason is None else audit_reason)
    assert audit.fix == (fix if audit_reason is None else audit_fix)


def test_t1_a_school_at_a_code_ending_in_seven_zeros_is_a_test_site_for_can_too() -> None:
    """T1, O2, O3: a school the directory places explicitly (`level: school`) at a code ending
    in seven zeros is a test site: `can`'s quick check allows administering there, as `decide`
    does, and still denies it at a real LEA."""
    odd = "19647340000000"
    d = build(
        acct("ta@d.org", "CAASPP Test Administrator", odd),
        acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        orgs=[
            {"cds": LEA, "name": "Example Unified"},
            {"cds": odd, "name": "District Program", "level": "school", "lea": LEA},
        ],
    )
    for who in ("ta@d.org", "lc@d.org"):
        _expect(ask(d, who, "administer_summative", _org(odd)), True, "T1")
        assert _can(d, who, "administer_summative", _org(odd))
    assert not _can(d, "lc@d.org", "administer_summative", _org(LEA))
    _expect(ask(d, "lc@d.org", "administer_summative", _org(LEA)), False, "T1")


def test_actions_on_each_resource_kind() -> None:
    """Each resource kind is taken by exactly the actions of its rule in the policy table
    (V1–V7, T1–T3, G7, G8, G6, U5, G9): the rows the strategies draw requests from."""
    from caaspp_authz.accounts import Account
    from caaspp_authz.decision import actions_on
    from caaspp_authz.orgs import Organization
    from caaspp_authz.resources import (
        CustomGroup,
        Grant,
        GroupAssignment,
        GroupKey,
        ProgramScope,
        Report,
        ResourceLink,
        ToolsForTeachers,
    )

    expected = {
        Student: "view_student_results",
        GroupKey: "create_group delete_group edit_group view_group",
        GroupAssignment: "assign_group",
        CustomGroup: "create_custom_group delete_custom_group edit_custom_group view_custom_group",
        Report: "create_aggregate_report export_aggregate_report view_aggregate_report",
        ResourceLink: "manage_resource_links",
        ToolsForTeachers: "access_tools_for_teachers",
        Account: "deactivate_account delete_account edit_account reactivate_account "
        "reset_password",
        Grant: "add_role remove_role",
        Organization: "administer_alternate administer_elpac administer_interim "
        "administer_practice administer_summative hand_score_interim manage_test_settings "
        "upload_groups upload_users view_completion_status",
        ProgramScope: "manage_test_settings view_completion_status",
    }
    for kind, actions in expected.items():
        assert actions_on(kind) == {Action(a) for a in actions.split()}, kind
    assert actions_on(Decision) == frozenset()


def test_an_unknown_value_of_another_kind_is_denied_with_its_own_text() -> None:
    """V1, G8: an unknown SSID or account reads as one the principal may not act on only for
    an action that takes a student or an account; anything else unknown is denied with its
    own rules, text and fix, whatever its kind."""
    from caaspp_authz.resources import Unknown

    sc1 = D.user("sc1@d.org")
    student = decide(sc1, Action.VIEW_GROUP, Unknown("student", "9999999999", ("V3",), "fix"))
    assert (student.rules, student.reason, student.fix) == (
        ("V3",),
        "unknown student `9999999999`",
        "fix",
    )
    account = decide(sc1, Action.VIEW_STUDENT_RESULTS, Unknown("account", "n@d.org", ("E1",)))
    assert (account.rules, account.reason, account.fix) == (
        ("E1",),
        "unknown account `n@d.org`",
        None,
    )
    assert decide(sc1, Action.VIEW_STUDENT_RESULTS, Unknown("student", "9999999999")).rules == (
        "V1",
        "V2",
    )
    assert decide(sc1, Action.EDIT_ACCOUNT, Unknown("account", "n@d.org")).rules == ("G8",)


def test_g3_governs_reaches_only_where_its_row_says() -> None:
    """G3, G4, O4: a row held at an LEA for school roles (`schools`) reaches its schools, not
    the LEA itself; a row for the LEA's own roles (`holder`) reaches the LEA, not its schools."""
    lc = D.user("lc@d.org")
    assert governs(lc, by_name("Site CAASPP Coordinator"), SCHOOL_1) is not None
    assert governs(lc, by_name("Site CAASPP Coordinator"), LEA) is None
    assert governs(lc, by_name("Educator—District"), LEA) is not None
    assert governs(lc, by_name("Educator—District"), SCHOOL_1) is None


def test_g1_a_superintendent_who_is_also_the_primary_coordinator_designates_a_primary() -> None:
    """G1, R7: the superintendent's row grants a primary LEA coordinator even when the same
    account's own coordinator row, which grants secondaries only, comes first."""
    d = build(
        acct("sup@d.org", "LEA CAASPP Coordinator", LEA, primary=True, superintendent_of=LEA)
    )
    power = governs(d.user("sup@d.org"), by_name("LEA CAASPP Coordinator"), LEA, primary=True)
    assert power is not None
    assert power.rule.grantor == "Superintendent"


def test_g5_a_site_row_in_conflict_leaves_the_lea_row_to_govern() -> None:
    """G5, G3: a site coordinator's row that G5 sets aside (the account holds the role at
    another school) does not stop the same account's LEA coordinator row from granting it,
    whatever order the account lists its roles in."""
    d = build(
        acct(
            "both@d.org",
            roles=[
                ("Site CAASPP Coordinator", SCHOOL_1),
                ("CAASPP Test Administrator", SCHOOL_2),
                ("LEA CAASPP Coordinator", LEA),
            ],
        ),
        rule_set="multi-role",
    )
    decision = ask(
        d, "both@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    assert (decision.allowed, decision.rules) == (True, ("G3", "G6"))


def test_g5_a_role_held_at_the_same_school_is_no_conflict() -> None:
    """G5: a site coordinator that also holds a role at its own school grants that role there
    (only the role held at a different site is a conflict)."""
    d = build(
        acct(
            "sc@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Administrator", SCHOOL_1)],
        ),
        rule_set="multi-role",
    )
    decision = ask(
        d, "sc@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    assert (decision.allowed, decision.rules) == (True, ("G3", "G6"))


def test_g8_nothing_is_covered_for_an_unknown_user_or_organization() -> None:
    """G8, fail closed: a user without an account covers nothing, and an assignment at an
    organization the directory lacks is covered by no one."""
    from caaspp_authz.accounts import Assignment
    from caaspp_authz.decision import covers

    held = Assignment(by_name("CAASPP Test Administrator"), CDSCode(SCHOOL_1))
    assert covers(D.user("lc@d.org"), held)
    assert not covers(D.user("nobody@d.org"), held)
    nowhere = Assignment(by_name("CAASPP Test Administrator"), CDSCode("19647339999999"))
    assert not covers(D.user("lc@d.org"), nowhere)
    assert not covers(D.user("sup@d.org"), nowhere)


def test_g8_a_primary_coordinators_own_primary_is_not_covered_by_its_secondary_row() -> None:
    """G8 (a), R7, E4: covering a primary assignment needs a row that may grant a primary; the
    primary LEA coordinator's own row grants secondaries only, so it does not cover its own
    primary; granting itself a second role at its LEA under one-role-per-email still names the
    role it holds, which is no secret to it."""
    from caaspp_authz.accounts import Assignment
    from caaspp_authz.decision import covers

    lc = D.user("lc@d.org")
    assert not covers(lc, Assignment(by_name("LEA CAASPP Coordinator"), CDSCode(LEA), True))
    decision = ask(D, "lc@d.org", "add_role", grant("lc@d.org", "Educator—District", LEA))
    assert (decision.rules, decision.reason, decision.fix) == (
        ("E4",),
        f"`lc@d.org` already holds `LEA CAASPP Coordinator` at `{LEA}`",
        "nothing to grant: `LEA CAASPP Coordinator`, held there, is the highest",
    )


def test_g8_an_account_value_the_directory_does_not_hold() -> None:
    """G8: an account built in code that the directory does not hold is denied as one the
    principal may not act on; `explain` says it is unknown."""
    import attrs

    from caaspp_authz.accounts import Email

    held = D.account("ta1@d.org")
    assert held is not None
    gone = attrs.evolve(held, email=Email("gone@d.org"))
    lc = D.user("lc@d.org")
    decision = decide(lc, Action.EDIT_ACCOUNT, gone)
    assert (decision.rules, decision.reason) == (
        ("G8",),
        "`lc@d.org` may not `edit_account` the account `gone@d.org`",
    )
    audit = explain(lc, Action.EDIT_ACCOUNT, gone)
    assert (audit.reason, audit.fix) == ("unknown account `gone@d.org`", None)


def test_g11_an_inactive_superintendents_account_names_g11() -> None:
    """G8, G11, R6: acting on an inactive superintendent's account is denied with G11 beside
    G8, as for any inactive account one may not act on."""
    d = build(
        acct("sup@d.org", superintendent_of=LEA, active=False),
        acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
    )
    decision = ask(d, "lc@d.org", "reactivate_account", {"account": "sup@d.org"})
    assert (decision.allowed, decision.rules) == (False, ("G8", "G11"))
    assert decision.reason == "`lc@d.org` may not `reactivate_account` the account `sup@d.org`"


def test_g5_denial_names_the_other_site_not_the_school_granted_at() -> None:
    """G5: a site coordinator holding the role both at its school and at another is told of
    the other site, the one that makes the conflict."""
    d = build(
        acct(
            "sc@d.org",
            roles=[
                ("Site CAASPP Coordinator", SCHOOL_1),
                ("CAASPP Test Administrator", SCHOOL_1),
                ("CAASPP Test Administrator", SCHOOL_2),
            ],
        ),
        rule_set="multi-role",
    )
    decision = ask(
        d, "sc@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    assert (decision.rules, decision.reason, decision.fix) == (
        ("G5",),
        f"`sc@d.org` holds `CAASPP Test Administrator` at `{SCHOOL_2}`: a site coordinator may "
        "not grant a role its own account holds at a different site",
        "ask the LEA coordinator to grant it",
    )


def test_g5_is_not_named_where_no_site_row_grants_the_role() -> None:
    """G3, G5: holding a role at another site is G5's reason only for a site coordinator whose
    row grants that role; a site coordinator of the other program is denied as any user
    without a grant row is (G3)."""
    d = build(
        acct(
            "se@d.org",
            roles=[("Site ELPAC Coordinator", SCHOOL_1), ("CAASPP Test Administrator", SCHOOL_2)],
        ),
        rule_set="multi-role",
    )
    decision = ask(
        d, "se@d.org", "add_role", grant("n@d.org", "CAASPP Test Administrator", SCHOOL_1)
    )
    assert decision.rules == ("G3", "G1", "G2", "G5", "G6")
    assert (
        decision.reason == f"`se@d.org` may not grant `CAASPP Test Administrator` at `{SCHOOL_1}`"
    )


def test_r7_a_primary_granted_beside_another_role_is_no_promotion() -> None:
    """R7, G1: granting a primary to an account that holds another role there is a grant, not
    the promotion of a secondary (only a secondary of the same role at the same place is)."""
    d = build(
        acct("sup@d.org", superintendent_of=LEA),
        acct("ed@d.org", "Educator—District", LEA),
        rule_set="multi-role",
    )
    decision = ask(
        d, "sup@d.org", "add_role", grant("ed@d.org", "LEA CAASPP Coordinator", LEA, primary=True)
    )
    assert (decision.allowed, decision.rules, decision.reason) == (
        True,
        ("G1", "G6"),
        f"may grant `LEA CAASPP Coordinator` at `{LEA}`",
    )


def test_g6_a_primary_coordinator_may_not_remove_its_own_primary_role() -> None:
    """G6, R7, G1: removing a role needs the power to grant it as held; the primary LEA
    coordinator grants secondaries only, so its own primary role is removed by the
    superintendent, not by itself."""
    decision = ask(D, "lc@d.org", "remove_role", grant("lc@d.org", "LEA CAASPP Coordinator", LEA))
    assert (decision.allowed, decision.rules, decision.reason, decision.fix) == (
        False,
        ("G6",),
        f"`lc@d.org` does not govern `LEA CAASPP Coordinator` at `{LEA}`",
        "ask whoever may grant that role there",
    )
    removal = ask(D, "sup@d.org", "remove_role", grant("lc@d.org", "LEA CAASPP Coordinator", LEA))
    assert removal.allowed
