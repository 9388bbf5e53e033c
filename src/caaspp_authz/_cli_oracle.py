"""The oracle commands: ``test``, ``corpus``, ``conform``, ``diff`` and ``check-policy``.

Registered by appending to :data:`caaspp_authz.cli.COMMANDS`. Exit status: 0 when everything
holds (every assertion, no disagreement, no change, no counterexample), 1 when something does
not, 2 for unusable arguments (a test file or corpus that cannot be read, a program that
cannot be run).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from caaspp_authz.cli import EXIT_INPUT, EXIT_OK, UsageError
from caaspp_authz.oracle import checks, conform, corpus, testfile

__all__ = ["COMMANDS"]


def _status(ok: bool) -> int:
    return EXIT_OK if ok else EXIT_INPUT


def _cmd_test(args: argparse.Namespace, out: TextIO) -> int:
    passed = True
    for path in args.files:
        try:
            report = testfile.run(path)
        except testfile.TestFileError as exc:
            raise UsageError(str(exc)) from None
        for failure in report.failures:
            out.write(f"{path}: FAILED {failure}\n")
        out.write(f"{path}: {report.summary()}\n")
        passed = passed and report.passed
    return _status(passed)


def _cmd_corpus(args: argparse.Namespace, out: TextIO) -> int:
    try:
        target = corpus.write(args.out)
    except OSError as exc:
        raise UsageError(f"cannot write `{args.out}`: {exc.strerror}") from None
    manifest = json.loads((target / "corpus.json").read_text(encoding="utf-8"))
    out.write(
        f"wrote {len(manifest['directories'])} directories, {manifest['requests']} requests "
        f"to {target} (corpus version {manifest['version'][:12]})\n"
    )
    return EXIT_OK


def _read_corpus(folder: str | None) -> list[corpus.CorpusDirectory]:
    try:
        return corpus.read(folder) if folder is not None else corpus.read()
    except corpus.CorpusError as exc:
        raise UsageError(str(exc)) from None


def _cmd_conform(args: argparse.Namespace, out: TextIO) -> int:
    directories = _read_corpus(args.corpus)
    try:
        outcome = conform.run(args.command, directories, timeout=args.timeout)
    except conform.ConformError as exc:
        raise UsageError(str(exc)) from None
    for d in outcome.disagreements:
        out.write(d.describe() + "\n")
    for note in outcome.stderr:
        out.write(f"note: {note}\n")
    out.write(outcome.summary() + "\n")
    return _status(not outcome.disagreements)


def _decisions(path: str | None) -> dict[checks.DecisionKey, checks.Verdict]:
    try:
        return checks.decisions() if path is None else checks.read_decisions(path)
    except corpus.CorpusError as exc:
        raise UsageError(str(exc)) from None


def _cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    if args.old is None and args.new is not None:
        raise UsageError("`--new` needs `--old`")
    if args.old is None:
        changes = checks.diff_rule_sets()
        what = "between the rule sets one-role-per-email and multi-role"
    else:
        changes = checks.diff(_decisions(args.old), _decisions(args.new))
        what = f"from {args.old} to {args.new or 'this library'}"
    for change in changes:
        out.write(f"{change}\n")
    out.write(f"{len(changes)} decisions change {what}\n")
    return _status(not changes)


def _cmd_check_policy(args: argparse.Namespace, out: TextIO) -> int:
    found = [*checks.check_catalog(), *checks.check_decisions()]
    for c in found:
        out.write(f"{c}\n")
    out.write(
        f"check-policy: {len(found)} counterexamples (escalation, school reach, grantable, "
        "carries)\n"
    )
    return _status(not found)


def add_oracle(sub: Any) -> None:
    """Add the oracle commands to the ``caaspp-authz`` parser."""
    p = sub.add_parser("test", help="check the assertions of test files (TOML)")
    p.add_argument("files", nargs="+", metavar="FILE.toml", help="test files")
    p.set_defaults(run=_cmd_test)

    p = sub.add_parser("corpus", help="write the conformance corpus")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write")
    p.set_defaults(run=_cmd_corpus)

    p = sub.add_parser("conform", help="run another implementation over the corpus")
    p.add_argument(
        "--command",
        required=True,
        metavar="CMD",
        help="the program: run as `CMD DIRECTORY.json`, requests on stdin, decisions on stdout",
    )
    p.add_argument("--corpus", metavar="DIR", help="a corpus folder (default: the built-in one)")
    p.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="seconds per directory"
    )
    p.set_defaults(run=_cmd_conform)

    p = sub.add_parser("diff", help="decisions that change between rule sets or versions")
    p.add_argument("--old", metavar="CORPUS|TABLE", help="a corpus folder or decision table")
    p.add_argument(
        "--new", metavar="CORPUS|TABLE", help="another one (default: this library's decisions)"
    )
    p.set_defaults(run=_cmd_diff)

    p = sub.add_parser("check-policy", help="prove the catalog's safety properties")
    p.set_defaults(run=_cmd_check_policy)


COMMANDS: list[Callable[[Any], None]] = [add_oracle]
