"""Tests for reading the CDE public schools file into organizations."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from caaspp_authz.cde import CdeResult, cde_directory, read_cde
from caaspp_authz.errors import DirectoryError, InvalidCDSCode, Problem, Severity
from caaspp_authz.orgs import parse_cds as _parse_cds

SAMPLE = Path(__file__).parent.parent / "examples" / "cde_pubschls_sample.txt"

HEADER = (
    "CDSCode",
    "NCESDist",
    "StatusType",
    "County",
    "District",
    "School",
    "Charter",
    "CharterNum",
    "FundingType",
    "OpenDate",
)

DISTRICT = ("19991010000000", "0699101", "Active", "Los Angeles", "Arroyo Vista Unified", "")


def _row(
    cds: str,
    school: str = "",
    *,
    status: str = "Active",
    district: str = "Arroyo Vista Unified",
    charter: str = "N",
    funding: str = "",
) -> dict[str, str]:
    return {
        "CDSCode": cds,
        "NCESDist": "0699101",
        "StatusType": status,
        "County": "Los Angeles",
        "District": district,
        "School": school,
        "Charter": charter,
        "CharterNum": "1498" if charter == "Y" else "",
        "FundingType": funding,
        "OpenDate": "2001-09-04",
    }


def _tsv(rows: list[dict[str, str]], header: tuple[str, ...] = HEADER, eol: str = "\n") -> str:
    lines = ["\t".join(header), *("\t".join(row[name] for name in header) for row in rows)]
    return eol.join(lines) + eol


def _read(text: str, *, include_closed: bool = False) -> CdeResult:
    return read_cde(io.StringIO(text), include_closed=include_closed)


def _by_cds(result: CdeResult) -> dict[str, dict[str, str]]:
    return {org["cds"]: org for org in result.organizations}


def _only(problems: tuple[Problem, ...]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


BASIC = [
    _row("19991010000000"),
    _row("19991016100001", "Arroyo Vista Elementary"),
]


def test_sample_loads_to_expected_organizations() -> None:
    """The shipped sample yields its LEAs and schools, each school under its LEA (O1, O2, O3)."""
    result = read_cde(SAMPLE)
    assert result.organizations == (
        {"cds": "19101990000000", "name": "Los Angeles County Office of Education"},
        {"cds": "19101991996011", "name": "Pathways Community Day", "lea": "19101990000000"},
        {"cds": "19991010000000", "name": "Arroyo Vista Unified"},
        {"cds": "19991010112001", "name": "Arroyo Vista Arts Charter", "lea": "19991010000000"},
        {"cds": "19991010112002", "name": "Foothill STEM Academy", "level": "lea"},
        {"cds": "19991011990001", "name": "Arroyo Vista High", "lea": "19991010000000"},
        {"cds": "19991016100001", "name": "Arroyo Vista Elementary", "lea": "19991010000000"},
        {"cds": "19991016100002", "name": "Los Niños Elementary", "lea": "19991010000000"},
        {"cds": "19991020000000", "name": "Sierra Mesa Elementary"},
        {"cds": "19991020112011", "name": "Sierra Mesa Learning Center", "lea": "19991020000000"},
        {"cds": "19991026100011", "name": "Mesa Verde Elementary", "lea": "19991020000000"},
        {"cds": "19991026100012", "name": "Escuela Bilingüe Cañada", "lea": "19991020000000"},
        {"cds": "19991026100013", "name": "Sycamore Grove Middle", "lea": "19991020000000"},
    )
    assert not result.has_errors
    assert [(p.row, p.value) for p in result.problems] == [(7, "Closed"), (15, "Merged")]


def test_sample_opens_as_binary_file() -> None:
    """A binary stream of the sample reads the same as its path (O1)."""
    with SAMPLE.open("rb") as file:
        assert read_cde(file) == read_cde(str(SAMPLE))


def test_district_row_is_lea_named_by_district() -> None:
    """A code ending in 0000000 is an LEA named by the District column (O2)."""
    result = _read(_tsv(BASIC))
    assert _by_cds(result)["19991010000000"] == {
        "cds": "19991010000000",
        "name": "Arroyo Vista Unified",
    }
    assert _by_cds(result)["19991016100001"]["lea"] == "19991010000000"
    assert result.problems == ()


def test_closed_school_left_out_with_warning() -> None:
    """A closed school is no organization, reported as a warning with row, code and status (O1)."""
    result = _read(_tsv([*BASIC, _row("19991016100003", "Canyon Oaks", status="Closed")]))
    assert "19991016100003" not in _by_cds(result)
    problem = _only(result.problems)
    assert problem.severity is Severity.WARNING
    assert (problem.rule, problem.row, problem.column, problem.value) == (
        "O1",
        4,
        "StatusType",
        "Closed",
    )
    assert "`19991016100003`" in problem.message
    assert "`Closed`" in problem.message


def test_closed_and_merged_included_on_request() -> None:
    """With include_closed, closed and merged schools are kept and nothing is reported (O1)."""
    rows = [
        *BASIC,
        _row("19991016100003", "Canyon Oaks", status="Closed"),
        _row("19991016100004", "Old Mill", status="Merged"),
    ]
    result = _read(_tsv(rows), include_closed=True)
    assert {"19991016100003", "19991016100004"} <= _by_cds(result).keys()
    assert result.problems == ()


def test_pending_school_is_kept() -> None:
    """A pending school already has its code and is an organization (O1)."""
    result = _read(_tsv([*BASIC, _row("19991016100005", "New Site", status="Pending")]))
    assert "19991016100005" in _by_cds(result)
    assert result.problems == ()


def test_unknown_status_is_an_error() -> None:
    """A status none of Active, Pending, Closed, Merged leaves the row out as an error (O1)."""
    result = _read(_tsv([*BASIC, _row("19991016100005", "Odd", status="Retired")]))
    assert "19991016100005" not in _by_cds(result)
    problem = _only(result.problems)
    assert problem.is_error
    assert (problem.column, problem.value) == ("StatusType", "Retired")


def test_direct_funded_charter_is_own_lea() -> None:
    """A directly funded charter becomes an LEA of its own with a school code (O3)."""
    rows = [
        *BASIC,
        _row("19991010112002", "Foothill STEM", charter="Y", funding="Directly funded"),
    ]
    result = _read(_tsv(rows))
    assert _by_cds(result)["19991010112002"] == {
        "cds": "19991010112002",
        "name": "Foothill STEM",
        "level": "lea",
    }
    assert result.problems == ()


def test_direct_funded_charter_needs_no_district_row() -> None:
    """A direct-funded charter is an LEA, so its district's row may be absent (O3)."""
    rows = [_row("19991010112002", "Foothill STEM", charter="Y", funding="Directly funded")]
    result = _read(_tsv(rows))
    assert [org["cds"] for org in result.organizations] == ["19991010112002"]
    assert result.problems == ()


