"""The export tests' tallies: how many requests each differential run compared, printed at the
end of the run (and kept for the how-to's figures)."""

from __future__ import annotations

from typing import Any

from tests.export.differential import Tally

TALLIES: dict[str, Tally] = {}


def record(name: str, tally: Tally) -> None:
    """Add one world's comparison to the run's tally under ``name``."""
    TALLIES[name] = TALLIES.get(name, Tally(worlds=0)).add(tally)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print each differential run's counts: requests compared and disagreements."""
    if not TALLIES:
        return
    terminalreporter.section("differential tests against SpiceDB and Cedar")
    for name, t in sorted(TALLIES.items()):
        terminalreporter.write_line(
            f"{name}: {t.worlds} worlds, {t.compared} requests compared "
            f"({t.engine} asked of the engine, {t.prechecked} pre-checked), "
            f"{t.allowed} allowed (or non-empty), {len(t.disagreements)} disagreements"
        )
