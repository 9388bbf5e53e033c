"""The guard: a decision is taken on one directory, and nothing from outside it is believed.

Each test names the promise of ``docs/security.md`` it checks (fail closed, no reach outside
scope, no personal data in reprs) and the rule ID where there is one.
"""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import attrs
import pytest

from caaspp_authz import Action, Directory, User, can, decide, load_directory
from caaspp_authz.orgs import CDSCode
from caaspp_authz.resources import Student
from tests.builders import LEA, SCHOOL_1, SCHOOL_2, acct, build, group, students

EXAMPLE = Path(__file__).parent.parent / "examples" / "directory.json"
V = Action.VIEW_STUDENT_RESULTS
OTHER_LEA_STUDENT = "1000000008"  # at Sample Valley Elementary, another LEA than the teacher's


@pytest.fixture
def d() -> Directory:
    return load_directory(EXAMPLE)


def _agree(user: User, action: Action, resource: object) -> bool:
    """``can`` and ``decide(...).allowed`` agree; return the answer."""
    allowed = can(user, action, resource)
    assert decide(user, action, resource).allowed is allowed
    return allowed


def _every_org(d: Directory) -> frozenset[CDSCode]:
    return frozenset(d.tree.organizations)


# --- fail-open case 1: a user evolved with made-up reach ---------------------------------------


def test_user_cannot_be_evolved_with_made_up_reach(d: Directory) -> None:
    """V1, O4: `attrs.evolve(user, reach=...)` raises, so a caller cannot widen a user's reach."""
    teacher = d.user("teacher@example.org")
    everywhere = {"PII": _every_org(d)}
    with pytest.raises(TypeError, match=r"Directory\.user"):
        attrs.evolve(teacher, reach=everywhere, scopes=everywhere)  # type: ignore[call-arg]


def test_user_cannot_be_built(d: Directory) -> None:
    """V1, E1: `User(...)` raises: an account the directory does not hold gets no reach."""
    teacher = d.user("teacher@example.org")
    with pytest.raises(TypeError, match=r"Directory\.user"):
        User(
            email="mallory@example.org",
            account=None,
            directory=d,
            active=True,
            scopes={"PII": _every_org(d)},
            reach={"PII": _every_org(d)},
            in_force=teacher.in_force,
            grant_powers=(),
            groups=frozenset(),
            group_students=frozenset(),
            custom_sources=frozenset(),
        )


# --- fail-open cases 2 and 3: a user not the directory's own ------------------------------------


def _forged(user: User, **fields: Any) -> User:
    """A User made behind the constructor's back, as only code reaching into internals can."""
    forged = copy.copy(user)
    for name, value in fields.items():
        object.__setattr__(forged, name, value)
    return forged


def test_copy_of_a_user_with_made_up_reach_is_denied(d: Directory) -> None:
    """V1, O4: a user that is not the very object of its directory is denied by both calls."""
    everywhere = {"PII": _every_org(d)}
    forged = _forged(d.user("teacher@example.org"), reach=everywhere, scopes=everywhere)
    student = d.student(OTHER_LEA_STUDENT)
    assert student is not None
    assert not _agree(forged, V, student)
    denial = decide(forged, V, student)
    assert (denial.rules, denial.reason, denial.fix) == (
        (),
        "the user is not its directory's own",
        "take the user from `Directory.user(email)` of the directory decided on",
    )


def test_user_of_an_unknown_account_with_made_up_reach_is_denied(d: Directory) -> None:
    """E1: a user with no account is denied by `can` as by `decide`, whatever its reach."""
    everywhere = {"PII": _every_org(d)}
    forged = _forged(d.user("nobody@example.org"), reach=everywhere, scopes=everywhere)
    object.__setattr__(forged, "active", True)
    student = d.student(OTHER_LEA_STUDENT)
    assert student is not None
    assert not _agree(forged, V, student)
    assert decide(forged, V, student).rules == ("E1",)


def test_user_made_behind_the_constructor_is_denied(d: Directory) -> None:
    """V1, O4: a User made with `object.__new__` and attrs' own initializer is denied."""
    teacher = d.user("teacher@example.org")
    everywhere = {"PII": _every_org(d)}
    forged = object.__new__(User)
    forged.__attrs_init__(
        email=teacher.email,
        account=teacher.account,
        directory=d,
        active=True,
        scopes=everywhere,
        reach=everywhere,
        in_force=teacher.in_force,
        grant_powers=(),
        groups=frozenset(),
        group_students=frozenset(),
        custom_sources=frozenset(),
    )
    student = d.student(OTHER_LEA_STUDENT)
    assert student is not None
    assert not _agree(forged, V, student)


def test_plain_copy_of_a_user_is_denied_and_the_original_allowed(d: Directory) -> None:
    """V1: only the directory's own object is believed; an unaltered copy is denied too."""
    coordinator = d.user("caaspp.coordinator@example.org")
    student = d.student("1000000001")
    assert student is not None
    assert _agree(coordinator, V, student)
    assert not _agree(copy.copy(coordinator), V, student)
    assert d.owns(coordinator)
    assert not d.owns(copy.copy(coordinator))


