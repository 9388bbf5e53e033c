"""Examples for the directory format: defaults, refusals, round trip (INTERFACES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caaspp_authz import DirectoryError, Level, RuleSet, Severity, dump_directory, load_directory
from caaspp_authz.catalog import Form, Program
from tests.builders import (
    CHARTER,
    LEA,
    OTHER_LEA,
    SCHOOL_1,
    SCHOOL_2,
    acct,
    build,
    district,
    group,
    mapping,
)


def _refused(data: Any) -> list[tuple[str, str | None, str | None]]:
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    return [(p.rule, p.where, p.value) for p in info.value.problems if p.is_error]


def test_documented_defaults() -> None:
    """U2: active, credentialed, forms, primary, superintendent_of and rule_set defaults."""
    data = mapping()
    data["accounts"] = [
        {
            "email": "Ada@Example.org",
            "first_name": "Ada",
            "last_name": "Park",
            "phone": "1",
            "roles": [{"role": "Tools for Teachers Only", "org": SCHOOL_1}],
        }
    ]
    d = load_directory(data)
    account = d.account("ada@example.org")
    assert account is not None
    assert account.email == "ada@example.org"
    assert account.active
    assert not account.credentialed
    assert account.forms == {}
    assert account.superintendent_of is None
    assert [a.primary for a in account.assignments] == [False]
    assert d.rule_set is RuleSet.ONE_ROLE_PER_EMAIL


def test_roles_may_be_empty_or_absent() -> None:
    """R6 (decision): a superintendent holds no role; `roles` empty or absent both load."""
    absent = acct("b@d.org", superintendent_of=LEA)
    del absent["roles"]
    d = build(acct("a@d.org", superintendent_of=LEA), absent)
    assert d.account("a@d.org") is not None
    assert d.account("b@d.org") is not None


def test_lists_other_than_organizations_are_optional() -> None:
    """U2 (decision): accounts, students, groups and custom groups may be absent."""
    d = load_directory({"format": 1, "organizations": [{"cds": LEA, "name": "L"}]})
    assert len(d.tree) == 1
    assert d.accounts == {}


def test_organization_defaults() -> None:
    """O2, O3: LEA by its code, school under the LEA of its first 7 digits, `level: lea` charter."""
    d = build()
    school = d.organization(SCHOOL_1)
    charter = d.organization(CHARTER)
    assert school is not None
    assert charter is not None
    assert (school.level, school.lea) == (Level.SCHOOL, LEA)
    assert (charter.level, charter.lea) == (Level.LEA, None)


def test_group_defaults() -> None:
    """U5 (decision): a group's `students` and `users` default to none."""
    data = mapping(
        groups=[{"name": "P", "school": SCHOOL_1, "school_year": 2026, "subject": "Math"}]
    )
    (g,) = load_directory(data).groups.values()
    assert (g.students, g.users, g.subject) == (frozenset(), frozenset(), "Math")


def test_forms_are_read_per_program() -> None:
    """G10: forms are read per program; a program missing from `forms` has none on file."""
    d = build(
        acct("a@d.org", "CAASPP Test Administrator", SCHOOL_1, forms={"CAASPP": ["affidavit"]})
    )
    account = d.account("a@d.org")
    assert account is not None
    assert account.forms == {Program.CAASPP: {Form.AFFIDAVIT}}


def test_refusal_lists_every_problem_with_where_and_value() -> None:
    """U2, O5, R4, E1: every problem of a refused directory is listed at once, located."""
    data = mapping(
        acct("bad-email", "CAASPP Test Administrator", SCHOOL_1),
        acct("a@d.org", "Site CASSPP Coordinator", SCHOOL_1),
        acct("b@d.org", "CAASPP Test Administrator", "1.9647E+13"),
    )
    data["organizations"].append({"cds": "1611921234567", "name": "Lost zero"})
    data["organizations"].append({"cds": SCHOOL_2})
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    problems = [p for p in info.value.problems if p.is_error]
    assert {p.rule for p in problems} == {"E1", "R4", "O5", "U2"}
    role = next(p for p in problems if p.rule == "R4")
    assert role.where == "account `a@d.org`, role 1"
    assert role.value == "Site CASSPP Coordinator"
    assert role.column == "role"
    assert role.fix == "Site CAASPP Coordinator"
    assert any(p.value == "1611921234567" and "leading zero" in p.message for p in problems)
    assert any(p.value == "1.9647E+13" for p in problems)
    assert any(p.message == "field `name` is missing" for p in problems)
    assert str(info.value).startswith(f"the directory is refused: {len(problems)} problem(s)")


