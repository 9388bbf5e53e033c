"""The command line: ``caaspp-authz`` (also ``python -m caaspp_authz``).

Each subcommand is registered by a function that adds its parser (:data:`COMMANDS`); the
commands sit at the edge and call inward (the core never imports this module). Exit status: 0
when every request got a decision, 1 when any input line was an error, 2 for unusable arguments
or a refused directory (its problems on stderr), 3 for a denial with ``decide --exit-code``, 130
when interrupted.

Everything the command line prints passes through :class:`SafeOutput`, which escapes control
characters (terminal escape sequences) that a file or an argument may carry.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, NoReturn, TextIO

from caaspp_authz._json import JsonProblem
from caaspp_authz._json import loads as strict_json
from caaspp_authz.decision import Action, explain
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError, DirectoryError, InvalidEmail, Problem
from caaspp_authz.errors import shown as bounded
from caaspp_authz.request import Request, parse_request
from caaspp_authz.serialize import load_directory

__all__ = ["COMMANDS", "SafeOutput", "build_parser", "main"]

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_DENIED = 0, 1, 2, 3
EXIT_INTERRUPT = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""
EXIT_PIPE = 141
"""128 + SIGPIPE, as shells report a command whose reader went away (``| head``)."""

MAX_LINE = 1 << 20
"""The longest request line ``decide --requests`` reads (1 MiB); a longer one is an error line."""

_SHOWN = 200
"""The most characters of an input value that a message repeats."""

_ECHOED = 2000
"""The most characters of a request's part that ``decide --echo --format text`` repeats."""

_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""Characters never printed as they are: C0 and C1 controls (but tab and newline), DEL,
bidirectional overrides and lone surrogates."""

STYLES = {"bold": "\x1b[1m", "red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m"}
_RESET = "\x1b[0m"


def escape(text: str) -> str:
    r"""``text`` with every control character written as a ``\uXXXX`` escape.

    The escape is readable in text and valid inside a JSON string, so JSON output stays JSON.
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shown(value: object, *, limit: int = _SHOWN) -> str:
    """A value as a message repeats it: bounded (:func:`caaspp_authz.errors.shown`) and escaped."""
    return escape(bounded(value, limit))


class SafeOutput(io.TextIOBase):
    """A text stream that escapes control characters in everything written to it.

    Colour is written only through :meth:`styled`, and only when ``colour`` is true, so a
    file's ``\\x1b]0;…\\x07`` reaches the terminal as text, never as a command.
    """

    def __init__(self, stream: TextIO, *, colour: bool = False) -> None:
        super().__init__()
        self.stream = stream
        self.colour = colour

    def write(self, text: str) -> int:
        """Write ``text`` with its control characters escaped."""
        self.stream.write(escape(text))
        return len(text)

    def styled(self, text: str, style: str) -> str:
        """Write ``text`` (escaped) in a style of :data:`STYLES` when colour is on."""
        if self.colour:
            self.stream.write(f"{STYLES[style]}{escape(text)}{_RESET}")
        else:
            self.stream.write(escape(text))
        return text

    def flush(self) -> None:
        """Flush the underlying stream."""
        self.stream.flush()

    def isatty(self) -> bool:
        """Whether the underlying stream is a terminal."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty()) if isatty is not None else False


class UsageError(Exception):
    """Unusable arguments or a refused directory: exit status 2, message on stderr."""


def warn(message: str) -> None:
    """Print one line on standard error, escaped, after the program's name."""
    sys.stderr.write(f"caaspp-authz: {escape(message)}\n")


def suggest(value: str, choices: Iterable[str]) -> str:
    """``; did you mean `X`?`` for the closest of ``choices``, or nothing."""
    match = difflib.get_close_matches(value[:_SHOWN], list(choices), n=1, cutoff=0.6)
    return f"; did you mean `{match[0]}`?" if match else ""


def action_argument(flag: str, text: str) -> Action:
    """An action named on the command line, or a usage error with the closest action name."""
    try:
        return Action(text)
    except ValueError:
        hint = suggest(text, (a.value for a in Action))
        raise UsageError(f"`{flag}`: `{shown(text)}` is not an action{hint}") from None


