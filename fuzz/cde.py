"""Target ``cde``: bytes as a CDE public schools file, through ``read_cde`` and
``caaspp-authz directory from-cde``.

Oracle: ``read_cde`` never raises and every problem is bounded; a result with no error makes a
directory that ``load_directory`` loads (a file the command line writes is a directory), with
as many organizations as the result; ``directory from-cde`` exits 0 and writes exactly that
directory when the result has no error, and exits 1 writing nothing otherwise (checked on one
input in :data:`CLI_ONE_IN`).
"""

from __future__ import annotations

import contextlib
import io
import json
import zlib

from caaspp_authz import cli, dump_directory, load_directory
from caaspp_authz.cde import cde_directory, read_cde
from fuzz._common import as_file, check_problem, quiet_cli, scratch

CLI_ONE_IN = 4
"""The command line is run on one input in this many (chosen by the input's CRC, so a replay
runs the same): it reads the file again, and took more than half of each execution."""


def check(data: bytes) -> None:
    """Run the oracle on one input; ``AssertionError`` when it fails."""
    result = read_cde(io.BytesIO(data))
    for p in result.problems:
        check_problem(p)
    mapping = None
    if not result.has_errors:
        mapping = cde_directory(result)
        d = load_directory(mapping)
        assert len(d.tree.organizations) == len(result.organizations), result
        first = dump_directory(d)
        assert dump_directory(load_directory(first)) == first
    if zlib.crc32(data) % CLI_ONE_IN:
        return
    path = as_file(data, "pubschls.txt")
    target = scratch() / "cde.json"
    target.unlink(missing_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with quiet_cli(), contextlib.redirect_stderr(err):
        status = cli.main(["directory", "from-cde", str(path), "--out", str(target)], out=out)
    if mapping is None:
        assert status == 1 and not target.exists(), (status, out.getvalue())
    else:
        assert status == 0, (status, out.getvalue(), err.getvalue()[:500])
        assert json.loads(target.read_text(encoding="utf-8")) == mapping
