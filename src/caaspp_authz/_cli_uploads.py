"""The upload and directory commands: ``validate``/``apply users|groups``, ``directory from-cde``,
``directory convert``.

Registered by appending to :data:`caaspp_authz.cli.COMMANDS`. Exit status: 0 when the file is
valid (or was applied), 1 when it has errors, 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from caaspp_authz._files import replace_atomically
from caaspp_authz.cde import cde_directory, read_cde
from caaspp_authz.cli import (
    EXIT_INPUT,
    EXIT_OK,
    SafeOutput,
    UsageError,
    directory_arguments,
    open_input,
    output_arguments,
    read_directory,
    shown,
    warn,
)
from caaspp_authz.directory import Directory
from caaspp_authz.errors import DirectoryError, Problem
from caaspp_authz.serialize import write_directory_json
from caaspp_authz.uploads import (
    ChangeReport,
    UploadError,
    UploadResult,
    Validation,
    apply_groups,
    apply_users,
    problem_json,
    validate_groups,
    validate_users,
)

__all__ = ["add_directory", "add_uploads", "write_atomically"]

_PROGRESS_FROM = 8 << 20
"""Files of at least this many bytes show a progress bar (when stderr is a terminal)."""

_FIRST_CHANGES = 10
"""How many changes ``apply`` prints before its summary stops (``--details`` prints all)."""

_USER_HEADER = "first name,last name,cds code,e-mail address,telephone number,role in organization"
_GROUP_HEADER = (
    "group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login"
)


class _Progress(io.RawIOBase):
    """A binary file that draws a progress bar on a stream as it is read (wrap it buffered)."""

    def __init__(self, raw: BinaryIO, size: int, stream: TextIO) -> None:
        super().__init__()
        self.raw, self.size, self.stream = raw, size, stream
        self.done, self.shown = 0, -1

    def readable(self) -> bool:
        """A progress reader is readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer`` and redraw the bar when the percentage changes."""
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.done += n
        percent = min(100, self.done * 100 // max(self.size, 1))
        if percent != self.shown or not n:
            self.shown = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r[{bar:<25}] {percent:3d}%")
            if not n:
                self.stream.write("\n")
            self.stream.flush()
        return int(n)

    def close(self) -> None:
        """Close the file under the bar."""
        self.raw.close()
        super().close()


def _tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


def _source(path: str) -> BinaryIO:
    """Open the upload file (``-``: stdin); a progress bar wraps large files on a terminal."""
    raw = open_input(path)
    try:
        size = os.fstat(raw.fileno()).st_size
    except (OSError, io.UnsupportedOperation, AttributeError):
        return raw
    if size >= _PROGRESS_FROM and _tty(sys.stderr):
        return io.BufferedReader(_Progress(raw, size, sys.stderr))
    return raw


def _head(source: BinaryIO) -> bytes:
    """The first bytes of the file, left in place for the reader."""
    peek = getattr(source, "peek", None)
    return bytes(peek(4096)[:4096]) if peek is not None else b""


def _not_a_csv(head: bytes, kind: str, command: str) -> Problem | None:
    """What the file is when it is not the CSV text the command reads (U3), or ``None``."""
    rule = "U1" if kind == "users" else "U5"
    if head.startswith(b"PK\x03\x04"):
        what = "an Excel workbook (or another zip archive), not CSV text"
        fix = "in Excel, File > Save As > CSV UTF-8 (Comma delimited) (*.csv)"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an Excel 97-2003 workbook (.xls), not CSV text"
        fix = "in Excel, File > Save As > CSV UTF-8 (Comma delimited) (*.csv)"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(b"\x00") > 10:
        what = 'UTF-16 text (as Excel\'s "Unicode Text" saves it), not UTF-8'
        fix = "save it as CSV UTF-8 (Comma delimited) (*.csv)"
    else:
        first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
        line = first.decode("utf-8", "replace").strip().strip("\r").replace(" ", "").lower()
        if kind == "users" and line == _GROUP_HEADER.replace(" ", ""):
            what, fix = "a CERS student-group file", f"use `caaspp-authz {command} groups`"
        elif kind == "groups" and line == _USER_HEADER.replace(" ", ""):
            what, fix = "a TOMS user file", f"use `caaspp-authz {command} users`"
        else:
            return None
        return Problem("U3", f"this is {what}", row=1, fix=fix)
    return Problem("U3", f"this is {what}; the upload is a CSV file ({rule})", row=1, fix=fix)


def _uploader(directory: Directory, email: str) -> str:
    if directory.account(email) is None:
        raise UsageError(f"`--as {shown(email)}`: there is no such account in the directory")
    return email


def _readable(
    out: SafeOutput,
    problems: tuple[Problem, ...],
    *,
    head: str | None = None,
    name: str,
    rows: int,
) -> None:
    """Problems grouped by row, errors and warnings counted on the first line."""
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    verdict = "valid" if not errors else "not valid"
    out.styled(
        head or f"{name}: {verdict}: {rows} row(s), {errors} error(s), {warnings} warning(s)",
        "bold",
    )
    out.write("\n")
    current: int | None = -1
    for p in problems:
        if p.row != current:
            current = p.row
            out.write(f"row {p.row}\n" if p.row is not None else "file\n")
        out.write("  ")
        if p.is_error:
            out.styled("error  ", "red")
        else:
            out.styled("warning", "yellow")
        where = f" {p.column}:" if p.column else ""
        out.write(f" [{p.rule}]{where} {p.message}\n")
        if p.fix:
            out.write(f"          fix: {p.fix}\n")


def _name(path: str) -> str:
    return "standard input" if path == "-" else Path(path).name


def _validate(args: argparse.Namespace, out: SafeOutput) -> int:
    directory = read_directory(args.directory, quiet=args.quiet)
    uploader = _uploader(directory, args.as_email)
    check = validate_users if args.kind == "users" else validate_groups
    with _source(args.file) as source:
        wrong = _not_a_csv(_head(source), args.kind, "validate")
        if wrong is not None:
            result = Validation(kind=args.kind, problems=(wrong,), rows=0)
        else:
            result = check(source, directory, uploader=uploader)
    if args.format == "json":
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        _readable(out, result.problems, name=_name(args.file), rows=result.rows)
    return EXIT_OK if result.valid else EXIT_INPUT


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old file or the whole new one."""
    replace_atomically(path, lambda temporary: _write_text(temporary, text))


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _write_out(path: str, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write `{shown(path)}`: {exc.strerror}") from None


def _write_json(path: str, directory: Directory) -> None:
    """Write a directory's JSON text, an entry a line, as it is read (atomically)."""
    try:
        write_directory_json(directory, path)
    except OSError as exc:
        raise UsageError(f"cannot write `{shown(path)}`: {exc.strerror}") from None


def _write_directory(path: str, directory: Directory) -> None:
    """Write a directory: the storage format when ``path`` ends in ``.sqlite``, else JSON."""
    if not path.endswith(".sqlite"):
        _write_json(path, directory)
        return
    from caaspp_authz.store import write_store

    try:
        write_store(directory, path)
    except OSError as exc:
        raise UsageError(f"cannot write `{shown(path)}`: {exc.strerror}") from None


_KINDS = (
    ("assignments_added", "assignment(s) added"),
    ("assignments_overridden", "assignment(s) overridden (U4)"),
    ("accounts_created", "account(s) created"),
    ("accounts_reactivated", "account(s) reactivated (G11)"),
    ("accounts_credentialed", "account(s) recorded as credentialed (R5, U6)"),
    ("groups_created", "group(s) created"),
    ("groups_replaced", "group(s) replaced"),
    ("students_added", "student(s) added"),
    ("members_added", "member(s) joined a group"),
    ("members_removed", "member(s) left a group"),
)


def summary(changes: ChangeReport, *, details: bool) -> list[str]:
    """The change report as ``apply`` prints it: counts per kind, then the first changes.

    With ``details``, every change; otherwise the first :data:`_FIRST_CHANGES`.
    """
    counts = [(len(getattr(changes, field)), what) for field, what in _KINDS]
    width = len(f"{max(n for n, _ in counts):,}")
    lines = [f"  {n:>{width},} {what}" for n, what in counts if n]
    if not lines:
        return ["no changes"]
    every = changes.lines()
    shown = every if details else every[:_FIRST_CHANGES]
    lines.append("changes:" if details or len(every) <= _FIRST_CHANGES else "first changes:")
    lines.extend(f"  {line}" for line in shown)
    if len(shown) < len(every):
        lines.append(
            f"  ... and {len(every) - len(shown):,} more (--details or --format json for all)"
        )
    return lines


def _without_collector(
    run: Callable[..., UploadResult], source: BinaryIO, directory: Directory, uploader: str
) -> UploadResult:
    """Apply an upload with the cyclic garbage collector paused: a big file makes millions of
    objects, none of them in a reference cycle, and the collector would walk them all again
    and again (a tenth of the time of a 1,000,000-row file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return run(source, directory, uploader=uploader)
    finally:
        if enabled:
            gc.enable()


def _apply(args: argparse.Namespace, out: SafeOutput) -> int:
    directory = read_directory(args.directory, quiet=args.quiet)
    uploader = _uploader(directory, args.as_email)
    run = apply_users if args.kind == "users" else apply_groups
    name = _name(args.file)
    try:
        with _source(args.file) as source:
            wrong = _not_a_csv(_head(source), args.kind, "apply")
            if wrong is not None:
                raise UploadError([wrong])
            applied: UploadResult = _without_collector(run, source, directory, uploader)
    except UploadError as exc:
        if args.format == "json":
            body = {"applied": False, "problems": [problem_json(p) for p in exc.problems]}
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
        else:
            head = f"{name}: not applied: the file has errors"
            _readable(out, exc.problems, head=head, name=name, rows=0)
        return EXIT_INPUT
    _write_directory(args.out, applied.directory)
    if args.format == "json":
        body = {
            "applied": True,
            "changes": applied.changes.to_json(),
            "warnings": [problem_json(p) for p in applied.warnings],
        }
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        out.write(f"applied {name}; wrote {args.out}\n")
        out.write("".join(f"{line}\n" for line in summary(applied.changes, details=args.details)))
    return EXIT_OK


def _from_cde(args: argparse.Namespace, out: SafeOutput) -> int:
    try:
        result = read_cde(args.file, include_closed=args.include_closed)
    except OSError as exc:
        raise UsageError(f"cannot read `{shown(args.file)}`: {exc.strerror}") from None
    for p in result.problems:
        warn(str(p))
    try:
        mapping = cde_directory(result)
    except DirectoryError:
        out.write(f"{Path(args.file).name}: not written: the file has errors\n")
        return EXIT_INPUT
    _write_out(args.out, json.dumps(mapping, indent=2, ensure_ascii=False) + "\n")
    out.write(f"wrote {len(result.organizations)} organizations to {args.out}\n")
    return EXIT_OK


def _convert(args: argparse.Namespace, out: SafeOutput) -> int:
    """``directory convert``: JSON to the storage format, or the storage format to JSON."""
    from caaspp_authz.store import is_store, write_store

    source = args.file
    if not os.path.isfile(source):
        reason = "no such file" if not os.path.exists(source) else "not a file"
        raise UsageError(f"cannot read `{shown(source)}`: {reason}")
    to = args.to or ("json" if is_store(source) else "sqlite")
    directory = read_directory(source, quiet=args.quiet)
    if to == "json":
        _write_json(args.out, directory)
    else:
        tty = _tty(sys.stderr)

        def progress(stage: str) -> None:
            if tty:
                sys.stderr.write(f"\rwriting {stage} ...\x1b[K")
                sys.stderr.flush()

        try:
            write_store(directory, args.out, progress=progress)
        except OSError as exc:
            raise UsageError(f"cannot write `{shown(args.out)}`: {exc.strerror}") from None
        finally:
            if tty:
                sys.stderr.write("\r\x1b[K")
    out.write(f"wrote {args.out} ({to})\n")
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.csv", help="the upload file (- for stdin)")
    directory_arguments(p)
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
                    "--out",
                    required=True,
                    metavar="NEW.json",
                    help="the new directory file (the storage format if it ends in .sqlite)",
                )
                p.add_argument(
                    "--details",
                    action="store_true",
                    help="print every change, not only the counts and the first changes",
                )
            p.set_defaults(run=run)


def add_directory(sub: Any) -> None:
    """Add ``directory from-cde`` and ``directory convert``."""
    parser = sub.add_parser("directory", help="make directory files")
    actions = parser.add_subparsers(dest="directory_action", required=True, metavar="ACTION")
    p = actions.add_parser("from-cde", help="organizations from the CDE public schools file")
    p.add_argument("file", metavar="FILE", help="the CDE public schools file (pubschls.txt)")
    p.add_argument("--out", required=True, metavar="D.json", help="the directory file to write")
    p.add_argument(
        "--include-closed", action="store_true", help="keep closed and merged organizations"
    )
    output_arguments(p)
    p.set_defaults(run=_from_cde)
    p = actions.add_parser(
        "convert", help="convert a directory between JSON and the storage format (SQLite)"
    )
    p.add_argument("file", metavar="IN", help="the directory file (JSON or storage format)")
    p.add_argument("--out", required=True, metavar="OUT", help="the file to write")
    p.add_argument(
        "--to",
        choices=("sqlite", "json"),
        help="the format to write (default: the other one of the input's)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not print the directory's warnings on standard error",
    )
    output_arguments(p)
    p.set_defaults(run=_convert)


COMMANDS: list[Callable[[Any], None]] = [add_uploads, add_directory]
