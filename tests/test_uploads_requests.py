"""The requests an upload's rows imply, decided by ``decide`` (U4, U7, G6, G8, G11, E5, V3),
and what the messages may tell the uploader."""

from __future__ import annotations

from caaspp_authz import Action, CDSCode, Directory, Severity, decide, load_directory
from caaspp_authz.resources import Grant
from caaspp_authz.uploads import apply_groups, apply_users, groups_csv, users_csv, validate_users
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
    MIDDLE,
    SITE,
    csv_bytes,
    example_mapping,
    groups,
    multi_role,
    user_row,
    users,
)

SUPERINTENDENT = "superintendent@example.org"
ELPAC_COORDINATOR = "elpac.coordinator@example.org"
VALLEY_TEACHER = "valley.teacher@sample.org"


def _with_inactive_valley_teacher(rule_set: str = "one-role-per-email") -> Directory:
    data = example_mapping()
    data["rule_set"] = rule_set
    for account in data["accounts"]:
        if account["email"] == VALLEY_TEACHER:
            account["active"] = False
    return load_directory(data)


# --- defect: an upload did what a decision forbids (U7, G8, G11) ----------------------------


def test_site_coordinator_does_not_rename_the_superintendent(example: Directory) -> None:
    """U7, G8, R6: a site coordinator's row for the superintendent grants the role it may grant
    but keeps the superintendent's names and phone, with a warning; edit_account is denied."""
    sup = example.account(SUPERINTENDENT)
    assert sup is not None
    row = user_row(SUPERINTENDENT, "Tools for Teachers Only", ELEMENTARY, first="Not",
                   last="TheSuper", phone="000-000-0000")  # fmt: skip
    v = validate_users(users(row), example, uploader=SITE)
    assert v.valid
    assert [(p.rule, p.severity) for p in v.problems] == [("U7", Severity.WARNING)]
    assert "first name, last name, phone" in v.problems[0].message
    assert "Ada" not in v.problems[0].message  # names what is kept, not its values
    assert not decide(example.user(SITE), Action.EDIT_ACCOUNT, sup).allowed
    after = apply_users(users(row), example, uploader=SITE).directory.account(SUPERINTENDENT)
    assert after is not None
    assert (after.first_name, after.last_name, after.phone) == (
        sup.first_name,
        sup.last_name,
        sup.phone,
    )
    assert {(a.role.name, a.org) for a in after.assignments} == {
        ("Tools for Teachers Only", ELEMENTARY)
    }


def test_a_coordinator_who_covers_the_account_renames_it(example: Directory) -> None:
    """U7, G8: the LEA coordinator, who may edit the teacher's account, renames it."""
    row = user_row("teacher@example.org", "CAASPP Test Administrator", ELEMENTARY,
                   first="Tess", last="Renamed")  # fmt: skip
    result = apply_users(users(row), example, uploader=COORDINATOR)
    assert [p.rule for p in result.warnings] == []
    after = result.directory.account("teacher@example.org")
    assert after is not None
    assert (after.first_name, after.last_name) == ("Tess", "Renamed")


def test_another_leas_inactive_teacher_is_not_reactivated() -> None:
    """G11, U7: LEA A's coordinator may not reactivate (or rename) LEA B's inactive teacher by
    giving it a role at A: an error, as reactivate_account is denied."""
    for rule_set in ("one-role-per-email", "multi-role"):
        d = _with_inactive_valley_teacher(rule_set)
        teacher = d.account(VALLEY_TEACHER)
        assert teacher is not None
        assert not decide(d.user(COORDINATOR), Action.REACTIVATE_ACCOUNT, teacher).allowed
        row = user_row(
            VALLEY_TEACHER, "CAASPP Test Administrator", MIDDLE, first="Re", last="Named"
        )
        v = validate_users(users(row), d, uploader=COORDINATOR)
        assert "G11" in [p.rule for p in v.errors], rule_set
        for p in v.problems:  # nothing about the roles it holds in the other LEA (FERPA)
            assert "01611921234567" not in p.message, p
            assert "01611921234567" not in (p.fix or ""), p


def test_own_leas_inactive_teacher_is_reactivated(example: Directory) -> None:
    """G11: the coordinator who covers the inactive account's roles reactivates it by upload."""
    row = user_row("former.teacher@example.org", "CAASPP Test Administrator", "19647333333333")
    result = apply_users(users(row), example, uploader=COORDINATOR)
    assert result.changes.accounts_reactivated == ("former.teacher@example.org",)


# --- defect: the multi-role deadlock (U4) ------------------------------------------------------