def email_argument(flag: str, text: str) -> str:
    """An e-mail named on the command line (canonical), or a usage error naming the flag."""
    from caaspp_authz.accounts import canonical_email

    try:
        return canonical_email(text)
    except InvalidEmail as exc:
        raise UsageError(f"`{flag}`: {exc}") from None


# --- reading files and standard input -------------------------------------------------------


def stdin_bytes() -> BinaryIO:
    """Standard input as bytes (a text stream without a buffer, as in tests, is encoded)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer  # type: ignore[no-any-return]
    return io.BufferedReader(io.BytesIO(sys.stdin.read().encode("utf-8")))


def open_input(path: str) -> BinaryIO:
    """Open ``path`` for reading bytes (``-`` is standard input), or a usage error."""
    if path == "-":
        return stdin_bytes()
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read `{shown(path)}`: {exc.strerror}") from None


def read_json(flag: str, path: str) -> Any:
    """The JSON document in ``path`` (``-``: standard input), or a usage error naming ``flag``."""
    stream = open_input(path)
    try:
        data = stream.read()
    except OSError as exc:
        raise UsageError(f"cannot read `{shown(path)}`: {exc.strerror}") from None
    finally:
        if stream is not getattr(sys.stdin, "buffer", None):
            stream.close()
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"`{flag} {shown(path)}` is not UTF-8 text: {exc.reason}") from None
    try:  # strictly: no key twice, no overlong number, no NaN, bounded nesting
        return strict_json(text)
    except JsonProblem as exc:
        raise UsageError(f"`{flag} {shown(path)}` {exc}") from None


def _check_load(path: str) -> Directory:
    """``check-directory``: a stored directory is checked in full, as a JSON one is."""
    from caaspp_authz.store import is_store, read_store

    return read_store(path) if is_store(path) else load_directory(path)


def read_directory(path: str, *, quiet: bool = False) -> Directory:
    """Load the ``--directory`` file (``-``: standard input); a refusal is a usage error (2).

    The directory's warnings (legacy role names, credentials to confirm, stale custom groups)
    are printed on standard error unless ``quiet``.
    """
    try:
        if path == "-":
            directory = load_directory(read_json("--directory", path))
        else:
            if not os.path.isfile(path):
                # Say it plainly, without a rule: a file that is not there breaks no rule.
                reason = "no such file" if not os.path.exists(path) else "not a file"
                raise UsageError(f"cannot read `--directory {shown(path)}`: {reason}")
            directory = load_directory(path)
    except DirectoryError as exc:
        raise UsageError(str(exc)) from None
    if not quiet:
        for problem in directory.warnings:
            warn(f"warning: {problem}")
    return directory


def directory_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--directory`` and ``--quiet`` (hide the directory's warnings) to a subcommand."""
    p.add_argument(
        "--directory", required=True, metavar="D.json", help="the directory file (- for stdin)"
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not print the directory's warnings on standard error",
    )
    output_arguments(p)


# --- decide ---------------------------------------------------------------------------------


def _decision_json(directory: Directory, mapping: Any, *, audit: bool = False) -> dict[str, Any]:
    """The decision line; with ``audit`` (``--explain``), a denial's full detail (``explain``),
    which may name personal data the principal may not see."""
    try:
        request = Request.from_json(mapping, directory)
    except CaasppAuthzError as exc:
        return {"error": str(exc)}
    if audit:
        return explain(request.user, request.action, request.resource).to_json()
    return request.decide().to_json()


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str | None, str | None]]:
    """Numbered non-blank lines as ``(number, text, error)``, each at most :data:`MAX_LINE`.

    A line that is too long is skipped without being held in memory; one that is not UTF-8
    has an error and no text.
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                raw = stream.readline(MAX_LINE)
            yield number, None, f"line {number} is longer than {MAX_LINE} bytes"
            continue
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, f"line {number} is not UTF-8 text"
            continue
        if line.strip():
            yield number, line, None


def _parse_line(number: int, text: str) -> tuple[Any, str | None]:
    """A request line's JSON, read strictly, or why it is not one (never raises)."""
    try:
        return parse_request(text, name=f"line {number}"), None
    except CaasppAuthzError as exc:
        return None, str(exc)


