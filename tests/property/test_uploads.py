"""Properties of the upload files (U1–U6, E5, E7, V3): round trips, single corruptions, and
hostile bytes."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from caaspp_authz import (
    Account,
    Assignment,
    Directory,
    Form,
    Group,
    GroupKey,
    Level,
    Organization,
    Program,
    RuleSet,
    Student,
    role,
)
from caaspp_authz._access import may_be_assigned
from caaspp_authz.orgs import CDSCode, OrgTree
from caaspp_authz.uploads import (
    GROUP_HEADER,
    USER_HEADER,
    Validation,
    apply_groups,
    apply_users,
    groups_csv,
    users_csv,
    validate_groups,
    validate_users,
)
from tests.conftest import EXAMPLES
from tests.uploadfiles import (
    COORDINATOR,
    ELEMENTARY,
    HIGH,
    MIDDLE,
    SITE,
    csv_bytes,
    multi_role,
)

UPLOADER = "uploader@example.org"
LEA = CDSCode("19647330000000")
_SCHOOL_ROLES = (
    "Site CAASPP Coordinator",
    "CAASPP Test Administrator",
    "CAASPP Test Examiner",
    "Test Administrator & Test Examiner",
    "IA Administrator Only",
    "Educator—Test Site",
    "Educator—Roster",
    "Tools for Teachers Only",
)
_LEA_ROLES = ("Educator—District", "Tools for Teachers Only", "LEA CAASPP Coordinator")
_NAME = st.text(alphabet=st.sampled_from("abcdeXYZ éñ,'\"-."), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s[:1] not in "=+-@"
)


@st.composite
def directories(draw: st.DrawFn) -> Directory:
    """A small directory of one LEA, whose primary LEA CAASPP coordinator governs every role
    its accounts hold (G1, G3), with students and assigned groups at its schools."""
    suffixes = draw(st.lists(st.integers(1, 9_999_999), min_size=1, max_size=4, unique=True))
    schools = [CDSCode(f"1964733{n:07d}") for n in suffixes]
    orgs = [Organization(LEA, "Unified", Level.LEA)] + [
        Organization(s, f"School {i}", Level.SCHOOL, LEA) for i, s in enumerate(schools)
    ]
    rule_set = draw(st.sampled_from(RuleSet))
    uploader = Account(
        email=UPLOADER,  # type: ignore[arg-type]
        first_name="Up",
        last_name="Loader",
        phone="213-555-0100",
        forms={Program.CAASPP: {Form.AGREEMENT, Form.AFFIDAVIT}},
        assignments=[Assignment(role("LEA CAASPP Coordinator"), LEA, primary=True)],
    )
    accounts = [uploader]
    for i in range(draw(st.integers(0, 6))):
        places: list[tuple[str, CDSCode]] = []
        n_roles = 1 if rule_set is RuleSet.ONE_ROLE_PER_EMAIL else draw(st.integers(1, 2))
        for _ in range(n_roles):
            at_lea = draw(st.booleans())
            name = draw(st.sampled_from(_LEA_ROLES if at_lea else _SCHOOL_ROLES))
            codes = (
                [LEA]
                if at_lea
                else draw(st.lists(st.sampled_from(schools), min_size=1, max_size=2, unique=True))
            )
            places.extend((name, c) for c in codes)
        places = list(dict.fromkeys(places))
        if rule_set is RuleSet.MULTI_ROLE:  # E7: no role that adds nothing to another there
            places = [
                p
                for p in places
                if not any(q != p and q[1] == p[1] for q in places[: places.index(p)])
            ]
        held = [role(n) for n, _ in places]
        accounts.append(
            Account(
                email=f"person{i}@example.org",  # type: ignore[arg-type]
                first_name=draw(_NAME),
                last_name=draw(_NAME),
                phone=draw(st.sampled_from(["213-555-0101", "(213) 555 0102", "x"])),
                credentialed=any(r.needs_credential for r in held),
                assignments=[Assignment(r, c) for r, (_, c) in zip(held, places, strict=True)],
            )
        )
    students = [
        Student(f"{1_000_000_000 + i}", draw(st.sampled_from(schools)))
        for i in range(draw(st.integers(0, 6)))
    ]
    groups = []
    tree = OrgTree.build(orgs)
    for i, school in enumerate(draw(st.lists(st.sampled_from(schools), max_size=3))):
        here = [s.ssid for s in students if s.school == school]
        members = draw(st.sets(st.sampled_from(here))) if here else set()
        # V3: a group is assigned only to users it opens something to
        emails = [a.email for a in accounts if may_be_assigned(tree, a, school)]
        users = draw(st.sets(st.sampled_from(emails), max_size=2)) if emails else set()
        if not members and not users:
            continue
        groups.append(
            Group(
                GroupKey(school, 2026, draw(_NAME) + str(i)),
                draw(st.sampled_from(["All", "Math", "ELA"])),
                members,
                users,
            )
        )
    return Directory.build(
        organizations=orgs,
        accounts=accounts,
        students=students,
        groups=groups,
        rule_set=rule_set,
    )


def _assignments(d: Directory) -> set[tuple[str, str, str]]:
    return {(a.email, x.role.name, x.org) for a in d.accounts.values() for x in a.assignments}


def _groups(d: Directory) -> set[tuple[GroupKey, str, frozenset[str], frozenset[str]]]:
    return {(g.key, g.subject, g.students, g.users) for g in d.groups.values()}


def _without_accounts(d: Directory) -> Directory:
    return Directory.build(
        organizations=d.tree,
        accounts=[a for a in d.accounts.values() if a.email == UPLOADER],
        students=d.students.values(),
        rule_set=d.rule_set,
    )


@given(directories())
def test_users_written_out_apply_back(d: Directory) -> None:
    """U1, U2, E5, E7: a directory's assignments as a user upload validate with no error and,
    applied to the directory without those accounts, give back the same assignments."""
    data = users_csv(d, exclude=[UPLOADER]).encode("utf-8")
    base = _without_accounts(d)
    v = validate_users(data, base, uploader=UPLOADER)
    assert v.errors == ()
    applied = apply_users(data, base, uploader=UPLOADER).directory
    assert _assignments(applied) == _assignments(d)
    for account in d.accounts.values():
        again = applied.account(account.email)
        assert again is not None
        assert (again.first_name, again.last_name, again.phone) == (
            account.first_name,
            account.last_name,
            account.phone,
        )


@given(directories())
def test_users_applied_to_themselves_change_nothing(d: Directory) -> None:
    """U4, E2: a directory's own user upload applied to it adds and overrides nothing."""
    data = users_csv(d, exclude=[UPLOADER]).encode("utf-8")
    result = apply_users(data, d, uploader=UPLOADER)
    assert result.changes.assignments_added == ()
    assert result.changes.assignments_overridden == ()
    assert _assignments(result.directory) == _assignments(d)


