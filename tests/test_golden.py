"""The golden decision table matches what the policy decides today."""

from __future__ import annotations

import difflib

from caaspp_authz import Action, Student, decide
from caaspp_authz.oracle.table import ACTOR, worlds
from tests.golden import regenerate
from tests.storage import STORAGES

HOW = "if the change is intended, run `python -m tests.golden.regenerate` and commit the table"


def test_decision_table_is_current() -> None:
    """Every (rule set, role, action, relation, variant) decides as the committed table says."""
    expected = regenerate.TABLE.read_text(encoding="utf-8")
    actual = regenerate.render()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            "committed decision_table.tsv",
            "decided now",
            lineterm="",
            n=0,
        )
        shown = list(diff)
        print("\n".join(shown[:200]))
        raise AssertionError(f"the decision table changed ({len(shown)} diff lines); {HOW}")


def test_decision_table_digest_matches() -> None:
    """The committed SHA-256 is the digest of the committed table."""
    text = regenerate.TABLE.read_text(encoding="utf-8")
    assert regenerate.DIGEST.read_text(encoding="utf-8") == regenerate.digest(text), HOW


def test_decision_table_covers_every_action_and_rule_set() -> None:
    """The table is exhaustive over actions and both rule sets (E7)."""
    rows = regenerate.rows()
    assert {r[0] for r in rows} == {"one-role-per-email", "multi-role"}
    assert {r[2] for r in rows} == {a.value for a in Action}
    assert {r[5] for r in rows} == {"allow", "deny"}


def test_decision_table_holds_over_every_storage() -> None:
    """Every cell of the table decides the same when its world is stored (SQLite) or made by
    changes (``Directory.with_changes``), with the world's students taken from that directory."""
    for world in worlds():
        for storage in ("sqlite", "changed"):
            directory = STORAGES[storage](world.directory)
            user = directory.user(ACTOR)
            here = world.directory.user(ACTOR)
            for case in world.cases:
                resource = case.resource
                if isinstance(resource, Student) and resource._home is world.directory.students:
                    resource = directory.students.get(resource.ssid, resource)
                expected = decide(here, case.action, case.resource)
                got = decide(user, case.action, resource)
                assert (got.allowed, got.rules) == (expected.allowed, expected.rules), (
                    storage,
                    case.cell,
                )
