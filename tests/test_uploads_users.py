"""The TOMS user upload validator: one test a rule (U1, U3, U4, U6, R2–R5, O4, O5, E1–E7, G3,
G6, G9)."""

from __future__ import annotations

import difflib
import os
from typing import Any, BinaryIO

import pytest

from caaspp_authz import Directory, Severity, load_directory, role
from caaspp_authz.uploads import (
    USER_HEADER,
    Source,
    Validation,
    iter_user_problems,
    users_csv,
    validate_users,
)
from tests import builders
from tests.conftest import EXAMPLES
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
    HIGH,
    LEA,
    MIDDLE,
    SITE,
    csv_bytes,
    example_mapping,
    multi_role,
    user_row,
    users,
)


def _check(data: bytes, directory: Directory, uploader: str = COORDINATOR) -> Validation:
    return validate_users(data, directory, uploader=uploader)


def _rules(v: Validation) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.rule, p.severity.value) for p in v.problems]


def test_example_file_is_valid(example: Directory) -> None:
    """The shipped example upload validates as the LEA CAASPP coordinator."""
    v = validate_users(EXAMPLES / "users_upload.csv", example, uploader=COORDINATOR)
    assert v.valid
    assert v.rows == 6


def test_example_errors_file_reports_each_mistake(example: Directory) -> None:
    """U2: the shipped file of mistakes reports each one, on its row, all at once."""
    v = validate_users(EXAMPLES / "users_upload_errors.csv", example, uploader=COORDINATOR)
    assert not v.valid
    assert _rules(v) == [
        (2, "O5", "error"),
        (3, "R4", "error"),
        (4, "R3", "warning"),
        (5, "E6", "error"),
        (7, "E5", "error"),
        (8, "E5", "error"),
    ]


def test_header_must_name_six_columns_in_order(example: Directory) -> None:
    """U1: a header out of order is an error on row 1 naming the expected column."""
    header = list(USER_HEADER)
    header[2], header[3] = header[3], header[2]
    v = _check(csv_bytes([user_row()], header=header), example)
    assert {(p.row, p.rule, p.column) for p in v.problems} == {
        (1, "U1", "CDS Code"),
        (1, "U1", "E-mail Address"),
    }


def test_header_matches_case_insensitively(example: Directory) -> None:
    """U1: header names match whatever their case."""
    header = [h.upper() for h in USER_HEADER]
    assert _check(csv_bytes([user_row()], header=header), example).problems == ()


def test_header_missing_and_extra_columns(example: Directory) -> None:
    """U1: a missing column and a seventh column are both errors."""
    short = _check(csv_bytes([], header=USER_HEADER[:5]), example)
    assert [(p.rule, p.column) for p in short.problems] == [("U1", "Role in Organization")]
    long = _check(csv_bytes([], header=[*USER_HEADER, "Fax"]), example)
    assert [(p.rule, p.value) for p in long.problems] == [("U1", "Fax")]


def test_every_field_is_required(example: Directory) -> None:
    """U1: an empty first name and an empty phone are each an error with the column."""
    v = _check(users(user_row(first=" ", phone="")), example)
    assert [(p.row, p.rule, p.column) for p in v.problems] == [
        (2, "U1", "First Name"),
        (2, "U1", "Telephone Number"),
    ]


def test_a_comma_in_an_unquoted_field_breaks_the_record(example: Directory) -> None:
    """U3: a row with seven fields is one error naming the likely cause."""
    data = (
        users() + b"Ann,Lee,Jr.," + MIDDLE.encode() + b",a@example.org,213,Educator - Roster\r\n"
    )
    v = _check(data, example)
    assert [(p.row, p.rule) for p in v.problems] == [(2, "U3")]
    assert v.problems[0].fix is not None
    assert "double quotes" in v.problems[0].fix


def test_quoted_comma_is_accepted(example: Directory) -> None:
    """U3: a quoted field with a comma inside is one field."""
    assert _check(users(user_row(last="Lee, Jr.")), example).problems == ()


def test_formula_values_are_warned(example: Directory) -> None:
    """U3: `=HYPERLINK(...)` and a leading `+ - @` in name or phone fields are warnings."""
    v = _check(
        users(
            user_row("a1@example.org", first='=HYPERLINK("http://x","y")'),
            user_row("a2@example.org", last="@SUM(A1)"),
            user_row("a3@example.org", phone="+1 213 555 0100"),
            user_row("a4@example.org", first="-Ann"),
        ),
        example,
    )
    assert v.valid
    assert [(p.row, p.rule, p.column) for p in v.problems] == [
        (2, "U3", "First Name"),
        (3, "U3", "Last Name"),
        (4, "U3", "Telephone Number"),
        (5, "U3", "First Name"),
    ]


def test_role_spelled_any_listed_way(example: Directory) -> None:
    """R3: the hyphen, en dash and em dash spellings of an Educator role are all exact."""
    rows = [
        user_row(f"p{i}@example.org", role=spelling)
        for i, spelling in enumerate(
            ["Educator—Roster", "Educator - Roster", "Educator – Roster"], start=1
        )
    ]
    assert _check(users(*rows), example).problems == ()


def test_legacy_name_is_a_warning_naming_the_current_role(example: Directory) -> None:
    """R3, R4: a legacy name is accepted with a warning that names the current role."""
    v = _check(users(user_row(role="Test Administrator")), example)
    assert v.valid
    [p] = v.problems
    assert (p.rule, p.severity) == ("R3", Severity.WARNING)
    assert "CAASPP Test Administrator" in p.message


def test_role_typo_is_an_error_with_the_closest_role(example: Directory) -> None:
    """R4: a near miss (case, spaces, typo) is an error whose fix is the closest spelling."""
    for text, closest in [
        ("caaspp test administrator", "CAASPP Test Administrator"),
        ("CAASPP  Test Administrator", "CAASPP Test Administrator"),
        ("Educator Roster", "Educator—Roster"),
    ]:
        [p] = _check(users(user_row(role=text)), example).problems
        assert (p.rule, p.column, p.value) == ("R4", "Role in Organization", text)
        assert p.fix is not None
        assert role(p.fix.removeprefix("write `").removesuffix("`")).name == closest


