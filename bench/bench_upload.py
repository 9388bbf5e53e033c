"""Benchmark: validating a TOMS user upload against bare CSV parsing, at 100k and 1M rows.

Run on demand (never in the tests), from the repository root::

    PYTHONPATH=src python bench/bench_upload.py            # 100k and 1M rows
    PYTHONPATH=src python bench/bench_upload.py --sizes 100000

For each size it writes a user file of that many rows (unique e-mails, rows spread over 200
schools and four roles, every row valid for the LEA CAASPP coordinator who uploads it), then
runs each measurement in a fresh subprocess so that peak memory is that measurement's own:

- ``csv``: the standard ``csv`` module reading the file, doing nothing with the rows;
- ``records``: the library's streaming reader (``caaspp_authz._csvread``) alone;
- ``validate``: ``caaspp_authz.uploads.validate_users`` on the file, under the default
  ``one-role-per-email`` rule set (which keeps, per e-mail of the file, its first row and role
  for E5);
- ``multi``: the same under the ``multi-role`` rule set, where E3–E5 do not apply (E7) and
  nothing is kept per new e-mail.

It prints rows per second, the time relative to bare ``csv`` parsing, and the peak resident
memory the measurement added (``resource.getrusage`` maxrss after the run minus before it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_SCHOOLS = 200
_ROLES = (
    "CAASPP Test Administrator",
    "Educator—Roster",
    "Educator—Test Site",
    "IA Administrator Only",
)
_LEA = "19647330000000"
UPLOADER = "coordinator@bench.example.org"


def _school(i: int) -> str:
    return f"1964733{1_000_000 + i:07d}"


def directory_mapping() -> dict[str, Any]:
    """One LEA, its schools, and the LEA CAASPP coordinator who uploads."""
    return {
        "format": 1,
        "rule_set": "one-role-per-email",
        "organizations": [
            {"cds": _LEA, "name": "Bench Unified"},
            *({"cds": _school(i), "name": f"School {i}"} for i in range(_SCHOOLS)),
        ],
        "accounts": [
            {
                "email": UPLOADER,
                "first_name": "Bench",
                "last_name": "Coordinator",
                "phone": "213-555-0100",
                "forms": {"CAASPP": ["agreement", "affidavit"]},
                "roles": [{"role": "LEA CAASPP Coordinator", "org": _LEA, "primary": True}],
            }
        ],
    }


def write_file(path: Path, rows: int) -> None:
    """A valid user upload of ``rows`` rows."""
    from caaspp_authz.uploads.users import USER_HEADER

    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(USER_HEADER)
        for i in range(rows):
            writer.writerow(
                (
                    f"First{i}",
                    f"Last{i % 977}",
                    _school(i % _SCHOOLS),
                    f"person{i}@district{i % 13}.example.org",
                    f"213-555-{i % 10_000:04d}",
                    _ROLES[i % len(_ROLES)],
                )
            )


def _maxrss_kib() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage // 1024 if sys.platform == "darwin" else usage


def worker(mode: str, path: str, directory_path: str) -> dict[str, Any]:
    """One measurement, in this process."""
    from caaspp_authz import load_directory
    from caaspp_authz._csvread import iter_records
    from caaspp_authz.uploads import validate_users

    mapping = json.loads(Path(directory_path).read_text(encoding="utf-8"))
    if mode == "multi":
        mapping["rule_set"] = "multi-role"
    directory = load_directory(mapping)
    before = _maxrss_kib()
    start = time.perf_counter()
    rows = 0
    problems = 0
    if mode == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            for _ in csv.reader(f):
                rows += 1
        rows -= 1
    elif mode == "records":
        for _ in iter_records(path):
            rows += 1
        rows -= 1
    else:
        result = validate_users(path, directory, uploader=UPLOADER)
        rows, problems = result.rows, len(result.problems)
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "rows": rows,
        "seconds": seconds,
        "problems": problems,
        "added_kib": _maxrss_kib() - before,
    }


def _measure(mode: str, path: Path, directory_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", mode, str(path), str(directory_path)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    """Generate the files, measure each mode in a subprocess, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "FILE", "DIRECTORY"))
    args = parser.parse_args()
    if args.worker:
        mode, path, directory_path = args.worker
        print(json.dumps(worker(mode, path, directory_path)))
        return
    print(f"python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPU(s)")
    header = f"{'rows':>9} {'mode':>9} {'seconds':>8} {'rows/s':>10} {'x csv':>6} {'+MiB':>7}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        directory_path = Path(tmp) / "directory.json"
        directory_path.write_text(json.dumps(directory_mapping()), encoding="utf-8")
        for size in args.sizes:
            path = Path(tmp) / f"users_{size}.csv"
            write_file(path, size)
            base = None
            for mode in ("csv", "records", "validate", "multi"):
                r = _measure(mode, path, directory_path)
                if r["rows"] != size or r["problems"]:
                    raise SystemExit(f"{mode}: read {r['rows']} rows, {r['problems']} problems")
                base = base or r["seconds"]
                print(
                    f"{size:>9} {mode:>9} {r['seconds']:>8.2f} {size / r['seconds']:>10,.0f} "
                    f"{r['seconds'] / base:>6.2f} {r['added_kib'] / 1024:>7.1f}"
                )
            path.unlink()


if __name__ == "__main__":
    main()
