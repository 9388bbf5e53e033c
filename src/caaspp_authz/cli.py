"""The command line: ``caaspp-authz`` (also ``python -m caaspp_authz``).

Each subcommand is registered by a function that adds its parser; the commands sit at the
edge and call inward (the core never imports this module). Exit status: 0 when every request
got a decision, 1 when any input line was an error, 2 for unusable arguments or a refused
directory (its problems on stderr).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO, TextIO

from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError, DirectoryError
from caaspp_authz.request import Request
from caaspp_authz.serialize import load_directory

__all__ = ["main"]

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Unusable arguments or a refused directory: exit status 2, message on stderr."""


def read_directory(path: str) -> Directory:
    """Load the ``--directory`` file, turning a refusal into a usage error (exit 2)."""
    try:
        return load_directory(path)
    except DirectoryError as exc:
        raise UsageError(str(exc)) from None


def _decide_one(directory: Directory, mapping: Any) -> dict[str, Any]:
    try:
        request = Request.from_json(mapping, directory)
    except CaasppAuthzError as exc:
        return {"error": str(exc)}
    return request.decide().to_json()


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str | None]]:
    """Numbered non-blank lines, decoded one by one: a line that is not UTF-8 is ``None``."""
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if line.strip():
            yield number, line


def _stdin_bytes() -> BinaryIO:
    """Standard input as bytes (a text stream without a buffer, as in tests, is encoded)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer  # type: ignore[no-any-return]
    return io.BytesIO(sys.stdin.read().encode("utf-8"))


def _parse_line(number: int, text: str | None) -> tuple[Any, str | None]:
    """A request line's JSON, or why it is not one (never raises)."""
    if text is None:
        return None, f"line {number} is not UTF-8 text"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"line {number} is not JSON: {exc}"
    except RecursionError:
        return None, f"line {number} is nested too deeply to read"


def _cmd_decide(args: argparse.Namespace, out: TextIO) -> int:
    directory = read_directory(args.directory)
    if args.request is not None:
        try:
            with open(args.request, encoding="utf-8-sig") as f:
                mapping = json.load(f)
        except OSError as exc:
            raise UsageError(f"cannot read `{args.request}`: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"`{args.request}` is not JSON: {exc}") from None
        except RecursionError:
            raise UsageError(f"`{args.request}` is nested too deeply to read") from None
        one = _decide_one(directory, mapping)
        out.write(json.dumps(one, ensure_ascii=False) + "\n")
        return EXIT_INPUT if "error" in one else EXIT_OK
    status = EXIT_OK
    try:
        stream = _stdin_bytes() if args.requests == "-" else open(args.requests, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read `{args.requests}`: {exc.strerror}") from None
    with stream:
        for number, text in _lines(stream):
            mapping, error = _parse_line(number, text)
            line = {"error": error} if error is not None else _decide_one(directory, mapping)
            if "error" in line:
                status = EXIT_INPUT
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return status


def _add_decide(sub: Any) -> None:
    p = sub.add_parser("decide", help="decide requests against a directory")
    p.add_argument("--directory", required=True, metavar="D.json", help="the directory file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--request", metavar="R.json", help="one request (JSON)")
    which.add_argument(
        "--requests", metavar="R.jsonl", help="one request per line (JSON Lines); - for stdin"
    )
    p.set_defaults(run=_cmd_decide)


COMMANDS: list[Callable[[Any], None]] = [_add_decide]
"""Functions that each add one subcommand to the parser."""


def _add_queries(sub: Any) -> None:
    from caaspp_authz._cli_queries import add_commands  # imports this module: load it late

    add_commands(sub)


COMMANDS.append(_add_queries)


def build_parser() -> argparse.ArgumentParser:
    """The ``caaspp-authz`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="caaspp-authz",
        description="Who may do what in California's CAASPP and ELPAC assessment systems.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for bad arguments, 0 for --help
        return int(exc.code or 0)
    try:
        status: int = args.run(args, out or sys.stdout)
    except UsageError as exc:
        print(f"caaspp-authz: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return status


from caaspp_authz import _cli_uploads  # noqa: E402  (registers the upload commands)

COMMANDS.extend(_cli_uploads.COMMANDS)
from caaspp_authz import _cli_export  # noqa: E402  (registers the export command)

COMMANDS.extend(_cli_export.COMMANDS)
