"""The exports at size: relationship counts of a statewide directory, and the embedded engines'
timings on the benchmark workload.

``python -m bench.bench_export counts``: the relationships a statewide directory exports to
(3,000,000 students, 300,000 staff accounts, 100,000 assigned groups), by kind, counted by
:func:`caaspp_authz.export.spicedb.relationship_counts` on the generated directory.

``python -m bench.bench_export engines``: the benchmark workload (:data:`bench.workload.SMALL`,
100,000 students) written into an embedded, in-memory SpiceDB (the CI build, caches off) and
into Cedar; then timings of CheckBulkPermissions, single CheckPermission calls, LookupResources
and LookupSubjects, and Cedar's ``is_authorized_batch``, with the answers compared to ``can``.
Needs the ``engines`` extra and ``.ci/fetch-spicedb``. These are figures of one process on one
machine, not of a SpiceDB cluster.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import attrs

from bench.workload import SMALL, Shape, build
from caaspp_authz import Action, can, load_directory
from caaspp_authz.export import cedar, spicedb
from caaspp_authz.export._model import Check, encode

STATEWIDE = Shape(
    leas=1_000,
    schools_per_lea=10,
    students_per_school=300,
    accounts=300_000,
    groups=100_000,
    group_size=(20, 35),
    requests=0,
)
"""About California's size: 1,000 LEAs of 10 schools of 300 tested students (3,000,000),
300,000 staff accounts, 100,000 assigned groups of 20–35 students with 1–3 assignees."""


def counts() -> None:
    """Print the relationship counts of the statewide directory, by kind."""
    start = time.perf_counter()
    workload = build(STATEWIDE)
    directory = load_directory(workload.directory)
    found = spicedb.relationship_counts(directory)
    print(f"statewide directory built and loaded in {time.perf_counter() - start:.0f} s")
    print(
        f"{len(directory.students):,} students, {len(directory.accounts):,} accounts, "
        f"{sum(len(a.assignments) for a in directory.accounts.values()):,} assignments, "
        f"{len(directory.groups):,} groups, {len(directory.tree):,} organizations"
    )
    for kind, n in found.items():
        print(f"{kind:>14}: {n:>10,}")
    print(f"{'total':>14}: {sum(found.values()):>10,}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def engines(n_requests: int = 5_000) -> None:
    """Load the SMALL workload into SpiceDB and Cedar; time checks and lookups."""
    import cedarpy

    from tests.export.engines import SpiceDB

    shape = attrs.evolve(SMALL, requests=n_requests)
    workload = build(shape)
    directory = load_directory(workload.directory)
    rels = spicedb.relationships(directory)
    print(f"SMALL workload: {len(directory.students):,} students, {len(rels):,} relationships")
    db = SpiceDB(spicedb.schema())
    try:
        start = time.perf_counter()
        db.touch(rels)
        print(f"SpiceDB WriteRelationships (900 a call): {time.perf_counter() - start:.1f} s")
        action = Action.VIEW_STUDENT_RESULTS.value
        pairs = [
            (encode(email), Check("student", ssid, action)) for email, ssid in workload.requests
        ]
        want = [
            can(directory.user(e), Action.VIEW_STUDENT_RESULTS, directory.students[s])
            for e, s in workload.requests
        ]
        start = time.perf_counter()
        got = db.check(pairs)
        bulk = time.perf_counter() - start
        print(
            f"SpiceDB CheckBulkPermissions, {len(pairs):,} checks in 500s: {bulk:.2f} s "
            f"({_ms(bulk / len(pairs))} a check); {sum(got):,} allowed; "
            f"{sum(g != w for g, w in zip(got, want, strict=True))} disagreements with can"
        )
        single = []
        for pair in pairs[:200]:
            start = time.perf_counter()
            db.check([pair])
            single.append(time.perf_counter() - start)
        print(
            f"SpiceDB single checks (200): median {_ms(statistics.median(single))}, "
            f"p95 {_ms(sorted(single)[189])}"
        )
        for label, email in (("LEA user", workload.lea_user), ("group user", workload.group_user)):
            start = time.perf_counter()
            found = db.lookup_resources("student", action, encode(email))
            print(
                f"SpiceDB LookupResources, {label}: {len(found):,} students in "
                f"{time.perf_counter() - start:.2f} s"
            )
        subject_times = []
        for _, ssid in workload.requests[:50]:
            start = time.perf_counter()
            db.lookup_subjects("student", ssid, action)
            subject_times.append(time.perf_counter() - start)
        print(
            f"SpiceDB LookupSubjects (50 students): median {_ms(statistics.median(subject_times))}"
        )
    finally:
        db.close()
    entities = json.dumps(cedar.entities(directory))
    policies = cedar.policies()
    requests: list[dict[str, Any]] = [cedar.request_for(e, c) for e, c in _cedar_pairs(workload)]
    start = time.perf_counter()
    results = cedarpy.is_authorized_batch(requests, policies, entities)
    spent = time.perf_counter() - start
    wrong = sum(r.allowed != w for r, w in zip(results, want, strict=True))
    print(
        f"Cedar is_authorized_batch, {len(requests):,} requests (entities parsed each call): "
        f"{spent:.2f} s; {wrong} disagreements with can"
    )


def _cedar_pairs(workload: Any) -> list[tuple[str, Check]]:
    action = Action.VIEW_STUDENT_RESULTS.value
    return [(email, Check("student", ssid, action)) for email, ssid in workload.requests]


if __name__ == "__main__":
    {"counts": counts, "engines": engines}[sys.argv[1] if len(sys.argv) > 1 else "counts"]()