@given(directories())
def test_groups_written_out_apply_back(d: Directory) -> None:
    """U5, V3: a directory's groups as a group upload validate with no problem and, applied to
    the directory without groups, give back the same groups."""
    data = groups_csv(d).encode("utf-8")
    base = Directory.build(
        organizations=d.tree,
        accounts=d.accounts.values(),
        students=d.students.values(),
        rule_set=d.rule_set,
    )
    v = validate_groups(data, base, uploader=UPLOADER)
    if not any(g.students or g.users for g in d.groups.values()):
        assert [p.rule for p in v.errors] == ["U8"]  # U8 (e): a header and no rows
        return
    assert v.problems == ()
    applied = apply_groups(data, base, uploader=UPLOADER).directory
    assert _groups(applied) == _groups(d)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


_USER_CORRUPTIONS: dict[str, tuple[Callable[[str], str], str]] = {
    "First Name": (lambda v: "", "U1"),
    "Last Name": (lambda v: " ", "U1"),
    "CDS Code": (lambda v: f"{int(v):.5E}".replace("E+", "E+"), "O5"),
    "E-mail Address": (lambda v: v.rsplit(".", 1)[0] + ".organization", "E6"),
    "Telephone Number": (lambda v: "", "U1"),
    "Role in Organization": (lambda v: v + "s", "R4"),
}


def _others(v: Validation, row: int) -> list[str]:
    return sorted(str(p) for p in v.problems if p.row != row)