def test_locally_funded_charter_is_school_under_district() -> None:
    """A locally funded charter is a school of the district that granted its charter (O3)."""
    rows = [*BASIC, _row("19991010112001", "Arts Charter", charter="Y", funding="Locally funded")]
    result = _read(_tsv(rows))
    assert _by_cds(result)["19991010112001"] == {
        "cds": "19991010112001",
        "name": "Arts Charter",
        "lea": "19991010000000",
    }
    assert result.problems == ()


def test_charter_without_funding_type_is_school_with_warning() -> None:
    """A charter with no funding type stays a school under its district, with a warning (O3)."""
    rows = [*BASIC, _row("19991010112003", "Unclear Charter", charter="Y", funding="")]
    result = _read(_tsv(rows))
    assert _by_cds(result)["19991010112003"]["lea"] == "19991010000000"
    problem = _only(result.problems)
    assert (problem.severity, problem.column) == (Severity.WARNING, "FundingType")


def test_not_in_funding_model_charter_is_school() -> None:
    """A charter outside the charter funding model is a school under its district (O3)."""
    rows = [
        *BASIC,
        _row("19991010112004", "Court Charter", charter="Y", funding="Not in CS funding model"),
    ]
    result = _read(_tsv(rows))
    assert _by_cds(result)["19991010112004"]["lea"] == "19991010000000"
    assert result.problems == ()


