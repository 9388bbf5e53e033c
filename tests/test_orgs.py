"""Examples for the organization hierarchy (O1–O5)."""

from __future__ import annotations

import pytest

from caaspp_authz import DirectoryError, InvalidCDSCode, Level, Organization, OrgTree, parse_cds
from caaspp_authz.orgs import CDSCode, is_lea_code
from tests.builders import CHARTER, LEA, OTHER_LEA, SCHOOL_1, SCHOOL_2, build


def _org(code: str, level: Level = Level.SCHOOL, lea: str | None = None) -> Organization:
    return Organization(CDSCode(code), code, level, None if lea is None else CDSCode(lea))


def _tree() -> OrgTree:
    return OrgTree.build(
        [
            _org(LEA, Level.LEA),
            _org(SCHOOL_1, lea=LEA),
            _org(SCHOOL_2, lea=LEA),
            _org(CHARTER, Level.LEA),
        ]
    )


def test_parse_cds_accepts_fourteen_digits() -> None:
    """O2: a 14-digit code parses to itself."""
    assert parse_cds(SCHOOL_1) == SCHOOL_1


def test_parse_cds_trims_surrounding_space() -> None:
    """O5 (decision): spaces around a code are trimmed, not refused."""
    assert parse_cds(f" {SCHOOL_1}\t") == SCHOOL_1


def test_lea_code_ends_in_seven_zeros() -> None:
    """O2: a code whose last seven digits are zeros names an LEA, any other a school."""
    assert is_lea_code(LEA)
    assert not is_lea_code(SCHOOL_1)


@pytest.mark.parametrize("text", ["1.2408E+12", "1.96473E+13", "19647331111111e0"])
def test_parse_cds_names_scientific_notation(text: str) -> None:
    """O5: a code in scientific notation is refused with a message naming the cause."""
    with pytest.raises(InvalidCDSCode, match="scientific notation") as info:
        parse_cds(text)
    assert info.value.rule == "O5"
    assert info.value.value == text
    assert f"`{text}`" in str(info.value)


@pytest.mark.parametrize("text", ["19647331111111.0", "1964733111111."])
def test_parse_cds_names_decimal_point(text: str) -> None:
    """O5: a code with a decimal point is refused with a message naming the cause."""
    with pytest.raises(InvalidCDSCode, match="decimal point"):
        parse_cds(text)


def test_parse_cds_names_lost_leading_zeros() -> None:
    """O5: a code that lost a leading zero is refused with the likely 14-digit code."""
    with pytest.raises(InvalidCDSCode, match="leading zero") as info:
        parse_cds("1611921234567")
    assert "`01611921234567`" in str(info.value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("196473311111110", "15 digits, not 14"),
        ("", "empty"),
        ("1964733111111X", "not 14 digits"),
        ("١٩٦٤٧٣٣١١١١١١١", "not 14 digits"),
        (19647331111111, "must be text"),
    ],
)
def test_parse_cds_refuses_other_text(value: object, match: str) -> None:
    """O5: too many digits, empty text, letters, non-ASCII digits and numbers are refused."""
    with pytest.raises(InvalidCDSCode, match=match):
        parse_cds(value)


def test_invalid_cds_is_a_value_error() -> None:
    """O5: the error is also a builtin ValueError."""
    with pytest.raises(ValueError):
        parse_cds("123")


def test_tree_lea_covers_its_schools() -> None:
    """O4: a role at an LEA covers the LEA and each of its schools."""
    tree = _tree()
    assert tree.covers(LEA, SCHOOL_1)
    assert tree.covers(LEA, LEA)
    assert tree.covered_by(LEA) == (LEA, SCHOOL_1, SCHOOL_2)
    assert tree.schools_of(LEA) == (SCHOOL_1, SCHOOL_2)


def test_tree_school_covers_only_itself() -> None:
    """O4: a role at a school covers that school only, not its LEA or a sibling school."""
    tree = _tree()
    assert tree.covers(SCHOOL_1, SCHOOL_1)
    assert not tree.covers(SCHOOL_1, SCHOOL_2)
    assert not tree.covers(SCHOOL_1, LEA)
    assert tree.covered_by(SCHOOL_1) == (SCHOOL_1,)