@given(directories(), st.data())
def test_one_corrupt_user_field_is_one_problem(d: Directory, data: st.DataObject) -> None:
    """U1, O5, E6, R4: corrupting one field of a valid user upload gives exactly the expected
    error on that row, and nothing changes on any other row."""
    rows = _rows(users_csv(d, exclude=[UPLOADER]))
    if len(rows) < 2:
        return
    base = _without_accounts(d)
    before = validate_users(csv_bytes(rows[1:]), base, uploader=UPLOADER)
    i = data.draw(st.integers(1, len(rows) - 1), label="row")
    column = data.draw(st.sampled_from(USER_HEADER), label="column")
    corrupt, rule = _USER_CORRUPTIONS[column]
    j = USER_HEADER.index(column)
    rows[i][j] = corrupt(rows[i][j])
    after = validate_users(csv_bytes(rows[1:]), base, uploader=UPLOADER)
    assert [(p.row, p.rule, p.column) for p in after.errors] == [(i + 1, rule, column)]
    assert _others(after, i + 1) == _others(before, i + 1)


_GROUP_CORRUPTIONS: dict[str, tuple[Callable[[str], str], str]] = {
    "group_name": (lambda v: "", "U5"),
    "school_natural_id": (lambda v: f"{int(v):.5E}", "O5"),
    "school_year": (lambda v: v[2:], "U8"),
    "subject_code": (lambda v: v.lower() + "x", "U5"),
    "student_ssid": (lambda v: v[1:], "U5"),
    "group_user_login": (lambda v: "ghost." + v, "U5"),
}


@given(directories(), st.data())
def test_one_corrupt_group_field_is_one_problem(d: Directory, data: st.DataObject) -> None:
    """U5, U8, O5: corrupting one field of a valid group upload gives exactly the expected
    error on that row, and nothing changes on any other row."""
    rows = _rows(groups_csv(d))
    if len(rows) < 2:
        return
    i = data.draw(st.integers(1, len(rows) - 1), label="row")
    column = data.draw(
        st.sampled_from([c for c, v in zip(GROUP_HEADER, rows[i], strict=True) if v]),
        label="column",
    )
    before = validate_groups(csv_bytes(rows[1:], header=GROUP_HEADER), d, uploader=UPLOADER)
    corrupt, rule = _GROUP_CORRUPTIONS[column]
    j = GROUP_HEADER.index(column)
    rows[i][j] = corrupt(rows[i][j])
    after = validate_groups(csv_bytes(rows[1:], header=GROUP_HEADER), d, uploader=UPLOADER)
    assert [(p.row, p.rule, p.column) for p in after.errors] == [(i + 1, rule, column)]
    assert _others(after, i + 1) == _others(before, i + 1)


# --- hostile files: never a crash, never memory in proportion to a bad field ------------------


def _example() -> Directory:
    from caaspp_authz import load_directory

    return load_directory(EXAMPLES / "directory.json")


_HEADER = ",".join(USER_HEADER).encode()
_ROW = b"Ann,Lee,19647332222222,ann.lee@example.org,213-555-0100,CAASPP Test Administrator"


@pytest.mark.parametrize(
    ("name", "data", "valid"),
    [
        ("empty", b"", False),
        ("header only", _HEADER + b"\r\n", True),
        ("wrong header", b"name,email\r\n" + _ROW, False),
        ("BOM and CRLF", b"\xef\xbb\xbf" + _HEADER + b"\r\n" + _ROW + b"\r\n", True),
        ("NUL bytes", _HEADER + b"\n" + _ROW.replace(b"Ann", b"A\x00nn") + b"\n", False),
        ("not UTF-8", _HEADER + b"\n" + _ROW.replace(b"Ann", b"\xff\xfe") + b"\n", False),
        ("Windows-1252", _HEADER + b"\n" + _ROW.replace(b"Ann", b"Jos\xe9") + b"\n", False),
        (
            "formula",
            _HEADER + b'\n"=HYPERLINK(""http://x"",""y"")",Lee,19647332222222,f@example.org,'
            b"213,CAASPP Test Administrator\n",
            True,
        ),
        ("unclosed quote", _HEADER + b'\n"Ann,Lee,19647332222222\n', False),
        ("only newlines", b"\r\n\r\n\n", False),
    ],
)
def test_hostile_user_files_never_crash(name: str, data: bytes, valid: bool) -> None:
    """U3: hostile bytes give problems with rows, never an exception."""
    v = validate_users(data, _example(), uploader=COORDINATOR)
    assert v.valid is valid, [str(p) for p in v.problems]
    assert all(p.row is not None for p in v.problems)


