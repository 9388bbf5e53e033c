"""Coverage-guided fuzzing of the library's readers and its command line, with oracles.

``python -m fuzz TARGET [--runs N] [--max-len N]`` runs one target under atheris (the ``fuzz``
extra); ``python -m fuzz all --runs N`` runs every target, one after the other. Each target is a
module of this package with a ``check(data: bytes)`` function: it raises ``AssertionError`` when
an oracle fails, and any other exception is a crash. ``tests/test_fuzz.py`` runs every
``check`` over the seeds (``fuzz/seeds/TARGET/``) and over every input a run found a failure on
(``tests/fuzz_regressions/TARGET/``), without atheris.

This package is a development tool: it is not in the wheel. Nothing here imports the library
until a target is loaded, so that the fuzzer can instrument the library as it imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

TARGETS = ("directory", "request", "users", "groups", "cde", "cli")
"""Every target, in the order ``all`` runs them."""

MAX_LEN = {
    "directory": 4096,
    "request": 1024,
    "users": 1024,
    "groups": 1024,
    "cde": 2048,
    "cli": 64,
}
"""The longest input of each target, in bytes, unless ``--max-len`` says otherwise: room for
its seeds and a little more (a directory of 8 organizations and 8 accounts, a few request
lines or upload rows, a CDE header and a few rows, an argument list of a dozen words), so that
an execution stays in the milliseconds."""


def load(target: str) -> Callable[[bytes], None]:
    """The ``check`` function of ``target``."""
    if target not in TARGETS:
        raise ValueError(f"no target `{target}`; the targets are {', '.join(TARGETS)}")
    module = importlib.import_module(f"fuzz.{target}")
    check: Callable[[bytes], None] = module.check
    return check
