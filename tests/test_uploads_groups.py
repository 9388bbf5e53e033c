"""The CERS student-group upload validator: one test a rule (U5, V3, O4, O5, V1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from caaspp_authz import CDSCode, Directory, Email, Group, GroupKey, Severity, load_directory
from caaspp_authz.uploads import (
    GROUP_HEADER,
    Validation,
    apply_groups,
    groups_csv,
    iter_group_problems,
    validate_groups,
)
from tests.conftest import EXAMPLES
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
    LEA,
    MIDDLE,
    SITE,
    csv_bytes,
    example_mapping,
    groups,
)


def _check(data: bytes, directory: Directory, uploader: str = SITE) -> Validation:
    return validate_groups(data, directory, uploader=uploader)


def _row(
    ssid: str = "1000000001",
    login: str = "teacher@example.org",
    *,
    name: str = "Period 2",
    school: str = ELEMENTARY,
    year: str = "2026",
    subject: str = "All",
) -> Sequence[str]:
    return (name, school, year, subject, ssid, login)


def _rules(v: Validation) -> list[tuple[int | None, str, str | None]]:
    return [(p.row, p.rule, p.column) for p in v.problems]


def test_example_file_is_valid(example: Directory) -> None:
    """U5: the shipped group upload validates as the site coordinator."""
    v = validate_groups(EXAMPLES / "groups_upload.csv", example, uploader=SITE)
    assert v.valid
    assert [p.rule for p in v.problems] == ["U5"]  # the one new SSID, a warning


def test_header_in_exact_order(example: Directory) -> None:
    """U5: a header out of order is an error on row 1."""
    header = list(GROUP_HEADER)
    header[4], header[5] = header[5], header[4]
    v = _check(csv_bytes([_row()], header=header), example)
    assert {(p.row, p.rule) for p in v.problems} == {(1, "U5")}
    assert not v.valid


def test_group_identity_required_on_every_row(example: Directory) -> None:
    """U5: group name, school and school year are required in every row."""
    v = _check(groups(_row(name=""), _row(school=" "), _row(year="")), example)
    assert _rules(v) == [
        (2, "U5", "group_name"),
        (3, "U5", "school_natural_id"),
        (4, "U5", "school_year"),
    ]


def test_subject_is_all_math_or_ela_in_any_case_or_blank(example: Directory) -> None:
    """U5, U8 (b): a subject in any letter case, or blank, is accepted; another is an error."""
    assert _check(groups(_row(subject="math")), example).problems == ()
    assert _check(groups(_row(subject="eLa")), example).problems == ()
    assert _check(groups(_row(subject="")), example).problems == ()
    [q] = _check(groups(_row(subject="Science")), example).problems
    assert (q.rule, q.column) == ("U5", "subject_code")


def test_one_subject_per_group(example: Directory) -> None:
    """U8 (b): a group's non-blank subjects agree, compared case-insensitively."""
    v = _check(groups(_row(subject="Math"), _row("1000000002", "", subject="ELA")), example)
    assert _rules(v) == [(3, "U8", "subject_code")]
    same = _check(groups(_row(subject="Math"), _row("1000000002", "", subject="MATH")), example)
    assert same.problems == ()


def test_ssid_is_ten_digits(example: Directory) -> None:
    """U5: an SSID of another length is an error."""
    [p] = _check(groups(_row("123456789")), example).problems
    assert (p.rule, p.column) == ("U5", "student_ssid")


def test_row_has_ssid_or_login(example: Directory) -> None:
    """U5: a row with neither an SSID nor a login is an error; either alone is fine."""
    v = _check(
        groups(_row("", ""), _row("", "teacher@example.org"), _row("1000000002", "")), example
    )
    assert _rules(v) == [(2, "U5", "student_ssid")]


def test_login_must_be_a_known_account(example: Directory) -> None:
    """U5: a login that is no account is an error under U5, not V3."""
    [p] = _check(groups(_row(login="ghost@example.org")), example).problems
    assert (p.rule, p.column) == ("U5", "group_user_login")


