"""Examples for the role catalog: roles, spellings, permissions, capabilities, grants (R, P, T, G)."""

from __future__ import annotations

import difflib

import attrs
import pytest

from caaspp_authz import (
    GRANTS,
    ROLES,
    Capability,
    Form,
    Permission,
    Program,
    Role,
    RoleLevel,
    UnknownRole,
    at_least,
    highest,
    resolve_role,
    role,
)
from caaspp_authz.catalog import (
    _POWERS,
    AT_TEST_SITES,
    PER_PROGRAM,
    SUPERINTENDENT,
    Where,
    _fold,
    by_name,
    closest_role,
    scope_key,
    spellings,
)

P = Permission
C = Capability

LC, LE = "LEA CAASPP Coordinator", "LEA ELPAC Coordinator"
SC, SE = "Site CAASPP Coordinator", "Site ELPAC Coordinator"
ED, ETS, ER = "Educator—District", "Educator—Test Site", "Educator—Roster"
LSC, LSD = "LS Correspondence Administrator", "LS Data Entry"
TA, TE, TATE = (
    "CAASPP Test Administrator",
    "CAASPP Test Examiner",
    "Test Administrator & Test Examiner",
)
IA, ETE, TFT = "IA Administrator Only", "ELPAC Test Examiner", "Tools for Teachers Only"

R2_TABLE = {
    LC: (RoleLevel.LEA, {Program.CAASPP}),
    LE: (RoleLevel.LEA, {Program.ELPAC}),
    ED: (RoleLevel.LEA, {Program.CAASPP}),
    LSC: (RoleLevel.LEA, {Program.ELPAC}),
    SC: (RoleLevel.SCHOOL, {Program.CAASPP}),
    SE: (RoleLevel.SCHOOL, {Program.ELPAC}),
    ETS: (RoleLevel.SCHOOL, {Program.CAASPP}),
    TA: (RoleLevel.SCHOOL, {Program.CAASPP}),
    TE: (RoleLevel.SCHOOL, {Program.CAASPP}),
    TATE: (RoleLevel.SCHOOL, {Program.CAASPP}),
    IA: (RoleLevel.SCHOOL, {Program.CAASPP, Program.ELPAC}),
    ETE: (RoleLevel.SCHOOL, {Program.ELPAC}),
    LSD: (RoleLevel.SCHOOL, {Program.ELPAC}),
    ER: (RoleLevel.SCHOOL, {Program.CAASPP}),
    TFT: (RoleLevel.ANY, {Program.CAASPP, Program.ELPAC}),
}


def test_r1_r2_catalog_is_exactly_the_table() -> None:
    """R1, R2: the catalog holds exactly the fifteen roles, with their level and programs."""
    assert {r.name: (r.level, set(r.programs)) for r in ROLES} == R2_TABLE


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Educator—District", ED),
        ("Educator - District", ED),
        ("Educator – District", ED),
        ("Educator—Test Site", ETS),
        ("Educator - Test Site", ETS),
        ("Educator – Test Site", ETS),
        ("Educator—Roster", ER),
        ("Educator - Roster", ER),
        ("Educator – Roster", ER),
        ("LST Correspondence Administrator", LSC),
        ("LS Correspondence Administrator", LSC),
        ("LST Data Entry", LSD),
        ("LS Data Entry", LSD),
        ("CAASPP IA Administrator Only", IA),
        ("IA Administrator Only", IA),
        ("Tools for Teachers User", TFT),
        ("Tools for Teachers Only", TFT),
        ("Test Administrator & Test Examiner", TATE),
    ],
)
def test_r3_spellings_name_one_role(text: str, name: str) -> None:
    """R3, R4: every listed spelling (em dash, hyphen, en dash, LST, CAASPP IA, User) is exact."""
    found, legacy = resolve_role(text)
    assert found.name == name
    assert not legacy
    assert text in spellings()


