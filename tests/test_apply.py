"""Applying validated upload files: a new directory and the change report (U2, U4, U5, U6,
G11)."""

from __future__ import annotations

import attrs
import pytest

from caaspp_authz import (
    CaasppAuthzError,
    CDSCode,
    Directory,
    Email,
    GroupKey,
    dump_directory,
    load_directory,
)
from caaspp_authz.errors import Problem, Severity
from caaspp_authz.uploads import (
    AssignmentChange,
    ChangeReport,
    MemberChange,
    UploadError,
    Validation,
    apply_groups,
    apply_users,
)
from tests.conftest import EXAMPLES
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
    HIGH,
    LEA,
    MIDDLE,
    SITE,
    groups,
    multi_role,
    user_row,
    users,
)


def _assignments(d: Directory) -> set[tuple[str, str, str]]:
    return {(a.email, x.role.name, x.org) for a in d.accounts.values() for x in a.assignments}


def test_apply_example_users(example: Directory) -> None:
    """U4, U6, G11: the example upload adds, overrides, creates, reactivates and credentials."""
    result = apply_users(EXAMPLES / "users_upload.csv", example, uploader=COORDINATOR)
    c = result.changes
    assert (
        AssignmentChange(
            Email("no.forms@example.org"),
            "Educator—Roster",
            CDSCode(MIDDLE),
            "CAASPP Test Administrator",
        )
        in c.assignments_overridden
    )
    # U6: each new e-mail of one row is its own new account with its one role
    assert [(a.email, a.role, a.org, a.previous) for a in c.assignments_added] == [
        ("vera.nolan@example.org", "CAASPP Test Administrator", MIDDLE, None),
        ("wes.ibarra@example.org", "CAASPP Test Examiner", HIGH, None),
        ("yara.quinn@example.org", "Tools for Teachers Only", LEA, None),
        ("zed.olsen@example.org", "Educator—District", LEA, None),
    ]
    assert set(c.accounts_created) == {
        "vera.nolan@example.org",
        "wes.ibarra@example.org",
        "yara.quinn@example.org",
        "zed.olsen@example.org",
    }
    assert c.accounts_reactivated == ("former.teacher@example.org",)
    assert c.accounts_credentialed == ("wes.ibarra@example.org",)
    new = result.directory
    wes = new.account("wes.ibarra@example.org")
    assert wes is not None
    assert wes.credentialed
    former = new.account("former.teacher@example.org")
    assert former is not None
    assert former.active
    no_forms = new.account("no.forms@example.org")
    assert no_forms is not None
    assert [a.role.name for a in no_forms.assignments] == ["Educator—Roster"]
    assert [p.rule for p in result.warnings] == ["R5", "U4"]


def test_apply_leaves_the_old_directory_alone(example: Directory) -> None:
    """U2: applying returns a new directory; the one passed in is unchanged."""
    before = _assignments(example)
    result = apply_users(EXAMPLES / "users_upload.csv", example, uploader=COORDINATOR)
    assert _assignments(example) == before
    assert result.directory is not example
    assert _assignments(result.directory) != before


def test_applied_directory_writes_back(example: Directory) -> None:
    """The new directory is written by dump_directory and loads back with the same assignments."""
    new = apply_users(EXAMPLES / "users_upload.csv", example, uploader=COORDINATOR).directory
    again = load_directory(dump_directory(new))
    assert _assignments(again) == _assignments(new)


def test_a_file_with_an_error_applies_nothing(example: Directory) -> None:
    """U2: any error refuses the whole file, with every problem carried by the error."""
    with pytest.raises(UploadError) as info:
        apply_users(EXAMPLES / "users_upload_errors.csv", example, uploader=COORDINATOR)
    assert isinstance(info.value, CaasppAuthzError)
    assert isinstance(info.value, ValueError)
    assert [p.row for p in info.value.errors] == [2, 3, 5, 7, 8]


