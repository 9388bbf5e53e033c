"""The directory's own checks and lookups: every problem `Directory.build` reports, whole (rule,
message, severity, place and value), and the lookups and users it hands out (E1, O4, R2, R5, R6,
R7, E4, U5, V1, V3, V4, G11)."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import pytest

from caaspp_authz import Directory, DirectoryError, User
from caaspp_authz.errors import Problem, Severity
from tests.builders import LEA, OTHER_LEA, SCHOOL_1, SCHOOL_2, acct, build, group, students

W = Severity.WARNING
NOWHERE_LEA, NOWHERE_SCHOOL = "19999990000000", "19999991111111"
TA, SC = "CAASPP Test Administrator", "Site CAASPP Coordinator"
LC, TE = "LEA CAASPP Coordinator", "CAASPP Test Examiner"


def problems_of(*accounts: dict[str, Any], **parts: Any) -> list[Problem]:
    """Every problem of a directory: the refusal's, or the warnings of one that loads."""
    try:
        return list(build(*accounts, **parts).warnings)
    except DirectoryError as refused:
        return list(refused.problems)


def test_e1_r6_account_listed_twice_and_superintendent_of_no_lea() -> None:
    """E1, R6: an e-mail listed twice, and a superintendent of a school or of an organization
    the directory lacks, are each refused, named by account and value."""
    assert problems_of(
        acct("a@d.org", SC, SCHOOL_1),
        acct("a@d.org", SC, SCHOOL_2),
        acct("s@d.org", superintendent_of=SCHOOL_1),
        acct("s2@d.org", superintendent_of=NOWHERE_LEA),
        acct("s3@d.org", superintendent_of=LEA),
    ) == [
        Problem("E1", "e-mail `a@d.org` is listed twice", where="account `a@d.org`"),
        Problem(
            "R6",
            f"is superintendent of `{SCHOOL_1}`, which is not an LEA in the directory",
            where="account `s@d.org`",
            value=SCHOOL_1,
        ),
        Problem(
            "R6",
            f"is superintendent of `{NOWHERE_LEA}`, which is not an LEA in the directory",
            where="account `s2@d.org`",
            value=NOWHERE_LEA,
        ),
    ]


def test_e4_r5_o4_r2_r7_problems_of_an_accounts_roles() -> None:
    """E4, R5, O4, R2, R7: a role held twice at one place and an uncredentialed examiner are
    warnings; a role at an organization the directory lacks, or at the wrong level, is refused;
    `primary` on a role without one is a warning."""
    assert problems_of(
        acct("t@d.org", roles=[(TE, SCHOOL_1), (TE, SCHOOL_1)]),
        acct("ok@d.org", TE, SCHOOL_1, credentialed=True),
        acct("o@d.org", TA, NOWHERE_SCHOOL),
        acct("r@d.org", LC, SCHOOL_1),
        acct("r2@d.org", SC, LEA),
        acct("p@d.org", SC, SCHOOL_2, primary=True),
    ) == [
        Problem(
            "R5",
            f"holds `{TE}`, which needs a credential, but is not marked credentialed: "
            "confirm the credential",
            severity=W,
            where="account `t@d.org`",
        ),
        Problem(
            "E4",
            f"holds `{TE}` at `{SCHOOL_1}` twice",
            severity=W,
            where="account `t@d.org`",
            value=SCHOOL_1,
        ),
        Problem(
            "R5",
            f"holds `{TE}`, which needs a credential, but is not marked credentialed: "
            "confirm the credential",
            severity=W,
            where="account `t@d.org`",
        ),
        Problem(
            "O4",
            f"holds `{TA}` at `{NOWHERE_SCHOOL}`, which is not in the directory",
            where="account `o@d.org`",
            value=NOWHERE_SCHOOL,
        ),
        Problem(
            "R2",
            f"`{LC}` is held at the LEA level, but `{SCHOOL_1}` is a school",
            where="account `r@d.org`",
            value=SCHOOL_1,
        ),
        Problem(
            "R2",
            f"`{SC}` is held at the SCHOOL level, but `{LEA}` is an LEA",
            where="account `r2@d.org`",
            value=LEA,
        ),
        Problem("R7", f"`primary` means nothing on `{SC}`", severity=W, where="account `p@d.org`"),
    ]