def test_refusal_combines_format_and_rulebook_problems() -> None:
    """U2, O3, E3: a bad `format` and a rulebook problem are reported together."""
    data = mapping(
        acct(
            "j@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Administrator", SCHOOL_2)],
        )
    )
    data["format"] = 2
    data["rule_set"] = "many"
    got = _refused(data)
    assert ("U2", "the directory", "2") in got
    assert ("E7", "the directory", "many") in got


def test_rulebook_refusals_after_reading() -> None:
    """O3, O4, R2, R6, R7, E1, V1, V3, V4: the rulebook checks of Directory.build are all listed."""
    data = mapping(
        acct("a@d.org", "CAASPP Test Administrator", LEA),
        acct("a@d.org", "CAASPP Test Administrator", SCHOOL_1),
        acct("b@d.org", "CAASPP Test Administrator", "19647339999999"),
        acct("c@d.org", superintendent_of=SCHOOL_1),
        acct("p1@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        acct("p2@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        acct("o@o.org", "CAASPP Test Administrator", "01611921234567"),
        students=[
            {"ssid": "1000000001", "school": "19647339999999"},
            {"ssid": "12", "school": SCHOOL_1},
        ],
        groups=[
            group("G", SCHOOL_1, ["1000000009"], ["nobody@d.org", "o@o.org"], subject="Science"),
            group("G", SCHOOL_1),
            group("H", "19647339999999"),
        ],
        custom_groups=[
            {"owner": "nobody@d.org", "name": "C", "students": ["1000000009"]},
            {"owner": "nobody@d.org", "name": "C", "students": []},
        ],
    )
    got = _refused(data)
    assert {r for r, _, _ in got} == {"R2", "E1", "O4", "R6", "R7", "V1", "U5", "V3", "V4"}
    assert ("R2", "account `a@d.org`", LEA) in got
    assert ("V3", "group `G` (2026) at `19647331111111`", "nobody@d.org") in got
    # V3 (revised): an assignee the group opens nothing to is a warning, not a refusal.
    assert ("V3", "group `G` (2026) at `19647331111111`", "o@o.org") not in got


def test_tree_problems_are_reported_before_account_checks() -> None:
    """O3 (decision): a broken hierarchy is refused on its own problems; accounts wait for it."""
    data = mapping(acct("a@d.org", "CAASPP Test Administrator", LEA))
    data["organizations"].append({"cds": SCHOOL_1, "name": "Twice"})
    assert _refused(data) == [("O3", SCHOOL_1, None)]


def test_unknown_role_refuses_the_directory() -> None:
    """R4: an unknown role refuses the directory with the closest role as the fix."""
    got = _refused(mapping(acct("a@d.org", "site caaspp coordinator", SCHOOL_1)))
    assert got == [("R4", "account `a@d.org`, role 1", "site caaspp coordinator")]


def test_legacy_role_name_loads_with_r3_warning() -> None:
    """R3, R4: a legacy name loads as its current role, with a warning naming that role."""
    d = build(acct("a@d.org", "Test Site Coordinator", SCHOOL_1))
    account = d.account("a@d.org")
    assert account is not None
    assert account.assignments[0].role.name == "Site CAASPP Coordinator"
    (warning,) = [w for w in d.warnings if w.rule == "R3"]
    assert warning.severity is Severity.WARNING
    assert warning.fix == "write `Site CAASPP Coordinator`"


def test_r5_uncredentialed_examiner_loads_with_warning() -> None:
    """R5: a credential role on an account not marked credentialed loads, with a warning."""
    d = build(acct("a@d.org", "CAASPP Test Examiner", SCHOOL_1))
    assert [w.rule for w in d.warnings] == ["R5"]


def test_r7_primary_on_other_role_loads_with_warning() -> None:
    """R7: `primary` on a role without a primary is a warning, not a refusal."""
    d = build(acct("a@d.org", "Educator—Roster", SCHOOL_1, primary=True))
    assert [w.rule for w in d.warnings] == ["R7"]


def test_e7_multi_role_directory_warns() -> None:
    """E7: under multi-role a role adding nothing at a site loads with a warning."""
    d = build(
        acct(
            "j@d.org",
            roles=[("Site CAASPP Coordinator", SCHOOL_1), ("CAASPP Test Administrator", SCHOOL_1)],
        ),
        rule_set="multi-role",
    )
    assert [w.rule for w in d.warnings] == ["E7"]


def test_round_trip_dump_load() -> None:
    """Dump then load gives back the same directory, charter and dependent charter included."""
    orgs = [
        {"cds": LEA, "name": "Example Unified"},
        {"cds": SCHOOL_1, "name": "School 1"},
        {"cds": CHARTER, "name": "Charter", "level": "lea"},
        {"cds": OTHER_LEA, "name": "Other"},
        {"cds": SCHOOL_2, "name": "Dependent charter", "lea": OTHER_LEA},
        {"cds": "01611920000000"[:7] + "1000000", "name": "Other school"},
    ]
    d = build(
        acct("j@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True, active=False),
        acct("s@d.org", superintendent_of=LEA, forms={"CAASPP": ["affidavit", "agreement"]}),
        students=[{"ssid": "1000000001", "school": SCHOOL_1}],
        groups=[group("P", SCHOOL_1, ["1000000001"], ["j@d.org"])],
        custom_groups=[{"owner": "j@d.org", "name": "C", "students": ["1000000001"]}],
        orgs=orgs,
    )
    dumped = dump_directory(d)
    again = load_directory(json.loads(json.dumps(dumped)))
    assert dump_directory(again) == dumped
    assert dumped["organizations"][2] == {"cds": CHARTER, "name": "Charter", "level": "lea"}
    assert dumped["organizations"][4]["lea"] == OTHER_LEA


def test_round_trip_of_the_standard_district() -> None:
    """The standard test district dumps and loads back equal."""
    dumped = dump_directory(district())
    assert dump_directory(load_directory(dumped)) == dumped


def test_load_from_path(tmp_path: Path) -> None:
    """A directory loads from a JSON file, BOM accepted; an unreadable or non-JSON file is refused."""
    path = tmp_path / "d.json"
    path.write_text(json.dumps(mapping()), encoding="utf-8-sig")
    assert len(load_directory(path).tree) == 6
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DirectoryError, match="is not JSON"):
        load_directory(path)
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "missing.json")
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(DirectoryError, match="a directory is a JSON object"):
        load_directory(str(path))


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"organizations": None}, "`organizations` is missing"),
        ({"organizations": {}}, "`organizations` must be a list"),
        ({"accounts": [1]}, "must be an object"),
        ({"students": [1]}, "must be an object"),
        ({"groups": [1]}, "must be an object"),
        ({"custom_groups": [1]}, "must be an object"),
        ({"organizations": [1]}, "must be an object"),
        ({"organizations": [{"cds": LEA, "name": "L", "level": "state"}]}, "`level` must be"),
        (
            {"organizations": [{"cds": LEA, "name": "L", "level": "lea", "lea": LEA}]},
            "an LEA has no parent",
        ),
        (
            {
                "organizations": [
                    {"cds": LEA, "name": "L"},
                    {"cds": LEA[:7] + "0000000", "name": "X", "lea": LEA},
                ]
            },
            "so it is an LEA",
        ),
        ({"organizations": [{"cds": SCHOOL_1, "name": "S", "lea": "123"}]}, "leading zero"),
        ({"organizations": [{"cds": 19647330000000, "name": "L"}]}, "must be text"),
        ({"organizations": [{"cds": LEA, "name": 3}]}, "must be str"),
    ],
)
def test_malformed_parts_are_refused(patch: dict[str, Any], message: str) -> None:
    """U2, O1, O2, O3, O5: malformed parts of the directory are refused with a message."""
    data = mapping()
    data.update(patch)
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    assert any(message in p.message for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"roles": {}}, "`roles` must be a list"),
        ({"roles": [1]}, "must be an object"),
        (
            {"roles": [{"role": "Educator—Roster", "org": SCHOOL_1, "primary": "yes"}]},
            "must be bool",
        ),
        ({"forms": []}, "`forms` must be an object"),
        ({"forms": {"SBAC": []}}, "is not a program"),
        ({"forms": {"CAASPP": "affidavit"}}, "must be a list"),
        ({"forms": {"CAASPP": ["oath"]}}, "is not a form"),
        ({"active": "no"}, "must be bool"),
        ({"first_name": None}, "must be str"),
        ({"superintendent_of": "123"}, "leading zero"),
    ],
)
def test_malformed_account_fields_are_refused(patch: dict[str, Any], message: str) -> None:
    """U2, R1, G10: malformed account fields are refused, each with a message."""
    entry = acct("a@d.org", "Educator—Roster", SCHOOL_1)
    entry.update(patch)
    with pytest.raises(DirectoryError) as info:
        load_directory(mapping(entry))
    assert any(message in p.message for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("part", "entry", "message"),
    [
        (
            "groups",
            {"name": "G", "school": SCHOOL_1, "school_year": True, "subject": "All"},
            "must be int",
        ),
        (
            "groups",
            {
                "name": "G",
                "school": SCHOOL_1,
                "school_year": 2026,
                "subject": "All",
                "students": [1],
            },
            "list of SSIDs",
        ),
        (
            "groups",
            {"name": "G", "school": SCHOOL_1, "school_year": 2026, "subject": "All", "users": "x"},
            "must be a list",
        ),
        (
            "groups",
            {
                "name": "G",
                "school": SCHOOL_1,
                "school_year": 2026,
                "subject": "All",
                "users": ["x"],
            },
            "not an e-mail",
        ),
        ("custom_groups", {"owner": "a@d.org"}, "field `name` is missing"),
        ("students", {"ssid": 1, "school": SCHOOL_1}, "must be str"),
    ],
)
def test_malformed_records_are_refused(part: str, entry: dict[str, Any], message: str) -> None:
    """U2, U5: malformed groups, custom groups and students are refused with a message."""
    data = mapping()
    data[part] = [entry]
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    assert any(message in p.message for p in info.value.problems), info.value.problems