def test_tree_unknown_code_is_covered_by_nothing() -> None:
    """O4: an organization the tree does not hold is covered by nothing."""
    tree = _tree()
    assert tree.covering(OTHER_LEA) == frozenset()
    assert tree.covered_by(OTHER_LEA) == ()
    assert tree.get(OTHER_LEA) is None
    assert not tree.is_test_site(OTHER_LEA)
    assert not tree.site_in(OTHER_LEA, LEA)
    assert not tree.same_lea(OTHER_LEA, LEA)


def test_tree_is_a_collection() -> None:
    """O1: the tree lists its LEAs and schools; the State is implicit and not among them."""
    tree = _tree()
    assert len(tree) == 4
    assert SCHOOL_1 in tree
    assert {o.level for o in tree} == {Level.LEA, Level.SCHOOL}


def test_tree_same_lea() -> None:
    """O1: two schools of one LEA lie in the same LEA; a charter LEA is its own."""
    tree = _tree()
    assert tree.same_lea(SCHOOL_1, SCHOOL_2)
    assert tree.same_lea(SCHOOL_1, LEA)
    assert not tree.same_lea(SCHOOL_1, CHARTER)


def test_tree_refuses_duplicate_code() -> None:
    """O3: a code listed twice refuses the tree."""
    with pytest.raises(DirectoryError) as info:
        OrgTree.build([_org(LEA, Level.LEA), _org(LEA, Level.LEA)])
    assert [p.rule for p in info.value.problems] == ["O3"]
    assert "listed twice" in info.value.problems[0].message


def test_tree_refuses_school_under_school() -> None:
    """O3: a school whose parent is a school refuses the tree."""
    with pytest.raises(DirectoryError) as info:
        OrgTree.build(
            [_org(LEA, Level.LEA), _org(SCHOOL_1, lea=LEA), _org(SCHOOL_2, lea=SCHOOL_1)]
        )
    (problem,) = info.value.problems
    assert problem.rule == "O3"
    assert problem.value == SCHOOL_1
    assert "is a school, not an LEA" in problem.message


def test_tree_refuses_school_whose_lea_is_missing() -> None:
    """O3: a school whose LEA is not in the directory refuses the tree."""
    with pytest.raises(DirectoryError) as info:
        OrgTree.build([_org(SCHOOL_1, lea=LEA)])
    (problem,) = info.value.problems
    assert (problem.rule, problem.value) == ("O3", LEA)


def test_tree_refuses_school_without_lea_and_lea_with_parent_and_state() -> None:
    """O1, O3: a school with no LEA, an LEA with a parent and a listed State, all at once."""
    with pytest.raises(DirectoryError) as info:
        OrgTree.build(
            [
                _org(LEA, Level.LEA, lea=OTHER_LEA),
                _org(OTHER_LEA, Level.LEA),
                _org(SCHOOL_1),
                _org("00000000000000", Level.STATE),
            ]
        )
    assert sorted(p.rule for p in info.value.problems) == ["O1", "O3", "O3"]


def test_direct_funded_charter_is_its_own_lea_and_test_site() -> None:
    """O3: a direct-funded charter is an LEA of its own and also its own single test site."""
    tree = _tree()
    charter = tree.get(CHARTER)
    assert charter is not None
    assert charter.level is Level.LEA
    assert charter.lea_code == CHARTER
    assert tree.is_test_site(CHARTER)
    assert tree.site_in(CHARTER, CHARTER)
    assert not tree.is_test_site(LEA)
    assert not tree.site_in(LEA, LEA)
    assert tree.site_in(SCHOOL_1, LEA)
    assert not tree.site_in(SCHOOL_1, CHARTER)


def test_dependent_charter_tests_under_granting_lea() -> None:
    """O3: a school's parent is data: a dependent charter may sit under another LEA."""
    d = build(
        orgs=[
            {"cds": LEA, "name": "Example Unified"},
            {"cds": OTHER_LEA, "name": "Sample Valley Unified"},
            {"cds": SCHOOL_1, "name": "Dependent Charter", "lea": OTHER_LEA},
        ]
    )
    assert d.tree.covers(OTHER_LEA, SCHOOL_1)
    assert not d.tree.covers(LEA, SCHOOL_1)