def test_login_must_be_in_the_schools_lea(example: Directory) -> None:
    """V3: a login whose assignments are in another LEA is an error."""
    [p] = _check(groups(_row(login="valley.teacher@sample.org")), example).problems
    assert (p.rule, p.column) == ("V3", "group_user_login")


def test_unknown_ssid_is_a_warning(example: Directory) -> None:
    """U5 (revised): an SSID the directory does not list is a warning; it stays a member."""
    v = _check(groups(_row("1999999999")), example)
    assert v.valid
    [p] = v.problems
    assert (p.rule, p.severity) == ("U5", Severity.WARNING)


def test_uploader_holds_group_admin_over_each_school(example: Directory) -> None:
    """U5, V3: the uploader needs GROUP_ADMIN over every school of the file."""
    v = _check(groups(_row("1000000004", "", school=MIDDLE)), example)
    assert _rules(v) == [(2, "U5", "school_natural_id")]
    assert _check(groups(_row("1000000004", "", school=MIDDLE)), example, COORDINATOR).valid


def test_school_code_checked(example: Directory) -> None:
    """O5, O4: a mangled school code and an unknown school are errors."""
    v = _check(groups(_row(school="1.96473E+13"), _row(school="19647339999999")), example)
    assert [(p.row, p.rule) for p in v.problems] == [(2, "O5"), (3, "O4")]


def test_group_belongs_to_a_school(example: Directory) -> None:
    """U5 (decision): a group's school is a school (or test site), not an LEA."""
    [p] = _check(groups(_row(school=LEA)), example, COORDINATOR).problems
    assert (p.rule, p.column) == ("U5", "school_natural_id")


def test_student_of_another_school_is_a_warning(example: Directory) -> None:
    """V1 (decision): a listed student of another school is kept where it is, with a warning."""
    v = _check(groups(_row("1000000004", "")), example)
    assert v.valid
    assert [(p.rule, p.severity) for p in v.problems] == [("V1", Severity.WARNING)]


def test_empty_and_header_only(example: Directory) -> None:
    """U8 (e): an empty file and a header with no rows are both errors."""
    assert [p.rule for p in _check(b"", example).errors] == ["U5"]
    header_only = _check(groups(), example)
    assert not header_only.valid
    assert [(p.row, p.rule) for p in header_only.errors] == [(1, "U8")]
    blank_rows = _check(groups() + b"\r\n   \r\n", example)
    assert [(p.row, p.rule) for p in blank_rows.errors] == [(1, "U8")]


def test_at_most_200_ssid_rows_a_group(example: Directory) -> None:
    """U8 (a): a group of 201 rows with an SSID is an error on the 201st; 200 pass."""
    rows = [_row(f"{1_100_000_000 + i}", "") for i in range(201)]
    v = _check(groups(*rows), example)
    assert [(p.row, p.rule) for p in v.errors] == [(202, "U8")]
    assert _check(groups(*rows[:200]), example).valid


def test_repeated_ssid_rows_count_again(example: Directory) -> None:
    """U8 (a): the platform counts rows, so a repeated SSID counts twice."""
    rows = [_row("1000000001", "")] * 201
    assert [(p.row, p.rule) for p in _check(groups(*rows), example).errors] == [(202, "U8")]


def test_schools_and_groups_are_together(example: Directory) -> None:
    """U8 (c): a group that comes back after another group is an error on the row where it
    does, with the fix to sort the file; a school likewise."""
    v = _check(
        groups(
            _row("1000000001", "", name="A"),
            _row("1000000002", "", name="B"),
            _row("1000000003", "", name="A"),
        ),
        example,
    )
    [p] = v.errors
    assert (p.row, p.rule, p.column) == (4, "U8", "group_name")
    assert p.fix is not None
    assert "sort" in p.fix
    v = _check(
        groups(
            _row("1000000001", "", school=ELEMENTARY),
            _row("1000000004", "", school=MIDDLE),
            _row("1000000002", "", school=ELEMENTARY),
        ),
        example,
        COORDINATOR,
    )
    assert [(p.row, p.rule, p.column) for p in v.errors] == [(4, "U8", "school_natural_id")]
    in_order = groups(
        _row("1000000001", "", name="A"),
        _row("1000000002", "", name="A"),
        _row("1000000003", "", name="B"),
    )
    assert _check(in_order, example).valid