# --- strict reading, bounded echoes, formula warnings (docs/security.md) ------------------------


def test_duplicate_keys_refuse_the_directory_naming_the_key(tmp_path: Path) -> None:
    """U2: `"active": false, "active": true` refuses the file, naming the key, not last wins."""
    text = json.dumps(mapping(acct("a@d.org", "Site CAASPP Coordinator", SCHOOL_1)))
    text = text.replace(
        '"email": "a@d.org"', '"email": "a@d.org", "active": false, "active": true'
    )
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError, match="has key `active` twice in one object"):
        load_directory(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": ' + "1" * 4301 + "}", "number of 4301 characters"),
        ('{"format": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"format": NaN}', "`NaN`"),
    ],
)
def test_hostile_json_is_a_directory_error(tmp_path: Path, text: str, message: str) -> None:
    """U2: huge numbers, deep nesting and NaN refuse the file with a clear, short problem."""
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError, match=message) as info:
        load_directory(path)
    assert len(str(info.value)) < 400


def test_huge_or_deep_values_in_a_mapping_are_problems_not_crashes() -> None:
    """U2: a 4,301-digit number or a list nested 100,000 deep is a problem with a short value."""
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    for value in (10**4300, deep, "9" * 1_000_000):
        data = mapping()
        data["format"] = value
        data["rule_set"] = value
        data["accounts"] = [{**acct("a@d.org"), "forms": {"CAASPP": [value]}, "phone": value}]
        with pytest.raises(DirectoryError) as info:
            load_directory(data)
        assert len(str(info.value)) < 2_000
        assert all(p.value is None or len(p.value) <= 200 for p in info.value.problems)


