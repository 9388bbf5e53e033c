"""The fuzz harnesses' oracles, run over their seeds and over every input a fuzzing run failed
on (``fuzz/``; ``python -m fuzz TARGET`` runs them under atheris), so that the harnesses keep
working and every failure found stays fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz import TARGETS, load
from fuzz._common import SEEDS

REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"


def _inputs() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for target in TARGETS:
        for folder in (SEEDS / target, REGRESSIONS / target):
            if folder.is_dir():
                found.extend((target, path) for path in sorted(folder.iterdir()))
    return found


def test_every_target_has_seeds() -> None:
    """Each target starts from valid inputs of its own, so that a run reaches deep paths."""
    for target in TARGETS:
        assert len(list((SEEDS / target).iterdir())) >= 3, target


@pytest.mark.parametrize(
    ("target", "path"), _inputs(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_oracle_holds_on_seeds_and_kept_failures(target: str, path: Path) -> None:
    """The target's oracle (a declared error or an answer that agrees with ``decide``, dump and
    load that round-trip, bounded messages) holds on this seed or once-failing input."""
    load(target)(path.read_bytes())