def test_school_year_is_four_digits_from_2014(example: Directory) -> None:
    """U8 (d): a school year before 2014, or not of four digits, is an error."""
    assert _check(groups(_row(year="2014")), example).valid
    for year in ("2013", "0999", "26", "20266"):
        [p] = _check(groups(_row(year=year)), example).errors
        assert (p.rule, p.column) == ("U8", "school_year"), year


def test_group_name_formula_is_warned(example: Directory) -> None:
    """U3: a group name a spreadsheet would run as a formula is a warning."""
    v = _check(groups(_row(name="=cmd()")), example)
    assert v.valid
    assert _rules(v) == [(2, "U3", "group_name")]


def _whole(v: Validation) -> list[tuple[object, ...]]:
    return [
        (p.row, p.rule, p.severity.value, p.column, p.value, p.message, p.fix) for p in v.problems
    ]


_SORT = "sort the file by school, group name and school year"
_NEVER = "the group would open nothing to `valley.teacher@sample.org`"
_NEVER_FIX = (
    "assign a group only to a user with a role carrying PII_GROUP or PII at its school "
    f"`{ELEMENTARY}` (or its LEA `{LEA}`)"
)


def test_every_problem_of_a_group_file_whole(example: Directory) -> None:
    """U5, U8, U3, O4, O5, E1, V1, V3: each problem a group file can have, with its row, rule,
    severity, column, value, message and fix."""
    v = _check(
        groups(
            ("Period 1", ELEMENTARY, "2026", "math", "1000000001", "teacher@example.org"),
            ("Period 1", ELEMENTARY, "2026", "ELA", "1000000002", ""),
            ("Period 1", ELEMENTARY, "2026", "", "1000000004", ""),
            ("Period 1", ELEMENTARY, "2026", "Science", "12345", ""),
            ("Period 1", ELEMENTARY, "2026", "", "12345678901", "not-an-email"),
            ("Period 1", ELEMENTARY, "2026", "", "", "ghost@example.org"),
            ("Period 1", ELEMENTARY, "2026", "", "1999999999", "valley.teacher@sample.org"),
            ("Period 1", ELEMENTARY, "2026", "", "1999999999", ""),
            ("", ELEMENTARY, "2026", "", "1000000001", ""),
            ("=cmd()", ELEMENTARY, "2026", "", "1000000001", ""),
            ("X", " ", "2026", "", "1000000001", ""),
            ("X", "1.96473E+13", "2026", "", "1000000001", ""),
            ("X", "19647339999999", "2026", "", "1000000001", ""),
            ("X", LEA, "2026", "", "1000000001", ""),
            ("X", ELEMENTARY, "", "", "1000000001", ""),
            ("X", ELEMENTARY, "2013", "", "1000000001", ""),
            ("X", ELEMENTARY, "26", "", "1000000001", ""),
            ("X", ELEMENTARY, "2026", "", "", ""),
            ("New", ELEMENTARY, "2026", "", "", "valley.teacher@sample.org"),
            ("New", ELEMENTARY, "2026", "", "", "teacher@example.org"),
            ("Period 1", ELEMENTARY, "2026", "", "1000000003", ""),
            ("X", MIDDLE, "2026", "", "1000000001", ""),
            ("a", "b", "c"),
        ),
        example,
    )
    assert v.rows == 23
    assert _whole(v) == [
        (3, "U8", "error", "subject_code", "ELA",
         "group `Period 1` has subject `Math` on row 2 and `ELA` here; a group has one subject",
         "write `Math`"),
        (4, "V1", "warning", "student_ssid", "1000000004",
         f"student `1000000004` is listed at another school, not at `{ELEMENTARY}`: results it "
         "earned there are not opened by this group's school", None),
        (5, "U5", "error", "subject_code", "Science", "subject `Science` is none of All, Math, ELA",
         "write one of All, Math, ELA, or leave it blank"),
        (5, "U5", "error", "student_ssid", "12345", "SSID `12345` is not 10 digits",
         "a spreadsheet may have dropped leading zeros: format the column as Text"),
        (6, "U5", "error", "student_ssid", "12345678901", "SSID `12345678901` is not 10 digits",
         None),
        (6, "E1", "error", "group_user_login", "not-an-email",
         "`not-an-email` is not an e-mail address", None),
        (7, "U5", "error", "group_user_login", "ghost@example.org",
         "`ghost@example.org` is not a known account: a group is assigned to users only",
         "add the user (a TOMS user upload) first"),
        (8, "U5", "warning", "student_ssid", "1999999999",
         "student `1999999999` is not in the directory: it stays a member of the group, which "
         "opens nothing of it until the directory lists the student", None),
        (8, "V3", "error", "group_user_login", "valley.teacher@sample.org", _NEVER, _NEVER_FIX),
        (10, "U5", "error", "group_name", None, "`group_name` is empty", None),
        (11, "U3", "warning", "group_name", "=cmd()",
         "`=cmd()` starts with `=`: a spreadsheet that opens an export of it could run it as a "
         "formula", "remove the leading character"),
        (12, "U5", "error", "school_natural_id", None, "`school_natural_id` is empty", None),
        (13, "O5", "error", "school_natural_id", "1.96473E+13",
         "CDS code `1.96473E+13` is in scientific notation: a spreadsheet turned it into a number "
         "and its last digits are lost; re-enter the 14 digits with the column formatted as text",
         "re-enter the 14-digit code as text (format the column as Text before typing)"),
        (14, "O4", "error", "school_natural_id", "19647339999999",
         "school `19647339999999` is not in the directory", None),
        (15, "U5", "error", "school_natural_id", LEA,
         f"`{LEA}` is an LEA: a student group belongs to a school", None),
        (16, "U5", "error", "school_year", None, "`school_year` is empty", None),
        (17, "U8", "error", "school_year", "2013",
         "school year `2013` is before 2014, the first CAASPP year",
         "write the year the school year ends, such as `2026`"),
        (18, "U8", "error", "school_year", "26", "school year `26` is not a four-digit year",
         "write the year the school year ends, such as `2026`"),
        (19, "U5", "error", "student_ssid", None,
         "the row has neither a student SSID nor a user login",
         "give a student SSID, a user login, or both"),
        (20, "V3", "error", "group_user_login", "valley.teacher@sample.org", _NEVER, _NEVER_FIX),
        (22, "U8", "error", "group_name", "Period 1",
         f"the rows of group `Period 1` (2026) at `{ELEMENTARY}` are not together: it comes back "
         "here after another group of its school", _SORT),
        (23, "U5", "error", "school_natural_id", MIDDLE,
         f"`{SITE}` may not upload groups for `{MIDDLE}`: `{SITE}` holds no GROUP_ADMIN over "
         f"`{MIDDLE}`", f"needs a role carrying GROUP_ADMIN at `{MIDDLE}` (or its LEA `{LEA}`)"),
        (24, "U3", "error", None, "a,b,c", "the row has 3 field(s), not 6",
         "a field is missing: every row has a field for each column"),
    ]  # fmt: skip