@pytest.mark.parametrize(
    ("text", "name"),
    [("Test Site Coordinator", SC), ("Test Administrator", TA), ("Test Examiner", TE)],
)
def test_r3_legacy_names_resolve_with_flag(text: str, name: str) -> None:
    """R3, R4: a legacy name resolves to its current role, flagged as legacy."""
    found, legacy = resolve_role(text)
    assert (found.name, legacy) == (name, True)
    assert role(text).name == name


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("site caaspp coordinator", SC),
        ("Site  CAASPP Coordinator ", SC),
        ("Site CASSPP Coordinator", SC),
        ("educator-district", ED),
        ("educator - test site", ETS),
    ],
)
def test_r4_near_miss_suggests_closest_role(text: str, suggestion: str) -> None:
    """R4: case, extra spaces and typos are errors that suggest the closest role's name."""
    with pytest.raises(UnknownRole) as info:
        resolve_role(text)
    assert info.value.suggestion == suggestion
    assert info.value.rule == "R4"
    assert f"did you mean `{suggestion}`" in str(info.value)
    assert closest_role(text) == suggestion


@pytest.mark.parametrize(
    ("text", "name"),
    [("test administrator", TA), ("Test site coordinator", SC), ("Test Examiner ", TE)],
)
def test_r4_near_miss_of_legacy_name_suggests_current_role(text: str, name: str) -> None:
    """R4: a near miss of a legacy name suggests the current role, not the legacy spelling."""
    assert closest_role(text) == name


def test_r4_case_spaces_and_dashes_fold_to_the_spelling_without_a_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R4: a text that differs from a spelling only in case, spacing or its kind of dash (em,
    en or hyphen) folds to that spelling, so its fix needs no similarity search."""
    assert _fold(" Educator\u2014TEST   Site ") == "educator-test site"
    assert _fold("Educator\u2013Roster") == _fold("educator-roster") == "educator-roster"
    closest_role.cache_clear()
    monkeypatch.setattr(difflib, "get_close_matches", lambda *args, **kwargs: [])
    try:
        assert closest_role("educator-district") == ED
        assert closest_role("Educator\u2013Roster") == ER
        assert closest_role("  site   CAASPP coordinator") == SC
        assert closest_role("Site CASSPP Coordinator") is None  # a typo needs the search
    finally:
        closest_role.cache_clear()


def test_r4_nonsense_has_no_suggestion() -> None:
    """R4: a text close to no role is refused without a suggestion."""
    with pytest.raises(UnknownRole) as info:
        role("Principal")
    assert info.value.suggestion is None
    assert str(info.value) == "`Principal` is not a role"


def test_r4_unknown_role_is_a_lookup_error() -> None:
    """R4: the error is also a builtin LookupError."""
    with pytest.raises(LookupError):
        role("Superintendent")


P2_TABLE = {
    **dict.fromkeys((LC, LE, ED, SC, SE, ETS), frozenset(P)),
    **dict.fromkeys(
        (LSC, TA, TE, TATE, IA, ETE, LSD, ER), frozenset({P.PII_GROUP, P.DL_END_USER})
    ),
    TFT: frozenset({P.DL_END_USER}),
}


def test_p1_six_permissions() -> None:
    """P1: there are exactly six CERS permissions."""
    assert {p.value for p in P} == {
        "PII",
        "PII_GROUP",
        "GROUP_ADMIN",
        "CUSTOM_AGGREGATE_REPORTER",
        "INSTRUCTIONAL_RESOURCE_ADMIN",
        "DL_END_USER",
    }


def test_p2_mapping_is_exactly_the_rulebook() -> None:
    """P2, P3: each role's permissions are exactly those of Tables B.1 and B.2."""
    assert {r.name: r.permissions for r in ROLES} == P2_TABLE