def test_multi_role_row_replaces_only_roles_the_uploader_governs() -> None:
    """U4 (multi-role): the LEA CAASPP coordinator uploads the school's ELPAC coordinator as its
    CAASPP coordinator too; the ELPAC role, which it does not govern, stays."""
    d = multi_role()
    row = user_row("site.elpac@example.org", "Site CAASPP Coordinator", ELEMENTARY)
    v = validate_users(users(row), d, uploader=COORDINATOR)
    assert v.valid, v.problems
    after = apply_users(users(row), d, uploader=COORDINATOR).directory
    account = after.account("site.elpac@example.org")
    assert account is not None
    assert {a.role.name for a in account.assignments} == {
        "Site CAASPP Coordinator",
        "Site ELPAC Coordinator",
    }
    # and the ELPAC coordinator can then upload the same person back without a deadlock
    again = user_row("site.elpac@example.org", "Site ELPAC Coordinator", ELEMENTARY)
    assert validate_users(users(again), after, uploader=ELPAC_COORDINATOR).valid


def test_one_role_row_replacing_an_ungoverned_role_is_an_error(example: Directory) -> None:
    """U4, G6 (one-role-per-email): a row that would replace a role the uploader may not remove
    is an error, and the message does not name that role."""
    row = user_row("site.elpac@example.org", "Site CAASPP Coordinator", ELEMENTARY)
    v = validate_users(users(row), example, uploader=COORDINATOR)
    assert [p.rule for p in v.errors] == ["G6"]
    assert "ELPAC" not in v.errors[0].message


# --- what the messages may tell (E5, V1) ------------------------------------------------------


def test_e5_names_another_role_only_to_who_governs_it(example: Directory) -> None:
    """E5: the e-mail's role at another organization is named only to an uploader who may
    remove it there; a site coordinator learns only that it holds another role."""
    row = user_row("roster@example.org", "CAASPP Test Administrator", ELEMENTARY)
    [site] = validate_users(users(row), example, uploader=SITE).errors
    assert site.rule == "E5"
    assert "Roster" not in site.message
    assert MIDDLE not in site.message
    assert "another role" in site.message
    lea = list(validate_users(users(row), example, uploader=COORDINATOR).errors)
    assert [p.rule for p in lea] == ["E5"]
    assert "Educator—Roster" in lea[0].message


def test_group_warning_does_not_name_a_school_the_uploader_cannot_see(example: Directory) -> None:
    """V1: a group file's warning for a student listed elsewhere names that school only to an
    uploader who may view the student's results."""
    row = ("Period 2", ELEMENTARY, "2026", "All", "1000000004", "")
    v = apply_groups(groups(row), example, uploader=SITE)
    assert [p.rule for p in v.warnings] == ["V1"]
    assert MIDDLE not in v.warnings[0].message
    shown = apply_groups(groups(row), example, uploader=COORDINATOR)
    assert MIDDLE in shown.warnings[0].message


# --- the file itself (U2, U3) -----------------------------------------------------------------


def test_bad_cds_code_still_checks_e5_within_the_file(example: Directory) -> None:
    """U2, E5: a row with a bad CDS code is still held against the file's other rows for the
    same e-mail, whichever comes first."""
    good = user_row("pat@example.org", "CAASPP Test Administrator", MIDDLE)
    bad = user_row("pat@example.org", "Educator—Roster", "1.96473E+13")
    for rows in ((good, bad), (bad, good)):
        v = validate_users(users(*rows), example, uploader=COORDINATOR)
        found = [(p.row, p.rule) for p in v.errors]
        assert "O5" in [rule for _, rule in found], v.problems
        assert (3, "E5") in found, v.problems


def test_bad_cds_code_does_not_guess_a_replacement_conflict(example: Directory) -> None:
    """U2: against an existing role, a conflict that might be a U4 replacement at the unknown
    organization is not reported."""
    row = user_row("teacher@example.org", "Educator—Roster", "1.96473E+13")
    v = validate_users(users(row), example, uploader=COORDINATOR)
    assert [p.rule for p in v.errors] == ["O5"]


def test_trailing_comma_gets_its_own_fix(example: Directory) -> None:
    """U3: a row with a stray comma at its end is told to remove it, not to quote a field."""
    data = users(user_row()).rstrip(b"\r\n") + b",\r\n"
    [p] = validate_users(data, example, uploader=COORDINATOR).errors
    assert p.rule == "U3"
    assert p.fix is not None
    assert "trailing comma" in p.fix
    assert "quotes" not in p.fix


def test_whitespace_only_line_is_skipped_like_an_empty_one(example: Directory) -> None:
    """U3: a line of spaces is skipped, as an empty line is, and keeps the row numbers."""
    data = (
        users(user_row())
        + b"   \r\n\r\n"
        + b",".join(x.encode() for x in user_row("b@example.org"))
        + b"\r\n"
    )
    v = validate_users(data, example, uploader=COORDINATOR)
    assert v.valid
    assert v.problems == ()
    assert v.rows == 2