def test_school_that_comes_back_and_a_student_the_uploader_sees_whole(example: Directory) -> None:
    """U8 (c), V1: a school whose rows come back is an error naming it; a student listed at
    another school is named there to an uploader who may view its results."""
    v = _check(
        groups(
            ("A", ELEMENTARY, "2026", "", "1000000004", ""),
            ("A", MIDDLE, "2026", "", "1000000005", ""),
            ("A", ELEMENTARY, "2026", "", "1000000001", ""),
        ),
        example,
        COORDINATOR,
    )
    assert _whole(v) == [
        (2, "V1", "warning", "student_ssid", "1000000004",
         f"student `1000000004` is listed at `{MIDDLE}`, not at `{ELEMENTARY}`: results it "
         "earned there are not opened by this group's school", None),
        (4, "U8", "error", "school_natural_id", ELEMENTARY,
         f"the rows of school `{ELEMENTARY}` are not together: it comes back here after another "
         "school", _SORT),
    ]  # fmt: skip


def test_empty_and_header_only_problems_whole(example: Directory) -> None:
    """U5, U8 (e): an empty file and a header with no rows, each one whole problem on row 1."""
    assert _whole(_check(b"", example)) == [
        (1, "U5", "error", None, None, "the file is empty: it has no header",
         f"start with `{','.join(GROUP_HEADER)}`"),
    ]  # fmt: skip
    assert _whole(_check(groups(), example)) == [
        (1, "U8", "error", None, None, "the file has a header and no rows",
         "add a row for each student and user of each group"),
    ]  # fmt: skip