def test_hostile_group_files_never_crash() -> None:
    """U3, U5: the same hostile bytes under the group header never crash."""
    header = ",".join(GROUP_HEADER).encode()
    for body in (b"", b"\x00\x00", b"\xff" * 100, b'"' * 1000, b",,,,,,,,,,\n" * 10):
        v = validate_groups(
            header + b"\n" + body, _example(), uploader="site.coordinator@example.org"
        )
        assert all(p.row is not None for p in v.problems)


@pytest.mark.parametrize("kind", ["users", "groups"])
def test_a_10mb_field_uses_bounded_memory(tmp_path: Path, kind: str) -> None:
    """U3: a 10 MB field is reported without holding it: peak memory stays far below it."""
    header = ",".join(USER_HEADER if kind == "users" else GROUP_HEADER).encode()
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write(header + b"\r\nAnn,")
        f.write(b"x" * (10 << 20))
        f.write(b",19647332222222,a@example.org,213,CAASPP Test Administrator\r\n")
    check = validate_users if kind == "users" else validate_groups
    directory = _example()
    tracemalloc.start()
    try:
        v = check(path, directory, uploader=COORDINATOR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not v.valid
    assert peak < 2 << 20, peak
    assert all(p.value is None or len(p.value) <= 200 for p in v.problems)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    """U3: any bytes after a valid header validate to problems, never an exception."""
    v = validate_users(_HEADER + b"\r\n" + data, _example(), uploader=COORDINATOR)
    assert all(p.row is not None and p.row >= 1 for p in v.problems)


@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[a-z.@ ]{1,8}@[a-z.@]{0,8}\.[a-z.]{0,12}", fullmatch=True),
    )
)
@example("jane.alder@example.org")
@example("a@b.abcdefghij")
@example("a@b.abcdefghijk")
@example("a..b@example.org")
@example("a.@example.org")
@example("a@example..org")
def test_fast_email_check_agrees_with_canonical_email(text: str) -> None:
    """E1, E6: the validator's fast e-mail check accepts exactly what canonical_email accepts,
    valid addresses and near misses among them."""
    from caaspp_authz import InvalidEmail, canonical_email
    from caaspp_authz.uploads.users import _plainly_valid

    value = text.strip().lower()
    try:
        canonical_email(text)
    except InvalidEmail:
        accepted = False
    else:
        accepted = True
    assert _plainly_valid(value) == accepted


_DIRECTORIES = {True: _example(), False: multi_role()}
_NAMES = ["Ann", "Ann ", " Ann", "", " ", "=1+1", "+1", "-x", "@x", "\tx", "\u3000x", "\xa0x", "É"]
_PHONES = ["213-555-0100", " 213-555-0100", "", "-5", "\x85x", "213\n555"]
_CDS_TEXTS = [MIDDLE, ELEMENTARY, HIGH, LEA, " " + MIDDLE, "1964733222222", ""]
_ROLE_TEXTS = [
    "CAASPP Test Administrator",
    "CAASPP Test Examiner",
    "ELPAC Test Examiner",
    "Test Administrator",
    "LEA CAASPP Coordinator",
    "Site CAASPP Coordinator",
    "caaspp test administrator",
    "",
]
_EMAILS = [
    "new.person@example.org",
    "NEW.Person@Example.ORG",
    "other@example.org",
    "teacher@example.org",
    "Teacher@Example.org",
    SITE,
    " a@b.org",
    "a@b.org ",
    "a b@c.org",
    "a\t@b.org",
    "a@b\t.org",
    "a@@b.org",
    "@b.org",
    "a@b.",
    "a@.org",
    "a@b",
    "a@b.org.",
    "a@b.abcdefghij",
    "a@b.abcdefghijk",
    "a.b@c.d.e",
    "é@b.org",
    "a\x01@b.org",
    "a@b\x01.org",
    "a@b\u3000.org",
    "a@b.\u0130\u0130\u0130\u0130\u0130\u0130",
    "",
]