_ADMIN = {C.ADMINISTER_SUMMATIVE, C.ADMINISTER_ALTERNATE, C.ADMINISTER_INTERIM}
T_TABLE = {
    LC: _ADMIN | {C.ADMINISTER_PRACTICE, C.MANAGE_TEST_SETTINGS, C.HAND_SCORE_INTERIM},
    SC: _ADMIN | {C.ADMINISTER_PRACTICE, C.MANAGE_TEST_SETTINGS, C.HAND_SCORE_INTERIM},
    LE: {C.ADMINISTER_ELPAC, C.MANAGE_TEST_SETTINGS},
    SE: {C.ADMINISTER_ELPAC, C.MANAGE_TEST_SETTINGS},
    TA: {
        C.ADMINISTER_SUMMATIVE,
        C.ADMINISTER_INTERIM,
        C.ADMINISTER_PRACTICE,
        C.HAND_SCORE_INTERIM,
    },
    TE: {
        C.ADMINISTER_ALTERNATE,
        C.ADMINISTER_INTERIM,
        C.ADMINISTER_PRACTICE,
        C.HAND_SCORE_INTERIM,
    },
    TATE: _ADMIN | {C.ADMINISTER_PRACTICE, C.HAND_SCORE_INTERIM},
    IA: {C.ADMINISTER_INTERIM, C.HAND_SCORE_INTERIM},
    ETE: {C.ADMINISTER_ELPAC},
}
COMPLETION = {LC, SC, LE, SE, TA, TE, TATE, IA, ETE}
UPLOADERS = {LC, LE, SC, SE}


_STATUS = {C.VIEW_COMPLETION_STATUS, C.VIEW_INTERIM_COMPLETION_STATUS, C.UPLOAD_USERS}


def test_t1_t3_capability_table_is_exactly_the_rulebook() -> None:
    """T1, T2, T3: test-administration capabilities per role, exactly as the rulebook lists them."""
    got = {r.name: set(r.capabilities) - _STATUS for r in ROLES}
    assert got == {r.name: T_TABLE.get(r.name, set()) for r in ROLES}


def test_t3_completion_status_adds_elpac_side() -> None:
    """T3: full completion status reports go to the hand-scoring roles but IA Administrator
    Only, plus the ELPAC side; interim status to all of them and IA Administrator Only."""
    got = {r.name for r in ROLES if C.VIEW_COMPLETION_STATUS in r.capabilities}
    assert got == COMPLETION - {IA}
    interim = {r.name for r in ROLES if C.VIEW_INTERIM_COMPLETION_STATUS in r.capabilities}
    assert interim == COMPLETION


PER_PROGRAM_KEYS = {
    LC: {"manage_test_settings:CAASPP", "view_completion_status:CAASPP"},
    SC: {"manage_test_settings:CAASPP", "view_completion_status:CAASPP"},
    LE: {"manage_test_settings:ELPAC", "view_completion_status:ELPAC"},
    SE: {"manage_test_settings:ELPAC", "view_completion_status:ELPAC"},
    TA: {"view_completion_status:CAASPP"},
    TE: {"view_completion_status:CAASPP"},
    TATE: {"view_completion_status:CAASPP"},
    ETE: {"view_completion_status:ELPAC"},
    IA: {
        "view_interim_completion_status:CAASPP",
        "view_interim_completion_status:ELPAC",
    },
}


def test_t2_t3_per_program_capabilities() -> None:
    """T2, T3: test settings and completion status are held for the role's own programs; IA
    Administrator Only (both programs) sees interim status of both; every role with a program's
    full status also has its interim status."""
    for r in ROLES:
        per = {k for k in r.scope_keys if ":" in k}
        expected = set(PER_PROGRAM_KEYS.get(r.name, set()))
        expected |= {
            k.replace("view_completion_status", "view_interim_completion_status")
            for k in expected
            if k.startswith("view_completion_status")
        }
        assert per == expected, r.name
    assert {
        C.MANAGE_TEST_SETTINGS,
        C.VIEW_COMPLETION_STATUS,
        C.VIEW_INTERIM_COMPLETION_STATUS,
    } == PER_PROGRAM
    assert scope_key(C.MANAGE_TEST_SETTINGS, Program.ELPAC) == "manage_test_settings:ELPAC"
    assert scope_key(C.ADMINISTER_ELPAC) == "administer_elpac"


def test_t1_administering_is_at_test_sites() -> None:
    """T1: exactly the administer_* capabilities are used at test sites only."""
    assert {c.value for c in AT_TEST_SITES} == {
        c.value for c in C if c.value.startswith("administer_")
    }