def test_new_account_is_active_with_the_files_names(example: Directory) -> None:
    """U1: a new e-mail becomes an active account with the row's names and phone."""
    data = users(user_row("Fresh@Example.org", first="Ann", last="Lee", phone="213-555-0177"))
    new = apply_users(data, example, uploader=COORDINATOR).directory
    account = new.account("fresh@example.org")
    assert account is not None
    assert (account.first_name, account.last_name, account.phone) == ("Ann", "Lee", "213-555-0177")
    assert account.active
    assert [(a.role.name, a.org) for a in account.assignments] == [
        ("CAASPP Test Administrator", MIDDLE)
    ]


def test_same_role_again_changes_nothing(example: Directory) -> None:
    """U4, E2: a row repeating a held role adds and overrides nothing."""
    data = users(user_row("teacher@example.org", cds=ELEMENTARY))
    result = apply_users(data, example, uploader=COORDINATOR)
    assert result.changes.assignments_added == ()
    assert result.changes.assignments_overridden == ()
    assert _assignments(result.directory) == _assignments(example)


def test_primary_kept_when_the_role_is_repeated(example: Directory) -> None:
    """R7: repeating a primary coordinator's role keeps the primary designation."""
    data = users(
        user_row(COORDINATOR, role="LEA CAASPP Coordinator", cds="19647330000000", first="Ada")
    )
    new = apply_users(data, example, uploader=COORDINATOR).directory
    account = new.account(COORDINATOR)
    assert account is not None
    assert account.assignments[0].primary


def test_a_coordinator_who_covers_an_inactive_account_renames_and_reactivates_it(
    example: Directory,
) -> None:
    """U7, G11, G8: a row from a coordinator who covers an inactive account takes its names and
    phone from the row and makes it active; its roles, forms and credential stay."""
    old = example.account("former.teacher@example.org")
    assert old is not None
    row = user_row(
        "former.teacher@example.org", "CAASPP Test Administrator", HIGH,
        first="Fay", last="Moreno", phone="213-555-0142",
    )  # fmt: skip
    new = apply_users(users(row), example, uploader=COORDINATOR).directory
    account = new.account("former.teacher@example.org")
    assert account == attrs.evolve(
        old, first_name="Fay", last_name="Moreno", phone="213-555-0142", active=True
    )


def test_multi_role_rows_for_one_site_replace_together() -> None:
    """E7, U4: under multi-role, a file's rows for one e-mail and site are its roles there."""
    directory = multi_role()
    data = users(
        user_row("teacher@example.org", role="CAASPP Test Administrator", cds=ELEMENTARY),
        user_row("teacher@example.org", role="Educator—Roster", cds=ELEMENTARY),
    )
    result = apply_users(data, directory, uploader=COORDINATOR)
    account = result.directory.account("teacher@example.org")
    assert account is not None
    assert {a.role.name for a in account.assignments} == {
        "CAASPP Test Administrator",
        "Educator—Roster",
    }
    assert [c.role for c in result.changes.assignments_added] == ["Educator—Roster"]
    assert result.changes.assignments_overridden == ()


def test_apply_example_groups(example: Directory) -> None:
    """U5: the file is the whole membership of its groups; new groups are created; an SSID the
    directory does not list stays a member and is not added to the directory's students."""
    result = apply_groups(EXAMPLES / "groups_upload.csv", example, uploader=SITE)
    period = GroupKey(CDSCode(ELEMENTARY), 2026, "Period 1")
    lab = GroupKey(CDSCode(ELEMENTARY), 2026, "Math Lab")
    c = result.changes
    assert c.groups_replaced == (period,)
    assert c.groups_created == (lab,)
    assert c.students_added == ()
    removed = {(m.group, m.kind, m.member) for m in c.members_removed}
    assert removed == {(period, "student", "1000000002")}
    new = result.directory
    group = new.group(period)
    assert group is not None
    assert group.students == {"1000000001", "1000000003"}
    assert new.student("1000000009") is None  # U5 (revised): never added by a group file
    lab_group = new.group(lab)
    assert lab_group is not None
    assert "1000000009" in lab_group.students
    untouched = GroupKey(CDSCode(MIDDLE), 2026, "Reading Intervention")
    assert new.group(untouched) == example.group(untouched)