def test_r7_two_primaries_of_one_role_at_one_lea() -> None:
    """R7: a second primary of one coordinator role at one LEA is refused, naming both; the
    first stays the primary, and a primary of the other program is no conflict."""
    refused = problems_of(
        acct("l1@d.org", LC, LEA, primary=True),
        acct("l2@d.org", LC, LEA, primary=True),
        acct("l3@d.org", LC, LEA, primary=True),
        acct("e1@d.org", "LEA ELPAC Coordinator", LEA, primary=True),
    )
    assert refused == [
        Problem(
            "R7",
            f"`{e}` and `l1@d.org` are both primary `{LC}` at `{LEA}`",
            where=f"account `{e}`",
            value=LEA,
        )
        for e in ("l2@d.org", "l3@d.org")
    ]
    d = build(acct("l1@d.org", LC, LEA, primary=True), acct("l2@d.org", LC, LEA))
    assert d.primaries == {(LEA, LC): "l1@d.org"}


def test_v1_u5_problems_of_students() -> None:
    """V1, U5: an SSID listed twice, an SSID not of 10 digits and a student at a school the
    directory lacks are refused, each named by its SSID."""
    assert problems_of(
        students=[
            {"ssid": "1000000001", "school": SCHOOL_1},
            {"ssid": "1000000001", "school": SCHOOL_2},
            {"ssid": "12345", "school": SCHOOL_1},
            {"ssid": "1000000003", "school": NOWHERE_SCHOOL},
        ]
    ) == [
        Problem("V1", "SSID `1000000001` is listed twice", where="student `1000000001`"),
        Problem("U5", "SSID `12345` is not 10 digits", where="student `12345`", value="12345"),
        Problem(
            "V1",
            f"school `{NOWHERE_SCHOOL}` is not in the directory",
            where="student `1000000003`",
            value=NOWHERE_SCHOOL,
        ),
    ]


def test_v3_u5_problems_of_groups() -> None:
    """V3, U5: a group listed twice, at a school the directory lacks or at an LEA, of an
    unknown subject, or assigned to an e-mail without an account is refused; one assigned to
    a user with no role opening it is a warning (the assignment opens nothing)."""
    at = f"(2026) at `{SCHOOL_1}`"
    assert problems_of(
        acct("ta@d.org", TA, SCHOOL_1),
        acct("tft@d.org", "Tools for Teachers Only", SCHOOL_1),
        groups=[
            group("G", SCHOOL_1, users=["ta@d.org"]),
            group("G", SCHOOL_1),
            group("H", NOWHERE_SCHOOL),
            group("I", LEA),
            group("J", SCHOOL_1, subject="Art"),
            group("K", SCHOOL_1, users=["tft@d.org", "nobody@d.org"]),
        ],
    ) == [
        Problem("V3", "the group is listed twice", where=f"group `G` {at}"),
        Problem(
            "V3",
            f"school `{NOWHERE_SCHOOL}` is not in the directory",
            where=f"group `H` (2026) at `{NOWHERE_SCHOOL}`",
            value=NOWHERE_SCHOOL,
        ),
        Problem(
            "V3",
            f"`{LEA}` is an LEA, not a school: a group belongs to a school",
            where=f"group `I` (2026) at `{LEA}`",
            value=LEA,
        ),
        Problem(
            "U5", "subject `Art` is none of All, Math, ELA", where=f"group `J` {at}", value="Art"
        ),
        Problem(
            "V3",
            "user `nobody@d.org` has no account",
            where=f"group `K` {at}",
            value="nobody@d.org",
        ),
        Problem(
            "V3",
            "user `tft@d.org` holds no role carrying PII_GROUP or PII over the group's school: "
            "the assignment opens nothing",
            severity=W,
            where=f"group `K` {at}",
            value="tft@d.org",
        ),
    ]