def _mostly(good: str | list[str], others: list[str]) -> st.SearchStrategy[str]:
    """``good`` three times in four, else one of ``others``."""
    often = st.sampled_from(good) if isinstance(good, list) else st.just(good)
    return st.one_of(often, often, often, st.sampled_from(others))


_PAIRS = st.one_of(
    st.sampled_from(
        [
            (MIDDLE, "CAASPP Test Administrator"),
            (HIGH, "CAASPP Test Administrator"),
            (MIDDLE, "Site CAASPP Coordinator"),
        ]
    ),
    st.tuples(st.sampled_from(_CDS_TEXTS), st.sampled_from(_ROLE_TEXTS)),
)
_BATCH_ROWS = st.builds(
    lambda first, last, pair, email, phone, width: [
        *(first, last, pair[0], email, phone, pair[1], "extra")
    ][:width],
    _mostly("Ann", _NAMES),
    _mostly("Lee", _NAMES),
    _PAIRS,
    _mostly(["new.person@example.org", "NEW.Person@Example.ORG", "teacher@example.org"], _EMAILS),
    _mostly("213-555-0100", _PHONES),
    st.sampled_from([6, 6, 6, 6, 5, 7]),
)


# five times the profile's examples: 300 by default, few under the mutation runner's profile
@settings(max_examples=5 * settings().max_examples, deadline=None)
@given(
    st.lists(_BATCH_ROWS, max_size=40),
    st.integers(min_value=0, max_value=40),
    st.booleans(),
)
def test_batch_fast_path_has_the_full_checks_outcome(
    batch: list[list[str]], cut: int, one_role: bool
) -> None:
    """U1, U3, U4, E1, E5, E6, E7: rows validated in batches (fast path and all) give the same
    problems, kept rows and E5 state as each row put through the full checks alone."""
    _assert_batch_is_full(batch, cut, one_role=one_role)


def test_batch_fast_path_on_each_unusual_value() -> None:
    """U1, U3, E1, E5, E6: each unusual name, phone and e-mail, after rows that decide its CDS
    code and role clean and before a row giving its e-mail another role, has the full checks'
    outcome in a batch."""
    base = ["Ann", "Lee", MIDDLE, "new.person@example.org", "213-555-0100"]
    primers = [
        [*base[:3], "first@example.org", base[4], "CAASPP Test Administrator"],
        [*base[:3], "second@example.org", base[4], "Site CAASPP Coordinator"],
    ]
    for index, values in [(0, _NAMES), (1, _NAMES), (3, _EMAILS), (4, _PHONES)]:
        for value in values:
            row = [*base, "CAASPP Test Administrator"]
            row[index] = value
            other = [*row[:5], "Site CAASPP Coordinator"]
            for one_role in (True, False):
                _assert_batch_is_full([*primers, row, row, other], 1, one_role=one_role)


def _assert_batch_is_full(batch: list[list[str]], cut: int, *, one_role: bool) -> None:
    from caaspp_authz._csvread import Record
    from caaspp_authz.uploads.users import _UserCheck

    directory = _DIRECTORIES[one_role]
    fast = _UserCheck(directory, COORDINATOR, keep=True)
    got = fast.feed_batch(2, batch[:cut]) + fast.feed_batch(2 + len(batch[:cut]), batch[cut:])
    full = _UserCheck(directory, COORDINATOR, keep=True)
    expected = []
    for row, fields in enumerate(batch, 2):
        full.rows += 1
        expected.extend(full._feed(Record(row, tuple(fields))))
    assert got == expected, batch
    assert fast.kept == full.kept
    assert fast.new == full.new
    assert fast.existing == full.existing
    assert fast.rows == full.rows
    assert fast.finish() == full.finish()


def test_unusual_starts_hold_every_space() -> None:
    """U1: every character ``str.strip`` removes sends a name to the full checks."""
    import sys

    from caaspp_authz.uploads.users import _UNUSUAL_START

    spaces = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    assert spaces <= _UNUSUAL_START
    assert {c for c in map(chr, range(sys.maxunicode + 1)) if c.strip() == ""} <= _UNUSUAL_START