def test_a_role_misspelled_on_many_rows_is_searched_for_once(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R4: every row with the same misspelled role gets the same fix, from one search."""
    calls: list[str] = []
    search = difflib.get_close_matches

    def counted(word: str, *args: Any, **kwargs: Any) -> list[str]:
        calls.append(word)
        return search(word, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counted)
    misspelled = "CAASPP Test Adminstrator (misspelled on every row)"
    rows = [user_row(email=f"examiner{i}@example.org", role=misspelled) for i in range(40)]
    problems = _check(users(*rows), example).problems
    assert [p.rule for p in problems] == ["R4"] * 40
    assert {p.fix for p in problems} == {"write `CAASPP Test Administrator`"}
    assert calls.count(" ".join(misspelled.lower().split())) <= 1


def test_cds_in_scientific_notation_says_digits_are_lost(example: Directory) -> None:
    """O5: a CDS code a spreadsheet made scientific is an error saying to re-enter it as text."""
    [p] = _check(users(user_row(cds="1.96473E+13")), example).problems
    assert (p.rule, p.column, p.value) == ("O5", "CDS Code", "1.96473E+13")
    assert "scientific notation" in p.message
    assert p.fix is not None
    assert "text" in p.fix


def test_cds_lost_leading_zero_suggests_the_code(example: Directory) -> None:
    """O5: a 13-digit code is an error whose fix restores the zero."""
    [p] = _check(users(user_row(cds="1611921234567")), example).problems
    assert p.rule == "O5"
    assert p.fix == "write `01611921234567`"


def test_unknown_organization(example: Directory) -> None:
    """O4: a well-formed CDS code the directory does not hold is an error."""
    [p] = _check(users(user_row(cds="19647339999999")), example).problems
    assert (p.rule, p.column) == ("O4", "CDS Code")


def test_email_syntax(example: Directory) -> None:
    """E1: a text that is not an e-mail address is an error."""
    [p] = _check(users(user_row("not-an-address")), example).problems
    assert (p.rule, p.column) == ("E1", "E-mail Address")


def test_email_extension_at_most_ten(example: Directory) -> None:
    """E6: twelve characters after the last dot is an error; ten is fine."""
    [p] = _check(users(user_row("a@district.organization")), example).problems
    assert p.rule == "E6"
    assert _check(users(user_row("a@district.california")), example).problems == ()


def test_uploader_only_for_its_organizations(example: Directory) -> None:
    """G9: a site coordinator uploads for its own school only; not another school."""
    [p] = _check(users(user_row(cds=MIDDLE)), example, SITE).problems
    assert (p.rule, p.column) == ("G9", "CDS Code")
    assert _check(users(user_row(cds=ELEMENTARY)), example, SITE).problems == ()


def test_uploader_in_another_lea(example: Directory) -> None:
    """G9: an LEA coordinator may not upload users for another LEA's school."""
    [p] = _check(users(user_row(cds="01611921234567")), example).problems
    assert p.rule == "G9"


def test_uploader_may_grant_the_role_there(example: Directory) -> None:
    """G3: a site coordinator may not grant Educator—Test Site's peer Site ELPAC roles."""
    [p] = _check(
        users(user_row(role="ELPAC Test Examiner", cds=ELEMENTARY)), example, SITE
    ).problems
    assert (p.rule, p.column) == ("G3", "Role in Organization")


def test_role_at_the_wrong_level(example: Directory) -> None:
    """R2: a school role at an LEA is an error."""
    [p] = _check(users(user_row(cds=LEA)), example).problems
    assert p.rule == "R2"


def test_credential_role_is_attested_with_a_warning(example: Directory) -> None:
    """R5, U6: a row granting CAASPP Test Examiner is accepted with a warning naming R5."""
    v = _check(users(user_row(role="CAASPP Test Examiner")), example)
    assert v.valid
    assert _rules(v) == [(2, "R5", "warning")]


def test_two_rows_two_roles_one_email(example: Directory) -> None:
    """E5: two rows giving one e-mail two different roles do not validate."""
    v = _check(
        users(
            user_row("two@example.org", role="CAASPP Test Administrator", cds=MIDDLE),
            user_row("TWO@example.org", role="Educator—Roster", cds=HIGH),
        ),
        example,
    )
    assert _rules(v) == [(3, "E5", "error")]


def test_same_role_at_several_sites_is_fine(example: Directory) -> None:
    """E2: one e-mail may hold the same role at several sites."""
    v = _check(users(user_row(cds=MIDDLE), user_row(cds=HIGH), user_row(cds=ELEMENTARY)), example)
    assert v.problems == ()


def test_two_roles_one_site_suggests_the_highest(example: Directory) -> None:
    """E4, E5: two roles for one e-mail at one site name the highest as the fix."""
    v = _check(
        users(
            user_row("two@example.org", role="Educator—Roster", cds=MIDDLE),
            user_row("two@example.org", role="Educator—Test Site", cds=MIDDLE),
        ),
        example,
    )
    [p] = v.problems
    assert p.rule == "E5"
    assert p.fix == "keep only `Educator—Test Site`, the highest of them (E4)"


def test_seed_example_against_the_directory(example: Directory) -> None:
    """E5: an active Site CAASPP Coordinator at School B given a test administrator role at
    School A does not validate."""
    v = _check(users(user_row(SITE, cds=MIDDLE)), example)
    assert _rules(v) == [(2, "E5", "error")]


def test_override_in_the_same_organization_is_a_warning(example: Directory) -> None:
    """U4: a role previously assigned in that organization is overridden, with a warning."""
    v = _check(
        users(user_row("no.forms@example.org", role="Educator—Roster", cds=MIDDLE)), example
    )
    assert v.valid
    assert _rules(v) == [(2, "U4", "warning")]
    assert "CAASPP Test Administrator" in v.problems[0].message


def test_override_needs_governing_the_old_role(example: Directory) -> None:
    """G6, U4: replacing a role removes it, which needs the power to grant it there."""
    v = _check(
        users(user_row("site.elpac@example.org", role="Educator—Roster", cds=ELEMENTARY)), example
    )
    assert ("G6", "error") in {(p.rule, p.severity.value) for p in v.problems}


def test_same_role_again_is_no_override(example: Directory) -> None:
    """U4, E2: a row repeating a held role is neither an override nor a conflict."""
    row = user_row("teacher@example.org", role="CAASPP Test Administrator", cds=ELEMENTARY)
    assert _check(users(row), example).problems == ()


def test_multi_role_drops_e3_to_e5() -> None:
    """E7: under multi-role, two roles for one e-mail validate, in the file and against the
    directory."""
    directory = multi_role()
    v = _check(
        users(
            user_row("two@example.org", role="CAASPP Test Administrator", cds=MIDDLE),
            user_row("two@example.org", role="Educator—Roster", cds=HIGH),
            user_row(SITE, cds=MIDDLE),
        ),
        directory,
    )
    assert v.problems == ()


def test_multi_role_rows_replace_the_roles_held_at_their_site_only() -> None:
    """U4, E7: under multi-role, rows for an account at one of its sites replace the roles held
    there (a warning naming every role given there), and leave its roles at other sites."""
    data = example_mapping()
    data["rule_set"] = "multi-role"
    teacher = next(a for a in data["accounts"] if a["email"] == "teacher@example.org")
    teacher["roles"].append({"role": _TA, "org": MIDDLE})
    v = _check(
        users(
            user_row("teacher@example.org", _ER, MIDDLE),
            user_row("teacher@example.org", "IA Administrator Only", MIDDLE),
        ),
        load_directory(data),
    )
    assert _whole(v) == [
        (2, "U4", "warning", _ROLE, _ER,
         f"`teacher@example.org` holds `{_TA}` at `{MIDDLE}`; this row replaces it with "
         f"`{_ER}, IA Administrator Only`", None),
    ]  # fmt: skip


def test_empty_file(example: Directory) -> None:
    """U1: an empty file is one error: it has no header."""
    v = _check(b"", example)
    assert _rules(v) == [(1, "U1", "error")]


def test_header_only_is_valid_with_a_warning(example: Directory) -> None:
    """U1 (decision): a file with a header and no rows changes nothing; a warning says so."""
    v = _check(users(), example)
    assert v.valid
    assert _rules(v) == [(1, "U1", "warning")]


def test_streaming_yields_every_problem(example: Directory) -> None:
    """U2: the streaming validator yields the same problems as the collecting one."""
    data = (EXAMPLES / "users_upload_errors.csv").read_bytes()
    streamed = sorted(iter_user_problems(data, example, uploader=COORDINATOR), key=str)
    assert streamed == sorted(_check(data, example).problems, key=str)


def test_unknown_uploader_may_upload_nothing(example: Directory) -> None:
    """G9: an e-mail with no account is refused on every row."""
    v = _check(users(user_row()), example, "nobody@example.org")
    assert [p.rule for p in v.problems] == ["G9"]


def _whole(v: Validation) -> list[tuple[object, ...]]:
    return [
        (p.row, p.rule, p.severity.value, p.column, p.value, p.message, p.fix) for p in v.problems
    ]


_SCI = (
    "CDS code `1.96473E+13` is in scientific notation: a spreadsheet turned it into a number and "
    "its last digits are lost; re-enter the 14 digits with the column formatted as text"
)
_SCI_FIX = "re-enter the 14-digit code as text (format the column as Text before typing)"
_ROLE = "Role in Organization"
_TA = "CAASPP Test Administrator"
_ER = "Educator—Roster"
_KEEPS = (
    "keeps its own first name, last name, phone: `site.coordinator@example.org` may not edit the "
    "account, so this row changes only its roles"
)
_KEEPS_FIX = "ask whoever covers every role the account holds to change them (G8)"
_HEADER = ",".join(USER_HEADER)


def test_every_problem_of_a_row_whole(example: Directory) -> None:
    """U1, U3, O4, O5, R3, R4, R5, G3, G9, E1, E6: each problem a row can have on its own, with
    its row, rule, severity, column, value, message and fix."""
    v = _check(
        users(
            user_row("a1@example.org", cds="1.96473E+13"),
            user_row("a2@example.org", cds="1964733222222"),
            user_row("a3@example.org", cds="19647339999999"),
            user_row("a4@example.org", role="CAASPP Test Administrater"),
            user_row("a5@example.org", role="Zzzzzz"),
            user_row("a6@example.org", role="Test Administrator"),
            user_row("a7@example.org", cds="01611921234567"),
            user_row("a8@example.org", role="LEA ELPAC Coordinator", cds=LEA),
            user_row("a9@example.org", role="CAASPP Test Examiner"),
            ("", " ", MIDDLE, "b1@example.org", "", _TA),
            ("=x", "+y", MIDDLE, "b2@example.org", "-1", _TA),
            user_row("not an email"),
            user_row("b3@example.abcdefghijk"),
            user_row("", cds="", role=""),
        ),
        example,
    )
    assert v.rows == 14
    other = "01611921234567"
    assert _whole(v) == [
        (2, "O5", "error", "CDS Code", "1.96473E+13", _SCI, _SCI_FIX),
        (3, "O5", "error", "CDS Code", "1964733222222",
         "CDS code `1964733222222` has 13 digits, not 14: 1 leading zero(s) were probably lost; "
         "did you mean `01964733222222`?", "write `01964733222222`"),
        (4, "O4", "error", "CDS Code", "19647339999999",
         "organization `19647339999999` is not in the directory", None),
        (5, "R4", "error", _ROLE, "CAASPP Test Administrater",
         "`CAASPP Test Administrater` is not a role; did you mean `CAASPP Test Administrator`?",
         "write `CAASPP Test Administrator`"),
        (6, "R4", "error", _ROLE, "Zzzzzz", "`Zzzzzz` is not a role", None),
        (7, "R3", "warning", _ROLE, "Test Administrator",
         "`Test Administrator` is a legacy name of `CAASPP Test Administrator`",
         "write `CAASPP Test Administrator`"),
        (8, "G9", "error", "CDS Code", other,
         f"`{COORDINATOR}` may not upload users for `{other}`: `{COORDINATOR}` holds no "
         f"upload_users over `{other}`",
         f"needs a role carrying upload_users at `{other}` (or its LEA `01611920000000`)"),
        (9, "G3", "error", _ROLE, "LEA ELPAC Coordinator",
         f"`{COORDINATOR}` may not grant `LEA ELPAC Coordinator` at `{LEA}`",
         "ask a coordinator who may grant it there (see the grant matrix, G3)"),
        (10, "R5", "warning", _ROLE, "CAASPP Test Examiner",
         "`CAASPP Test Examiner` must be held by a licensed or credentialed employee: uploading "
         "this row attests the credential, and the account is recorded credentialed", None),
        (11, "U1", "error", "First Name", None, "`First Name` is empty", None),
        (11, "U1", "error", "Last Name", None, "`Last Name` is empty", None),
        (11, "U1", "error", "Telephone Number", None, "`Telephone Number` is empty", None),
        (12, "U3", "warning", "First Name", "=x",
         "`=x` starts with `=`: a spreadsheet that opens an export of it could run it as a "
         "formula", "remove the leading character"),
        (12, "U3", "warning", "Last Name", "+y",
         "`+y` starts with `+`: a spreadsheet that opens an export of it could run it as a "
         "formula", "remove the leading character"),
        (12, "U3", "warning", "Telephone Number", "-1",
         "`-1` starts with `-`: a spreadsheet that opens an export of it could run it as a "
         "formula", "remove the leading character"),
        (13, "E1", "error", "E-mail Address", "not an email",
         "`not an email` is not an e-mail address", None),
        (14, "E6", "error", "E-mail Address", "b3@example.abcdefghijk",
         "the part of `b3@example.abcdefghijk` after its last dot has 11 characters; TOMS allows "
         "at most 10", "use an address whose part after the last dot has at most 10 characters"),
        (15, "U1", "error", "CDS Code", None, "`CDS Code` is empty", None),
        (15, "U1", "error", "E-mail Address", None, "`E-mail Address` is empty", None),
        (15, "U1", "error", _ROLE, None, "`Role in Organization` is empty", None),
    ]  # fmt: skip


def test_every_problem_of_rows_for_one_email_whole(example: Directory) -> None:
    """E5 (E3, E4), U2: two roles for one e-mail in the file, at one organization (keep the
    highest) or two, with or without a usable code, and a repeated row, each whole."""
    v = _check(
        users(
            user_row("c1@example.org"),
            user_row("c1@example.org", role=_ER),
            user_row("c1@example.org", role=_ER, cds=HIGH),
            user_row("c1@example.org"),
            user_row("c2@example.org", cds="1.96473E+13"),
            user_row("c2@example.org", cds="1.96473E+13", role=_ER),
            user_row("teacher@example.org", cds=ELEMENTARY, first="Tia"),
            user_row("teacher@example.org", cds=ELEMENTARY, first="Tia"),
            user_row("teacher@example.org", cds=HIGH, role=_ER),
            user_row("roster@example.org", cds="1.96473E+13", role=_TA),
        ),
        example,
    )
    two = "here and `CAASPP Test Administrator` on row {}; one e-mail holds one role"
    e3 = "use a different e-mail address for each role (E3)"
    again = (
        "the row gives `{}` the role and organization row {} gives it: it adds nothing, and of "
        "the two rows' names and phone the last are taken"
    )
    assert _whole(v) == [
        (3, "E5", "error", _ROLE, _ER, f"`c1@example.org` is given `{_ER}` " + two.format(2),
         "keep only `CAASPP Test Administrator`, the highest of them (E4)"),
        (4, "E5", "error", _ROLE, _ER, f"`c1@example.org` is given `{_ER}` " + two.format(2), e3),
        (5, "U2", "warning", None, None, again.format("c1@example.org", 2),
         "remove the repeated row"),
        (6, "O5", "error", "CDS Code", "1.96473E+13", _SCI, _SCI_FIX),
        (7, "O5", "error", "CDS Code", "1.96473E+13", _SCI, _SCI_FIX),
        (7, "E5", "error", _ROLE, _ER, f"`c2@example.org` is given `{_ER}` " + two.format(6), e3),
        (9, "U2", "warning", None, None, again.format("teacher@example.org", 8),
         "remove the repeated row"),
        (10, "E5", "error", _ROLE, _ER,
         f"`teacher@example.org` is given `{_ER}` " + two.format(8), e3),
        (11, "O5", "error", "CDS Code", "1.96473E+13", _SCI, _SCI_FIX),
    ]  # fmt: skip


def test_every_problem_of_rows_for_existing_accounts_whole(example: Directory) -> None:
    """U4, U7, G6, G11, E5: what a site coordinator's rows for existing accounts find (names
    kept, a replacement, one it may not make, a reactivation it may not make), each whole."""
    v = _check(
        users(
            user_row("site.educator@example.org", "Educator - Test Site", ELEMENTARY),
            user_row("examiner@example.org", _TA, ELEMENTARY),
            user_row("site.elpac@example.org", _TA, ELEMENTARY),
            user_row("former.teacher@example.org", _TA, ELEMENTARY),
        ),
        example,
        SITE,
    )
    assert _whole(v) == [
        (2, "U7", "warning", "First Name", None, f"`site.educator@example.org` {_KEEPS}",
         _KEEPS_FIX),
        (3, "U4", "warning", _ROLE, _TA,
         f"`examiner@example.org` holds `CAASPP Test Examiner` at `{ELEMENTARY}`; this row "
         "replaces it with `CAASPP Test Administrator`", None),
        (4, "U7", "warning", "First Name", None, f"`site.elpac@example.org` {_KEEPS}", _KEEPS_FIX),
        (4, "G6", "error", _ROLE, _TA,
         f"`site.elpac@example.org` holds a role at `{ELEMENTARY}` that `{SITE}` may not "
         "remove, and this row would replace it",
         "a coordinator who governs that role there uploads this row, or removes the role first"),
        (5, "U7", "warning", "First Name", None, f"`former.teacher@example.org` {_KEEPS}",
         _KEEPS_FIX),
        (5, "G11", "error", "E-mail Address", "former.teacher@example.org",
         "this row would reactivate the inactive account `former.teacher@example.org`, and "
         f"`{SITE}` may not reactivate it: that needs authority over every role the account "
         "holds", "whoever covers every role the account holds uploads this row (G8), or use a "
         "different e-mail address"),
    ]  # fmt: skip


def test_e5_against_the_directory_and_u7_columns_whole(example: Directory) -> None:
    """E5, G6, U7: a role held elsewhere is named only to who may remove it; a kept name or
    phone is reported on the column of the first value kept."""
    [named] = _check(users(user_row("teacher@example.org", _ER, MIDDLE)), example).problems
    assert (named.row, named.rule, named.column, named.value, named.message, named.fix) == (
        2, "E5", "E-mail Address", "teacher@example.org",
        f"`teacher@example.org` already holds `CAASPP Test Administrator` at `{ELEMENTARY}`; one "
        f"e-mail holds one role, so it cannot also hold `{_ER}`",
        "use a different e-mail address for this role (E3)",
    )  # fmt: skip
    v = _check(users(user_row("roster@example.org", _TA, ELEMENTARY)), example, SITE)
    assert [(p.rule, p.message) for p in v.errors] == [
        ("E5", "`roster@example.org` already holds another role; one e-mail holds one role, so "
         f"it cannot also hold `{_TA}`"),
    ]  # fmt: skip
    account = example.account("site.educator@example.org")
    assert account is not None
    names = {"first": account.first_name, "last": account.last_name, "phone": account.phone}
    for changed, column, label in [
        ("last", "Last Name", "last name"),
        ("phone", "Telephone Number", "phone"),
    ]:
        row = user_row(
            "site.educator@example.org",
            "Educator - Test Site",
            ELEMENTARY,
            **{**names, changed: "9"},
        )
        [p] = _check(users(row), example, SITE).problems
        assert (p.rule, p.column, p.severity) == ("U7", column, Severity.WARNING)
        assert p.message == (
            f"`site.educator@example.org` keeps its own {label}: `{SITE}` may not edit the "
            "account, so this row changes only its roles"
        )


def test_header_problems_whole(example: Directory) -> None:
    """U1: an empty file, a missing column, a wrong one and an extra one, each whole; a header
    with no rows is a warning."""
    fix = f"the header is `{_HEADER}`"
    assert _whole(_check(b"", example)) == [
        (1, "U1", "error", None, None, "the file is empty: it has no header",
         f"start with `{_HEADER}`"),
    ]  # fmt: skip
    assert _whole(_check(csv_bytes([], header=USER_HEADER[:5]), example)) == [
        (1, "U1", "error", _ROLE, None, f"column `{_ROLE}` is missing from the header", fix),
    ]
    wrong = [*USER_HEADER[:2], "X", *USER_HEADER[3:], "Fax"]
    assert _whole(_check(csv_bytes([], header=wrong), example)) == [
        (1, "U1", "error", "CDS Code", "X", "column 3 of the header is `X`, not `CDS Code`", fix),
        (1, "U1", "error", None, "Fax", "the header has a column `Fax` after the 6 it takes", fix),
    ]
    assert _whole(_check(users(), example)) == [
        (1, "U1", "warning", None, None, "the file has a header and no rows", None),
    ]


def test_users_csv_writes_each_assignment_by_current_name(example: Directory) -> None:
    """U1, R3: users_csv writes the header, then one CRLF-ended row an assignment with the role's
    current name; an e-mail to exclude is matched whatever its case and surrounding spaces."""
    text = users_csv(example, exclude=[" CAASPP.Coordinator@Example.org "])
    lines = text.split("\r\n")
    assert lines[0] == ",".join(USER_HEADER)
    assert lines[1] == (
        "Ben,Ortiz,19647330000000,caaspp.secondary@example.org,213-555-0100,LEA CAASPP Coordinator"
    )
    assert lines[-1] == ""  # the last row ends with CRLF too
    assert len(lines) == 1 + 20 + 1  # every assignment but the excluded coordinator's
    assert "caaspp.coordinator@example.org" not in text
    assert f"{MIDDLE},site.educator@example.org,213-555-0100,Educator—Test Site" in text
    assert "caaspp.coordinator@example.org" in users_csv(example)


def test_an_upload_source_is_a_path_a_stream_or_bytes() -> None:
    """U1, U5: the public ``Source`` alias names what an upload is read from."""
    assert Source == str | os.PathLike[str] | BinaryIO | bytes


def test_values_echoed_are_cut_after_80_characters(example: Directory) -> None:
    """U2: a problem shows a value of up to 80 characters whole, and a longer one cut to 80 and
    an ellipsis, in its message and value alike."""
    for text, shown in [("X" * 80, "X" * 80), ("Y" * 81, "Y" * 80 + "…")]:
        header = [*USER_HEADER[:2], text, *USER_HEADER[3:]]
        [p] = _check(csv_bytes([], header=header), example).problems
        assert (p.message, p.value) == (
            f"column 3 of the header is `{shown}`, not `CDS Code`",
            shown,
        )


def test_header_names_are_matched_without_surrounding_spaces(example: Directory) -> None:
    """U1: a header name with spaces around it names its column."""
    header = [f" {h} " for h in USER_HEADER]
    assert _check(csv_bytes([user_row()], header=header), example).problems == ()


def test_width_problems_whole(example: Directory) -> None:
    """U3: a row with a field too many, with stray trailing commas, or with a field missing is
    one error naming the count, the row as read and the likely cause."""
    good = f"A,B,{MIDDLE},a@example.org,1,LS Data Entry"
    short = f"A,B,{MIDDLE},a@example.org,1"
    data = users() + f"Jr.,{good}\r\n{good},,\r\n{short}\r\n".encode()
    assert _whole(_check(data, example)) == [
        (2, "U3", "error", None, f"Jr.,{good}", "the row has 7 field(s), not 6",
         "a comma inside a field breaks the record: put the field in double quotes"),
        (3, "U3", "error", None, f"{good},,", "the row has 8 field(s), not 6",
         "the row ends with 2 comma(s) too many: remove the trailing comma(s)"),
        (4, "U3", "error", None, short, "the row has 5 field(s), not 6",
         "a field is missing: every row has a field for each column"),
    ]  # fmt: skip


def test_cds_code_with_a_decimal_point_says_to_enter_it_as_text(example: Directory) -> None:
    """O5, U3: a code a spreadsheet gave a decimal point is an error with the fix to re-enter
    it as text; a code of other characters has no fix."""
    v = _check(
        users(user_row(cds="19647332222222.0"), user_row("b@example.org", cds="1964733A222222")),
        example,
    )
    assert [(p.row, p.rule, p.fix) for p in v.problems] == [
        (2, "O5", "re-enter the 14-digit code as text (format the column as Text before typing)"),
        (3, "O5", None),
    ]


def test_bad_cds_code_against_roles_at_two_organizations_is_e5(example: Directory) -> None:
    """U2, E5: a row with an unusable code giving an account another role than the one it holds
    at two organizations is an E5 error (one row replaces roles at one organization only)."""
    data = example_mapping()
    teacher = next(a for a in data["accounts"] if a["email"] == "teacher@example.org")
    teacher["roles"].append({"role": _TA, "org": MIDDLE})
    directory = load_directory(data)
    v = _check(users(user_row("teacher@example.org", _ER, "1.96473E+13")), directory)
    assert [p.rule for p in v.problems] == ["O5", "E5"]
    assert _whole(v)[1:] == [
        (2, "E5", "error", "E-mail Address", "teacher@example.org",
         f"`teacher@example.org` already holds `{_TA}` at `{ELEMENTARY}`; one e-mail holds one "
         f"role, so it cannot also hold `{_ER}`",
         "use a different e-mail address for this role (E3)"),
    ]  # fmt: skip


def test_e5_names_the_role_kept_not_the_role_replaced(example: Directory) -> None:
    """E5, U4: a row replacing an account's role at one site while it keeps that role at
    another is an E5 error naming the role kept there, not the one replaced."""
    data = example_mapping()
    teacher = next(a for a in data["accounts"] if a["email"] == "teacher@example.org")
    teacher["roles"].append({"role": _TA, "org": MIDDLE})
    v = _check(users(user_row("teacher@example.org", _ER, ELEMENTARY)), load_directory(data))
    assert _whole(v) == [
        (2, "U4", "warning", _ROLE, _ER,
         f"`teacher@example.org` holds `{_TA}` at `{ELEMENTARY}`; this row replaces it with "
         f"`{_ER}`", None),
        (2, "E5", "error", "E-mail Address", "teacher@example.org",
         f"`teacher@example.org` already holds `{_TA}` at `{MIDDLE}`; one e-mail holds one "
         f"role, so it cannot also hold `{_ER}`",
         "use a different e-mail address for this role (E3)"),
    ]  # fmt: skip


def test_add_role_is_decided_for_each_accounts_own_state(example: Directory) -> None:
    """E5, G6, G9: an allowed grant for one account does not allow another account's: the
    account holding a role in another LEA, given another role here and there, is still an E5
    error on its first row (besides the G9 and G6 errors of its other row)."""
    valley = "valley.teacher@sample.org"
    there = "01611921234567"
    v = _check(
        users(
            user_row("examiner@example.org", "CAASPP Test Examiner", ELEMENTARY),
            user_row(valley, _ER, ELEMENTARY),
            user_row(valley, _ER, there),
        ),
        example,
    )
    assert [(p.row, p.rule) for p in v.problems] == [
        (2, "R5"), (3, "U7"), (3, "E5"), (4, "G9"), (4, "U7"), (4, "G6"),
    ]  # fmt: skip
    assert _whole(v)[2] == (
        3, "E5", "error", "E-mail Address", valley,
        f"`{valley}` already holds another role; one e-mail holds one role, so it cannot also "
        f"hold `{_ER}`", "use a different e-mail address for this role (E3)",
    )  # fmt: skip


def test_add_role_after_a_replacement_keeps_the_directorys_rule_set(example: Directory) -> None:
    """E5, E3, U4: a row replacing an account's role here while it keeps one in another LEA is
    decided, after the replacement, under the directory's one-role-per-email rules: E5."""
    valley = "valley.teacher@sample.org"
    data = example_mapping()
    account = next(a for a in data["accounts"] if a["email"] == valley)
    account["roles"].append({"role": _TA, "org": ELEMENTARY})
    v = _check(
        users(user_row(valley, _ER, ELEMENTARY), user_row(valley, _ER, "01611921234567")),
        load_directory(data),
    )
    assert [(p.row, p.rule) for p in v.problems] == [
        (2, "U7"), (2, "U4"), (2, "E5"), (3, "G9"), (3, "U7"), (3, "G6"),
    ]  # fmt: skip
    assert _whole(v)[2] == (
        2, "E5", "error", "E-mail Address", valley,
        f"`{valley}` already holds another role; one e-mail holds one role, so it cannot also "
        f"hold `{_ER}`", "use a different e-mail address for this role (E3)",
    )  # fmt: skip


def test_two_roles_for_an_existing_account_at_one_site_suggest_the_highest(
    example: Directory,
) -> None:
    """E5, E4: two rows giving an existing account two roles at one organization name the
    highest as the fix, as they do for a new e-mail."""
    v = _check(
        users(
            user_row("teacher@example.org", _TA, HIGH), user_row("teacher@example.org", _ER, HIGH)
        ),
        example,
    )
    assert _whole(v) == [
        (3, "E5", "error", _ROLE, _ER,
         f"`teacher@example.org` is given `{_ER}` here and `{_TA}` on row 2; one e-mail holds "
         "one role", f"keep only `{_TA}`, the highest of them (E4)"),
    ]  # fmt: skip
    # the other way round the file gives it first a role it does not hold: still the one E5
    v = _check(
        users(
            user_row("teacher@example.org", _ER, HIGH), user_row("teacher@example.org", _TA, HIGH)
        ),
        example,
    )
    assert _whole(v) == [
        (3, "E5", "error", _ROLE, _TA,
         f"`teacher@example.org` is given `{_TA}` here and `{_ER}` on row 2; one e-mail holds "
         "one role", f"keep only `{_TA}`, the highest of them (E4)"),
    ]  # fmt: skip


def test_a_role_held_elsewhere_is_one_e5_on_the_emails_first_row(example: Directory) -> None:
    """E5, U2: rows giving an existing account another role than the one it keeps elsewhere
    are one E5 error, on the e-mail's first row, naming the role kept."""
    v = _check(
        users(
            user_row("teacher@example.org", _ER, HIGH),
            user_row("teacher@example.org", _ER, MIDDLE),
        ),
        example,
    )
    assert _whole(v) == [
        (2, "E5", "error", "E-mail Address", "teacher@example.org",
         f"`teacher@example.org` already holds `{_TA}` at `{ELEMENTARY}`; one e-mail holds one "
         f"role, so it cannot also hold `{_ER}`",
         "use a different e-mail address for this role (E3)"),
    ]  # fmt: skip


def test_a_row_without_a_usable_code_then_another_role_is_e5(example: Directory) -> None:
    """U2, E5 (E3): a new e-mail's row with an unusable code, then a row giving it another role,
    is an E5 error naming the first row, with the fix of another address."""
    v = _check(
        users(
            user_row("c3@example.org", cds="1.96473E+13"),
            user_row("c3@example.org", _ER, ELEMENTARY),
        ),
        example,
    )
    assert [(p.row, p.rule, p.message, p.fix) for p in v.problems][1:] == [
        (3, "E5", f"`c3@example.org` is given `{_ER}` here and `{_TA}` on row 2; one e-mail "
         "holds one role", "use a different e-mail address for each role (E3)"),
    ]  # fmt: skip


def test_a_denial_for_a_new_email_names_the_new_account(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G3: a row's ``add_role`` for an e-mail with no account is decided for a stand-in account,
    and its denial names "the new account", never the stand-in's address; a denial that gives no
    rule is reported under G3."""
    from caaspp_authz.decision import Action, Decision, decide

    real = decide
    from caaspp_authz.uploads.users import _NEW as stand_in

    def deny(user: Any, action: Action, resource: Any) -> Decision:
        if action is Action.ADD_ROLE:
            rules = ("R5",) if resource.role.name == "CAASPP Test Examiner" else ()
            return Decision(False, rules, f"`{stand_in}` may not", f"ask for `{stand_in}`")
        return real(user, action, resource)

    monkeypatch.setattr("caaspp_authz.uploads.users.decide", deny)
    v = _check(
        users(user_row("a@example.org"), user_row("b@example.org", "CAASPP Test Examiner")),
        example,
    )
    assert [(p.row, p.rule, p.message, p.fix) for p in v.errors] == [
        (2, "G3", "`the new account` may not", "ask for `the new account`"),
        (3, "R5", "`the new account` may not", "ask for `the new account`"),
    ]


def test_a_blank_cds_code_is_only_empty(example: Directory) -> None:
    """U1: a CDS code of spaces is an empty field, not a malformed code."""
    v = _check(users(user_row(cds="  ")), example)
    assert [(p.rule, p.column) for p in v.problems] == [("U1", "CDS Code")]


def test_a_blank_role_is_only_empty(example: Directory) -> None:
    """U1: a role of spaces is an empty field, not an unknown role (R4)."""
    v = _check(users(user_row(role="   ")), example)
    assert [(p.rule, p.column) for p in v.problems] == [("U1", "Role in Organization")]


@pytest.mark.parametrize(
    "email", ["x..y@example.org", ".x@example.org", "x.@example.org", "x@example..org"]
)
def test_a_stray_dot_is_refused_after_a_clean_row(example: Directory, email: str) -> None:
    """E1: an address with a dot at the start or end of its local part or two dots together is
    refused, also on a row whose CDS code and role an earlier row found clean (the fast path
    checks the local part itself)."""
    v = _check(users(user_row("ok@example.org"), user_row(email)), example)
    assert _whole(v) == [
        (3, "E1", "error", "E-mail Address", email, f"`{email}` is not an e-mail address", None)
    ]


def test_a_domain_starting_with_a_dot_is_refused_after_a_clean_row(example: Directory) -> None:
    """E1: an address whose domain starts with a dot is refused, also on a row whose CDS code
    and role an earlier row found clean."""
    v = _check(users(user_row("ok@example.org"), user_row("x@.org")), example)
    assert [(p.row, p.rule) for p in v.problems] == [(3, "E1")]


def test_a_repeated_row_with_unusual_names_is_a_warning(example: Directory) -> None:
    """U2: an exact repeat of a new e-mail's row is a warning naming the first row, also when
    its names start with a space (the full checks)."""
    row = user_row("s@example.org", first=" Ann")
    v = _check(users(row, row), example)
    assert v.kind == "users"
    assert [(p.row, p.rule, p.severity) for p in v.problems] == [(3, "U2", Severity.WARNING)]
    assert "row 2 gives it" in v.problems[0].message


def test_a_repeated_row_after_an_odd_first_row_is_a_warning(example: Directory) -> None:
    """U2: a repeat of a new e-mail's row is told apart from a new grant whatever the row
    number of the first one (rows after a clean row of the same code and role)."""
    v = _check(
        users(
            user_row("first@example.org"),
            user_row("c@example.org"),
            user_row("c@example.org"),
            user_row("c@example.org", cds=HIGH),
        ),
        example,
    )
    assert [(p.row, p.rule) for p in v.problems] == [(4, "U2")]
    assert "row 3 gives it" in v.problems[0].message


def test_a_grant_decide_denies_to_an_existing_account_is_an_error(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G3, U2: a row's ``add_role`` for an existing account, decided once the file is read, is
    an error on the row's role under the denial's rule when ``decide`` denies it."""
    from caaspp_authz.decision import Action, Decision, decide

    def deny(user: Any, action: Action, resource: Any) -> Decision:
        if action is Action.ADD_ROLE and resource.to == "teacher@example.org":
            return Decision(False, ("V9",), "not today", "ask tomorrow")
        return decide(user, action, resource)

    monkeypatch.setattr("caaspp_authz.uploads.users.decide", deny)
    row = user_row("teacher@example.org", _TA, HIGH, first="Tia")
    v = _check(users(user_row("new@example.org"), row), example)
    assert _whole(v) == [
        (3, "V9", "error", _ROLE, _TA, "not today", "ask tomorrow"),
    ]


def test_a_pair_denied_for_an_existing_account_is_one_error(example: Directory) -> None:
    """G9, G3: a row for an existing account whose code the uploader may not upload to, or whose
    role it may not grant there, is one error, not a second one once the file is read."""
    v = _check(
        users(
            user_row("teacher@example.org", _TA, "01611921234567", first="Tia"),
            user_row("examiner@example.org", "CAASPP Test Examiner", LEA, first="Tia"),
        ),
        example,
    )
    assert [(p.row, p.rule) for p in v.problems] == [(2, "G9"), (3, "R2"), (3, "R5")]


def test_rows_with_a_reading_problem_are_counted(example: Directory) -> None:
    """U2, U3: a validation counts every row read, those with a reading problem (bytes that are
    not UTF-8) among them."""
    bad = f"Ann,Le\xffe,{MIDDLE},a@example.org,1,Educator - Roster\r\n".encode("latin-1")
    good = f"Bo,Lee,{MIDDLE},b@example.org,1,Educator - Roster\r\n".encode()
    v = _check(users() + bad + good + bad.replace(b"a@", b"c@"), example)
    assert v.rows == 3
    assert [(p.row, p.rule) for p in v.problems] == [(2, "U3"), (4, "U3")]


# --- an uploader's own rows ---------------------------------------------------------------------
#
# Replacing its own roles changes what the uploader may grant, so each row for its own account is
# decided as the uploader stands once the file's replacements are made (U4, G6), never answered
# from a grant allowed to another account. A superintendent that also holds the primary LEA CAASPP
# coordinator role may remove that role (G1, G6), and without it grants no Educator—District (G4).

_SUP = "sup@d.org"
_LC, _LE, _ED = "LEA CAASPP Coordinator", "LEA ELPAC Coordinator", "Educator—District"
_LSC = "LS Correspondence Administrator"
_REPLACES = f"`{_SUP}` holds `{_LC}` at `{builders.LEA}`; this row replaces it with "  # U4
_NO_ED = (
    _ROLE,
    _ED,
    f"`{_SUP}` may not grant `{_ED}` at `{builders.LEA}`",
    "ask a coordinator who may grant it there (see the grant matrix, G3)",
)


def _own(role: str, *, email: str = _SUP) -> tuple[str, str, str, str, str, str]:
    """A row giving ``role`` at the LEA, with the names and phone the account has."""
    return user_row(email, role, builders.LEA, first="Test", last="User", phone="213-555-0100")


def _superintendent(*extra: dict[str, Any], rule_set: str) -> Directory:
    """The superintendent of the LEA, holding the primary LEA CAASPP coordinator role there."""
    sup = builders.acct(_SUP, _LC, builders.LEA, primary=True, superintendent_of=builders.LEA)
    return builders.build(sup, *extra, rule_set=rule_set)


@pytest.mark.parametrize("rule_set", ["one-role-per-email", "multi-role"])
def test_an_uploader_replacing_its_own_role_is_decided_without_it(rule_set: str) -> None:
    """U4, G6, G4, G1: a row replacing the uploader's own role with one it may grant only
    through the role replaced is refused: once replaced, the superintendent grants coordinators
    only. The replacement itself is the usual U4 warning."""
    v = _check(users(_own(_ED)), _superintendent(rule_set=rule_set), _SUP)
    assert _whole(v) == [
        (2, "U4", "warning", _ROLE, _ED, _REPLACES + f"`{_ED}`", None),
        (2, "G3", "error", *_NO_ED),
    ]


def test_each_own_role_at_one_site_is_decided_after_the_replacement() -> None:
    """U4, G6, G1, G4, E7: under multi-role, every role a file gives the uploader at one
    organization is decided after its replacements, whatever the role before it there was:
    refused on its own row (G3), or allowed (the superintendent still designates LEA ELPAC
    coordinators, G1)."""
    d = _superintendent(rule_set="multi-role")
    v = _check(users(_own(_LSC), _own(_ED)), d, _SUP)
    assert [(p.row, p.rule) for p in v.problems] == [(2, "G3"), (2, "U4"), (3, "G3")]
    assert _whole(v)[2] == (3, "G3", "error", *_NO_ED)
    v = _check(users(_own(_LE), _own(_ED)), d, _SUP)
    assert _whole(v) == [
        (2, "U4", "warning", _ROLE, _ED, _REPLACES + f"`{_ED}, {_LE}`", None),
        (3, "G3", "error", *_NO_ED),
    ]


@pytest.mark.parametrize("elsewhere", [False, True])
def test_a_conflict_reported_hides_no_other_denial(elsewhere: bool) -> None:
    """E5, E3, G3, U4: under one-role-per-email, two roles for the uploader at one organization
    are one E5 error, and the E3/E4 denials of its rows are not reported again; a denial under
    another rule (G3: the role replaced was the power to grant) is still reported, also after a
    row whose E3 denial was skipped (the uploader keeps a coordinator role in another LEA)."""
    other = [(_LC, builders.OTHER_LEA)] if elsewhere else []
    sup = builders.acct(
        _SUP, _LC, builders.LEA, primary=True, superintendent_of=builders.LEA, roles=other
    )
    v = _check(users(_own(_LE), _own(_ED)), builders.build(sup), _SUP)
    assert [(p.row, p.rule) for p in v.problems] == [(2, "U4"), (3, "E5"), (3, "G3")]
    assert _whole(v)[2] == (3, "G3", "error", *_NO_ED)


@pytest.mark.parametrize("rule_set", ["one-role-per-email", "multi-role"])
def test_a_grant_allowed_to_another_account_does_not_answer_for_the_uploaders_own(
    rule_set: str,
) -> None:
    """U4, G6, G4, R6: the grant allowed to an account in a given state is remembered for other
    accounts in that state, but not for the uploader's own: a second superintendent of the LEA,
    holding nothing, may be given Educator—District; the uploader, in the same state once its
    own role is replaced, may not give it to itself."""
    second = builders.acct("sup2@d.org", superintendent_of=builders.LEA)
    d = _superintendent(second, rule_set=rule_set)
    v = _check(users(_own(_ED, email="sup2@d.org"), _own(_ED)), d, _SUP)
    assert _whole(v) == [
        (3, "U4", "warning", _ROLE, _ED, _REPLACES + f"`{_ED}`", None),
        (3, "G3", "error", *_NO_ED),
    ]


def test_an_own_grant_after_a_replacement_keeps_a_multi_role_rule_set() -> None:
    """U4, E7, G3: under multi-role, the uploader's own row is decided after its replacement
    under the directory's rule set: the primary LEA ELPAC coordinator that replaces its Tools
    for Teachers role with LS Correspondence Administrator keeps its coordinator role as well,
    which is no E4 conflict."""
    coordinator = builders.acct("le@d.org", _LE, builders.LEA, primary=True)
    coordinator["roles"].append({"role": "Tools for Teachers Only", "org": builders.LEA})
    d = builders.build(coordinator, rule_set="multi-role")
    v = _check(users(_own(_LSC, email="le@d.org")), d, "le@d.org")
    assert _whole(v) == [
        (2, "U4", "warning", _ROLE, _LSC,
         f"`le@d.org` holds `Tools for Teachers Only` at `{builders.LEA}`; this row replaces it "
         f"with `{_LSC}`", None),
    ]  # fmt: skip