def test_v4_problems_of_custom_groups() -> None:
    """V4: a custom group listed twice, of an owner without an account, or holding a student
    the directory lacks is refused."""
    assert problems_of(
        acct("ta@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001"]),
        custom_groups=[
            {"owner": "ta@d.org", "name": "C", "students": []},
            {"owner": "ta@d.org", "name": "C", "students": []},
            {"owner": "x@d.org", "name": "D", "students": ["9999999998", "9999999999"]},
        ],
    ) == [
        Problem("V4", "the custom group is listed twice", where="custom group `C` of `ta@d.org`"),
        Problem("V4", "owner `x@d.org` has no account", where="custom group `D` of `x@d.org`"),
        *(
            Problem(
                "V4",
                f"student `{ssid}` is not in the directory",
                where="custom group `D` of `x@d.org`",
            )
            for ssid in ("9999999998", "9999999999")
        ),
    ]


def test_v4_custom_group_beyond_its_owners_groups_is_a_warning() -> None:
    """V4: a custom group holding students outside its owner's assigned groups loads, with a
    warning counting them and naming the first; one within them loads without any."""
    members = ["1000000001", "1000000002"]
    every = [*members, "1000000003", "1000000004"]
    custom = [
        {"owner": "ta@d.org", "name": "Readers", "students": members},
        {"owner": "ta@d.org", "name": "All", "students": every},
    ]
    d = build(
        acct("ta@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, every),
        groups=[group("G", SCHOOL_1, members, ["ta@d.org"])],
        custom_groups=custom,
    )
    assert d.warnings == (
        Problem(
            "V4",
            "holds 2 student(s) its owner may not take from its assigned groups, such as "
            "`1000000003`; viewing it is denied",
            severity=W,
            where="custom group `All` of `ta@d.org`",
            fix="edit the custom group to the students of the owner's assigned groups",
        ),
    )


def test_e1_lookups_of_a_directory() -> None:
    """E1: accounts, users and custom groups are looked up by e-mail whatever its case and
    surrounding spaces; what the directory lacks is `None` (a user without an account)."""
    d = build(
        acct("ta@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001"]),
        groups=[group("G", SCHOOL_1, ["1000000001"], ["ta@d.org"])],
        custom_groups=[{"owner": "ta@d.org", "name": "C", "students": ["1000000001"]}],
    )
    account = d.accounts["ta@d.org"]  # type: ignore[index]
    assert d.account(" TA@D.org ") is account
    assert d.user(" TA@D.org ") is d.user("ta@d.org")
    assert d.user("ta@d.org").account is account
    assert d.custom_group(" TA@D.ORG ", "C") is d.custom_groups[("ta@d.org", "C")]  # type: ignore[index]
    assert d.custom_group("ta@d.org", "c") is None
    assert d.account("nobody@d.org") is None
    assert d.organization(SCHOOL_1) is d.tree.organizations[SCHOOL_1]  # type: ignore[index]
    assert d.student("1000000001") is d.students["1000000001"]
    stranger = d.user(" Nobody@D.org")
    assert (stranger.email, stranger.account, stranger.active) == ("nobody@d.org", None, False)
    assert not d.owns(stranger)
    assert list(d.users()) == [d.user("ta@d.org")]


def test_g11_scopes_of_a_user_and_of_a_stranger() -> None:
    """G11, O4: a user's scope of a permission it does not hold is the empty set, and it
    covers no organization with it; a stranger holds and covers nothing."""
    d = build(acct("ta@d.org", TA, SCHOOL_1))
    ta, stranger = d.user("ta@d.org"), d.user("nobody@d.org")
    assert ta.scope("PII_GROUP") == frozenset({SCHOOL_1})
    assert ta.scope("PII") == frozenset()
    assert stranger.scope("PII_GROUP") == frozenset()
    assert ta.covers("PII_GROUP", SCHOOL_1)
    assert not ta.covers("PII", SCHOOL_1)
    assert not stranger.covers("PII_GROUP", SCHOOL_1)


def test_g11_user_is_made_by_its_directory_only() -> None:
    """G11: building a `User` raises a `TypeError` that tells where a user comes from."""
    with pytest.raises(TypeError) as raised:
        User()
    assert str(raised.value) == (
        "a User is made by its directory: take it from `Directory.user(email)`; it cannot "
        "be built or evolved"
    )