def test_commas_only_line_wider_than_the_header_is_said(example: Directory) -> None:
    """U3: a line of only commas, wider than the header, is skipped with a warning."""
    data = users(user_row()) + b",,,,,,,,\r\n"
    v = validate_users(data, example, uploader=COORDINATOR)
    assert v.valid
    assert [(p.row, p.rule, p.severity) for p in v.problems] == [(3, "U3", Severity.WARNING)]


def test_same_grant_with_other_names_is_a_warning_too(example: Directory) -> None:
    """U2 (decision): a later row for the same e-mail, role and organization grants nothing
    more, whatever its names; a warning, for a new e-mail and for an existing account."""
    again = user_row(first="Other")
    v = validate_users(users(user_row(), again), example, uploader=COORDINATOR)
    assert [(p.row, p.rule) for p in v.problems] == [(3, "U2")]
    row = user_row("teacher@example.org", "CAASPP Test Administrator", ELEMENTARY)
    v = validate_users(users(row, row), example, uploader=COORDINATOR)
    assert (3, "U2") in [(p.row, p.rule) for p in v.problems]


def test_exact_duplicate_row_is_a_warning(example: Directory) -> None:
    """U2 (decision): a row repeating an earlier row exactly is a warning naming that row."""
    v = validate_users(users(user_row(), user_row()), example, uploader=COORDINATOR)
    assert v.valid
    assert [(p.row, p.rule, p.severity) for p in v.problems] == [(3, "U2", Severity.WARNING)]
    assert "row 2" in v.problems[0].message


# --- formula injection (U3) -------------------------------------------------------------------


def test_written_csv_escapes_formula_starts(example: Directory) -> None:
    """U3: users_csv and groups_csv write a value starting like a formula after a `'`."""
    for start in ("=", "+", "-", "@", "\t", "\r"):
        row = user_row(first=f"{start}=1")
        d = apply_users(users(row), example, uploader=COORDINATOR).directory
        text = users_csv(d)
        assert f"'{start}=1" in text, start
        assert f",{start}=1" not in text
        assert f'"{start}=1' not in text
    g = ("=HYPERLINK(1)", ELEMENTARY, "2026", "All", "1000000001", "")
    d = apply_groups(groups(g), example, uploader=SITE).directory
    assert "'=HYPERLINK(1)" in groups_csv(d)


def test_apply_keeps_a_tab_before_a_formula(example: Directory) -> None:
    """U3: trimming a name does not turn `\\t=1` into `=1`."""
    row = user_row(first="\t=1")
    d = apply_users(csv_bytes([row]), example, uploader=COORDINATOR).directory
    account = d.account("new.person@example.org")
    assert account is not None
    assert account.first_name == "\t=1"
    g = ("\t=1", ELEMENTARY, "2026", "All", "1000000001", "")
    group_names = {
        k.name for k in apply_groups(groups(g), example, uploader=SITE).directory.groups
    }
    assert "\t=1" in group_names
    assert "=1" not in group_names
    plain = apply_users(users(user_row(first="  Ann  ")), example, uploader=COORDINATOR)
    ann = plain.directory.account("new.person@example.org")
    assert ann is not None
    assert ann.first_name == "Ann"


def test_remove_role_is_what_u4_asks(example: Directory) -> None:
    """U4, G6: the U4 warning appears exactly where remove_role for the replaced role is
    allowed."""
    row = user_row("no.forms@example.org", "Educator—Roster", MIDDLE)
    v = validate_users(users(row), example, uploader=COORDINATOR)
    assert [p.rule for p in v.problems] == ["U4"]
    account = example.account(row[3])
    assert account is not None
    held = Grant(account.email, account.assignments[0].role, CDSCode(MIDDLE))
    assert decide(example.user(COORDINATOR), Action.REMOVE_ROLE, held).allowed


def test_inactive_account_without_roles_is_reactivated_by_a_granter() -> None:
    """G11, U7: an inactive account holding no role is reactivated by whoever may grant the
    row's role there, as if it were new."""
    data = example_mapping()
    data["accounts"].append(
        {"email": "lapsed@example.org", "first_name": "La", "last_name": "Psed",
         "phone": "213-555-0111", "active": False, "roles": []}
    )  # fmt: skip
    d = load_directory(data)
    row = user_row("lapsed@example.org", "Tools for Teachers Only", ELEMENTARY)
    result = apply_users(users(row), d, uploader=SITE)
    assert result.changes.accounts_reactivated == ("lapsed@example.org",)


def test_a_directory_loads_groups_listing_unknown_ssids() -> None:
    """U5 (revised), INTERFACES: a group may list an SSID `students` lacks; the directory
    loads, and that member opens nothing (no student of the directory has that SSID)."""
    data = example_mapping()
    data["groups"][0]["students"].append("1999999999")
    d = load_directory(data)
    assert d.student("1999999999") is None
    assert any("1999999999" in g.students for g in d.groups.values())
