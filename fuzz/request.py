"""Target ``request``: bytes as a file of request lines, against ``examples/directory.json``.

Oracle: each non-blank line is a declared ``RequestError`` (a clear message of bounded length)
or a decision on which ``can`` agrees with ``decide``; and ``caaspp-authz decide --requests``
prints, line for line, the same error or decision, with exit status 1 when any line is an error
and 0 otherwise.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from caaspp_authz import CaasppAuthzError, cli
from caaspp_authz.request import parse_request
from fuzz._common import (
    EXAMPLES,
    as_file,
    check_error,
    check_request,
    example_directory,
    quiet_cli,
)

DIRECTORY = str(EXAMPLES / "directory.json")


def expected_lines(data: bytes) -> list[dict[str, Any]]:
    """What each non-blank line of ``data`` is, by the library (the CLI's line rules: split
    after each ``\\n``, a BOM dropped from the first line, a line that is not UTF-8 an error)."""
    d = example_directory()
    lines: list[dict[str, Any]] = []
    pieces = [piece + b"\n" for piece in data.split(b"\n")]
    pieces[-1] = pieces[-1][:-1]  # the last piece has no line end
    if pieces[-1] == b"":
        pieces.pop()
    for number, raw in enumerate(pieces, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            lines.append({"error": f"line {number} is not UTF-8 text"})
            continue
        if not text.strip():
            continue
        try:
            mapping = parse_request(text, name=f"line {number}")
        except CaasppAuthzError as exc:
            check_error(exc)
            lines.append({"error": str(exc)})
            continue
        lines.append(check_request(d, mapping))
    return lines


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    expected = expected_lines(data)
    path = as_file(data, "requests.jsonl")
    out, err = io.StringIO(), io.StringIO()
    argv = ["decide", "--directory", DIRECTORY, "--requests", str(path), "--format", "json"]
    with quiet_cli(), contextlib.redirect_stderr(err):
        status = cli.main([*argv, "--quiet"], out=out)
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert got == expected, (got, expected)
    assert status == (1 if any("error" in line for line in expected) else 0), status
    assert not err.getvalue(), err.getvalue()[:500]
