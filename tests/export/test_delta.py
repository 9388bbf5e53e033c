"""Deltas: after applying a generated upload and writing its delta, the engine holds exactly
the new directory's relationships and still equals ``can`` (U4, U5, G10, G11)."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from caaspp_authz.accounts import Account, Assignment, RuleSet
from caaspp_authz.catalog import GRANTS, Form, Program, Where, role
from caaspp_authz.directory import Directory
from caaspp_authz.errors import RequestError
from caaspp_authz.export import delta, spicedb
from caaspp_authz.export.spicedb import Relationship
from caaspp_authz.orgs import CDSCode, Level, Organization
from caaspp_authz.resources import Grant
from caaspp_authz.strategies import directories
from caaspp_authz.uploads import (
    GROUP_HEADER,
    apply_groups,
    apply_users,
    validate_groups,
    validate_users,
)
from tests.export.conftest import record
from tests.export.engines import SpiceDB
from tests.export.test_spicedb import compare_checks
from tests.uploadfiles import csv_bytes

UPLOADER = "uploader@district.example"
COORDINATOR = "LEA CAASPP Coordinator"


def _with_uploader(d: Directory) -> Directory:
    """The world and a secondary LEA CAASPP coordinator of its LEA, forms on file (G3, G9)."""
    lea = next(o for o in d.tree if o.level is Level.LEA)
    uploader = Account(
        email=UPLOADER,  # type: ignore[arg-type]
        first_name="Up",
        last_name="Loader",
        phone="213-555-0100",
        forms={Program.CAASPP: {Form.AGREEMENT, Form.AFFIDAVIT}},
        assignments=[Assignment(role(COORDINATOR), lea.cds)],
    )
    return Directory.build(
        organizations=d.tree,
        accounts=[*d.accounts.values(), uploader],
        students=d.students.values(),
        groups=d.groups.values(),
        custom_groups=d.custom_groups.values(),
        rule_set=d.rule_set,
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Directory, bytes, bytes]:
    """A one-LEA world with an uploader, a user file and a group file for it (maybe invalid)."""
    d = _with_uploader(draw(directories(max_leas=1, max_accounts=10, max_students=16)))
    lea = next(o for o in d.tree if o.level is Level.LEA)
    sites = [o.cds for o in d.tree if d.tree.is_test_site(o.cds)]
    grants = [g for g in GRANTS if g.grantor == COORDINATOR and not g.grantor_primary_only]
    known = [str(e) for e in d.accounts if e != UPLOADER]
    rows = []
    for i in range(draw(st.integers(1, 6))):
        g = draw(st.sampled_from(grants))
        places = [lea.cds] if g.where is Where.HOLDER else list(sites)
        if g.where is Where.HOLDER_OR_SCHOOLS:
            places.append(lea.cds)
        if not places:
            continue
        existing: bool = draw(st.booleans())
        email = draw(st.sampled_from(known)) if known and existing else f"new{i}@example.org"
        rows.append(
            ("New", "Person", draw(st.sampled_from(places)), email, "213-555-0101", g.grantee)
        )
    group_rows = []
    keys = list(d.groups)
    for i in range(draw(st.integers(0, 3))):
        again: bool = draw(st.booleans())
        if keys and again:
            key = draw(st.sampled_from(keys))
            name, school, year = key.name, key.school, key.school_year
        elif sites:
            name, school, year = f"New {i}", draw(st.sampled_from(sites)), 2026
        else:
            continue
        for ssid in draw(
            st.lists(
                st.sampled_from(sorted(d.students) or ["1000000000"]), max_size=4, unique=True
            )
        ):
            group_rows.append((name, school, str(year), "All", ssid, ""))
        for email in draw(st.lists(st.sampled_from(known or [UPLOADER]), max_size=2, unique=True)):
            group_rows.append((name, school, str(year), "All", "", email))
    return d, csv_bytes(rows), csv_bytes(sorted(group_rows), header=GROUP_HEADER)


def _valid_part(data: bytes, problems: object) -> bytes:
    """The file without its rows that have errors (row 1 is the header)."""
    bad = {p.row for p in problems if p.is_error}  # type: ignore[attr-defined]
    lines = data.decode("utf-8").split("\r\n")
    return "\r\n".join(x for n, x in enumerate(lines, start=1) if n not in bad).encode("utf-8")


def _apply_delta(rels: set[Relationship], updates: list[delta.Update]) -> set[Relationship]:
    out = set(rels)
    for u in updates:
        (out.add if u.operation == "touch" else out.discard)(u.relationship)
    return out


def _reports_every_override(before: Directory, applied: object) -> bool:
    """U4: whether the change report names every assignment the upload took away."""
    after, changes = applied.directory, applied.changes  # type: ignore[attr-defined]
    gone = {
        (a.email, x.role.name, x.org)
        for a in before.accounts.values()
        for x in a.assignments
        if (acc := after.account(a.email)) is None
        or not any(y.role == x.role and y.org == x.org for y in acc.assignments)
    }
    named = {(c.email, c.previous, c.org) for c in changes.assignments_overridden}
    return gone <= named


def _step(
    name: str, db: SpiceDB, held: set[Relationship], report: object, after: Directory
) -> set[Relationship]:
    """Write the report's delta (through its JSON form) and check the engine against can."""
    updates = delta.from_report(json.loads(json.dumps(report.to_json())), after)  # type: ignore[attr-defined]
    assert len({u.relationship for u in updates}) == len(updates)  # one update a relationship
    db.write(updates)
    held = _apply_delta(held, updates)
    assert held == set(spicedb.relationships(after))
    tally = compare_checks(db, after)
    record(f"spicedb after {name} upload deltas", tally)
    assert tally.disagreements == ()
    return held


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(worlds())
def test_upload_deltas_keep_the_engine_equal_to_can(world: tuple[Directory, bytes, bytes]) -> None:
    """U4, U5, G10, G11: a user upload's delta, then a group upload's, bring the engine to
    exactly the new directory's relationships, and every check still equals can."""
    before, users, groups = world
    users = _valid_part(users, validate_users(users, before, uploader=UPLOADER).problems)
    assume(validate_users(users, before, uploader=UPLOADER).valid)
    db = SpiceDB(spicedb.schema())
    try:
        held = set(spicedb.relationships(before))
        db.touch(held)
        applied = apply_users(users, before, uploader=UPLOADER)
        # U4: a report that left out an override could not give a complete delta.
        assert _reports_every_override(before, applied)
        held = _step("user", db, held, applied.changes, applied.directory)
        middle = applied.directory
        groups = _valid_part(groups, validate_groups(groups, middle, uploader=UPLOADER).problems)
        if validate_groups(groups, middle, uploader=UPLOADER).valid and groups.count(b"\r\n") > 1:
            regrouped = apply_groups(groups, middle, uploader=UPLOADER)
            _step("group", db, held, regrouped.changes, regrouped.directory)
    finally:
        db.close()