def test_directory_holds_its_parts_in_directory_order() -> None:
    """The directory keeps its rule set and indexes each part by its position, in the order
    the directory lists them (the queries answer in that order)."""
    d: Directory = build(
        acct("b@d.org", TA, SCHOOL_1),
        acct("a@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000002", "1000000001"]),
        groups=[group("Z", SCHOOL_1), group("A", SCHOOL_1)],
    )
    assert dict(d.account_positions) == {"b@d.org": 0, "a@d.org": 1}
    assert dict(d.student_positions) == {"1000000002": 0, "1000000001": 1}
    assert [k.name for k, _ in sorted(d.group_positions.items(), key=lambda i: i[1])] == [
        "Z",
        "A",
    ]


def test_g10_o4_g1_what_a_user_holds_reaches_and_grants() -> None:
    """G10, O4, G1, R6: a user holds its in-force roles' permissions where it holds them, reaches
    the schools of an LEA it holds them at, and grants by its rows of the grant matrix (a
    primary coordinator's own rows among them, a superintendent's at its LEA); a role whose
    forms are not on file is not in force and holds nothing."""
    d = build(
        acct("lc@d.org", LC, LEA, primary=True),
        acct("lc2@d.org", LC, LEA),
        acct("sup@d.org", superintendent_of=LEA),
        acct("unsigned@d.org", TA, SCHOOL_1, forms={}),
    )
    lc, lc2 = d.user("lc@d.org"), d.user("lc2@d.org")
    account = d.accounts["lc@d.org"]  # type: ignore[index]
    assert lc.in_force == account.assignments
    assert lc.scopes["PII"] == frozenset({LEA})
    assert lc.scopes["manage_test_settings:CAASPP"] == frozenset({LEA})
    assert "manage_test_settings:ELPAC" not in lc.scopes
    assert lc.reach["PII"] == frozenset({LEA, SCHOOL_1, SCHOOL_2})
    assert set(lc.reach) == set(lc.scopes)
    rows = [
        (p.rule.grantor, p.rule.grantee, p.holder, p.holder_level.value) for p in lc.grant_powers
    ]
    assert rows[0] == (LC, LC, LEA, "lea")  # G1: the primary's own row
    assert [r for r in rows if r[1] == LC] == [(LC, LC, LEA, "lea")]
    assert [(p.rule.grantor, p.rule.grantee) for p in lc2.grant_powers] == [
        (r[0], r[1]) for r in rows[1:]
    ]
    sup = d.user("sup@d.org")
    assert [(p.rule.grantee, p.holder, p.holder_level.value) for p in sup.grant_powers] == [
        (LC, LEA, "lea"),
        ("LEA ELPAC Coordinator", LEA, "lea"),
    ]
    assert (sup.scopes, sup.reach, sup.in_force) == ({}, {}, ())
    unsigned = d.user("unsigned@d.org")
    assert (unsigned.in_force, unsigned.scopes, unsigned.grant_powers) == ((), {}, ())
    assert unsigned.active


def test_v1_v4_a_users_group_students_and_custom_group_sources() -> None:
    """V1, V4: a user's group students are those of every group assigned to it; its custom
    group sources are those of the groups a PII_GROUP role of its opens, within the role's
    source limit (a test administrator's 200, which a group of 200 meets), and none of a group
    its roles do not cover or of a role without PII_GROUP."""
    big = [f"2{i:09d}" for i in range(1, 202)]  # 201 students: over the limit
    full = [f"3{i:09d}" for i in range(1, 201)]  # 200 students: at the limit
    d = build(
        acct("ta@d.org", TA, SCHOOL_1),
        acct("ets@d.org", "Educator—Test Site", SCHOOL_1),
        acct("tft@d.org", "Tools for Teachers Only", SCHOOL_1),
        students=[*students(SCHOOL_1, ["1000000001", "1000000002", *big, *full])],
        groups=[
            group("A", SCHOOL_1, ["1000000001"], ["ta@d.org", "ets@d.org", "tft@d.org"]),
            group("B", SCHOOL_1, ["1000000002"], ["ta@d.org"]),
            group("Big", SCHOOL_1, big, ["ta@d.org", "ets@d.org"]),
            group("Full", SCHOOL_1, full, ["ta@d.org"]),
            group("There", SCHOOL_2, ["1000000003"], ["ta@d.org"]),
        ],
    )
    ta, ets, tft = d.user("ta@d.org"), d.user("ets@d.org"), d.user("tft@d.org")
    assert {k.name for k in ta.groups} == {"A", "B", "Big", "Full", "There"}
    assert ta.group_students == frozenset({"1000000001", "1000000002", "1000000003", *big, *full})
    assert ta.custom_sources == frozenset({"1000000001", "1000000002", *full})
    assert ets.group_students == frozenset({"1000000001", *big})
    assert ets.custom_sources == ets.group_students  # no limit on an educator
    assert (tft.group_students, tft.custom_sources) == (frozenset({"1000000001"}), frozenset())
    assert d.user("nobody@d.org").groups == frozenset()