def test_state_rows_are_skipped() -> None:
    """County 00 rows are the State, which is implicit and no organization (O3)."""
    state = _row("00000000000000", district="California Department of Education")
    result = _read(_tsv([state, *BASIC]))
    assert "00000000000000" not in _by_cds(result)
    assert result.problems == ()


def test_columns_in_another_order() -> None:
    """Columns are found by header name, in any order and case (O2)."""
    header = tuple(reversed(HEADER))
    text = _tsv(BASIC, header).replace("CDSCode", "cdscode", 1)
    assert _read(text).organizations == _read(_tsv(BASIC)).organizations


def test_missing_column_is_reported() -> None:
    """A header without a column the reader needs yields no organizations and an error (O2)."""
    header = tuple(name for name in HEADER if name != "FundingType")
    result = _read(_tsv(BASIC, header))
    assert result.organizations == ()
    problem = _only(result.problems)
    assert (problem.row, problem.column) == (1, "FundingType")


def test_duplicate_column_is_reported() -> None:
    """A header naming a needed column twice is refused rather than guessed (O2)."""
    text = _tsv(BASIC).replace("NCESDist", "School", 1)
    result = _read(text)
    assert result.organizations == ()
    assert _only(result.problems).column == "School"


def test_empty_file_is_reported() -> None:
    """An empty file is an error, not an empty directory (O2)."""
    result = _read("")
    assert result.organizations == ()
    assert _only(result.problems).is_error


def test_cp1252_bytes() -> None:
    """A Windows-1252 file decodes with its accented names intact (O1)."""
    rows = [*BASIC, _row("19991016100002", "Los Niños Elementary")]
    result = read_cde(io.BytesIO(_tsv(rows).encode("cp1252")))
    assert _by_cds(result)["19991016100002"]["name"] == "Los Niños Elementary"


def test_utf8_with_byte_order_mark() -> None:
    """A UTF-8 file with a byte-order mark still finds its first column (O2)."""
    rows = [*BASIC, _row("19991016100002", "Los Niños Elementary")]
    result = read_cde(io.BytesIO(_tsv(rows).encode("utf-8-sig")))
    assert _by_cds(result)["19991016100002"]["name"] == "Los Niños Elementary"
    assert result.problems == ()


def test_undecodable_bytes_are_reported() -> None:
    """Bytes that are neither UTF-8 nor Windows-1252 are an error, not mangled names (O2)."""
    result = read_cde(io.BytesIO(_tsv(BASIC).encode() + b"\x81\x8d"))
    assert result.organizations == ()
    assert _only(result.problems).is_error


def test_crlf_line_ends() -> None:
    """CRLF line ends read like LF, with no carriage return left in names (O1)."""
    crlf = read_cde(io.BytesIO(_tsv(BASIC, eol="\r\n").encode()))
    assert crlf == _read(_tsv(BASIC))


def test_path_source(tmp_path: Path) -> None:
    """A path reads like the open file (O1)."""
    path = tmp_path / "pubschls.txt"
    path.write_text(_tsv(BASIC), encoding="utf-8")
    assert read_cde(path) == _read(_tsv(BASIC))


