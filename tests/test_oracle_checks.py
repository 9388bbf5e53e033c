"""`check-policy` over the catalog and `diff` between rule sets and versions."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from caaspp_authz import (
    GRANTS,
    ROLES,
    Account,
    Assignment,
    Directory,
    Email,
    Form,
    GrantRule,
    Program,
    Role,
    RoleLevel,
    governs,
    role,
)
from caaspp_authz.catalog import SUPERINTENDENT, Where
from caaspp_authz.cli import main
from caaspp_authz.oracle import checks, corpus
from tests.golden import regenerate

ALL = {p: frozenset(Form) for p in Program}


def _cli(*argv: str) -> tuple[int, str]:
    out = StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_the_catalog_passes_every_check() -> None:
    """No escalation, no school-level reach beyond its school, all grantable, all carry (G3, O4)."""
    assert checks.check_catalog() == []
    assert checks.check_decisions() == []
    assert _cli("check-policy") == (
        0,
        "check-policy: 0 counterexamples (escalation, school reach, grantable, carries)\n",
    )


def test_planted_escalation_is_a_counterexample() -> None:
    """A roster educator allowed to grant the site coordinator is an escalation (G3, P2)."""
    planted = (*GRANTS, GrantRule("Educator—Roster", "Site CAASPP Coordinator", Where.HOLDER))
    found = checks.check_catalog(ROLES, planted)
    assert [c.check for c in found] == ["escalation"]
    assert found[0].rules == ("G3", "P2")
    assert "`Educator—Roster` may grant `Site CAASPP Coordinator`" in found[0].message
    assert "CUSTOM_AGGREGATE_REPORTER, GROUP_ADMIN" in found[0].message


def test_a_role_no_one_can_grant_is_a_counterexample() -> None:
    """Dropping every grant row of Educator—District leaves it grantable by no one (G3, G4)."""
    rows = tuple(g for g in GRANTS if g.grantee != "Educator—District")
    found = checks.check_catalog(ROLES, rows)
    assert [str(c) for c in found] == [
        "grantable [G1, G3]: `Educator—District` can be granted by no one: no grant row names it"
    ]


def test_a_role_that_opens_nothing_is_a_counterexample() -> None:
    """A role with no permission and no capability is named (P2, T1)."""
    empty = Role("Observer", RoleLevel.SCHOOL, frozenset(), frozenset())
    rows = (*GRANTS, GrantRule("Site CAASPP Coordinator", "Observer", Where.HOLDER))
    found = checks.check_catalog((*ROLES, empty), rows)
    assert [c.check for c in found] == ["carries"]
    assert "`Observer` carries no permission and no capability" in found[0].message


def test_static_placements_are_where_the_decision_lets_a_grant_reach() -> None:
    """For every grant row and holding, the checks' placements are those `governs` allows (G3)."""
    for row in GRANTS:
        grantee = role(row.grantee)
        for holder, level in checks._holders(row.grantor, {r.name: r for r in ROLES}):
            if row.grantor == SUPERINTENDENT:
                account = Account(Email("actor@example.org"), forms=ALL, superintendent_of=holder)
            else:
                assignment = Assignment(role(row.grantor), holder, primary=True)
                account = Account(
                    Email("actor@example.org"),
                    credentialed=True,
                    forms=ALL,
                    assignments=[assignment],
                )
            directory = Directory.build(organizations=list(checks._MODEL), accounts=[account])
            user = directory.user("actor@example.org")
            static = {
                p for p in checks._places(row, holder, level) if checks._holdable(grantee, p)
            }
            decided = {
                o.cds
                for o in checks._MODEL
                if checks._holdable(grantee, o.cds)
                and (power := governs(user, grantee, o.cds)) is not None
                and power.rule == row
            }
            assert static == decided, (row, holder)


def test_diff_between_rule_sets_lists_only_the_email_rules() -> None:
    """The two rule sets differ only where E3 and E4 apply (E7); `diff` exits 1 on changes."""
    status, out = _cli("diff")
    assert status == 1
    assert out.splitlines() == [
        "one-role-per-email -> multi-role: edge cases | add_role | edge | E3: "
        "deny (E3) -> allow (G3, G6)",
        "one-role-per-email -> multi-role: edge cases | add_role | edge | E4: "
        "deny (E4) -> allow (G3, G6)",
        "2 decisions change between the rule sets one-role-per-email and multi-role",
    ]


def test_diff_between_versions_lists_each_changed_cell(tmp_path: Path) -> None:
    """A decision table with one cell flipped differs from the library in exactly that cell."""
    lines = regenerate.render().splitlines()
    row = lines[1].split("\t")
    flipped = "deny" if row[5] == "allow" else "allow"
    lines[1] = "\t".join([*row[:5], flipped, "X1"])
    old = tmp_path / "old.tsv"
    old.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out = _cli("diff", "--old", str(old))
    assert status == 1
    shown = out.splitlines()
    assert len(shown) == 2
    assert shown[0].startswith(f"{row[0]}: {row[1]} | {row[2]} | {row[3]}")
    assert f"{flipped} (X1) -> {row[5]}" in shown[0]
    assert shown[1] == f"1 decisions change from {old} to this library"


def test_diff_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    """A file that is neither a corpus nor a decision table is exit status 2."""
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n", encoding="utf-8")
    assert _cli("diff", "--old", str(bad))[0] == 2
    assert _cli("diff", "--old", str(tmp_path / "missing.tsv"))[0] == 2
    assert _cli("diff", "--new", str(bad))[0] == 2
    assert isinstance(corpus.CorpusError("x"), ValueError)