def test_groups_with_errors_apply_nothing(example: Directory) -> None:
    """U2, U5: an unknown login refuses the whole file."""
    data = groups(("G", ELEMENTARY, "2026", "All", "1000000001", "ghost@example.org"))
    with pytest.raises(UploadError) as info:
        apply_groups(data, example, uploader=SITE)
    assert [p.rule for p in info.value.errors] == ["U5"]


def test_group_members_leave_when_not_in_the_file(example: Directory) -> None:
    """U5: a user assigned to a group and absent from its rows leaves it."""
    data = groups(("Period 1", ELEMENTARY, "2026", "All", "1000000001", ""))
    result = apply_groups(data, example, uploader=SITE)
    left = {(m.kind, m.member) for m in result.changes.members_removed}
    assert left == {
        ("student", "1000000002"),
        ("user", "teacher@example.org"),
        ("user", "examiner@example.org"),
    }


def test_refusal_names_each_error_and_no_warning() -> None:
    """U2: a refused file's error counts its errors and lists each, one a line; the warnings
    are the validation's and the error's problems too, not in the text."""
    problems = [
        Problem("U1", "`First Name` is empty", row=2, column="First Name"),
        Problem("U3", "a warning", severity=Severity.WARNING, row=3),
        Problem("O5", "not a code", row=4, fix="write the code"),
    ]
    error = UploadError(problems)
    assert str(error) == (
        "the file is refused: 2 error(s)\n"
        "  [U1] row 2, column First Name: `First Name` is empty\n"
        "  [O5] row 4: not a code (fix: write the code)"
    )
    assert error.problems == tuple(problems)
    assert error.errors == (problems[0], problems[2])
    validation = Validation("users", tuple(problems), 3)
    assert validation.errors == (problems[0], problems[2])
    assert validation.warnings == (problems[1],)
    assert not validation.valid
    assert Validation("users", (problems[1],), 1).valid


def test_change_report_names_every_change_as_json_and_lines() -> None:
    """U4, U5, U6, G11: the change report's JSON and lines name every change of each kind with
    all its fields (an added role replaced nothing: its `previous` is null)."""
    school, other = CDSCode(ELEMENTARY), CDSCode(HIGH)
    period, lab = GroupKey(school, 2026, "Period 1"), GroupKey(other, 2025, "Lab")
    added = AssignmentChange(Email("a@example.org"), "CAASPP Test Administrator", school)
    assert added.previous is None
    report = ChangeReport(
        assignments_added=[added],
        assignments_overridden=[
            AssignmentChange(
                Email("b@example.org"), "Educator—Roster", other, "CAASPP Test Examiner"
            )
        ],
        accounts_created=[Email("a@example.org")],
        accounts_reactivated=[Email("c@example.org")],
        accounts_credentialed=[Email("d@example.org")],
        groups_created=[period],
        groups_replaced=[lab],
        members_added=[MemberChange(period, "student", "1000000001")],
        members_removed=[MemberChange(lab, "user", "e@example.org")],
        students_added=["1000000009"],
    )
    assert report.accounts_created == ("a@example.org",)  # lists are kept as tuples
    assert hash(report) == hash(attrs.evolve(report))
    period_json = {"name": "Period 1", "school": ELEMENTARY, "school_year": 2026}
    lab_json = {"name": "Lab", "school": HIGH, "school_year": 2025}
    assert report.to_json() == {
        "assignments_added": [
            {
                "email": "a@example.org",
                "role": "CAASPP Test Administrator",
                "org": ELEMENTARY,
                "previous": None,
            }
        ],
        "assignments_overridden": [
            {
                "email": "b@example.org",
                "role": "Educator—Roster",
                "org": HIGH,
                "previous": "CAASPP Test Examiner",
            }
        ],
        "accounts_created": ["a@example.org"],
        "accounts_reactivated": ["c@example.org"],
        "accounts_credentialed": ["d@example.org"],
        "groups_created": [period_json],
        "groups_replaced": [lab_json],
        "members_added": [{"group": period_json, "kind": "student", "member": "1000000001"}],
        "members_removed": [{"group": lab_json, "kind": "user", "member": "e@example.org"}],
        "students_added": ["1000000009"],
    }
    assert report.lines() == [
        f"added       a@example.org: CAASPP Test Administrator at {ELEMENTARY}",
        f"overridden  b@example.org: CAASPP Test Examiner at {HIGH} -> Educator—Roster  (U4)",
        "created     account a@example.org",
        "reactivated account c@example.org  (G11)",
        "credentialed account d@example.org  (R5, U6)",
        f"created     group `Period 1` (2026) at `{ELEMENTARY}`",
        f"replaced    group `Lab` (2025) at `{HIGH}`",
        "students    added 1000000009  (U5)",
        f"joined      student 1000000001 -> group `Period 1` (2026) at `{ELEMENTARY}`",
        f"left        user e@example.org <- group `Lab` (2025) at `{HIGH}`",
    ]
    assert ChangeReport().to_json() == {name: [] for name in report.to_json()}
    assert ChangeReport().lines() == []


