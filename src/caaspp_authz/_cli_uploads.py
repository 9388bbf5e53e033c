"""The upload commands: ``validate users|groups``, ``apply users|groups``, ``directory from-cde``.

Registered by appending to :data:`caaspp_authz.cli.COMMANDS`. Exit status: 0 when the file is
valid (or was applied), 1 when it has errors, 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from caaspp_authz.cde import cde_directory, read_cde
from caaspp_authz.cli import EXIT_INPUT, EXIT_OK, UsageError, read_directory
from caaspp_authz.directory import Directory
from caaspp_authz.errors import DirectoryError, Problem
from caaspp_authz.serialize import dump_directory
from caaspp_authz.uploads import (
    UploadError,
    UploadResult,
    Validation,
    apply_groups,
    apply_users,
    problem_json,
    validate_groups,
    validate_users,
)

__all__ = ["add_directory", "add_uploads"]

_PROGRESS_FROM = 8 << 20
"""Files of at least this many bytes show a progress bar (when stderr is a terminal)."""

_RED, _YELLOW, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


class _Progress:
    """A binary file that draws a progress bar on stderr as it is read."""

    def __init__(self, raw: BinaryIO, size: int, stream: TextIO) -> None:
        self.raw, self.size, self.stream = raw, size, stream
        self.done, self.shown = 0, -1

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.done += len(data)
        percent = min(100, self.done * 100 // max(self.size, 1))
        if percent != self.shown or not data:
            self.shown = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r[{bar:<25}] {percent:3d}%")
            if not data:
                self.stream.write("\n")
            self.stream.flush()
        return data

    def close(self) -> None:
        self.raw.close()


def _tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


def _source(path: str) -> BinaryIO:
    """Open the upload file; a progress bar wraps large files when stderr is a terminal."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
        size = os.fstat(raw.fileno()).st_size
    except OSError as exc:
        raise UsageError(f"cannot read `{path}`: {exc.strerror}") from None
    if size >= _PROGRESS_FROM and _tty(sys.stderr):
        return cast(BinaryIO, _Progress(raw, size, sys.stderr))
    return raw


def _uploader(directory: Directory, email: str) -> str:
    if directory.account(email) is None:
        raise UsageError(f"`--as {email}`: there is no such account in the directory")
    return email


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def _readable(problems: tuple[Problem, ...], *, name: str, rows: int, colour: bool) -> list[str]:
    """Problems grouped by row, errors and warnings counted on the first line."""
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    verdict = "valid" if not errors else "not valid"
    head = f"{name}: {verdict}: {rows} row(s), {errors} error(s), {warnings} warning(s)"
    lines = [_paint(head, _BOLD, colour)]
    current: int | None = -1
    for p in problems:
        if p.row != current:
            current = p.row
            lines.append(f"row {p.row}" if p.row is not None else "file")
        tag = _paint("error  ", _RED, colour) if p.is_error else _paint("warning", _YELLOW, colour)
        where = f" {p.column}:" if p.column else ""
        lines.append(f"  {tag} [{p.rule}]{where} {p.message}")
        if p.fix:
            lines.append(f"          fix: {p.fix}")
    return lines


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    directory = read_directory(args.directory)
    uploader = _uploader(directory, args.as_email)
    check = validate_users if args.kind == "users" else validate_groups
    with _source(args.file) as source:
        result: Validation = check(source, directory, uploader=uploader)
    if args.format == "json":
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        name = Path(args.file).name
        lines = _readable(result.problems, name=name, rows=result.rows, colour=_tty(out))
        out.write("\n".join(lines) + "\n")
    return EXIT_OK if result.valid else EXIT_INPUT


def _apply(args: argparse.Namespace, out: TextIO) -> int:
    directory = read_directory(args.directory)
    uploader = _uploader(directory, args.as_email)
    run = apply_users if args.kind == "users" else apply_groups
    try:
        with _source(args.file) as source:
            applied: UploadResult = run(source, directory, uploader=uploader)
    except UploadError as exc:
        name = Path(args.file).name
        if args.format == "json":
            body = {"applied": False, "problems": [problem_json(p) for p in exc.problems]}
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
        else:
            lines = _readable(exc.problems, name=name, rows=0, colour=_tty(out))
            lines[0] = f"{name}: not applied: the file has errors"
            out.write("\n".join(lines) + "\n")
        return EXIT_INPUT
    try:
        Path(args.out).write_text(
            json.dumps(dump_directory(applied.directory), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise UsageError(f"cannot write `{args.out}`: {exc.strerror}") from None
    if args.format == "json":
        body = {
            "applied": True,
            "changes": applied.changes.to_json(),
            "warnings": [problem_json(p) for p in applied.warnings],
        }
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        lines = applied.changes.lines()
        out.write(f"applied {Path(args.file).name}; wrote {args.out}\n")
        out.write("".join(f"{line}\n" for line in lines) or "no changes\n")
    return EXIT_OK


def _from_cde(args: argparse.Namespace, out: TextIO) -> int:
    try:
        result = read_cde(args.file, include_closed=args.include_closed)
    except OSError as exc:
        raise UsageError(f"cannot read `{args.file}`: {exc.strerror}") from None
    for p in result.problems:
        print(f"caaspp-authz: {p}", file=sys.stderr)
    try:
        mapping = cde_directory(result)
    except DirectoryError:
        out.write(f"{Path(args.file).name}: not written: the file has errors\n")
        return EXIT_INPUT
    try:
        Path(args.out).write_text(
            json.dumps(mapping, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise UsageError(f"cannot write `{args.out}`: {exc.strerror}") from None
    out.write(f"wrote {len(result.organizations)} organizations to {args.out}\n")
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.csv", help="the upload file")
    p.add_argument("--directory", required=True, metavar="D.json", help="the directory file")
    p.add_argument(
        "--as",
        dest="as_email",
        required=True,
        metavar="EMAIL",
        help="the e-mail of the account that uploads the file",
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (text)"
    )


def add_uploads(sub: Any) -> None:
    """Add ``validate users|groups`` and ``apply users|groups``."""
    for command, helptext, run in (
        ("validate", "validate an upload file against a directory", _validate),
        ("apply", "apply a valid upload file to a directory", _apply),
    ):
        parser = sub.add_parser(command, help=helptext)
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        for kind, what in (
            ("users", "a TOMS user upload"),
            ("groups", "a CERS student-group upload"),
        ):
            p = kinds.add_parser(kind, help=what)
            _common(p)
            if command == "apply":
                p.add_argument(
                    "--out", required=True, metavar="NEW.json", help="the new directory file"
                )
            p.set_defaults(run=run)


def add_directory(sub: Any) -> None:
    """Add ``directory from-cde``."""
    parser = sub.add_parser("directory", help="make directory files")
    actions = parser.add_subparsers(dest="directory_action", required=True, metavar="ACTION")
    p = actions.add_parser("from-cde", help="organizations from the CDE public schools file")
    p.add_argument("file", metavar="FILE", help="the CDE public schools file (pubschls.txt)")
    p.add_argument("--out", required=True, metavar="D.json", help="the directory file to write")
    p.add_argument(
        "--include-closed", action="store_true", help="keep closed and merged organizations"
    )
    p.set_defaults(run=_from_cde)


COMMANDS: list[Callable[[Any], None]] = [add_uploads, add_directory]
