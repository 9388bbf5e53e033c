"""Run each mutant in a forked child of one warm process, with its source served by an import hook.

The parent imports pytest, Hypothesis and attrs once and never imports ``caaspp_authz``. For each
mutant it forks a child, which puts a finder at the head of ``sys.meta_path`` that serves the
mutated text as the target module's source, and runs pytest in-process on the module's test
selection (:file:`mutation/targets.toml`). The child imports the package afresh, so every module
that imports the target sees the mutant, and every table built at import is built from it.
Nothing on disk changes, so two children can run side by side.

A child's exit code is pytest's: 0 means the mutant survived. The selection passes unmutated (it
is run first, through the same hook), so any other end is the mutant's doing and kills it: a
failed test, an error while importing or collecting, death by a signal. A child still running
after its timeout (three times the unmutated run, plus ten seconds) is killed with its process
group and counts as killed: a mutant that makes the tests hang is caught. A mutant is run on
the selection's first file, then, only if it passes, on the rest (:func:`stages`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import tempfile
import time
import tomllib
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_loader
from pathlib import Path
from types import ModuleType

import attrs  # noqa: F401  (imported once in the warm parent)
import hypothesis
import pytest
from hypothesis import HealthCheck

from mutation.mutants import Mutant

# The Hypothesis profile of every child: few examples, the same on every run, no database.
PROFILE = "mutation"
hypothesis.settings.register_profile(
    PROFILE,
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


class _Substitute(MetaPathFinder, Loader):
    """Serve ``source`` as the code of ``name`` (whose file is ``path``); leave the rest alone."""

    def __init__(self, name: str, path: Path, source: str) -> None:
        self.name = name
        self.path = path
        self.source = source

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        return spec_from_loader(fullname, self, origin=str(self.path))

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        exec(compile(self.source, str(self.path), "exec"), module.__dict__)


@dataclass(frozen=True)
class Outcome:
    """What became of one mutant."""

    mutant: Mutant
    status: str  # "killed", "timeout" or "survived"
    seconds: float


def pytest_args(tests: Sequence[str]) -> list[str]:
    """The pytest command line of a child: quiet, first failure stops it, nothing written.

    Hypothesis is imported by the parent, before pytest could rewrite its plugin's asserts;
    pytest's warning about that is the one warning let through.
    """
    return [
        "-x",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *tests,
    ]


def _child(mutant: Mutant | None, name: str, path: Path, tests: Sequence[str], log: Path) -> None:
    code = 3
    try:
        os.setsid()
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        source = mutant.source if mutant is not None else path.read_text("utf-8")
        sys.meta_path.insert(0, _Substitute(name, path, source))
        sys.dont_write_bytecode = True
        os.environ["HYPOTHESIS_PROFILE"] = PROFILE
        # A mutant that breaks the import is killed before pytest starts, so pytest's own
        # exit codes for a bad conftest are not mistaken for a wrong selection.
        importlib.import_module(name)
        code = int(pytest.main(pytest_args(tests)))
    except BaseException:  # anything at all: the mutant broke the run
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@contextlib.contextmanager
def preloaded(name: str, package: str = "caaspp_authz") -> Iterator[bool]:
    """Import ``package`` in the warm parent for the run of ``name``, when that leaves ``name``
    unimported (the upload modules: the package's own ``__init__`` never imports them).

    Every child then imports only ``name`` and the modules that import it, all through the
    hook, and each mutant saves the package's import. Whether the package imports ``name`` is
    asked of a forked child, so the parent imports nothing for a module it does import (the
    decision, the catalog, ...). Afterwards the package's modules are dropped again, so the
    next module's children import them afresh. Yields whether the package was imported.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            importlib.import_module(package)
            code = 0 if name not in sys.modules else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    load = os.waitstatus_to_exitcode(status) == 0
    if load:
        importlib.import_module(package)
    try:
        yield load
    finally:
        for module in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[module]


def stages(tests: Sequence[str]) -> list[list[str]]:
    """The selection in two passes: its first file alone, then the rest.

    Most mutants fail the module's own unit tests, and collecting one file is a fraction of
    collecting all of them; only a mutant that passes the first file is run on the rest.
    """
    return [list(tests[:1]), list(tests[1:])] if len(tests) > 1 else [list(tests)]


def baseline(name: str, path: Path, tests: Sequence[str], workdir: Path) -> list[float]:
    """Run each stage on the unmutated module (through the same hook); return their seconds."""
    log = workdir / "baseline.log"
    seconds = []
    for stage in stages(tests):
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(None, name, path, stage, log)
        _, status = os.waitpid(pid, 0)
        seconds.append(time.monotonic() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.stderr.write(log.read_text("utf-8", "replace")[-4000:])
            raise SystemExit(f"the tests of {name} fail without any mutant: fix them first")
    return seconds


def timeouts(seconds: Sequence[float]) -> list[float]:
    """A stage's timeout: three times its unmutated run, plus ten seconds."""
    return [10 + 3 * s for s in seconds]


def run(
    name: str,
    path: Path,
    tests: Sequence[str],
    mutants: Sequence[Mutant],
    *,
    jobs: int,
    timeout: Sequence[float],
    workdir: Path,
    progress: Callable[[Outcome], None],
) -> list[Outcome]:
    """Run every mutant, at most ``jobs`` at once; call ``progress`` as each one ends."""
    passes = stages(tests)
    queue: deque[tuple[Mutant, int]] = deque((m, 0) for m in mutants)
    running: dict[int, tuple[Mutant, int, float, float, Path]] = {}
    outcomes: list[Outcome] = []
    free = [workdir / f"worker{i}.log" for i in range(jobs)]

    def start_next() -> bool:
        if not queue:
            return False
        mutant, stage = queue.popleft()
        log = free.pop()
        pid = os.fork()
        if pid == 0:
            _child(mutant, name, path, passes[stage], log)
        running[pid] = (mutant, stage, time.monotonic(), timeout[stage], log)
        return True

    signal.signal(signal.SIGTERM, _interrupted)
    try:
        while len(running) < jobs and start_next():
            pass
        _wait(running, passes, queue, outcomes, free, progress, start_next)
    finally:
        for child in running:
            _kill_group(child)
    return outcomes


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait(
    running: dict[int, tuple[Mutant, int, float, float, Path]],
    passes: list[list[str]],
    queue: deque[tuple[Mutant, int]],
    outcomes: list[Outcome],
    free: list[Path],
    progress: Callable[[Outcome], None],
    start_next: Callable[[], bool],
) -> None:
    jobs = len(free) + len(running)
    while running:
        pid, status = os.waitpid(-1, os.WNOHANG)
        now = time.monotonic()
        if pid == 0:
            for child, (_, _, started, limit, _) in running.items():
                if now - started > limit:
                    _kill_group(child)
            time.sleep(0.02)
            continue
        if pid not in running:
            continue
        mutant, stage, started, limit, log = running.pop(pid)
        _kill_group(pid)  # whatever the tests left running in the child's group
        free.append(log)
        seconds = now - started
        status_text = _status(status, seconds, limit)
        if status_text == "survived" and stage + 1 < len(passes):
            queue.appendleft((mutant, stage + 1))
        else:
            outcome = Outcome(mutant, status_text, seconds)
            outcomes.append(outcome)
            progress(outcome)
        while len(running) < jobs and start_next():
            pass


def _status(status: int, seconds: float, timeout: float) -> str:
    if os.WIFSIGNALED(status) and seconds > timeout:
        return "timeout"
    # Any other way of ending is the mutant's doing: the same selection passed unmutated.
    return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def workdir() -> tempfile.TemporaryDirectory[str]:
    """A folder for the children's logs, removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="caaspp-mutation-")


def load_targets(path: Path) -> dict[str, list[str]]:
    """The module → tests table of :file:`mutation/targets.toml`, in its order."""
    data = tomllib.loads(path.read_text("utf-8"))
    return {name: list(entry["tests"]) for name, entry in data["modules"].items()}