def test_unknown_role_of_50_mb_is_refused_quickly_and_briefly() -> None:
    """R4: a 50 MB role name gets no did-you-mean search and is echoed in at most 80 characters."""
    data = mapping({**acct("a@d.org"), "roles": [{"role": "Site " * 10_000_000, "org": SCHOOL_1}]})
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    (problem,) = info.value.problems
    assert problem.rule == "R4"
    assert "(50000000 characters)" in problem.message
    assert len(str(problem)) < 300


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+SUM(1)", "-1+2", "@A1", "\tx", "\rx"])
def test_formula_like_values_load_with_a_warning(value: str) -> None:
    """U3: a name a spreadsheet would run as a formula loads, with a warning naming the field."""
    data = mapping(acct("a@d.org", "Site CAASPP Coordinator", SCHOOL_1, first_name=value))
    data["organizations"][1]["name"] = value
    data["groups"] = [group(value, SCHOOL_1)]
    directory = load_directory(data)
    warned = {(p.where, p.column) for p in directory.warnings if p.rule == "U3"}
    assert warned == {
        ("account `a@d.org`", "first_name"),
        (f"organization `{SCHOOL_1}`", "name"),
        ("group 1", "name"),
    }


def test_phone_numbers_with_a_plus_are_not_formulas() -> None:
    """U3: `+1 213-555-0100` is a phone number, not a formula: no warning."""
    data = mapping(acct("a@d.org", "Site CAASPP Coordinator", SCHOOL_1, phone="+1 (213) 555-0100"))
    assert not [p for p in load_directory(data).warnings if p.rule == "U3"]


def test_huge_ssid_is_echoed_in_bounded_problems() -> None:
    """U5: a 1,000,000-character SSID refuses the directory with problems of bounded length."""
    data = mapping(students=[{"ssid": "1" * 1_000_000, "school": SCHOOL_1}])
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    assert len(str(info.value)) < 1_000
    for problem in info.value.problems:
        assert len(str(problem)) < 600
