"""The SpiceDB export, in a real embedded SpiceDB: every check, LookupResources and
LookupSubjects equal the library's ``can``, ``visible`` and ``who_can`` (V1, V3, V5–V7, T1–T3,
G9, U5, O4, G10, G11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from caaspp_authz import Action
from caaspp_authz.catalog import ROLES
from caaspp_authz.directory import Directory
from caaspp_authz.export import spicedb
from caaspp_authz.export._model import (
    GROUP_PERMISSIONS,
    ORGANIZATION_ACTIONS,
    Verdict,
    decode,
    encode,
    engine_name,
    group_id,
    holding_names,
    plain_permission,
    role_id,
)
from caaspp_authz.orgs import Organization
from caaspp_authz.queries import visible, who_can
from caaspp_authz.resources import ResourceLink
from caaspp_authz.strategies import directories
from tests.export.conftest import record
from tests.export.differential import Tally, cases, compare, users
from tests.export.engines import SpiceDB

WORLDS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORLD = directories(max_accounts=14, max_students=24, max_groups=5)


def engine_for(directory: Directory) -> Iterator[SpiceDB]:
    db = SpiceDB(spicedb.schema())
    try:
        db.touch(spicedb.relationships(directory))
        yield db
    finally:
        db.close()


def compare_checks(db: SpiceDB, directory: Directory) -> Tally:
    """Every request of the world, asked of the engine in bulk, against ``can``."""
    all_cases = list(cases(directory))
    pairs = sorted(
        {
            (encode(c.user.email), check)
            for c in all_cases
            if c.plan.verdict is Verdict.ENGINE
            for check in c.plan.checks
        },
        key=str,
    )
    answers = dict(zip(pairs, db.check(pairs), strict=True))
    return compare(all_cases, answers, lambda u: encode(u.email))


def test_schema_names_every_catalog_permission_and_capability() -> None:
    """P1, T1–T3, G9: the schema has a role relation and a binding permission per name."""
    text = spicedb.schema()
    for name in holding_names():
        assert f"relation {name}: user:*" in text
        assert f"permission held_{name} = binding->{name} + parent->held_{name}" in text


def test_roles_are_relationships_of_the_catalog() -> None:
    """R2, P2: each catalog row's permissions and capabilities are its role's relationships."""
    rels = set(spicedb.catalog_relationships())
    for role in ROLES:
        carried = {engine_name(k) for k in role.scope_keys}
        mine = {r.relation for r in rels if r.resource_id == role_id(role)}
        assert mine == carried


def test_ids_round_trip_and_stay_in_spicedb_alphabet() -> None:
    """Object ids are reversible and use only the characters SpiceDB allows."""
    for text in ("Ada.Park@example.org", "Period 1", "Ñandú & Co/x", ""):
        ident = encode(text)
        assert decode(ident) == text
        assert set(ident) <= set(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-="
        )


def test_relationships_parse_back(example: Directory) -> None:
    """Every relationship of the example directory prints as a tuple that parses back."""
    for r in spicedb.relationships(example):
        assert spicedb.parse_relationship(str(r)) == r


def test_parse_refuses_what_is_not_a_tuple() -> None:
    """A malformed tuple is an error naming it."""
    with pytest.raises(ValueError, match="not a relationship"):
        spicedb.parse_relationship("student:1#school")


def test_inactive_and_lapsed_have_no_path(example: Directory) -> None:
    """G10, G11: an assignment not in force has no subject; an inactive account no `active`."""
    rels = spicedb.relationships(example)
    for account in example.accounts.values():
        active = [
            r
            for r in rels
            if r.resource_type == "account" and r.resource_id == encode(account.email)
        ]
        assert bool(active) is account.active
        for a in account.assignments:
            b = spicedb.binding_id(account.email, a.role.name, a.org)
            subject = [r for r in rels if r.resource_id == b and r.relation == "subject"]
            assert bool(subject) is account.in_force(a)


def test_example_directory_checks_equal_can(example: Directory) -> None:
    """V1, V3, V5–V7, T1–T3, G9, U5: the shipped example, every request, engine equals can."""
    for db in engine_for(example):
        tally = compare_checks(db, example)
        record("spicedb checks (example directory)", tally)
        assert tally.disagreements == ()
        assert tally.allowed > 0


@WORLDS
@given(WORLD)
def test_checks_equal_can(directory: Directory) -> None:
    """V1, V3, V5–V7, T1–T3, G9, U5, O4, G10, G11: on generated worlds, every CheckPermission
    (in bulk, at_least_as_fresh of the write) equals can."""
    for db in engine_for(directory):
        tally = compare_checks(db, directory)
        record("spicedb CheckBulkPermissions", tally)
        assert tally.disagreements == ()


def _lookup_actions() -> list[tuple[Action, str, str]]:
    """The actions whose resources the directory lists, with the engine's resource type and
    permission (a plain organization: CAASPP, every report, T2, T3)."""
    found = [(Action.VIEW_STUDENT_RESULTS, "student", Action.VIEW_STUDENT_RESULTS.value)]
    found += [(a, "group", a.value) for a in GROUP_PERMISSIONS]
    found += [
        (a, "organization", plain_permission(a))
        for a in sorted(ORGANIZATION_ACTIONS, key=lambda a: a.value)
    ]
    return found


def _engine_id(resource: object) -> str:
    if isinstance(resource, Organization):
        return encode(resource.cds)
    if isinstance(resource, ResourceLink):
        return encode(resource.organization)
    if hasattr(resource, "ssid"):
        return encode(resource.ssid)
    return group_id(resource)  # type: ignore[arg-type]


@WORLDS
@given(WORLD)
def test_lookups_equal_visible_and_who_can(directory: Directory) -> None:
    """V1, V3, V6, T1–T3, G9, U5: LookupResources equals visible for every user and action;
    LookupSubjects equals who_can for every resource and action (G11: no inactive account)."""
    lookups = answered = 0
    wrong: list[str] = []
    for db in engine_for(directory):
        for action, kind, permission in _lookup_actions():
            for user in users(directory):
                got = db.lookup_resources(kind, permission, encode(user.email))
                want = {_engine_id(r) for r in visible(user, action)}
                lookups += 1
                answered += bool(want)
                if got != want:
                    wrong.append(f"LookupResources {user.email} {action.value}: {got} != {want}")
            for resource in visible_all(directory, action):
                got_users = {
                    decode(u) for u in db.lookup_subjects(kind, _engine_id(resource), permission)
                }
                want_users = {u.email for u in who_can(action, resource, directory)}
                lookups += 1
                answered += bool(want_users)
                if got_users != want_users:
                    wrong.append(
                        f"LookupSubjects {action.value} {resource!r}: {got_users} != {want_users}"
                    )
    record(
        "spicedb LookupResources and LookupSubjects",
        Tally(lookups, lookups, 0, answered, 1, tuple(wrong[:20])),
    )
    assert wrong == []


def visible_all(directory: Directory, action: Action) -> list[object]:
    """The directory's own resources of the kind ``action`` takes."""
    if action is Action.VIEW_STUDENT_RESULTS:
        return list(directory.students.values())
    if action in GROUP_PERMISSIONS:
        return list(directory.groups)
    if action is Action.MANAGE_RESOURCE_LINKS:
        return [ResourceLink(o.cds) for o in directory.tree]
    return list(directory.tree)


@settings(max_examples=30, deadline=None)
@given(directories())
def test_relationship_counts_count_the_relationships(directory: Directory) -> None:
    """relationship_counts adds up to the relationships the export writes."""
    assert sum(spicedb.relationship_counts(directory).values()) == len(
        spicedb.relationships(directory)
    )


def test_site_only_actions_need_a_test_site() -> None:
    """O3, T1: the administer actions ask a permission that needs the test-site marker, in
    both exports, derived from the catalog's AT_TEST_SITES."""
    from caaspp_authz.export import cedar

    assert plain_permission(Action.ADMINISTER_SUMMATIVE) == "site_administer_summative"
    assert plain_permission(Action.UPLOAD_USERS) == "held_upload_users"
    assert (
        "permission site_administer_summative = held_administer_summative & test_site"
        in spicedb.schema()
    )
    policy = cedar.policies()
    assert "resource.test_site && principal in resource.held_administer_summative" in policy