def test_g8_coordinator_column() -> None:
    """G8: the coordinator roles are the LEA and site coordinators of both programs."""
    assert {r.name for r in ROLES if r.coordinator} == {LC, LE, SC, SE}
    assert {r.name for r in ROLES if r.lea_coordinator} == {LC, LE}
    assert {r.name for r in ROLES if r.site_coordinator} == {SC, SE}


def test_g9_upload_users_is_for_coordinators() -> None:
    """G9: only LEA and site coordinators may upload users."""
    assert {r.name for r in ROLES if C.UPLOAD_USERS in r.capabilities} == UPLOADERS


_S = Where.SCHOOLS
_H = Where.HOLDER
_HS = Where.HOLDER_OR_SCHOOLS
G3_TABLE = {
    (LC, ED, _H),
    *((LC, g, _S) for g in (SC, TA, TE, TATE, IA, ETS, ER)),
    (LC, TFT, _HS),
    (LE, LSC, _H),
    *((LE, g, _S) for g in (SE, ETE, LSD, IA)),
    (LE, TFT, _HS),
    *((SC, g, _H) for g in (TA, TE, TATE, IA, ETS, ER, TFT)),
    *((SE, g, _H) for g in (ETE, LSD, IA, TFT)),
}
G1_ROWS = {
    (SUPERINTENDENT, LC, _H, True, False),
    (SUPERINTENDENT, LE, _H, True, False),
    (LC, LC, _H, False, True),
    (LE, LE, _H, False, True),
}


def test_g3_grant_matrix_is_exactly_the_table() -> None:
    """G3: the grant rows other than G1's are exactly the rows of the G3 table."""
    rows = {(g.grantor, g.grantee, g.where) for g in GRANTS if g.rule != "G1"}
    assert rows == G3_TABLE


def test_g1_rows_superintendent_and_primary_coordinators() -> None:
    """G1, R7: the superintendent grants primaries; a primary coordinator adds secondaries only."""
    rows = {
        (g.grantor, g.grantee, g.where, g.may_grant_primary, g.grantor_primary_only)
        for g in GRANTS
        if g.rule == "G1"
    }
    assert rows == G1_ROWS


def test_g4_educator_district_only_from_lea_coordinator() -> None:
    """G4: Educator—District is granted only by an LEA coordinator, under rule G4."""
    rows = [g for g in GRANTS if g.grantee == ED]
    assert [(g.grantor, g.rule) for g in rows] == [(LC, "G4")]


def test_g3_every_other_role_grants_nothing() -> None:
    """G3: roles other than the four coordinators grant nothing."""
    grantors = {g.grantor for g in GRANTS}
    assert grantors == {SUPERINTENDENT, LC, LE, SC, SE}


def test_g10_forms_per_role() -> None:
    """G10: coordinators need agreement and affidavit, others the affidavit, TFT Only none."""
    both = {Form.AGREEMENT, Form.AFFIDAVIT}
    expected = {r.name: {Form.AFFIDAVIT} for r in ROLES} | dict.fromkeys((LC, LE, SC, SE), both)
    expected[TFT] = set()
    assert {r.name: set(r.forms) for r in ROLES} == expected


def test_r5_credential_roles() -> None:
    """R5: CAASPP Test Examiner and Test Administrator & Test Examiner need a credential."""
    assert {r.name for r in ROLES if r.needs_credential} == {TE, TATE}


def test_r7_has_primary() -> None:
    """R7: only the LEA coordinators have a primary."""
    assert {r.name for r in ROLES if r.has_primary} == {LC, LE}