def test_mangled_code_is_an_error() -> None:
    """A code in scientific notation is left out with row, column, value and rule (O5)."""
    result = _read(_tsv([*BASIC, _row("1.99910E+13", "Lost Digits")]))
    assert len(result.organizations) == 2
    problem = _only(result.problems)
    assert (problem.rule, problem.row, problem.column, problem.value) == (
        "O5",
        4,
        "CDSCode",
        "1.99910E+13",
    )
    assert "scientific notation" in problem.message


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("1.2408E+12", "scientific notation"),
        ("19991010000000.0", "decimal point"),
        ("9991010000000", "leading zero"),
        ("199910100000001", "15 digits"),
        ("1999101000000X", "not 14 digits"),
        ("١٩٩٩١٠١٠٠٠٠٠٠٠", "not 14 digits"),
        ("  ", "empty"),
    ],
)
def test_parse_cds_names_likely_cause(text: str, cause: str) -> None:
    """A malformed CDS code raises an error naming its likely cause (O5)."""
    with pytest.raises(InvalidCDSCode, match=cause) as caught:
        _parse_cds(text)
    assert caught.value.rule == "O5"


def test_parse_cds_strips_spaces() -> None:
    """A valid code with surrounding spaces is accepted as its 14 digits (O2)."""
    assert _parse_cds(" 19991010000000 ") == "19991010000000"


def test_school_without_district_row() -> None:
    """A school whose LEA has no row is left out, naming the school and missing LEA (O3)."""
    result = _read(_tsv([_row("19991026100011", "Mesa Verde Elementary")]))
    assert result.organizations == ()
    problem = _only(result.problems)
    assert (problem.rule, problem.row, problem.value) == ("O3", 2, "19991026100011")
    assert "`19991026100011`" in problem.message
    assert "`19991020000000`" in problem.message


def test_school_under_closed_district() -> None:
    """An open school of a closed LEA is an error that says the LEA is closed (O3)."""
    rows = [_row("19991010000000", status="Closed"), BASIC[1]]
    result = _read(_tsv(rows))
    assert result.organizations == ()
    assert [p.severity for p in result.problems] == [Severity.WARNING, Severity.ERROR]
    assert "closed" in result.problems[1].message


def test_problems_are_in_file_order() -> None:
    """Problems found after reading every row still come in row order (O3)."""
    rows = [_row("19991026100011", "Orphan"), *BASIC, _row("1.99910E+13", "Lost Digits")]
    result = _read(_tsv(rows))
    assert [(p.row, p.rule) for p in result.problems] == [(2, "O3"), (5, "O5")]


def test_duplicate_code_is_an_error() -> None:
    """A code listed twice keeps its first row and reports the second (O3)."""
    result = _read(_tsv([*BASIC, _row("19991016100001", "Twin")]))
    assert _by_cds(result)["19991016100001"]["name"] == "Arroyo Vista Elementary"
    assert _only(result.problems).row == 4


def test_school_without_name_is_an_error() -> None:
    """A school row with no name (or the export's `No Data`) is left out as an error (O2)."""
    result = _read(_tsv([*BASIC, _row("19991016100009", "No Data")]))
    assert "19991016100009" not in _by_cds(result)
    assert _only(result.problems).column == "School"


def test_blank_lines_and_short_rows() -> None:
    """Blank lines are skipped; a row cut short reads its missing fields as empty (O1)."""
    text = _tsv(BASIC) + "\n\t\t\n19991016100007\n"
    result = _read(text)
    assert len(result.organizations) == 2
    assert _only(result.problems).row == 6


def test_cde_directory_is_complete() -> None:
    """The directory mapping carries the organizations and empty record lists (O1)."""
    directory = cde_directory(_read(_tsv(BASIC)))
    assert directory == {
        "format": 1,
        "rule_set": "one-role-per-email",
        "organizations": [
            {"cds": "19991010000000", "name": "Arroyo Vista Unified"},
            {"cds": "19991016100001", "name": "Arroyo Vista Elementary", "lea": "19991010000000"},
        ],
        "accounts": [],
        "students": [],
        "groups": [],
        "custom_groups": [],
    }


def test_cde_directory_refuses_errors() -> None:
    """A result with errors is refused whole, with every problem carried (O3)."""
    result = _read(_tsv([_row("19991026100011", "Mesa Verde Elementary")]))
    with pytest.raises(DirectoryError) as caught:
        cde_directory(result)
    assert caught.value.problems == result.problems


