"""Measure caaspp_authz against Cedar, Rego and Casbin on one seeded workload, and print a report.

Run from the repository root: ``python -m bench`` (``--no-large`` skips the 3,000,000-student
directory); ``python -m bench --statewide [--scale F]`` runs the statewide benchmark instead
(:mod:`bench.statewide`). Every figure printed is measured in this run; the report names the machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from bench import workload
from caaspp_authz import Action, Student, User, can, load_directory
from caaspp_authz.queries import visible

ACTION = Action.VIEW_STUDENT_RESULTS
PEER_SAMPLE = 2_000
"""Requests timed per peer (the first ones of the workload), and students per peer list filter."""

Pair = tuple[str, str]


def _out(line: str = "") -> None:
    print(line, flush=True)


def machine() -> list[str]:
    """The CPU model, cores, load, Python and package versions."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    versions = []
    for dist in ("caaspp-authz", "attrs", "cedarpy", "gordon-to-regorus", "casbin"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    return [
        f"cpu: {model}; {os.cpu_count()} logical cores; load average {load[0]:.2f} {load[1]:.2f}",
        f"python: {platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}",
        "packages: " + ", ".join(versions),
    ]


def timer_overhead() -> int:
    """The median cost of one ``perf_counter_ns`` pair with nothing between, in ns."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(20_000):
        t0 = clock()
        samples.append(clock() - t0)
    return int(statistics.median(samples))


def per_call(fn: Callable[[Any, Any], object], args: Sequence[tuple[Any, Any]]) -> list[int]:
    """The time of each call, in ns, timer included (see :func:`timer_overhead`)."""
    clock = time.perf_counter_ns
    times = []
    for a, b in args:
        t0 = clock()
        fn(a, b)
        times.append(clock() - t0)
    return times


def rate(fn: Callable[[Any, Any], object], args: Sequence[tuple[Any, Any]], repeat: int) -> float:
    """Decisions per second over ``args`` in one loop with no timer inside: best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for a, b in args:
            fn(a, b)
        best = min(best, time.perf_counter() - t0)
    return len(args) / best


def seconds(fn: Callable[[], object]) -> tuple[float, Any]:
    """Wall time of one call, and its result."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def check(name: str, got: Sequence[bool], expected: Sequence[bool], pairs: Sequence[Pair]) -> None:
    """Abort unless a peer gives caaspp_authz's answer on every request."""
    wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    if wrong:
        i = wrong[0]
        raise SystemExit(
            f"bench: {name} disagrees with caaspp_authz.can on {len(wrong):,} of "
            f"{len(pairs):,} requests; first: principal `{pairs[i][0]}`, student "
            f"`{pairs[i][1]}`: {name} says {got[i]}, can says {expected[i]}"
        )
    _out(f"  {name}: agrees with can() on all {len(pairs):,} requests")


def _ms(s: float) -> str:
    return f"{s * 1000:,.1f}"


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a Markdown table."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    _out(_row(header, widths))
    _out("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        _out(_row(r, widths))


def large_filter() -> tuple[float, float, int, int]:
    """Build and load the 3,000,000-student directory; time the LEA user's list filter."""
    big = workload.build(workload.LARGE)
    mapping, email = big.directory, big.lea_user
    del big
    t0 = time.perf_counter()
    directory = load_directory(mapping)
    load_s = time.perf_counter() - t0
    del mapping
    user = directory.user(email)
    students = list(directory.students.values())
    best = float("inf")
    found: list[Student] = []
    for _ in range(3):
        s, found = seconds(lambda: visible(user, ACTION, students))
        best = min(best, s)
    return load_s, best, len(found), len(students)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--no-large", action="store_true", help="skip the 3,000,000-student directory"
    )
    parser.add_argument(
        "--statewide",
        action="store_true",
        help="run the statewide benchmark instead (bench/statewide.py), JSON and storage format",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="with --statewide: the fraction of the state to generate (1.0: all of it)",
    )
    parser.add_argument(
        "--upload-rows",
        type=int,
        default=None,
        help="with --statewide: rows of the apply users file (default 1,000,000 x scale)",
    )
    args = parser.parse_args(argv)
    if args.statewide:
        from bench import statewide

        return statewide.main(args.scale, args.upload_rows, out=_out)
    from bench.peer_casbin import Casbin
    from bench.peer_cedar import Cedar
    from bench.peer_rego import Rego

    _out("# caaspp-authz benchmark: view_student_results (V1)")
    _out()
    for line in machine():
        _out(line)
    overhead = timer_overhead()
    _out(f"timer: perf_counter_ns pair overhead {overhead} ns (included in per-call times)")

    shape = workload.SMALL
    build_s, work = seconds(lambda: workload.build(shape))
    _out(
        f"workload: seed {shape.seed}; {shape.leas} LEAs x {shape.schools_per_lea} schools; "
        f"{shape.students:,} students; {shape.accounts:,} accounts; {shape.groups} groups; "
        f"{len(work.requests):,} requests (built in {build_s:.2f} s)"
    )
    gc.collect()
    load_s, directory = seconds(lambda: load_directory(work.directory))
    _out(f"load_directory, {shape.students:,} students: {load_s:.3f} s (target 0.5 s)")

    users = {e: directory.user(e) for e, _ in work.requests}
    pairs = [(users[e], directory.students[s]) for e, s in work.requests]
    expected = [can(u, ACTION, s) for u, s in pairs]
    _out(
        f"requests allowed: {sum(expected):,} of {len(expected):,} "
        f"({100 * sum(expected) / len(expected):.1f} %)"
    )

    def ours(user: User, student: Student) -> bool:
        return can(user, ACTION, student)

    gc.disable()
    times = per_call(ours, pairs)
    ours_rate = rate(ours, pairs, repeat=3)
    gc.enable()
    sample = work.requests[:PEER_SAMPLE]
    ours_median = statistics.median(times)
    ours_sample_median = statistics.median(times[:PEER_SAMPLE])

    # Peers: built from the same directory, checked on every request, then timed on a sample.
    _out()
    _out("peers: build, load, check every request")
    cedar, rego, casbin = Cedar(directory), Rego(directory), Casbin(directory)
    loads = {
        "cedar": seconds(cedar.load)[0],
        "rego": seconds(rego.load)[0],
        "rvm": seconds(rego.load_rvm)[0],
        "casbin": seconds(casbin.load)[0],
    }
    reqs = list(work.requests)
    check(
        "cedar (is_authorized_batch, pre-parsed entities)", cedar.can_batch(reqs), expected, reqs
    )
    check(
        "cedar (is_authorized, pre-parsed entities)",
        [cedar.can(e, s) for e, s in sample],
        expected[:PEER_SAMPLE],
        sample,
    )
    check(
        "cedar (is_authorized, per-request entities)",
        [cedar.can_sliced(e, s) for e, s in reqs],
        expected,
        reqs,
    )
    check("rego (Engine)", [rego.can(e, s) for e, s in reqs], expected, reqs)
    check("rego (Rvm)", [rego.can_rvm(e, s) for e, s in reqs], expected, reqs)
    check("casbin", [casbin.can(e, s) for e, s in reqs], expected, reqs)

    peer_calls: list[tuple[str, str, Callable[[str, str], bool]]] = [
        ("Cedar: is_authorized, pre-parsed entities", "cedar", cedar.can),
        ("Cedar: is_authorized, per-request entities", "", cedar.can_sliced),
        ("Rego: regorus Engine", "rego", rego.can),
        ("Rego: regorus Rvm, compiled", "rvm", rego.can_rvm),
        ("Casbin FastEnforcer", "casbin", casbin.can),
    ]
    rows = [
        [
            "caaspp-authz can()",
            f"{load_s:.3f}",
            f"{ours_median:,.0f}",
            f"{statistics.quantiles(times, n=100)[98]:,.0f}",
            f"{ours_rate:,.0f}",
            "1",
        ]
    ]
    gc.disable()
    for label, key, fn in peer_calls:
        t = per_call(fn, sample)
        r = rate(fn, sample, repeat=1)
        med = statistics.median(t)
        rows.append(
            [
                label,
                f"{loads[key]:.3f}" if key else "per call",
                f"{med:,.0f}",
                f"{statistics.quantiles(t, n=100)[98]:,.0f}",
                f"{r:,.0f}",
                f"{med / ours_sample_median:,.0f}",
            ]
        )
    batch_s, _ = seconds(lambda: cedar.can_batch(sample))
    rows.append(
        [
            f"Cedar: is_authorized_batch of {PEER_SAMPLE:,}, pre-parsed",
            f"{loads['cedar']:.3f}",
            f"{batch_s / len(sample) * 1e9:,.0f} (mean)",
            "n/a",
            f"{len(sample) / batch_s:,.0f}",
            f"{batch_s / len(sample) * 1e9 / ours_sample_median:,.0f}",
        ]
    )
    gc.enable()
    _out()
    _out(
        f"Decisions. caaspp-authz: every one of the {len(pairs):,} requests; peers: the first "
        f"{PEER_SAMPLE:,} requests (the same for each). Ratio: peer median / caaspp-authz "
        f"median on those {PEER_SAMPLE:,} requests ({ours_sample_median:,.0f} ns)."
    )
    table(
        ["system", "load s", "median ns", "p99 ns", "decisions/s", "x caaspp-authz"],
        rows,
    )

    # List filter: every student of the directory, for an LEA user and a group-only user.
    students = list(directory.students.values())
    lea_user, group_user = directory.user(work.lea_user), directory.user(work.group_user)
    filters: list[list[str]] = []
    ours_filter: dict[str, float] = {}
    for who, user in (("LEA user", lea_user), ("group-only user", group_user)):
        best = min(seconds(lambda u=user: visible(u, ACTION, students))[0] for _ in range(5))  # type: ignore[misc]
        seen = visible(user, ACTION, students)
        assert [s for s in students if can(user, ACTION, s)] == seen
        ours_filter[who] = best
        filters.append(
            [
                f"caaspp-authz visible(), {who}",
                f"{len(students):,}",
                f"{len(seen):,}",
                _ms(best),
                "measured",
                "1",
            ]
        )
    step = len(students) // PEER_SAMPLE
    sampled = students[::step][:PEER_SAMPLE]
    scale = len(students) / len(sampled)
    peer_filters: list[tuple[str, Callable[[str, list[str]], object]]] = [
        ("Cedar is_authorized_batch", lambda e, ss: cedar.can_batch([(e, s) for s in ss])),
        ("Rego: regorus Engine", lambda e, ss: [rego.can(e, s) for s in ss]),
        ("Rego: regorus Rvm", lambda e, ss: [rego.can_rvm(e, s) for s in ss]),
        ("Casbin FastEnforcer", lambda e, ss: [casbin.can(e, s) for s in ss]),
    ]
    per_student: dict[str, float] = {}
    for label, run in peer_filters:
        for who, user in (("LEA user", lea_user), ("group-only user", group_user)):
            ssids = [s.ssid for s in sampled]
            s, _ = seconds(lambda r=run, u=user, x=ssids: r(u.email, x))  # type: ignore[misc]
            per_student[f"{label}/{who}"] = s / len(sampled)
            filters.append(
                [
                    f"{label}, {who}",
                    f"{len(students):,}",
                    "",
                    _ms(s * scale),
                    f"extrapolated from {len(sampled):,} students",
                    f"{s * scale / ours_filter[who]:,.0f}",
                ]
            )
    if not args.no_large:
        _out()
        _out(f"building and loading the {workload.LARGE.students:,}-student directory ...")
        big_load, big_best, big_seen, big_n = large_filter()
        _out(f"load_directory, {big_n:,} students: {big_load:.1f} s")
        filters.append(
            [
                "caaspp-authz visible(), LEA user",
                f"{big_n:,}",
                f"{big_seen:,}",
                _ms(big_best),
                "measured (target 150 ms)",
                "1",
            ]
        )
        for label, _run in peer_filters:
            per = per_student[f"{label}/LEA user"]
            filters.append(
                [
                    f"{label}, LEA user",
                    f"{big_n:,}",
                    "",
                    _ms(per * big_n),
                    f"extrapolated: {per * 1e6:,.0f} us/student x {big_n:,}",
                    f"{per * big_n / big_best:,.0f}",
                ]
            )
    _out()
    _out(
        "List filter: the students a user may see, among every student of the directory "
        "(best of 5 for caaspp-authz; target 5 ms at 100,000 students)."
    )
    table(["filter", "students", "visible", "ms", "how", "x caaspp-authz"], filters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