def test_r5_r7_g8_v4_columns_hold_exact_values() -> None:
    """R5, R7, G8, V4: every role's credential, primary and coordinator columns are booleans
    and its source limit a number or ``None``, as the tables give them (no other falsy value,
    which a grant's `credentialed` or a group's source limit would carry on)."""
    columns = {
        r.name: (r.needs_credential, r.has_primary, r.coordinator, r.custom_group_source_limit)
        for r in ROLES
    }
    expected: dict[str, tuple[bool, bool, bool, int | None]]
    expected = dict.fromkeys(R2_TABLE, (False, False, False, None))
    expected |= dict.fromkeys((LC, LE), (False, True, True, None))
    expected |= dict.fromkeys((SC, SE), (False, False, True, None))
    expected |= dict.fromkeys((TE, TATE), (True, False, False, None))
    expected[TA] = (False, False, False, 200)
    assert columns == expected
    assert {type(v) for c in columns.values() for v in c[:3]} == {bool}


def test_p2_t1_t3_scope_keys_are_derived_never_given() -> None:
    """P2, T1–T3: what a role opens (its scope keys) is derived from its permissions,
    capabilities and programs alone: neither building nor evolving a role can set it, and a
    role's repr shows its table row, not the derived keys."""
    with pytest.raises(TypeError, match="scope_keys"):
        Role("Made Up", RoleLevel.SCHOOL, frozenset(), frozenset(), scope_keys=frozenset({"PII"}))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="scope_keys"):
        attrs.evolve(by_name(TFT), scope_keys=frozenset({"PII"}))  # type: ignore[call-arg]
    assert Role("Made Up", RoleLevel.SCHOOL, frozenset(), frozenset()).scope_keys == frozenset()
    text = repr(by_name(TFT))
    assert text.startswith("Role(name='Tools for Teachers Only', level=<RoleLevel.ANY: 'any'>")
    assert text.endswith("custom_group_source_limit=None, coordinator=False)")
    assert "scope_keys" not in text


def test_v4_limit_on_test_administrator_only() -> None:
    """V4: the 200-student custom-group source limit applies to CAASPP Test Administrator only."""
    limits = {r.name: r.custom_group_source_limit for r in ROLES if r.custom_group_source_limit}
    assert limits == {TA: 200}


def test_r2_where_roles_may_be_held() -> None:
    """R2, O3: LEA roles at LEAs, school roles at test sites, TFT Only anywhere."""
    assert by_name(LC).may_be_held_at(lea=True, test_site=False)
    assert not by_name(LC).may_be_held_at(lea=False, test_site=True)
    assert by_name(SC).may_be_held_at(lea=True, test_site=True)
    assert not by_name(SC).may_be_held_at(lea=True, test_site=False)
    assert by_name(TFT).may_be_held_at(lea=False, test_site=False)
    assert str(by_name(SC)) == SC


def test_e4_site_coordinator_dominates_test_examiner() -> None:
    """E4: Site CAASPP Coordinator is at least CAASPP Test Examiner, not the other way."""
    assert at_least(by_name(SC), by_name(TE))
    assert not at_least(by_name(TE), by_name(SC))
    assert highest([by_name(TE), by_name(SC)]) == by_name(SC)


def test_e4_lea_coordinator_dominates_site_coordinator() -> None:
    """E4: an LEA coordinator is at least the site coordinator of its program."""
    assert at_least(by_name(LC), by_name(SC))
    assert at_least(by_name(LE), by_name(SE))
    assert not at_least(by_name(SC), by_name(LC))


def test_e4_grant_powers_count() -> None:
    """E4: a role equal to another in level, permissions and capabilities is not at least it
    when it lacks one of its grant powers (a site ELPAC coordinator given the CAASPP site
    coordinator's programs and capabilities still grants no test administrator)."""
    sc = by_name(SC)
    like_sc = attrs.evolve(by_name(SE), programs=sc.programs, capabilities=sc.capabilities)
    assert (like_sc.level, like_sc.scope_keys) == (sc.level, sc.scope_keys)
    assert not at_least(like_sc, sc)
    assert not at_least(sc, like_sc)
    assert highest([sc, like_sc]) is None
    assert not at_least(by_name(ETS), sc)
    assert not at_least(by_name(ED), by_name(LC))