# --- hostile and mistaken files: bounded memory, clear errors (docs/security.md) ---------------


def test_huge_field_is_an_error_naming_row_and_column_not_a_csv_error() -> None:
    """O2: a 131,073-character name is an error on its row and column; the other rows load."""
    rows = [*BASIC, _row("19991016100002", "x" * 131_073)]
    result = _read(_tsv(rows))
    assert set(_by_cds(result)) == {"19991010000000", "19991016100001"}
    problem = _only(result.problems)
    assert (problem.row, problem.column, problem.is_error) == (4, "School", True)
    assert "131073 characters" in problem.message
    assert problem.value is not None
    assert len(problem.value) < 120


def test_line_longer_than_the_bound_is_skipped_in_bounded_memory() -> None:
    """O2: a line past MAX_LINE is an error naming its row and the column at the cut."""
    from caaspp_authz.cde import MAX_LINE

    rows = [_row("19991010000000"), _row("19991016100001", "y" * (MAX_LINE + 10)), BASIC[1]]
    text = _tsv(rows).replace("\t" + "y" * (MAX_LINE + 10), "\t" + "y" * (MAX_LINE + 10), 1)
    for result in (_read(text), read_cde(io.BytesIO(text.encode()))):
        assert set(_by_cds(result)) == {"19991010000000", "19991016100001"}
        problem = _only(tuple(p for p in result.problems if p.row == 3))
        assert (problem.column, problem.is_error) == ("School", True)
        assert len(str(problem)) < 300


def test_file_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    """O2: reading a file with a 20 MB field holds far less than the file in memory."""
    import tracemalloc

    path = tmp_path / "pubschls.txt"
    path.write_text(_tsv([*BASIC, _row("19991016100002", "z" * 20_000_000)]), encoding="utf-8")
    tracemalloc.start()
    try:
        result = read_cde(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(result.organizations) == 2
    assert peak < 8_000_000, peak


def test_nul_character_in_a_name_is_refused() -> None:
    """O2: a NUL character in a name is an error on its row, not a name."""
    result = _read(_tsv([*BASIC, _row("19991016100002", "Bad\x00Name")]))
    assert "19991016100002" not in _by_cds(result)
    problem = _only(result.problems)
    assert (problem.row, problem.column) == (4, "School")
    assert "NUL" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_as_such(encoding: str) -> None:
    """O2: a UTF-16 file is called UTF-16 with the fix, not a file missing columns."""
    result = read_cde(io.BytesIO(_tsv(BASIC).encode(encoding)))
    problem = _only(result.problems)
    assert "UTF-16" in problem.message
    assert problem.fix is not None
    assert "UTF-8" in problem.fix
    assert result.organizations == ()


def test_excel_workbook_is_named_as_such() -> None:
    """O2: an Excel workbook (a zip file) is named, with the fix to export text."""
    result = read_cde(io.BytesIO(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40))
    assert "Excel workbook" in _only(result.problems).message


def test_mixed_encodings_are_refused() -> None:
    """O2: UTF-8 lines followed by a Windows-1252 line is an error, not mangled names."""
    data = _tsv([*BASIC, _row("19991016100002", "Niños")]).encode() + "Niños\n".encode("cp1252")
    result = read_cde(io.BytesIO(data))
    assert result.organizations == ()
    problem = _only(result.problems)
    assert "mixes UTF-8" in problem.message
    assert problem.row == 5


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", " =1"])
def test_formula_like_name_is_a_warning(name: str) -> None:
    """O2: a name a spreadsheet would run as a formula loads, with a warning on its row."""
    result = _read(_tsv([*BASIC, _row("19991016100002", name)]))
    assert "19991016100002" in _by_cds(result)
    problem = _only(result.problems)
    assert (problem.severity, problem.row, problem.column) == (Severity.WARNING, 4, "School")
    assert "formula" in problem.message