def _decision_text(line: dict[str, Any]) -> str:
    """One readable line for a decision (or an error line)."""
    if "error" in line:
        return f"error: {line['error']}"
    verdict = "allowed" if line["allowed"] else "denied"
    text = f"{verdict} [{' '.join(line['rules'])}]: {line['reason']}"
    if line.get("fix"):
        text += f"; fix: {line['fix']}"
    return text


def _echo_text(echo: object) -> str:
    """A request as ``--echo --format text`` shows it: principal, action, resource JSON."""
    if isinstance(echo, dict) and set(echo) == {"principal", "action", "resource"}:
        parts = [
            echo["principal"],
            echo["action"],
            json.dumps(echo["resource"], ensure_ascii=False),
        ]
        return " ".join(shown(p, limit=_ECHOED) for p in parts)
    text = echo if isinstance(echo, str) else json.dumps(echo, ensure_ascii=False)
    return shown(text, limit=_ECHOED)


def _emit(out: SafeOutput, line: dict[str, Any], fmt: str, echo: object = None) -> None:
    if fmt == "json":
        if echo is not None:
            line = {"request": echo, **line}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    text = _decision_text(line)
    if echo is not None:
        out.write(f"{_echo_text(echo)}\n  ")
    if "error" in line:
        out.styled(text, "yellow")
    else:
        out.styled(text, "green" if line["allowed"] else "red")
    out.write("\n")


def _status(line: dict[str, Any], *, exit_code: bool) -> int:
    if "error" in line:
        return EXIT_INPUT
    return EXIT_DENIED if exit_code and not line["allowed"] else EXIT_OK


def _flag_request(args: argparse.Namespace) -> dict[str, Any]:
    missing = [
        flag
        for flag, value in (
            ("--principal", args.principal),
            ("--action", args.action),
            ("--resource", args.resource),
        )
        if value is None
    ]
    if missing:
        raise UsageError(
            "give --request, --requests, or all of --principal, --action and --resource "
            f"(missing: {', '.join(missing)})"
        )
    email_argument("--principal", args.principal)
    action_argument("--action", args.action)
    try:
        resource = strict_json(args.resource)
    except JsonProblem as exc:
        raise UsageError(f"`--resource` {exc}") from None
    return {"principal": args.principal, "action": args.action, "resource": resource}


def _cmd_decide(args: argparse.Namespace, out: SafeOutput) -> int:
    forms = [x is not None for x in (args.request, args.requests)]
    flags = any(x is not None for x in (args.principal, args.action, args.resource))
    if sum(forms) + flags != 1:
        raise UsageError(
            "give exactly one of --request, --requests, or --principal/--action/--resource"
        )
    if args.echo and args.requests is None:
        raise UsageError("`--echo` goes with `--requests`")
    if args.requests is not None:
        return _decide_batch(args, out)
    if args.request is not None:
        mapping = read_json("--request", args.request)
        directory = read_directory(args.directory, quiet=args.quiet)
        line = _decision_json(directory, mapping, audit=args.explain)
    else:
        mapping = _flag_request(args)
        directory = read_directory(args.directory, quiet=args.quiet)
        line = _decision_json(directory, mapping, audit=args.explain)
        if "error" in line:  # the resource's shape: the arguments are unusable
            raise UsageError(f"`--resource`: {line['error']}")
    _emit(out, line, args.format)
    return _status(line, exit_code=args.exit_code)


def _decide_batch(args: argparse.Namespace, out: SafeOutput) -> int:
    directory = read_directory(args.directory, quiet=args.quiet)
    stream = open_input(args.requests)
    interactive = args.requests == "-"
    errors = denied = False
    try:
        for number, text, error in _lines(stream):
            mapping: Any = None
            if text is not None:
                mapping, error = _parse_line(number, text)
            line = (
                {"error": error}
                if error is not None
                else _decision_json(directory, mapping, audit=args.explain)
            )
            echo = None
            if args.echo:
                echo = mapping if error is None else shown((text or "").rstrip("\r\n"))
            _emit(out, line, args.format, echo)
            if interactive:  # a caller that writes a request and waits for its answer
                out.flush()
            errors = errors or "error" in line
            denied = denied or line.get("allowed") is False
    finally:
        if stream is not getattr(sys.stdin, "buffer", None):
            stream.close()
    if errors:
        return EXIT_INPUT
    return EXIT_DENIED if denied and args.exit_code else EXIT_OK