def test_pickled_directory_keeps_its_own_users(d: Directory) -> None:
    """V1: a directory and its users pickled together stay one directory's own."""
    again: Directory = pickle.loads(pickle.dumps(d))
    coordinator = again.user("caaspp.coordinator@example.org")
    student = again.student("1000000001")
    assert student is not None
    assert again.owns(coordinator)
    assert _agree(coordinator, V, student)


# --- fail-open case 4: stale users --------------------------------------------------------------


def _today(data: dict[str, Any]) -> Directory:
    """Today's directory: the teacher inactive and removed from its group."""
    changed = json.loads(json.dumps(data))
    for account in changed["accounts"]:
        if account["email"] == "teacher@example.org":
            account["active"] = False
    for g in changed["groups"]:
        g["users"] = [u for u in g["users"] if u != "teacher@example.org"]
    return load_directory(changed)


def test_stale_user_is_denied_todays_student() -> None:
    """G11, V1: a user of yesterday's directory asked about today's student is denied."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    yesterday, today = load_directory(data), _today(data)
    cached = yesterday.user("teacher@example.org")
    student = today.student("1000000001")
    assert student is not None
    assert _agree(cached, V, yesterday.students["1000000001"])  # yesterday, it was allowed
    assert not _agree(cached, V, student)
    assert not _agree(today.user("teacher@example.org"), V, student)
    assert "another directory" in decide(cached, V, student).reason


def test_todays_user_is_denied_yesterdays_student() -> None:
    """V1: a student of another directory is denied even to a user who may see its record."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    yesterday, today = load_directory(data), load_directory(data)
    coordinator = today.user("caaspp.coordinator@example.org")
    assert _agree(coordinator, V, today.students["1000000001"])
    assert not _agree(coordinator, V, yesterday.students["1000000001"])
    denial = decide(coordinator, V, yesterday.students["1000000001"])
    assert (denial.rules, denial.reason, denial.fix) == (
        ("V1",),
        "the student is of another directory than the user",
        "take the user and the student from the same directory",
    )


def test_hand_built_student_equal_to_the_record_is_decided_as_the_record(d: Directory) -> None:
    """V1: a student value built by hand is verified against the directory, not trusted."""
    coordinator = d.user("caaspp.coordinator@example.org")
    assert _agree(coordinator, V, Student("1000000001", CDSCode(SCHOOL_1)))
    assert not _agree(coordinator, V, Student("1000000001", CDSCode("19647333333333")))
    assert not _agree(coordinator, V, Student("9999999999", CDSCode(SCHOOL_1)))


def test_students_shared_between_builds_stay_each_directorys_own() -> None:
    """V1: building a directory from another's student values leaves the first one deciding."""
    first = build(
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001"]),
    )
    second = Directory.build(
        organizations=first.tree,
        accounts=first.accounts.values(),
        students=first.students.values(),
    )
    for directory in (first, second):
        user = directory.user("sc1@d.org")
        assert _agree(user, V, directory.students["1000000001"])
    assert not _agree(first.user("sc1@d.org"), V, second.students["1000000001"])