def test_equal_scopes_and_reaches_are_one_set_shared_between_users() -> None:
    """Build once: users holding a permission at the same organizations share one set of
    them and one set of what that reaches (O4), computed once for the directory."""
    d = build(acct("a@d.org", TA, SCHOOL_1), acct("b@d.org", TA, SCHOOL_1))
    a, b = d.user("a@d.org"), d.user("b@d.org")
    assert a.scopes["PII_GROUP"] is b.scopes["PII_GROUP"] is a.scopes["DL_END_USER"]
    assert a.reach["PII_GROUP"] is b.reach["PII_GROUP"]
    assert d._reaches == {frozenset({SCHOOL_1}): frozenset({SCHOOL_1})}


def test_a_user_of_one_group_shares_the_groups_own_students() -> None:
    """Build once: a user of one group holds that group's own set of students as its group
    students and custom-group sources (V4), not a copy per user (a statewide directory's
    memory would be made of them); a user whose groups are all sources holds one set for
    both."""
    d = build(
        acct("a@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001"]),
        groups=[group("G", SCHOOL_1, ["1000000001"], ["a@d.org"])],
    )
    (key,) = d.groups
    a = d.user("a@d.org")
    assert a.group_students is d.groups[key].students
    assert a.custom_sources is d.groups[key].students
    two = build(
        acct("a@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001", "1000000002"]),
        groups=[
            group("G", SCHOOL_1, ["1000000001"], ["a@d.org"]),
            group("H", SCHOOL_1, ["1000000002"], ["a@d.org"]),
        ],
    ).user("a@d.org")
    assert two.custom_sources is two.group_students  # every group a source: one set
    elsewhere = build(
        acct("a@d.org", TA, SCHOOL_1),
        students=students(SCHOOL_1, ["1000000001"]),
        groups=[
            group("G", SCHOOL_1, ["1000000001"], ["a@d.org"]),
            group("There", SCHOOL_2, ["2000000001"], ["a@d.org"]),
        ],
    )
    (mine,) = (g for g in elsewhere.groups.values() if g.key.name == "G")
    assert elsewhere.user("a@d.org").custom_sources is mine.students  # the one source group


def test_reprs_of_a_directory_and_its_users_are_counts() -> None:
    """No personal data in a repr: a directory's is its counts and rule set, a user's whether
    it has an account, is active and how many roles it holds in force."""
    d = build(
        acct("a@d.org", TA, SCHOOL_1),
        acct("off@d.org", TA, SCHOOL_1, active=False),
        students=students(SCHOOL_1, ["1000000001"]),
        groups=[group("G", SCHOOL_1, ["1000000001"], ["a@d.org"])],
        custom_groups=[{"owner": "a@d.org", "name": "C", "students": ["1000000001"]}],
        rule_set="multi-role",
    )
    assert repr(d) == (
        "<Directory: 6 organization(s), 2 account(s), 1 student(s), 1 group(s), "
        "1 custom group(s), 0 warning(s), rule set multi-role>"
    )
    assert repr(d.user("a@d.org")) == "<User: an account, active, 1 role(s) in force>"
    assert repr(d.user("off@d.org")) == "<User: an account, inactive, 1 role(s) in force>"
    assert repr(d.user("x@d.org")) == "<User: no account, inactive, 0 role(s) in force>"