def _add_decide(sub: Any) -> None:
    p = sub.add_parser(
        "decide",
        help="decide requests against a directory",
        description="Decide one request (--request, or the flags --principal, --action, "
        "--resource) or a batch (--requests, one JSON request a line) against a directory.",
    )
    directory_arguments(p)
    p.add_argument("--request", metavar="R.json", help="one request (JSON); - for stdin")
    p.add_argument(
        "--requests", metavar="R.jsonl", help="one request per line (JSON Lines); - for stdin"
    )
    p.add_argument("--principal", metavar="EMAIL", help="the user asking (flag form)")
    p.add_argument("--action", metavar="ACTION", help="the action (flag form)")
    p.add_argument(
        "--resource", metavar="JSON", help='the resource (flag form), e.g. \'{"student": "…"}\''
    )
    p.add_argument(
        "--format", choices=("json", "text"), default="json", help="output format (json)"
    )
    p.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 3 when a request is denied (0 when every one is allowed)",
    )
    p.add_argument(
        "--echo",
        action="store_true",
        help="with --requests: print each request beside its decision",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="audit detail: a denial's full reason, which may name personal data the "
        "principal may not see (where a student's results were earned, another account's "
        "roles); for auditors and administrators only",
    )
    p.set_defaults(run=_cmd_decide)


# --- check-directory ------------------------------------------------------------------------


def problem_json(p: Problem) -> dict[str, Any]:
    """A directory problem as JSON: rule, severity, where, value, message and fix."""
    return {
        "rule": p.rule,
        "severity": p.severity.value,
        "where": p.where,
        "value": p.value,
        "message": p.message,
        "fix": p.fix,
    }


def _problem_line(out: SafeOutput, p: Problem) -> None:
    out.write("  ")
    out.styled("error  " if p.is_error else "warning", "red" if p.is_error else "yellow")
    where = f" {p.where}:" if p.where else ""
    out.write(f" [{p.rule}]{where} {p.message}\n")
    if p.fix:
        out.write(f"          fix: {p.fix}\n")


def _cmd_check(args: argparse.Namespace, out: SafeOutput) -> int:
    name = "standard input" if args.file == "-" else os.path.basename(args.file)
    try:
        if args.file == "-":
            directory = load_directory(read_json("check-directory", "-"))
        elif not os.path.isfile(args.file):
            raise UsageError(f"cannot read `{shown(args.file)}`: no such file")
        else:
            directory = _check_load(args.file)
    except DirectoryError as exc:
        problems, valid = exc.problems, False
    except UsageError as exc:
        if args.file != "-":
            raise
        problems, valid = (Problem("U2", str(exc)),), False
    else:
        problems, valid = tuple(directory.warnings), True
    errors = sum(1 for p in problems if p.is_error)
    if args.format == "json":
        body = {"valid": valid, "problems": [problem_json(p) for p in problems]}
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        verdict = "valid" if valid else "refused"
        out.styled(
            f"{name}: {verdict}: {errors} error(s), {len(problems) - errors} warning(s)", "bold"
        )
        out.write("\n")
        for p in problems:
            _problem_line(out, p)
    return EXIT_OK if valid else EXIT_INPUT


def _add_check(sub: Any) -> None:
    p = sub.add_parser(
        "check-directory",
        help="list every problem and warning of a directory file",
        description="Load a directory as every command would and list every problem that "
        "refuses it and every warning it carries. Exit 0 when it loads, 1 when it is refused.",
    )
    p.add_argument("file", metavar="D.json", help="the directory file (- for stdin)")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (text)"
    )
    output_arguments(p)
    p.set_defaults(run=_cmd_check)


# --- schema and completion ------------------------------------------------------------------

SCHEMAS = ("directory", "request")
"""The formats whose JSON Schema the package carries (``caaspp_authz/schemas/NAME.schema.json``)."""


def schema_text(name: str) -> str:
    """The JSON Schema of the ``directory`` or ``request`` format, as the package carries it."""
    from importlib.resources import files

    return (files("caaspp_authz") / "schemas" / f"{name}.schema.json").read_text("utf-8")


def _cmd_schema(args: argparse.Namespace, out: SafeOutput) -> int:
    out.write(schema_text(args.format_name))
    return EXIT_OK


