"""N worker processes holding one stored directory: how memory grows with N, measured.

``python -m bench.workers STORE.sqlite --requests REQUESTS.json [--workers 1,2,4]``, and
:func:`measure` from ``python -m bench --statewide``. For each N, N fresh processes each open
the stored file with ``load_directory``, take the decisions of ``REQUESTS`` (a JSON list of
``[email, ssid]`` pairs, as the statewide workload draws them), report their own memory from
``/proc/self/smaps_rollup`` and then wait, so that all N are alive at once. Reported per N:

- each worker's resident memory (RSS) and its anonymous part (its own heap: users, caches);
- the sum of the workers' proportional set sizes (PSS: a page shared by k processes counts
  1/k in each), which is what the N workers really cost together.

The stored file is read with ``read()``, so its pages sit once in the kernel's page cache
whatever N is, and count in no worker's RSS. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]


def _rollup() -> dict[str, int]:
    """This process's memory from ``/proc/self/smaps_rollup``, in KiB by field."""
    found: dict[str, int] = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                found[parts[0].rstrip(":")] = int(parts[1])
    return found


def child(path: str, requests_path: str) -> None:
    """One worker: open, decide every request, report its memory, wait for end of input."""
    from caaspp_authz import Action, can, load_directory

    requests = json.loads(Path(requests_path).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    directory = load_directory(path)
    view = Action.VIEW_STUDENT_RESULTS
    allowed = sum(
        can(directory.user(email), view, directory.students[ssid]) for email, ssid in requests
    )
    seconds = time.perf_counter() - t0
    memory = _rollup()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "allowed": allowed,
                "rss_kib": memory.get("Rss", 0),
                "pss_kib": memory.get("Pss", 0),
                "anon_kib": memory.get("Anonymous", 0),
            }
        ),
        flush=True,
    )
    sys.stdin.read()  # alive until the parent has read the machine's memory


def measure(path: Path, requests: Sequence[Sequence[str]], workers: int) -> dict[str, Any]:
    """Start ``workers`` processes on ``path`` at once; their memory while all are alive."""
    spec = path.with_name(f"{path.name}.requests-{os.getpid()}.json")
    spec.write_text(json.dumps([list(r) for r in requests]), encoding="utf-8")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.workers", "--child", str(path), str(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        reports = []
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("bench: a worker failed before reporting")
            reports.append(json.loads(line))
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            proc.wait()
        spec.unlink(missing_ok=True)
    return {
        "workers": workers,
        "rss_kib": statistics.median(r["rss_kib"] for r in reports),
        "anon_kib": statistics.median(r["anon_kib"] for r in reports),
        "pss_sum_kib": sum(r["pss_kib"] for r in reports),
        "seconds": statistics.median(r["seconds"] for r in reports),
    }


def report(path: Path, requests: Sequence[Sequence[str]], counts: Sequence[int]) -> list[str]:
    """A Markdown table of :func:`measure` for each N of ``counts``."""
    size = path.stat().st_size / 2**20
    lines = [
        f"N workers on one stored file ({size:,.0f} MiB, in the page cache once), each opening "
        f"it and taking {len(requests):,} decisions:",
        "",
        "| N | RSS per worker, MiB (anonymous) | PSS of all N, MiB |",
        "|---|---|---|",
    ]
    for n in counts:
        m = measure(path, requests, n)
        lines.append(
            f"| {n} | {m['rss_kib'] / 1024:,.0f} ({m['anon_kib'] / 1024:,.0f}) | "
            f"{m['pss_sum_kib'] / 1024:,.0f} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("path", help="a directory in the storage format")
    parser.add_argument("--requests", required=True, help="JSON list of [email, ssid] pairs")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated N (default 1,2,4)")
    args = parser.parse_args(argv)
    requests = json.loads(Path(args.requests).read_text(encoding="utf-8"))
    counts = [int(n) for n in args.workers.split(",")]
    for line in report(Path(args.path), requests, counts):
        print(line)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(main())
