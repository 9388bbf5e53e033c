"""Applying validated upload files: a new directory and the change report (U2, U4, U5, U6,
G11)."""

from __future__ import annotations

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
from caaspp_authz.uploads import (
    AssignmentChange,
    UploadError,
    apply_groups,
    apply_users,
)
from tests.conftest import EXAMPLES
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
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
    assert len(c.assignments_added) == 4
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