def test_u5_ssid_of_ten_ascii_digits_only() -> None:
    """U5: an SSID is ten ASCII digits: ten other digits, eleven digits or a letter are
    refused, each named."""
    bad = ["١٢٣٤٥٦٧٨٩٠", "12345678901", "123456789a"]
    assert problems_of(students=students(SCHOOL_1, bad)) == [
        Problem("U5", f"SSID `{s}` is not 10 digits", where=f"student `{s}`", value=s) for s in bad
    ]


def test_indexes_of_holders_students_and_groups_in_directory_order() -> None:
    """G10, V1, V3: the directory indexes who holds each permission where (in force, active
    or not), the students of each school and the groups of each user and of each student,
    each in directory order; only its active users are its own active identities (G11)."""
    d = build(
        acct("lc@d.org", LC, LEA),
        acct("off@d.org", TA, SCHOOL_1, active=False),
        acct("ta@d.org", TA, SCHOOL_1),
        students=[
            *students(SCHOOL_1, ["1000000001", "1000000002"]),
            *students(SCHOOL_2, ["2000000001"]),
        ],
        groups=[
            group("A", SCHOOL_1, ["1000000001"], ["ta@d.org", "off@d.org"]),
            group("B", SCHOOL_1, ["1000000001", "1000000002"], ["ta@d.org"]),
        ],
    )
    assert dict(d.holders["PII"]) == {LEA: ("lc@d.org",)}
    assert dict(d.holders["PII_GROUP"]) == {
        LEA: ("lc@d.org",),
        SCHOOL_1: ("off@d.org", "ta@d.org"),
    }
    assert {k: [s.ssid for s in v] for k, v in d.students_by_school.items()} == {
        SCHOOL_1: ["1000000001", "1000000002"],
        SCHOOL_2: ["2000000001"],
    }
    assert {k: [g.key.name for g in v] for k, v in d.groups_by_user.items()} == {
        "off@d.org": ["A"],
        "ta@d.org": ["A", "B"],
    }
    assert {k: [g.key.name for g in v] for k, v in d.groups_by_student.items()} == {
        "1000000001": ["A", "B"],
        "1000000002": ["B"],
    }
    assert [d.owns(u) for u in d.users()] == [True, True, True]
    assert [id(u) in d._active for u in d.users()] == [True, False, True]


def test_e3_e4_e7_a_directory_applies_its_own_rule_set() -> None:
    """E3, E4, E7: a one-role-per-email directory refuses two different roles on one account
    (E3; E4 where at one organization); a multi-role directory takes them, with an E7
    warning where a role adds nothing to another held at the same organization."""
    two = acct("x@d.org", roles=[(TA, SCHOOL_1), (SC, SCHOOL_2)])
    same_org = acct("y@d.org", roles=[(TA, SCHOOL_1), (SC, SCHOOL_1)])
    assert problems_of(two, same_org) == [
        Problem(
            "E3",
            f"holds different roles (`{TA}`, `{SC}`); one account holds one role",
            where="account `x@d.org`",
            fix="use a different e-mail address for each role",
        ),
        Problem(
            "E4",
            f"holds `{TA}`, `{SC}` at `{SCHOOL_1}`",
            where="account `y@d.org`",
            value=SCHOOL_1,
            fix=f"keep only `{SC}`, the highest of them",
        ),
    ]
    d = build(two, same_org, rule_set="multi-role")
    assert d.rule_set.value == "multi-role"
    assert d.warnings == (
        Problem(
            "E7",
            f"`{TA}` at `{SCHOOL_1}` adds nothing to `{SC}` held there",
            severity=W,
            where="account `y@d.org`",
            value=SCHOOL_1,
            fix=f"remove `{TA}` at `{SCHOOL_1}`",
        ),
    )


def test_e1_a_stranger_holds_nothing() -> None:
    """E1, G11: the user of an e-mail the directory does not hold has no account and holds
    nothing: no scope, reach, role, grant power, group, group student or custom source."""
    stranger = build().user("Nobody@d.org ")
    assert (stranger.email, stranger.account, stranger.active) == ("nobody@d.org", None, False)
    assert (
        stranger.scopes,
        stranger.reach,
        stranger.in_force,
        stranger.grant_powers,
        stranger.groups,
        stranger.group_students,
        stranger.custom_sources,
    ) == ({}, {}, (), (), frozenset(), frozenset(), frozenset())