def test_grant_delta_and_diff(example: Directory) -> None:
    """G1–G6, G10, G11: a single grant's delta and a whole-directory diff each give exactly
    the new directory's relationships."""
    account = next(a for a in example.accounts.values() if a.assignments)
    lapsed = attrs.evolve(account, active=False, forms={})
    after = Directory.build(
        organizations=example.tree,
        accounts=[lapsed if a.email == account.email else a for a in example.accounts.values()],
        students=example.students.values(),
        groups=example.groups.values(),
        custom_groups=example.custom_groups.values(),
        rule_set=example.rule_set,
    )
    before = set(spicedb.relationships(example))
    changed = _apply_delta(before, delta.diff(example, after))
    assert changed == set(spicedb.relationships(after))
    assert changed != before
    a = account.assignments[0]
    removed = before - {
        r
        for r in before
        if r.resource_id == spicedb.binding_id(account.email, a.role.name, a.org)
        or r.subject_id == spicedb.binding_id(account.email, a.role.name, a.org)
    }
    grant = Grant(account.email, a.role, a.org)
    assert _apply_delta(removed, delta.for_grant(grant, example)) == before


def test_a_report_that_is_not_one_is_refused(example: Directory) -> None:
    """A malformed change report is an error naming the problem, not a crash."""
    with pytest.raises(RequestError, match="not a change report"):
        delta.from_report({"assignments_added": [{"email": "x@y.org"}]}, example)
    with pytest.raises(RequestError, match="not a list"):
        delta.from_report({"members_added": "x"}, example)
    with pytest.raises(RequestError, match="not a change report"):
        delta.from_report(
            {
                "members_added": [
                    {
                        "group": {"school": "1", "school_year": 1, "name": "n"},
                        "kind": "x",
                        "member": "m",
                    }
                ]
            },
            example,
        )


def test_change_report_names_every_override() -> None:
    """U4: every assignment an upload replaces is in the change report, so its delta deletes
    it (multi-role: the file re-gives a role held there; the account's other roles there go)."""
    org = Organization(CDSCode("38999990000603"), "Charter", Level.LEA)
    held = Account(
        email="ada1@example.org",  # type: ignore[arg-type]
        credentialed=True,
        forms={Program.CAASPP: {Form.AGREEMENT, Form.AFFIDAVIT}},
        assignments=[
            Assignment(role("Site CAASPP Coordinator"), org.cds),
            Assignment(role("Educator—District"), org.cds),
        ],
    )
    before = _with_uploader(
        Directory.build(organizations=[org], accounts=[held], rule_set=RuleSet.MULTI_ROLE)
    )
    data = csv_bytes([("Ada", "Park", org.cds, held.email, "213-555-0101", "Educator—District")])
    applied = apply_users(data, before, uploader=UPLOADER)
    assert _reports_every_override(before, applied)
