"""The CERS student-group upload validator: one test a rule (U5, V3, O4, O5, V1)."""

from __future__ import annotations

from collections.abc import Sequence

from caaspp_authz import Directory, Severity
from caaspp_authz.uploads import GROUP_HEADER, Validation, validate_groups
from tests.conftest import EXAMPLES
from tests.uploadfiles import COORDINATOR, ELEMENTARY, LEA, MIDDLE, SITE, csv_bytes, groups


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
