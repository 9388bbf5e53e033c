"""The oracle assertion and the pytest plugin: other code property-tested against the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis.errors import InvalidArgument

from caaspp_authz import Action, CaasppAuthzError, testing
from caaspp_authz.testing import Oracle, assert_agrees_with_oracle
from tests.sql_results import visible_students, visible_students_pii_only

ORACLE = Oracle()


def _directory_in(message: str) -> dict[str, Any]:
    """The directory JSON printed at the end of a disagreement."""
    text = message.split("  directory:\n", 1)[1]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_sql_filter_without_the_group_path_is_caught_minimally() -> None:
    """A SQL row filter that forgets V1's group path fails with a minimal counterexample (V1)."""
    with pytest.raises(AssertionError) as caught:
        assert_agrees_with_oracle(visible_students_pii_only, kind="filter", max_examples=300)
    message = str(caught.value)
    assert "candidate:    leaves it out" in message
    assert "caaspp_authz: allow (rules V1, V2, P2, O4)" in message
    directory = _directory_in(message)
    request = json.loads(message.split("  request:      ", 1)[1].splitlines()[0])
    assert len(directory["students"]) == 1
    assert len(directory["groups"]) == 1
    assert directory["custom_groups"] == []
    # Minimal: without any one account, role, student, group, member or organization, the
    # directory is refused or the filter agrees.
    for path in testing._removable(directory):
        smaller = testing._without(directory, path)
        try:
            found = testing._check_filter(visible_students_pii_only, smaller, request)
        except (CaasppAuthzError, LookupError):
            continue
        assert found is None, f"still disagrees without {path}"


def test_sql_filter_with_both_paths_agrees() -> None:
    """The SQL row filter with both paths of V1 (and G10, G11) agrees with `visible`."""
    assert_agrees_with_oracle(visible_students, kind="filter", max_examples=100)


def _tools_for_everyone(directory: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    if request["action"] == "access_tools_for_teachers":
        return True  # wrong: an unknown or inactive principal may not (E1, G11)
    return ORACLE.can(directory, request)


def test_wrong_decision_function_is_caught_with_the_rule() -> None:
    """A decision function allowing Tools for Teachers to anyone is caught, naming E1 or G11."""
    with pytest.raises(AssertionError) as caught:
        assert_agrees_with_oracle(
            _tools_for_everyone, actions=["access_tools_for_teachers"], max_examples=200
        )
    message = str(caught.value)
    assert "candidate:    allow" in message
    assert "(rules E1)" in message or "(rules G11)" in message or "(rules V7)" in message


def test_the_library_agrees_with_itself_on_every_action() -> None:
    """The oracle's own `can`, as a candidate, agrees on every action and both rule sets."""
    assert_agrees_with_oracle(ORACLE.can, max_examples=40)
    assert_agrees_with_oracle(ORACLE.can, rule_set="multi-role", max_examples=20)


def test_filter_of_groups_compares_group_keys() -> None:
    """A list filter of groups is compared as (school, school_year, name), mappings accepted."""

    def groups(directory: Mapping[str, Any], principal: str, action: str) -> list[object]:
        keys = [g for g in ORACLE.visible(directory, principal, action) if isinstance(g, tuple)]
        return [{"school": g[0], "school_year": g[1], "name": g[2]} for g in keys]

    assert_agrees_with_oracle(groups, kind="filter", actions=[Action.VIEW_GROUP], max_examples=30)


def test_bad_arguments_raise_invalid_argument() -> None:
    """A kind, action or rule set that does not exist is InvalidArgument, as Hypothesis does."""
    with pytest.raises(InvalidArgument):
        assert_agrees_with_oracle(ORACLE.can, kind="list")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        assert_agrees_with_oracle(ORACLE.can, actions=["fly"])
    with pytest.raises(InvalidArgument):
        assert_agrees_with_oracle(ORACLE.can, actions=[])
    with pytest.raises(InvalidArgument):
        assert_agrees_with_oracle(visible_students, kind="filter", actions=["add_role"])
    with pytest.raises(InvalidArgument):
        assert_agrees_with_oracle(ORACLE.can, rule_set="two-roles")


def test_candidate_must_answer_true_or_false() -> None:
    """A decision candidate answering something else than a bool is a TypeError, not a pass."""
    with pytest.raises(TypeError, match="not True or False"):
        assert_agrees_with_oracle(lambda d, r: "yes", max_examples=5)


PLUGIN_TEST = '''
def test_uses_the_fixture(caaspp_oracle):
    """The fixture comes from the installed plugin."""
    directory = {"format": 1, "organizations": [], "accounts": []}
    request = {"principal": "a@example.org", "action": "access_tools_for_teachers",
               "resource": {"tools_for_teachers": True}}
    assert caaspp_oracle.can(directory, request) is False
    caaspp_oracle.assert_agrees(caaspp_oracle.can, max_examples=3)
'''


def test_plugin_fixture_is_available_in_another_project(tmp_path: Path) -> None:
    """A test suite elsewhere gets `caaspp_oracle` from the pytest11 entry point alone."""
    (tmp_path / "test_other.py").write_text(PLUGIN_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