def test_apply_rows_for_new_and_existing_accounts_whole(example: Directory) -> None:
    """E2, U4, U6, U7, R5: a new e-mail on two rows gets its role at both schools and the last
    row's names; an account given a role needing a credential is recorded credentialed (and
    reported once, only if it was not); a credentialed account given another role stays
    credentialed; a role replaced is reported overridden, not added."""
    data = users(
        user_row("n@example.org", "CAASPP Test Examiner", ELEMENTARY),
        user_row("n@example.org", "CAASPP Test Examiner", MIDDLE, first="Last"),
        user_row("teacher@example.org", "CAASPP Test Examiner", ELEMENTARY),
        user_row("examiner@example.org", "CAASPP Test Examiner", HIGH),
        user_row("ta.te@example.org", "CAASPP Test Administrator", MIDDLE),
    )
    result = apply_users(data, example, uploader=COORDINATOR)
    c = result.changes
    examiner = "CAASPP Test Examiner"
    assert c.assignments_added == (
        AssignmentChange(Email("n@example.org"), examiner, CDSCode(ELEMENTARY)),
        AssignmentChange(Email("n@example.org"), examiner, CDSCode(MIDDLE)),
        AssignmentChange(Email("examiner@example.org"), examiner, CDSCode(HIGH)),
    )
    assert c.assignments_overridden == (
        AssignmentChange(
            Email("teacher@example.org"),
            examiner,
            CDSCode(ELEMENTARY),
            "CAASPP Test Administrator",
        ),
        AssignmentChange(
            Email("ta.te@example.org"),
            "CAASPP Test Administrator",
            CDSCode(MIDDLE),
            "Test Administrator & Test Examiner",
        ),
    )
    assert c.accounts_created == ("n@example.org",)
    assert c.accounts_credentialed == ("n@example.org", "teacher@example.org")
    assert c.accounts_reactivated == ()
    held = {
        e: (a.first_name, a.credentialed, [(x.role.name, x.org) for x in a.assignments])
        for e in (
            "n@example.org",
            "teacher@example.org",
            "examiner@example.org",
            "ta.te@example.org",
        )
        if (a := result.directory.account(e)) is not None
    }
    assert held == {
        "n@example.org": ("Last", True, [(examiner, ELEMENTARY), (examiner, MIDDLE)]),
        "teacher@example.org": ("New", True, [(examiner, ELEMENTARY)]),
        "examiner@example.org": ("New", True, [(examiner, ELEMENTARY), (examiner, HIGH)]),
        "ta.te@example.org": ("New", True, [("CAASPP Test Administrator", MIDDLE)]),
    }


def test_a_change_the_directory_refuses_is_an_upload_error(example: Directory) -> None:
    """U2, E4: applying a change the directory's own checks refuse raises UploadError carrying
    their problems, not DirectoryError."""
    from caaspp_authz import Account, Assignment, role
    from caaspp_authz.uploads._common import _changed

    two = Account(
        email=Email("two@example.org"),
        first_name="A",
        last_name="B",
        phone="1",
        assignments=(
            Assignment(role("CAASPP Test Administrator"), CDSCode(ELEMENTARY)),
            Assignment(role("Educator—Roster"), CDSCode(ELEMENTARY)),
        ),
    )
    with pytest.raises(UploadError) as info:
        _changed(example, accounts=[two])
    assert [(p.rule, p.where) for p in info.value.problems] == [
        ("E4", "account `two@example.org`")
    ]