def test_g11_a_pickled_directory_carries_no_identities() -> None:
    """G11: a directory pickles every field but the identities of its users, which are this
    process's only; unpickled, it knows its own users' identities afresh."""
    d = build(acct("a@d.org", TA, SCHOOL_1))
    state = d.__getstate__()
    assert "_active" not in state
    assert set(state) == {a.name for a in attrs.fields(Directory)} - {"_active"}
    copy = pickle.loads(pickle.dumps(d))
    assert [id(u) in copy._active for u in copy.users()] == [True]


def test_o4_r2_every_problem_of_an_account_after_an_unknown_organization() -> None:
    """O4, R2: an assignment at an organization the directory lacks does not stop the checks
    of the account's next assignments: every problem is reported at once."""
    assert problems_of(acct("t@d.org", roles=[(TA, NOWHERE_SCHOOL), (TA, LEA)])) == [
        Problem(
            "O4",
            f"holds `{TA}` at `{NOWHERE_SCHOOL}`, which is not in the directory",
            where="account `t@d.org`",
            value=NOWHERE_SCHOOL,
        ),
        Problem(
            "R2",
            f"`{TA}` is held at the SCHOOL level, but `{LEA}` is an LEA",
            where="account `t@d.org`",
            value=LEA,
        ),
    ]


def test_r7_a_primary_listed_after_another_assignment_is_the_primary() -> None:
    """R7: an account's primary coordinator assignment counts wherever the account lists it,
    after a secondary one too."""
    entry = acct("l@d.org", roles=[(LC, OTHER_LEA), (LC, LEA)])
    entry["roles"][1]["primary"] = True
    d = build(entry)
    assert d.primaries == {(LEA, LC): "l@d.org"}


def test_v1_u5_every_problem_of_students_after_an_unknown_school() -> None:
    """V1, U5: a student at a school the directory lacks does not stop the checks of the
    students after it: every problem is reported at once."""
    assert problems_of(
        students=[
            {"ssid": "1000000003", "school": NOWHERE_SCHOOL},
            {"ssid": "12345", "school": SCHOOL_1},
        ]
    ) == [
        Problem(
            "V1",
            f"school `{NOWHERE_SCHOOL}` is not in the directory",
            where="student `1000000003`",
            value=NOWHERE_SCHOOL,
        ),
        Problem("U5", "SSID `12345` is not 10 digits", where="student `12345`", value="12345"),
    ]


def test_v4_stale_custom_groups_by_sources_and_by_sight() -> None:
    """V4, V1: a custom group is stale when it holds a student outside its owner's group
    sources, or one its owner may not see (a group member enrolled at another school); an
    owner seeing its group's students through PII is not warned; and a change of another
    account checks no custom group again (its warnings stay those of the directory)."""
    d = build(
        acct("ta@d.org", TA, SCHOOL_1),
        acct("b@d.org", TA, SCHOOL_1),
        acct("ets@d.org", "Educator—Test Site", SCHOOL_1),
        students=[
            *students(SCHOOL_1, ["1000000001", "1000000002"]),
            *students(SCHOOL_2, ["2000000001"]),
        ],
        groups=[group("G", SCHOOL_1, ["1000000001", "2000000001"], ["ta@d.org", "ets@d.org"])],
        custom_groups=[
            {"owner": "ta@d.org", "name": "Out", "students": ["1000000002"]},
            {"owner": "ta@d.org", "name": "Moved", "students": ["2000000001"]},
            {"owner": "ets@d.org", "name": "Mine", "students": ["1000000001"]},
        ],
    )
    assert d.warnings == tuple(
        Problem(
            "V4",
            f"holds 1 student(s) its owner may not take from its assigned groups, such as "
            f"`{ssid}`; viewing it is denied",
            severity=W,
            where=f"custom group `{name}` of `ta@d.org`",
            fix="edit the custom group to the students of the owner's assigned groups",
        )
        for name, ssid in (("Out", "1000000002"), ("Moved", "2000000001"))
    )
    other = d.accounts["b@d.org"]  # type: ignore[index]
    assert d.with_changes(accounts=[attrs.evolve(other, active=False)]).warnings == d.warnings
