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


def engines(n_requests: int = 2_000) -> None:
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
        single = []
        for pair in pairs[:100]:
            start = time.perf_counter()
            db.check([pair])
            single.append(time.perf_counter() - start)
        print(
            f"SpiceDB single checks (100): median {_ms(statistics.median(single))}, "
            f"p95 {_ms(sorted(single)[94])}, max {_ms(max(single))}"
        )
        for size in (500, 50):
            start = time.perf_counter()
            try:
                got = db.check(pairs, batch=size)
            except Exception as exc:  # the engine's deadline, reported as measured
                print(f"SpiceDB CheckBulkPermissions in {size}s: failed: {str(exc)[:120]}")
                continue
            bulk = time.perf_counter() - start
            print(
                f"SpiceDB CheckBulkPermissions, {len(pairs):,} checks in {size}s: {bulk:.2f} s "
                f"({_ms(bulk / len(pairs))} a check); {sum(got):,} allowed; "
                f"{sum(g != w for g, w in zip(got, want, strict=True))} disagreements with can"
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


def consistency(rounds: int = 300) -> None:
    """Reads right after writes: how many answers are stale with ``minimize_latency`` and
    with ``at_least_as_fresh`` of the write's token."""
    from authzed.api.v1 import CheckPermissionRequest, CheckPermissionResponse, Consistency

    from tests.export.engines import SpiceDB, _object, _subject

    has = CheckPermissionResponse.Permissionship.PERMISSIONSHIP_HAS_PERMISSION
    workload = build(attrs.evolve(SMALL, students_per_school=50, requests=0))
    directory = load_directory(workload.directory)
    for mode in ("minimize_latency", "at_least_as_fresh"):
        db = SpiceDB(spicedb.schema())
        try:
            db.touch(spicedb.relationships(directory))
            stale = 0
            n = rounds if mode == "minimize_latency" else rounds * 20 // 3
            for i in range(n):
                ssid = f"{9_000_000_000 + i:010d}"
                holder = directory.account(workload.lea_user)
                assert holder is not None
                school = directory.tree.schools_of(holder.assignments[0].org)[0]
                db.touch([spicedb.Relationship("student", ssid, "school", "organization", school)])
                if mode == "minimize_latency":
                    consistency_ = Consistency(minimize_latency=True)
                else:
                    consistency_ = db._consistency()
                response = db._permissions.CheckPermission(
                    CheckPermissionRequest(
                        consistency=consistency_,
                        resource=_object("student", ssid),
                        permission=Action.VIEW_STUDENT_RESULTS.value,
                        subject=_subject(encode(workload.lea_user)),
                    )
                )
                stale += response.permissionship != has
            print(f"{mode}: {stale} stale answers in {n} reads right after a write")
        finally:
            db.close()


def _cedar_pairs(workload: Any) -> list[tuple[str, Check]]:
    action = Action.VIEW_STUDENT_RESULTS.value
    return [(email, Check("student", ssid, action)) for email, ssid in workload.requests]


if __name__ == "__main__":
    {"counts": counts, "engines": engines, "consistency": consistency}[
        sys.argv[1] if len(sys.argv) > 1 else "counts"
    ]()