def _cmd_completion(args: argparse.Namespace, out: SafeOutput) -> int:
    try:
        import shtab
    except ModuleNotFoundError:
        raise UsageError(
            "shell completion needs the `cli` extra: pip install 'caaspp-authz[cli]'"
        ) from None
    out.stream.write(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK


def _add_tools(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a file format")
    p.add_argument("format_name", choices=SCHEMAS, metavar="FORMAT", help="directory or request")
    p.set_defaults(run=_cmd_schema)
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (needs the `cli` extra)",
        description="Print a completion script for bash, zsh or tcsh, e.g. "
        "`caaspp-authz completion bash > ~/.local/share/bash-completion/completions/caaspp-authz`.",
    )
    p.add_argument("shell", choices=("bash", "zsh", "tcsh"), help="the shell")
    p.set_defaults(run=_cmd_completion)


# --- the parser and main --------------------------------------------------------------------

COMMANDS: list[Callable[[Any], None]] = [_add_decide, _add_check]
"""Functions that each add subcommands to the parser's subparsers (``sub.add_parser``)."""


def _add_queries(sub: Any) -> None:
    from caaspp_authz._cli_queries import add_commands  # imports this module: load it late

    add_commands(sub)


COMMANDS.append(_add_queries)


def output_arguments(p: argparse.ArgumentParser) -> None:
    """Accept ``--color`` after a subcommand too (it is also an option of the program)."""
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=argparse.SUPPRESS,
        help="colour the text output (auto: on a terminal, unless NO_COLOR is set)",
    )


class _ShowVersion(Exception):
    """``--version`` was given: print the version on the command's output and exit 0."""


class _VersionAction(argparse.Action):
    """``--version``, printed by :func:`main` on its ``out`` rather than by argparse."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise _ShowVersion


def _version() -> str:
    from caaspp_authz import __version__

    return __version__


_ARGUMENT_LINE = 1000
"""The longest line of an argument error: argparse repeats every unrecognized argument."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, escaping and bounding the arguments its error messages repeat."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Exit like argparse, each line of the message at most :data:`_ARGUMENT_LINE`
        characters (then its true length) and its control characters escaped."""
        if message:
            lines = message.split("\n")
            message = "\n".join(escape(bounded(line, _ARGUMENT_LINE)) for line in lines)
        super().exit(status, message)


def build_parser() -> argparse.ArgumentParser:
    """The ``caaspp-authz`` argument parser with every subcommand."""
    parser = _Parser(
        prog="caaspp-authz",
        description="Who may do what in California's CAASPP and ELPAC assessment systems.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (auto: on a terminal, unless NO_COLOR is set)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def _colour(choice: str, stream: TextIO) -> bool:
    """``--color``: ``always``/``never``, or ``auto``: a terminal and no ``NO_COLOR`` (no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status.

    A reader that goes away (``| head``) ends it quietly with status 141, Ctrl-C with 130.
    """
    stream = out if out is not None else sys.stdout
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse: 2 for bad arguments, 0 for --help
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE if exc.code else EXIT_OK
        except _ShowVersion:
            SafeOutput(stream).write(f"caaspp-authz {_version()}\n")
            stream.flush()
            return EXIT_OK
        safe = SafeOutput(stream, colour=_colour(args.color, stream))
        try:
            status: int = args.run(args, safe)
        except UsageError as exc:
            warn(str(exc))
            return EXIT_USAGE
        safe.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPT
    except BrokenPipeError:
        if out is None:  # nothing more reaches the closed pipe, not even the final flush
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE


def _add_uploads(sub: Any) -> None:
    from caaspp_authz import _cli_uploads  # imports this module: load it late

    for add in _cli_uploads.COMMANDS:
        add(sub)


def _add_oracle(sub: Any) -> None:
    from caaspp_authz import _cli_oracle  # imports this module: load it late

    for add in _cli_oracle.COMMANDS:
        add(sub)


def _add_export(sub: Any) -> None:
    from caaspp_authz import _cli_export  # imports this module: load it late

    for add in _cli_export.COMMANDS:
        add(sub)


COMMANDS.extend([_add_uploads, _add_tools, _add_oracle, _add_export])