def test_e4_levels_rank_first_and_any_level_ranks_as_a_school() -> None:
    """E4: a role held at a school is never at least a role held at the LEA, however much else
    it has; a role held at any level ranks as a school role, both ways."""
    lea = by_name(LC)
    at_school = attrs.evolve(lea, level=RoleLevel.SCHOOL)
    anywhere = attrs.evolve(lea, level=RoleLevel.ANY)
    assert at_school.scope_keys == lea.scope_keys == anywhere.scope_keys
    assert not at_least(at_school, lea)
    assert not at_least(anywhere, lea)
    assert at_least(lea, at_school)
    assert at_least(at_school, anywhere)
    assert at_least(anywhere, at_school)


def test_e4_grant_powers_of_each_role() -> None:
    """E4: a role's grant powers are the grantees of its G1, G3 and G4 rows, each with the
    levels it reaches: its own level at its own organization, the school level at its LEA's
    schools, both where it grants at either."""
    lea, school = frozenset({RoleLevel.LEA}), frozenset({RoleLevel.SCHOOL})
    both = lea | school
    expected: dict[str, dict[str, frozenset[RoleLevel]]] = {name: {} for name in R2_TABLE}
    expected[LC] = {LC: lea, ED: lea, TFT: both} | dict.fromkeys(
        (SC, TA, TE, TATE, IA, ETS, ER), school
    )
    expected[LE] = {LE: lea, LSC: lea, TFT: both} | dict.fromkeys((SE, ETE, LSD, IA), school)
    expected[SC] = dict.fromkeys((TA, TE, TATE, IA, ETS, ER, TFT), school)
    expected[SE] = dict.fromkeys((ETE, LSD, IA, TFT), school)
    assert {name: dict(powers) for name, powers in _POWERS.items()} == expected


def test_g3_one_row_a_grantor_and_grantee() -> None:
    """G3: the grant matrix holds one row for each grantor and grantee (one cell of the
    matrix, which says every place the grantee may be granted)."""
    pairs = [(g.grantor, g.grantee) for g in GRANTS]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize(("a", "b"), [(SC, SE), (TA, TE), (LC, LE), (ETE, IA)])
def test_e4_incomparable_pairs_have_no_highest(a: str, b: str) -> None:
    """E4: where neither role contains the other, highest() is None."""
    assert not at_least(by_name(a), by_name(b))
    assert not at_least(by_name(b), by_name(a))
    assert highest([by_name(a), by_name(b)]) is None


def test_e4_highest_of_one_and_of_duplicates() -> None:
    """E4: the highest of one role, even listed twice, is that role; of none, None."""
    assert highest([by_name(TA), by_name(TA)]) == by_name(TA)
    assert highest([]) is None


def test_r2_g3_t1_t3_values_of_levels_reaches_and_capabilities() -> None:
    """R2, G3, T1–T3: the values the catalog's levels, grant reaches and capabilities carry,
    which denials, scope keys and the grant matrix's text show (`it is a lea role`,
    `holds upload_users over ...`)."""
    from caaspp_authz.catalog import RoleLevel

    assert {level.name: level.value for level in RoleLevel} == {
        "LEA": "lea",
        "SCHOOL": "school",
        "ANY": "any",
    }
    assert {where.name: where.value for where in Where} == {
        "HOLDER": "the grantor's own organization",
        "SCHOOLS": "any school in the grantor's LEA",
        "HOLDER_OR_SCHOOLS": "the grantor's LEA or any school in it",
    }
    assert {c.name: c.value for c in C} == {c.name: c.name.lower() for c in C}
    assert len(C) == 10


def test_r4_a_name_over_twice_the_longest_spelling_gets_no_search() -> None:
    """R4, bounded work: a name up to twice the longest spelling is searched for its closest
    role; a longer one is not searched at all (no suggestion, even where its letters fold
    to a role's); the error names the value."""
    from caaspp_authz.catalog import _LONGEST_SPELLING

    bound = _LONGEST_SPELLING * 2
    at_bound = SC + " " * (bound - len(SC))
    with pytest.raises(UnknownRole) as searched:
        resolve_role(at_bound)
    assert (searched.value.suggestion, searched.value.value) == (SC, at_bound)
    with pytest.raises(UnknownRole) as unsearched:
        resolve_role(at_bound + " ")
    assert unsearched.value.suggestion is None