def test_groups_csv_writes_each_member_sorted(example: Directory) -> None:
    """U5, U8 (c): groups_csv writes the header, then each group's students and then its users,
    one CRLF-ended row a member, groups sorted by school, name and year."""
    assert groups_csv(example) == (
        f"{','.join(GROUP_HEADER)}\r\n"
        f"Period 1,{ELEMENTARY},2026,All,1000000001,\r\n"
        f"Period 1,{ELEMENTARY},2026,All,1000000002,\r\n"
        f"Period 1,{ELEMENTARY},2026,All,,examiner@example.org\r\n"
        f"Period 1,{ELEMENTARY},2026,All,,teacher@example.org\r\n"
        f"Reading Intervention,{MIDDLE},2026,ELA,1000000004,\r\n"
        f"Reading Intervention,{MIDDLE},2026,ELA,,roster@example.org\r\n"
    )


def test_ssid_and_year_digits_are_ascii(example: Directory) -> None:
    """U5, U8 (d): an SSID of ten non-ASCII digits is no SSID (no leading zero was lost), one of
    nine is told to keep its zeros, and a year of full-width digits is no year."""
    v = _check(
        groups(
            _row("١٠٠٠٠٠٠٠٠١", ""),
            _row("١٠٠٠٠٠٠٠١", ""),
            _row("1000000001", "", year="２０２６"),
        ),
        example,
    )
    assert [(p.row, p.rule, p.column, p.fix) for p in v.problems] == [
        (2, "U5", "student_ssid", None),
        (
            3,
            "U5",
            "student_ssid",
            "a spreadsheet may have dropped leading zeros: format the column as Text",
        ),
        (4, "U8", "school_year", "write the year the school year ends, such as `2026`"),
    ]


def test_a_group_over_200_ssid_rows_is_one_error(example: Directory) -> None:
    """U8 (a): the 201st SSID row of a group is the one error; later rows add none."""
    rows = [_row(f"{1_100_000_000 + i}", "") for i in range(203)]
    [p] = _check(groups(*rows), example).errors
    assert (p.row, p.rule, p.column, p.value, p.message, p.fix) == (
        202, "U8", "student_ssid", "1100000200",
        "group `Period 2` has more than 200 rows with an SSID",
        "split the group into groups of at most 200 students",
    )  # fmt: skip


def test_a_denied_assignment_is_one_error_a_group_and_login(example: Directory) -> None:
    """V3: a login that may not be assigned a group is reported on its first row for that group
    (new or existing), whatever the case of the login on later rows."""
    login = "valley.teacher@sample.org"
    v = _check(
        groups(
            _row("", login, name="New"),
            _row("", login, name="New"),
            _row("", login, name="Period 1"),
            _row("", login.title(), name="Period 1"),
        ),
        example,
    )
    assert [(p.row, p.rule, p.value) for p in v.problems] == [(2, "V3", login), (4, "V3", login)]


