"""Run another implementation over a conformance corpus and list where it disagrees.

The program under test is a command line ``CMD``: for each directory of the corpus it runs
``CMD DIRECTORY.json`` as a separate process, writes the directory's requests to its standard
input (the request format, one JSON object a line) and reads one line per request from its
standard output: a JSON object with at least ``"allowed": bool``. Any other line (not JSON, no
``allowed``, missing because the program stopped early) is a disagreement too.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from caaspp_authz.errors import CaasppAuthzError
from caaspp_authz.oracle.corpus import CorpusDirectory

__all__ = ["ConformError", "Disagreement", "Outcome", "run"]


class ConformError(CaasppAuthzError, RuntimeError):
    """The program under test cannot be run (not found, not executable, timed out)."""


@attrs.frozen
class Disagreement:
    """One request where the program's answer is not the corpus's decision."""

    directory: str
    line: int
    request: Any
    expected_allowed: bool
    expected_rules: tuple[str, ...]
    got: str
    """What the program answered: ``allow``, ``deny``, or why its line is no answer."""

    def describe(self) -> str:
        """One line: where, the request, the expected decision and its rule IDs, the answer."""
        verdict = "allow" if self.expected_allowed else "deny"
        rules = ", ".join(self.expected_rules) or "no rule"
        request = json.dumps(self.request, ensure_ascii=False, separators=(",", ":"))
        return (
            f"{self.directory} request {self.line}: {request}: "
            f"expected {verdict} ({rules}), got {self.got}"
        )


@attrs.frozen
class Outcome:
    """The whole run: how many requests were compared and every disagreement, in order."""

    requests: int
    disagreements: tuple[Disagreement, ...]
    stderr: tuple[str, ...] = ()
    """A line for each directory where the program wrote to standard error or failed."""

    def summary(self) -> str:
        """The final line: ``N requests, M disagreements``."""
        return f"{self.requests} requests, {len(self.disagreements)} disagreements"


def _answer(line: str | None) -> bool | str:
    """The ``allowed`` of an output line, or why the line is no answer."""
    if line is None:
        return "no answer (the program wrote fewer lines than requests)"
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return f"a line that is not JSON: `{line[:80]}`"
    allowed = value.get("allowed") if isinstance(value, dict) else None
    if not isinstance(allowed, bool):
        return f"a line without `allowed` true or false: `{line[:80]}`"
    return allowed


def _directory_file(d: CorpusDirectory, scratch: Path) -> Path:
    if d.path is not None:
        return d.path
    path = scratch / f"{d.name}.json"
    path.write_text(json.dumps(d.directory, ensure_ascii=False), encoding="utf-8")
    return path


def _run_one(
    argv: list[str], path: Path, stdin: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*argv, os.fspath(path)],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ConformError(f"cannot run `{argv[0]}`: no such program") from None
    except PermissionError:
        raise ConformError(f"cannot run `{argv[0]}`: not executable") from None
    except subprocess.TimeoutExpired:
        raise ConformError(
            f"`{shlex.join(argv)}` did not finish `{path.name}` within {timeout:g} seconds"
        ) from None


def run(command: str, corpus: Sequence[CorpusDirectory], *, timeout: float = 300.0) -> Outcome:
    """Run ``command`` over every directory of ``corpus``; compare each answer with ``allowed``.

    ``command`` is split as a POSIX shell would split it (no shell runs it); the directory
    file's path is added as its last argument. Raises :class:`ConformError` when the program
    cannot be started or does not finish a directory within ``timeout`` seconds.
    """
    argv = shlex.split(command)
    if not argv:
        raise ConformError("the command is empty")
    total = 0
    found: list[Disagreement] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="caaspp-conform-") as scratch:
        for d in corpus:
            path = _directory_file(d, Path(scratch))
            stdin = "".join(
                json.dumps(c["request"], ensure_ascii=False, separators=(",", ":")) + "\n"
                for c in d.cases
            )
            done = _run_one(argv, path, stdin, timeout)
            if done.returncode != 0 or done.stderr.strip():
                first = done.stderr.strip().splitlines()[:1]
                notes.append(
                    f"{d.name}: exit status {done.returncode}"
                    + (f"; stderr: {first[0][:200]}" if first else "")
                )
            lines = done.stdout.splitlines()
            for i, case in enumerate(d.cases):
                total += 1
                answer = _answer(lines[i] if i < len(lines) else None)
                if answer == case["allowed"]:
                    continue
                got = ("allow" if answer else "deny") if isinstance(answer, bool) else answer
                found.append(
                    Disagreement(
                        d.name,
                        i + 1,
                        case["request"],
                        bool(case["allowed"]),
                        tuple(case.get("rules", ())),
                        got,
                    )
                )
    return Outcome(total, tuple(found), tuple(notes))
