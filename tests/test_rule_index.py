"""The rule index page is current, and every rule is named in the source and in a test."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from caaspp_authz.rules import RULES
from tests import rule_index

# Rules no module of src/ names yet. Remove an entry as soon as the source names the rule (the
# test below insists).
NOT_IN_SRC: Mapping[str, str] = {
    "U8": "the group-file validator of the uploads enforces it",
}

# Rules no test docstring names yet. Remove an entry as soon as a test names the rule (the
# test below insists), so this list only ever shrinks.
UNTESTED: Mapping[str, str] = dict.fromkeys(
    ("U8",),
    "no test names it yet",
)


def test_committed_page_is_current() -> None:
    """docs/reference/rules.md is exactly what the generator produces from the code and tests."""
    committed = rule_index.PAGE.read_text(encoding="utf-8") if rule_index.PAGE.exists() else ""
    if committed != rule_index.render():
        pytest.fail(
            f"{rule_index.PAGE.relative_to(rule_index.ROOT)} is out of date: "
            f"run `{rule_index.REGENERATE}` and commit the result"
        )


def test_every_rule_is_named_in_src() -> None:
    """Every rule ID of RULES is named somewhere in src/, except the listed NOT_IN_SRC."""
    where = rule_index.enforced()
    missing = sorted(r for r in RULES if not where[r] and r not in NOT_IN_SRC)
    assert not missing, f"rules named nowhere in src/caaspp_authz: {', '.join(missing)}"
    stale = sorted(r for r in NOT_IN_SRC if where.get(r))
    assert not stale, f"now named in src, remove from NOT_IN_SRC: {', '.join(stale)}"


def test_every_rule_is_named_by_a_test() -> None:
    """Every rule ID of RULES is named by some test docstring, except the listed UNTESTED."""
    by = rule_index.naming_tests()
    missing = sorted(r for r in RULES if not by[r] and r not in UNTESTED)
    assert not missing, f"rules no test docstring names: {', '.join(missing)}"
    stale = sorted(r for r in UNTESTED if by.get(r))
    assert not stale, f"now named by a test, remove from UNTESTED: {', '.join(stale)}"


def test_exceptions_name_real_rules() -> None:
    """The exception lists name only rule IDs of the rulebook."""
    assert set(NOT_IN_SRC) <= set(RULES)
    assert set(UNTESTED) <= set(RULES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("holds PII over the school (V1, O4)", {"V1", "O4"}),
        ("E2–E5 are the default", {"E2", "E3", "E4", "E5"}),
        ("O1-O3", {"O1", "O2", "O3"}),
        ("G10 forms, not G1", {"G10", "G1"}),
        ("G1/G3/G4", {"G1", "G3", "G4"}),
        ("UTF-8, CRLF, X9, V99, PII_GROUP, AV1", set()),
    ],
)
def test_rule_ids_are_read_as_the_rulebook_writes_them(text: str, expected: set[str]) -> None:
    """IDs, lists and en-dash or hyphen ranges are read; other capitals and digits are not."""
    assert rule_index.rule_ids(text) == expected