def test_a_group_request_decide_denies_is_an_error(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """V3: a group whose ``create_group`` or ``edit_group`` is denied is an error on its first
    row under the denial's rule, and its logins are not assigned (one answer on every path)."""
    from caaspp_authz.decision import Action, Decision, decide

    real = decide

    def deny_groups(user: Any, action: Action, resource: Any) -> Decision:
        if action in (Action.CREATE_GROUP, Action.EDIT_GROUP):
            return Decision(False, ("V9",), "no groups today", "ask tomorrow")
        return real(user, action, resource)

    monkeypatch.setattr("caaspp_authz.uploads.groups.decide", deny_groups)
    v = _check(
        groups(
            _row(name="Period 1"), _row("1000000002", "valley.teacher@sample.org", name="Period 1")
        ),
        example,
    )
    assert [(p.row, p.rule, p.column, p.value, p.message, p.fix) for p in v.problems] == [
        (2, "V9", "group_name", "Period 1", "no groups today", "ask tomorrow")
    ]
    monkeypatch.setattr(
        "caaspp_authz.uploads.groups.decide",
        lambda u, a, r: Decision(False, (), "no") if a is Action.CREATE_GROUP else real(u, a, r),
    )
    [p] = _check(groups(_row(name="New")), example).problems
    assert (p.rule, p.message) == ("V3", "no")


def test_groups_that_come_back_within_a_school_and_after_one(example: Directory) -> None:
    """U8 (c): a group whose rows come back after a later group of its school is an error, and
    so is the group a school's rows ended with when the school comes back to it."""
    within = _check(
        groups(
            _row("1000000001", "", name="G1"),
            _row("1000000001", "", name="G2"),
            _row("1000000001", "", name="G3"),
            _row("1000000002", "", name="G2"),
        ),
        example,
    )
    assert [(p.row, p.rule, p.column) for p in within.errors] == [(5, "U8", "group_name")]
    back = _check(
        groups(
            _row("1000000001", "", name="G1"),
            _row("1000000001", "", name="G2"),
            _row("1000000004", "", name="X", school=MIDDLE),
            _row("1000000002", "", name="G1"),
            _row("1000000002", "", name="G2"),
        ),
        example,
        COORDINATOR,
    )
    assert [(p.row, p.rule, p.column) for p in back.errors] == [
        (5, "U8", "school_natural_id"),
        (6, "U8", "group_name"),
    ]


def test_blank_subjects_take_the_groups_subject(example: Directory) -> None:
    """U8 (b): a group whose first rows have a blank subject takes the subject of a later row;
    a group whose subjects are all blank is `All`; a later subject that differs is an error
    naming the row that gave the subject."""
    data = groups(
        _row("1000000001", "", name="A", subject=""),
        _row("1000000002", "", name="A", subject="math"),
        _row("1000000003", "", name="B", subject=""),
    )
    result = apply_groups(data, example, uploader=SITE)
    subjects = {k.name: g.subject for k, g in result.directory.groups.items() if k.name in "AB"}
    assert subjects == {"A": "Math", "B": "All"}
    v = _check(
        groups(
            _row("1000000001", "", name="A", subject=""),
            _row("1000000002", "", name="A", subject="Math"),
            _row("1000000003", "", name="A", subject="ELA"),
        ),
        example,
    )
    [p] = v.problems
    assert (p.row, p.rule, p.value, p.fix) == (4, "U8", "ELA", "write `Math`")
    # the row that gave the subject, not the group's first row, whose subject was blank
    assert (
        p.message
        == "group `A` has subject `Math` on row 3 and `ELA` here; a group has one subject"
    )


def test_assignments_to_held_groups_are_reported_as_read(example: Directory) -> None:
    """V3: as the file is read, a denied assignment to a group the directory holds is reported
    on its row at once; only assignments to the file's new groups come last."""
    login = "valley.teacher@sample.org"
    found = iter_group_problems(
        groups(
            _row("", login, name="New"),
            _row("", login, name="Period 1"),
            _row("1000000001", "", year="2013"),
        ),
        example,
        uploader=SITE,
    )
    assert [(p.row, p.rule) for p in found] == [(3, "V3"), (4, "U8"), (2, "V3")]


def test_new_group_assigned_to_a_multi_role_account() -> None:
    """V3, E7: under multi-role, a new group of the file may be assigned to an account holding
    two roles at its school (the assignment is decided under the directory's rule set)."""
    data = example_mapping()
    data["rule_set"] = "multi-role"
    teacher = next(a for a in data["accounts"] if a["email"] == "teacher@example.org")
    teacher["roles"].append({"role": "Educator—Roster", "org": ELEMENTARY})
    directory = load_directory(data)
    v = _check(groups(_row("", "teacher@example.org", name="New")), directory)
    assert v.problems == ()


def test_an_assignment_decide_denies_is_an_error_under_its_rule(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """V3: a login whose ``assign_group`` is denied is an error on its row under the denial's
    first rule, or V3 when the denial names none, for a held group and a new one alike."""
    from caaspp_authz.decision import Action, Decision, decide

    def deny(user: Any, action: Action, resource: Any) -> Decision:
        if action is Action.ASSIGN_GROUP:
            rules = ("V9", "V3") if resource.to == "teacher@example.org" else ()
            return Decision(False, rules, f"not {resource.to}", "fix it")
        return decide(user, action, resource)

    monkeypatch.setattr("caaspp_authz.uploads.groups.decide", deny)
    v = _check(
        groups(
            _row("", "teacher@example.org", name="Period 1"),
            _row("", "examiner@example.org", name="Period 1"),
            _row("", "teacher@example.org", name="New"),
            _row("", "examiner@example.org", name="New"),
        ),
        example,
    )
    assert [(p.row, p.rule, p.column, p.value, p.message, p.fix) for p in v.problems] == [
        (2, "V9", "group_user_login", "teacher@example.org", "not teacher@example.org", "fix it"),
        (
            3,
            "V3",
            "group_user_login",
            "examiner@example.org",
            "not examiner@example.org",
            "fix it",
        ),
        (4, "V9", "group_user_login", "teacher@example.org", "not teacher@example.org", "fix it"),
        (
            5,
            "V3",
            "group_user_login",
            "examiner@example.org",
            "not examiner@example.org",
            "fix it",
        ),
    ]


def test_applied_groups_report_every_member_change(example: Directory) -> None:
    """U5: applying a group file replaces each held group's members and creates the new ones;
    the report names each student and user that joined or left, with its group; validation
    says the file is a group file."""
    data = groups(
        _row("1000000001", "", name="Period 1"),
        _row("1000000003", "interim@example.org", name="Period 1"),
        _row("1000000002", "teacher@example.org", name="New", subject="ela"),
    )
    assert _check(data, example).kind == "groups"
    result = apply_groups(data, example, uploader=SITE)
    period = GroupKey(CDSCode(ELEMENTARY), 2026, "Period 1")
    new = GroupKey(CDSCode(ELEMENTARY), 2026, "New")
    c = result.changes
    assert (c.groups_created, c.groups_replaced) == ((new,), (period,))
    assert [(m.group, m.kind, m.member) for m in c.members_added] == [
        (period, "student", "1000000003"),
        (period, "user", "interim@example.org"),
        (new, "student", "1000000002"),
        (new, "user", "teacher@example.org"),
    ]
    assert [(m.group, m.kind, m.member) for m in c.members_removed] == [
        (period, "student", "1000000002"),
        (period, "user", "examiner@example.org"),
        (period, "user", "teacher@example.org"),
    ]
    assert result.directory.group(new) == Group(
        new, "ELA", frozenset({"1000000002"}), frozenset({Email("teacher@example.org")})
    )