def test_pii_group_path_checks_the_student_is_the_directorys_own() -> None:
    """V1, V2: under PII_GROUP, a student value unlike the directory's record is denied.

    The group at School 1 lists a student whose record is at School 2; a value naming that
    SSID at School 1 would pass the group and scope checks, so only the record check denies it.
    """
    moved = "1000000009"
    directory = build(
        acct("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1),
        students=students(SCHOOL_2, [moved]),
        groups=[group("Period 1", SCHOOL_1, [moved], ["ta1@d.org"])],
    )
    teacher = directory.user("ta1@d.org")
    assert moved in teacher.group_students
    assert teacher.covers("PII_GROUP", SCHOOL_1)
    assert not _agree(teacher, V, Student(moved, CDSCode(SCHOOL_1)))
    assert not _agree(teacher, V, directory.students[moved])  # no PII_GROUP over School 2


# --- issue: an action as a string is a programming error ---------------------------------------


@pytest.mark.parametrize("call", [can, decide])
def test_string_action_raises_type_error_naming_action(call: Any, d: Directory) -> None:
    """A string for the action raises TypeError naming the `Action` member to use."""
    student = d.student("1000000001")
    with pytest.raises(TypeError, match=r"Action\.VIEW_STUDENT_RESULTS"):
        call(d.user("caaspp.coordinator@example.org"), "view_student_results", student)


@pytest.mark.parametrize("call", [can, decide])
def test_unknown_string_action_is_bounded_in_the_error(call: Any, d: Directory) -> None:
    """A huge string action raises TypeError that echoes at most a bounded part of it."""
    with pytest.raises(TypeError, match=r"Action\(\.\.\.\)") as info:
        call(d.user("teacher@example.org"), "x" * 1_000_000, None)
    assert len(str(info.value)) < 300


# --- no personal data in reprs ------------------------------------------------------------------


def test_directory_repr_is_counts_not_contents(d: Directory) -> None:
    """FERPA: `repr(Directory)` is short and names no SSID, name, phone or e-mail."""
    text = repr(d)
    assert len(text) < 200
    assert "8 student(s)" in text
    for secret in ("1000000001", "Ada", "213-555", "@example.org", "Example Elementary"):
        assert secret not in text


def test_user_repr_names_no_personal_data(d: Directory) -> None:
    """FERPA: `repr(User)` carries no e-mail, name or phone, in a container as alone."""
    user = d.user("caaspp.coordinator@example.org")
    for text in (repr(user), repr([user]), str(user)):
        assert "coordinator" not in text
        assert "@" not in text
    assert repr(user) == "<User: an account, active, 1 role(s) in force>"


def test_wrong_resource_kind_denial_names_no_contents(d: Directory) -> None:
    """FERPA: a resource of the wrong kind is denied by its kind, not its contents."""
    account = d.account("caaspp.coordinator@example.org")
    decision = decide(d.user("teacher@example.org"), V, account)
    assert not decision.allowed
    assert decision.reason == "`view_student_results` acts on a Student, not on an Account"
    assert account is not None
    assert account.phone not in decision.reason
    assert LEA not in decision.reason


# --- a hostile request line does not stop a batch ----------------------------------------------


def test_batch_goes_on_after_a_4301_digit_line(tmp_path: Path) -> None:
    """INTERFACES: a request line with a 4,301-digit number is an error line; the batch goes on."""
    import io

    from caaspp_authz.cli import main

    good = {
        "principal": "caaspp.coordinator@example.org",
        "action": "view_student_results",
        "resource": {"student": "1000000001"},
    }
    huge = '{"principal": "a@b.org", "action": "view_group", "resource": {"group": '
    huge += '{"school": "19647331111111", "name": "x", "school_year": ' + "9" * 4301 + "}}}"
    dup = '{"principal": "a@b.org", "action": "view_group", "action": "add_role"}'
    batch = tmp_path / "r.jsonl"
    batch.write_text("\n".join([json.dumps(good), huge, dup, json.dumps(good)]) + "\n")
    out = io.StringIO()
    status = main(["decide", "--directory", str(EXAMPLE), "--requests", str(batch)], out=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == 1
    assert [line.get("allowed") for line in lines] == [True, None, None, True]
    assert "4301 characters" in lines[1]["error"]
    assert "has key `action` twice" in lines[2]["error"]


# --- bounded echoes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [10**4300, "1" * 1_000_000, "x" * 1_000_000], ids=["number", "digits", "letters"]
)
def test_cds_code_errors_echo_a_bounded_part(value: object) -> None:
    """O5: a huge or non-text CDS code is an error of bounded length, never a bare ValueError."""
    from caaspp_authz.errors import InvalidCDSCode
    from caaspp_authz.orgs import parse_cds

    with pytest.raises(InvalidCDSCode) as info:
        parse_cds(value)
    assert len(str(info.value)) < 200


def test_problem_bounds_its_value_and_message() -> None:
    """U2: a Problem keeps at most 200 characters of its value and 2,000 of its message."""
    from caaspp_authz.errors import Problem

    problem = Problem("U2", "m" * 1_000_000, value="v" * 1_000_000)
    assert problem.value is not None
    assert len(problem.value) < 250
    assert len(problem.message) < 2_100
    assert problem.value.endswith("(1000000 characters)")


# --- the queries give the same answers as can --------------------------------------------------


def test_queries_deny_stale_users_and_other_directories_students() -> None:
    """V1: `visible`, `can_many` and `who_can` agree with `can` across two directories."""
    from caaspp_authz.queries import can_many, visible, who_can

    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    yesterday, today = load_directory(data), _today(data)
    cached = yesterday.user("teacher@example.org")
    coordinator = today.user("caaspp.coordinator@example.org")
    theirs = list(today.students.values())
    assert visible(cached, V, theirs) == [s for s in theirs if can(cached, V, s)] == []
    assert can_many([(cached, V, s) for s in theirs]) == [False] * len(theirs)
    old = list(yesterday.students.values())
    assert visible(coordinator, V, old) == []
    assert who_can(V, old[0], today) == []
    assert visible(copy.copy(coordinator), V, theirs) == []
    assert visible(coordinator, V, theirs) == [s for s in theirs if can(coordinator, V, s)]
    assert visible(coordinator, V, theirs)


def test_request_file_with_duplicate_keys_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """INTERFACES: `decide --request` refuses a file with a key twice (status 2), naming it."""
    from caaspp_authz.cli import main

    request = tmp_path / "r.json"
    request.write_text('{"principal": "a@b.org", "action": "view_group", "action": "add_role"}')
    status = main(["decide", "--directory", str(EXAMPLE), "--request", str(request)])
    assert status == 2
    assert "has key `action` twice in one object" in capsys.readouterr().err
