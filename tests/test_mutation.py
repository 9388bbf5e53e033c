"""The mutation runner (``python -m mutation``) mutates what mutmut's trampolines cannot reach.

The run itself is long and has its own command; these tests check the runner's parts: that the
mutants include closures and import-time tables, that their keys do not depend on line
numbers, that the import hook serves a mutant, and that the list of equivalent mutants is
well-formed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mutation import runner
from mutation.__main__ import EQUIVALENT, TARGETS, equivalents
from mutation.mutants import module_path, mutants_of

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = '''\
"""A module with a closure factory and a table built at import."""
from typing import TypeVar

T = TypeVar("T")
__all__ = ["TABLE", "factory"]


def factory(limit):
    def check(value):
        return value < limit

    return check


TABLE = {"small": factory(10)}
'''


def test_mutants_reach_closures_and_import_time_tables() -> None:
    """A closure made by a factory and a table built at import are both mutated."""
    functions = {m.function for m in mutants_of("sample", SAMPLE)}
    assert "factory.<locals>.check" in functions
    assert "<module>" in functions
    keys = {m.key for m in mutants_of("sample", SAMPLE)}
    assert "factory.<locals>.check | < limit -> <= limit" in keys
    assert "<module> | 10 -> 11" in keys


def test_type_declarations_and_all_are_not_mutated() -> None:
    """``TypeVar`` declarations and ``__all__`` have no mutants (they only name types and exports)."""
    originals = " ".join(m.original for m in mutants_of("sample", SAMPLE))
    assert "TypeVar" not in originals
    assert '"TABLE"' not in originals


def test_each_mutant_changes_exactly_one_node() -> None:
    """Every mutant's source compiles and differs from the original."""
    for mutant in mutants_of("sample", SAMPLE):
        compile(mutant.source, "sample.py", "exec")
        assert mutant.source != SAMPLE


def test_keys_do_not_depend_on_line_numbers() -> None:
    """Moving the code down (a new comment above it) keeps every mutant's key."""
    before = [m.key for m in mutants_of("sample", SAMPLE)]
    after = [m.key for m in mutants_of("sample", "# a comment\n\n" + SAMPLE)]
    assert before == after
    assert len(set(before)) == len(before)


def test_the_v1_checks_closure_is_mutated() -> None:
    """The V1 check made by ``student_check`` and the module's ``_OPENING`` table have mutants."""
    source = module_path("caaspp_authz._access", ROOT).read_text("utf-8")
    mutants = mutants_of("caaspp_authz._access", source)
    assert "student_check.<locals>.check" in {m.function for m in mutants}
    assert any(m.function == "<module>" and "_OPENING" in m.original for m in mutants)


def test_import_hook_serves_the_mutated_source(tmp_path: Path) -> None:
    """The finder serves the mutant's text for its module and leaves the file unchanged."""
    path = tmp_path / "mutation_sample_module.py"
    path.write_text(SAMPLE, "utf-8")
    mutant = next(m for m in mutants_of("sample", SAMPLE) if m.mutated == "<= limit")
    finder = runner._Substitute("mutation_sample_module", path, mutant.source)
    sys.meta_path.insert(0, finder)
    try:
        module = __import__("mutation_sample_module")
        assert module.TABLE["small"](10) is True
        assert module.__file__ == str(path)
    finally:
        sys.meta_path.remove(finder)
        sys.modules.pop("mutation_sample_module", None)
    assert path.read_text("utf-8") == SAMPLE


def test_targets_name_existing_modules_and_tests() -> None:
    """Every module of targets.toml exists and every test it selects is a file."""
    for name, tests in runner.load_targets(TARGETS).items():
        assert module_path(name, ROOT).is_file(), name
        assert tests, name
        for test in tests:
            assert (ROOT / test).is_file(), test


def test_equivalents_name_targets_and_give_reasons() -> None:
    """Every equivalent mutant is of a module the runner mutates and says why it is equivalent."""
    listed = equivalents(EQUIVALENT)
    targets = runner.load_targets(TARGETS)
    for name, entries in listed.items():
        assert name in targets
        for key, why in entries.items():
            assert " | " in key
            assert " -> " in key
            assert len(why) > 20, key


def test_an_equivalent_without_a_reason_is_refused(tmp_path: Path) -> None:
    """An entry with an empty reason stops the run with a message naming it."""
    path = tmp_path / "equivalent.toml"
    path.write_text(
        '[[equivalent]]\nmodule = "caaspp_authz.decision"\nmutant = "f | a -> b"\nwhy = " "\n',
        "utf-8",
    )
    with pytest.raises(SystemExit, match=re.escape("`f | a -> b`")):
        equivalents(path)


def test_package_is_imported_once_only_for_a_module_it_leaves_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent imports the package before a module's run only when the package's import
    leaves that module unimported, and drops the package's modules afterwards."""
    package = tmp_path / "mutation_sample_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from mutation_sample_pkg import inner\n", "utf-8")
    (package / "inner.py").write_text("X = 1\n", "utf-8")
    (package / "leaf.py").write_text("from mutation_sample_pkg.inner import X\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with runner.preloaded("mutation_sample_pkg.leaf", "mutation_sample_pkg") as warm:
        assert warm
        assert "mutation_sample_pkg.inner" in sys.modules
        assert "mutation_sample_pkg.leaf" not in sys.modules
    assert "mutation_sample_pkg" not in sys.modules
    assert "mutation_sample_pkg.inner" not in sys.modules
    with runner.preloaded("mutation_sample_pkg.inner", "mutation_sample_pkg") as warm:
        assert not warm
        assert "mutation_sample_pkg" not in sys.modules
