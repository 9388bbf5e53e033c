"""FERPA: a denial tells the principal no more than it may already see; `explain` tells all.

Each test below names a leak the decision had: the text `decide` gives the principal named
where a student's results were earned, whether an SSID or an account exists, or another
account's roles, organizations and superintendency. `explain` keeps that detail for audit,
with the same `allowed` and `rules`.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from caaspp_authz import (
    Action,
    CustomGroup,
    Decision,
    Directory,
    Email,
    Grant,
    GroupAssignment,
    GroupKey,
    Request,
    RequestError,
    Student,
    Unknown,
    User,
    can,
    decide,
    explain,
    load_directory,
    role,
)
from caaspp_authz.cli import main
from caaspp_authz.orgs import CDSCode

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "directory.json"
LEA = "19647330000000"
ELEMENTARY = "19647331111111"
MIDDLE = "19647332222222"
HIGH = "19647333333333"
V = Action.VIEW_STUDENT_RESULTS


@pytest.fixture(scope="module")
def d() -> Directory:
    return load_directory(EXAMPLE)


def _text(decision: Decision) -> str:
    return f"{decision.reason} {decision.fix or ''}"


def _same_but_for(a: Decision, b: Decision, *pairs: tuple[str, str]) -> None:
    """Two denials read the same once the values the principal itself named are swapped."""
    text = _text(b)
    for old, new in pairs:
        text = text.replace(old, new)
    assert not a.allowed
    assert not b.allowed
    assert a.rules == b.rules
    assert _text(a) == text


def _request(d: Directory, principal: str, action: str, resource: dict[str, Any]) -> Request:
    return Request.from_json({"principal": principal, "action": action, "resource": resource}, d)


# --- V1: a student's school, and whether an SSID exists ---------------------------------------


@pytest.mark.parametrize(
    ("who", "ssid"),
    [
        ("tools@example.org", "1000000004"),  # Tools for Teachers only, same LEA
        ("valley.teacher@sample.org", "1000000004"),  # a teacher in another LEA
        ("teacher@example.org", "1000000003"),  # a teacher of the school, not of the student
        ("valley.coordinator@sample.org", "1000000006"),  # a coordinator in another LEA
    ],
)
def test_v1_denial_names_no_school_or_lea_of_the_student(
    d: Directory, who: str, ssid: str
) -> None:
    """V1: a denial names neither the school where the results were earned nor its LEA."""
    student = d.student(ssid)
    assert student is not None
    decision = decide(d.user(who), V, student)
    assert not decision.allowed
    assert student.school not in _text(decision)
    assert LEA not in _text(decision)
    audit = explain(d.user(who), V, student)
    assert student.school in _text(audit)
    assert (audit.allowed, audit.rules) == (decision.allowed, decision.rules)


def test_a_principals_decision_carries_no_audit_detail(d: Directory) -> None:
    """V1: `decide` returns a plain `Decision`; the audit detail of a denial (the school where
    the results were earned) is not on it, not even as an attribute a caller could read."""
    student = d.student("1000000008")
    assert student is not None
    decision = decide(d.user("teacher@example.org"), V, student)
    assert not decision.allowed
    assert type(decision) is Decision
    assert not hasattr(decision, "audit")
    assert student.school not in repr(decision)


def test_v1_unknown_and_existing_students_read_the_same(d: Directory) -> None:
    """V1: an SSID the directory does not hold is denied with the rules and text of one it
    holds, whether asked by value or through a request (an `Unknown`)."""
    tools = d.user("tools@example.org")
    held = d.student("1000000004")
    assert held is not None
    known = decide(tools, V, held)
    invented = decide(tools, V, Student("9999999999", CDSCode(MIDDLE)))
    unknown = _request(d, "tools@example.org", "view_student_results", {"student": "9999999999"})
    assert unknown.resource == Unknown("student", "9999999999")
    for other in (invented, unknown.decide()):
        _same_but_for(other, known, ("1000000004", "9999999999"))
    assert "unknown student" in explain(tools, V, unknown.resource).reason
    assert "holds no student" in explain(tools, V, Student("9999999999", CDSCode(MIDDLE))).reason


def test_g10_denial_of_a_student_names_the_role_not_where_it_is_held() -> None:
    """G10, V1: a role waiting for forms is named with its forms, not with the organization
    where it is held (which would tell where the student's results were earned)."""
    d = _g10_directory()
    user = d.user("site@d.org")
    student = d.student("2000000001")
    assert student is not None
    decision = decide(user, V, student)
    assert decision.rules == ("V1", "V2", "G10")
    assert "`Site CAASPP Coordinator`" in decision.reason
    assert "CAASPP agreement" in (decision.fix or "")
    assert ELEMENTARY not in _text(decision)
    audit = explain(user, V, student)
    assert f"`Site CAASPP Coordinator` at `{ELEMENTARY}`" in audit.reason
    assert audit.rules == decision.rules


def _g10_directory() -> Directory:
    return load_directory(
        {
            "format": 1,
            "organizations": [
                {"cds": LEA, "name": "District"},
                {"cds": ELEMENTARY, "name": "Elementary"},
            ],
            "accounts": [
                {
                    "email": "site@d.org",
                    "first_name": "Site",
                    "last_name": "Coordinator",
                    "phone": "213-555-0101",
                    "forms": {},
                    "roles": [{"role": "Site CAASPP Coordinator", "org": ELEMENTARY}],
                }
            ],
            "students": [{"ssid": "2000000001", "school": ELEMENTARY}],
        }
    )


# --- V3, V4: groups and custom groups ----------------------------------------------------------


def test_v3_unknown_and_existing_groups_read_the_same_to_whoever_may_not_see_them(
    d: Directory,
) -> None:
    """V3: a group's existence is told only to GROUP_ADMIN or PII over its school."""
    tools = d.user("tools@example.org")
    real = GroupKey(CDSCode(ELEMENTARY), 2026, "Period 1")
    made_up = GroupKey(CDSCode(ELEMENTARY), 2026, "Nope")
    _same_but_for(
        decide(tools, Action.VIEW_GROUP, made_up),
        decide(tools, Action.VIEW_GROUP, real),
        ("Period 1", "Nope"),
    )
    for action in (Action.EDIT_GROUP, Action.CREATE_GROUP):
        one, other = decide(tools, action, made_up), decide(tools, action, real)
        assert (one.rules, one.reason) == (other.rules, other.reason)
    assert "there is no group" in explain(tools, Action.VIEW_GROUP, made_up).reason
    site = d.user("site.coordinator@example.org")  # GROUP_ADMIN there: told
    assert "there is no group" in decide(site, Action.VIEW_GROUP, made_up).reason


def test_v3_assignee_that_is_unknown_or_has_no_role_reads_the_same(d: Directory) -> None:
    """V3: assigning a group to an unknown e-mail or to an account with no role over the school
    reads the same; only `explain` tells which (and names no role to the principal)."""
    site = d.user("site.coordinator@example.org")
    key = GroupKey(CDSCode(ELEMENTARY), 2026, "Period 1")
    known = decide(
        site, Action.ASSIGN_GROUP, GroupAssignment(key, Email("valley.teacher@sample.org"))
    )
    unknown = decide(site, Action.ASSIGN_GROUP, GroupAssignment(key, Email("nobody@sample.org")))
    _same_but_for(unknown, known, ("valley.teacher@sample.org", "nobody@sample.org"))
    audit = explain(site, Action.ASSIGN_GROUP, GroupAssignment(key, Email("nobody@sample.org")))
    assert "unknown account" in audit.reason


def test_v4_unknown_and_existing_students_read_the_same_in_a_custom_group(d: Directory) -> None:
    """V4, V1: a custom group's unknown SSID is denied like a known student not in an assigned
    group (the same rules and text)."""
    teacher = d.user("teacher@example.org")
    owner = Email("teacher@example.org")
    known = decide(teacher, Action.CREATE_CUSTOM_GROUP, CustomGroup(owner, "R", {"1000000004"}))
    unknown = decide(teacher, Action.CREATE_CUSTOM_GROUP, CustomGroup(owner, "R", {"9999999999"}))
    _same_but_for(unknown, known, ("1000000004", "9999999999"))
    audit = explain(teacher, Action.CREATE_CUSTOM_GROUP, CustomGroup(owner, "R", {"9999999999"}))
    assert "unknown student" in audit.reason


# --- G7, G8, R6: account actions ---------------------------------------------------------------

ACCOUNT_ACTIONS = (
    Action.EDIT_ACCOUNT,
    Action.DEACTIVATE_ACCOUNT,
    Action.REACTIVATE_ACCOUNT,
    Action.DELETE_ACCOUNT,
    Action.RESET_PASSWORD,
)


@pytest.mark.parametrize("action", ACCOUNT_ACTIONS, ids=lambda a: a.value)
def test_g8_denial_names_no_role_or_organization_of_the_account(
    d: Directory, action: Action
) -> None:
    """G8, G7: an account action denied to a principal that does not cover the account names
    none of its roles or organizations; unknown, role-less and covered-elsewhere accounts read
    the same."""
    teacher = d.user("teacher@example.org")
    target = d.account("site.coordinator@example.org")
    assert target is not None
    decision = decide(teacher, action, target)
    assert not decision.allowed
    assert "Site CAASPP Coordinator" not in _text(decision)
    assert ELEMENTARY not in _text(decision)
    unknown = _request(d, "teacher@example.org", action.value, {"account": "nobody@example.org"})
    _same_but_for(
        unknown.decide(), decision, ("site.coordinator@example.org", "nobody@example.org")
    )
    audit = explain(teacher, action, target)
    assert audit.rules == decision.rules
    if action is not Action.RESET_PASSWORD:
        assert "Site CAASPP Coordinator" in audit.reason


@pytest.mark.parametrize("action", ACCOUNT_ACTIONS, ids=lambda a: a.value)
def test_r6_superintendency_is_named_to_no_one_else(d: Directory, action: Action) -> None:
    """R6, G8: a denial on the superintendent's account tells no other principal that it is a
    superintendent's (no R6, no word of it); `explain` does, with the same rules."""
    target = d.account("superintendent@example.org")
    assert target is not None
    for who in ("teacher@example.org", "caaspp.coordinator@example.org"):
        decision = decide(d.user(who), action, target)
        assert not decision.allowed
        assert "R6" not in decision.rules
        assert "is the superintendent" not in _text(decision)
        assert LEA not in _text(decision)
        audit = explain(d.user(who), action, target)
        assert "superintendent of" in audit.reason
        assert audit.rules == decision.rules
    teacher = d.user("teacher@example.org")
    other = d.account("site.coordinator@example.org")
    assert other is not None
    _same_but_for(
        decide(teacher, action, target),
        decide(teacher, action, other),
        ("site.coordinator@example.org", "superintendent@example.org"),
    )


# --- G6, G11, E3, E4: grants -------------------------------------------------------------------


def test_g6_remove_role_tells_a_principal_that_does_not_govern_nothing_of_the_account(
    d: Directory,
) -> None:
    """G6: removing a role the principal does not govern reads the same whether the account
    holds it, holds another role, or does not exist."""
    valley = d.user("valley.coordinator@sample.org")
    ta = role("CAASPP Test Administrator")
    texts = {
        email: decide(valley, Action.REMOVE_ROLE, Grant(Email(email), ta, CDSCode(ELEMENTARY)))
        for email in ("teacher@example.org", "site.educator@example.org", "nobody@example.org")
    }
    assert len({(t.rules, t.reason, t.fix) for t in texts.values()}) == 1


def test_g6_remove_role_unknown_account_reads_as_not_held(d: Directory) -> None:
    """G6: to a principal that governs the role, an unknown e-mail reads as one not holding it."""
    site = d.user("site.coordinator@example.org")
    ta = role("CAASPP Test Administrator")
    held_not = decide(
        site, Action.REMOVE_ROLE, Grant(Email("examiner@example.org"), ta, CDSCode(ELEMENTARY))
    )
    unknown = decide(
        site, Action.REMOVE_ROLE, Grant(Email("nobody@example.org"), ta, CDSCode(ELEMENTARY))
    )
    _same_but_for(unknown, held_not, ("examiner@example.org", "nobody@example.org"))


def test_e3_names_the_held_role_only_to_a_principal_that_covers_it(d: Directory) -> None:
    """E3: a grant to an account holding another role the principal does not cover says a role
    is held, not which; `explain` names it."""
    site = d.user("site.coordinator@example.org")
    grant = Grant(
        Email("valley.coordinator@sample.org"),
        role("CAASPP Test Administrator"),
        CDSCode(ELEMENTARY),
    )
    decision = decide(site, Action.ADD_ROLE, grant)
    assert decision.rules == ("E3",)
    assert "LEA CAASPP Coordinator" not in _text(decision)
    assert "another role" in decision.reason
    audit = explain(site, Action.ADD_ROLE, grant)
    assert "LEA CAASPP Coordinator" in audit.reason
    assert audit.rules == decision.rules


def test_e4_e8_name_the_held_role_to_a_principal_that_covers_it(d: Directory) -> None:
    """E4, E8: a site coordinator that covers the account's role at its school is told which
    role is held, and that it is of the other program."""
    site = d.user("site.coordinator@example.org")
    grant = Grant(
        Email("elpac.examiner@example.org"), role("CAASPP Test Administrator"), CDSCode(ELEMENTARY)
    )
    decision = decide(site, Action.ADD_ROLE, grant)
    assert decision.rules == ("E4", "E8")
    assert "ELPAC Test Examiner" in decision.reason
    assert explain(site, Action.ADD_ROLE, grant) == decision


def test_g11_reactivating_grant_names_no_role_of_the_account(d: Directory) -> None:
    """G11, G8: a grant that would reactivate an account holding roles the principal does not
    cover names none of them."""
    site = d.user("site.coordinator@example.org")
    grant = Grant(
        Email("former.teacher@example.org"), role("CAASPP Test Administrator"), CDSCode(ELEMENTARY)
    )
    decision = decide(site, Action.ADD_ROLE, grant)
    assert decision.rules == ("G11", "G8")
    assert HIGH not in _text(decision)
    assert HIGH in explain(site, Action.ADD_ROLE, grant).reason


# --- explain, the CLI, reprs --------------------------------------------------------------------


def test_explain_is_decide_when_allowed(d: Directory) -> None:
    """An allowed decision is the same from `decide` and `explain`; `can` agrees with both."""
    teacher = d.user("teacher@example.org")
    student = d.student("1000000001")
    assert explain(teacher, V, student) == decide(teacher, V, student)
    assert can(teacher, V, student)


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        main(list(argv), out=out)
    return out.getvalue()


def test_cli_decide_is_the_principals_text_and_explain_the_audit(d: Directory) -> None:
    """V1: `caaspp-authz decide` prints the principal's text; `--explain` the audit detail."""
    args = (
        "decide",
        "--directory",
        str(EXAMPLE),
        "--principal",
        "tools@example.org",
        "--action",
        "view_student_results",
        "--resource",
        '{"student": "1000000004"}',
    )
    assert MIDDLE not in _cli(*args)
    assert MIDDLE in _cli(*args, "--explain")


def test_account_repr_names_no_names_or_phone(d: Directory) -> None:
    """FERPA: `repr(Account)` names the e-mail, never the person's names or phone number."""
    account = d.account("caaspp.coordinator@example.org")
    assert account is not None
    assert (account.first_name, account.phone) == ("Ada", "213-555-0100")
    for text in (repr(account), repr([account])):
        assert "Ada" not in text
        assert "Park" not in text
        assert "213-555" not in text
        assert "caaspp.coordinator@example.org" in text


def test_student_repr_masks_the_ssid(d: Directory) -> None:
    """FERPA: `repr(Student)` shows the last four digits of the SSID only."""
    student = d.student("1000000001")
    assert student is not None
    assert repr(student) == f"Student(ssid='******0001', school='{ELEMENTARY}')"
    assert "1000000001" not in repr([student])


def test_user_kept_out_of_reach_is_not_named_by_a_principal_text(d: Directory) -> None:
    """V1: the principal's text names the principal and the SSID it asked about, nothing else
    of the directory (no other e-mail, no CDS code)."""
    user: User = d.user("valley.teacher@sample.org")
    student = d.student("1000000001")
    assert student is not None
    decision = decide(user, V, student)
    assert re.findall(r"\d{14}", _text(decision)) == []
    assert re.findall(r"[\w.]+@[\w.]+", _text(decision)) == ["valley.teacher@sample.org"]


@pytest.mark.parametrize("ssid", ["1000000003", "1999999999"])
def test_a_student_asked_with_the_wrong_action_is_malformed_whether_or_not_it_exists(
    d: Directory, ssid: str
) -> None:
    """V1: a student resource on an action that takes none is the same request error for a
    known and an unknown SSID, so the error tells nothing of whether the SSID exists."""
    with pytest.raises(RequestError) as caught:
        _request(d, "teacher@example.org", "view_group", {"student": ssid})
    assert str(caught.value) == "`view_group` does not act on a `student`"
