"""Target ``cli``: an argument list built from the real command and flag vocabulary and from the
input's bytes, run through ``caaspp_authz.cli.main(argv, out=...)``.

The first byte picks a command (a path of subcommands of the real parser), each next byte a
word (a word of the vocabulary at most :data:`REPEATS` times): one of the command's flags, a value the commands take (the shipped example files, an
e-mail, an action, a resource, a format, an output file in a scratch folder), or, for a byte of
:data:`RAW` or more, a word of the input's own bytes that follow. The example files are copies
in the scratch folder, restored before each execution; the commands run in the scratch folder,
with an empty standard input, and a word of raw bytes never holds a ``/``, so nothing is
written outside the scratch folder.

Not run: ``conform`` (it runs the program its ``--command`` names), ``corpus`` and
``check-policy`` (each takes 1 to 2 s over the built-in corpus and reads no file), and ``diff``
without ``--old`` (the same).

Oracle: the exit status is 0, 1 or 2 (3 only with ``--exit-code``, a denial), nothing but the
status comes out of ``main`` (no exception, no traceback on standard error), and each line of
standard error is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import shutil
import sys
from pathlib import Path

from caaspp_authz import Action, cli
from fuzz._common import EXAMPLES, MAX_LINE, quiet_cli, scratch

RAW = 224
"""A word byte at or above this takes a word of the input's own bytes."""

REPEATS = 2
"""The most times one word of the vocabulary is taken: a command given one file many times
(``test FILE FILE ...``) does the same work for each copy, which found nothing new and made an
execution take a second."""

SKIPPED = frozenset({"conform", "corpus", "check-policy"})

INPUTS = (
    "directory.json",
    "directory_problems.json",
    "directory_legacy.json",
    "users_upload.csv",
    "users_upload_errors.csv",
    "groups_upload.csv",
    "request.json",
    "requests.jsonl",
    "cde_pubschls_sample.txt",
    "district_tests.toml",
)
"""The example files the commands read: copies of them, restored before each execution, since
a command may write over any file it is given (``--out``)."""

CP1252 = "users_cp1252.csv"
"""The example user file as Excel saves it in Windows-1252 (not UTF-8)."""


@functools.cache
def originals() -> dict[str, bytes]:
    """The bytes of each input file of :func:`inputs`."""
    found = {name: (EXAMPLES / name).read_bytes() for name in INPUTS}
    found[CP1252] = found["users_upload.csv"].decode("utf-8").encode("cp1252")
    return found


_STAMPS: dict[str, tuple[int, int, int]] = {}


def inputs() -> Path:
    """The folder of the input files, each as :func:`originals` has it (a file whose size,
    time or inode changed since it was written is written again)."""
    folder = scratch() / "inputs"
    folder.mkdir(exist_ok=True)
    for name, data in originals().items():
        path = folder / name
        try:
            st = path.stat()
            stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        except OSError:
            stamp = (-1, -1, -1)
        if _STAMPS.get(name) == stamp and path.is_file():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        path.write_bytes(data)
        st = path.stat()
        _STAMPS[name] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return folder


VALUES = [
    *(str(inputs() / name) for name in originals()),
    "-",
    "out.json",
    "out.sqlite",
    "outdir",
    "teacher@example.org",
    "caaspp.coordinator@example.org",
    "site.coordinator@example.org",
    "nobody@example.org",
    *(a.value for a in Action),
    '{"student": "1000000001"}',
    '{"organization": "19647330000000"}',
    '{"account": "teacher@example.org"}',
    "json",
    "text",
    "sqlite",
    "bash",
    "directory",
    "request",
    "always",
]


@functools.cache
def commands() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every command of the real parser (its subcommand path) and its flags."""
    found: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        flags = tuple(s for a in parser._actions for s in a.option_strings)
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append((path, flags))
            return
        for name, child in subs[0].choices.items():
            if name not in SKIPPED:
                walk(child, (*path, name))
        found.append((path, flags))  # the command alone: a usage error

    walk(cli.build_parser(), ())
    return found


def argv_of(data: bytes) -> list[str]:
    """The argument list that ``data`` spells (see the module's docstring)."""
    if not data:
        return []
    cmds = commands()
    path, flags = cmds[data[0] % len(cmds)]
    words = [*flags, *VALUES]
    argv = list(path)
    i = 1
    while i < len(data):
        b = data[i]
        i += 1
        if b < RAW:
            word = words[b % len(words)]
            if argv.count(word) < REPEATS:
                argv.append(word)
            continue
        size = b - RAW + 1
        raw = data[i : i + size]
        i += size
        argv.append(raw.decode("utf-8", "replace").replace("/", "_").replace("\x00", ""))
    return argv


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    check_argv(argv_of(data))


def check_argv(argv: list[str]) -> None:
    """Run the oracle on one argument list (``{inputs}`` in a word: the input files' folder)."""
    folder = str(inputs())  # the input files, as they were before any command wrote over them
    argv = [word.replace("{inputs}", folder) for word in argv]
    if argv[:1] == ["diff"] and "--old" not in argv:
        return
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    here = os.getcwd()
    os.chdir(scratch())
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
        with quiet_cli(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = cli.main(argv, out=out)
    finally:
        sys.stdin = stdin
        os.chdir(here)
    allowed = {0, 1, 2, 3} if "--exit-code" in argv else {0, 1, 2}
    assert status in allowed, (argv, status, err.getvalue()[:500])
    text = err.getvalue()
    assert "Traceback" not in text, (argv, text[:2000])
    for line in text.splitlines():
        assert len(line) <= MAX_LINE, (argv, len(line), line[:200])
