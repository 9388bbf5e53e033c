"""A changed directory (``Directory.with_changes``) is the directory ``Directory.build`` makes of
the same content, and the directory it was made from is unchanged."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caaspp_authz import (
    Account,
    Action,
    Directory,
    DirectoryError,
    Email,
    Group,
    GroupKey,
    Student,
    User,
    decide,
    dump_directory,
)
from caaspp_authz.queries import grantable, visible, who_can
from caaspp_authz.strategies import directories, requests
from tests.storage import via_sqlite

_PARENTS = {"memory": lambda d: d, "sqlite": via_sqlite}


@st.composite
def _account_changes(draw: st.DrawFn, d: Directory) -> list[Account]:
    """Changed and new accounts: toggled status or credential, roles dropped or taken from
    another account, forms gone (G10, G11, R5, R7, E2–E5), copies under a new e-mail."""
    accounts = list(d.accounts.values())
    out: list[Account] = []
    if not accounts:
        return out
    for a in draw(st.lists(st.sampled_from(accounts), max_size=3, unique_by=lambda a: a.email)):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            out.append(attrs.evolve(a, active=not a.active))
        elif kind == 1:
            out.append(attrs.evolve(a, credentialed=not a.credentialed))
        elif kind == 2:
            out.append(attrs.evolve(a, assignments=a.assignments[:-1]))
        elif kind == 3:
            other = draw(st.sampled_from(accounts))
            out.append(attrs.evolve(a, assignments=other.assignments))
        else:
            out.append(attrs.evolve(a, forms={}))
    for i in range(draw(st.integers(0, 2))):
        model = draw(st.sampled_from(accounts))
        email = Email(f"copy{i}@changed{len(accounts)}.org")
        if email not in d.accounts:
            out.append(attrs.evolve(model, email=email))
    return out


@st.composite
def _group_changes(draw: st.DrawFn, d: Directory) -> list[Group]:
    """Changed and new groups: new members and assignees drawn from the directory (V3, U5)."""
    ssids = sorted(d.students)
    emails = sorted(d.accounts)
    keys = list(d.groups)
    schools = sorted(o.cds for o in d.tree if d.tree.is_test_site(o.cds))
    if schools:
        keys += [
            GroupKey(draw(st.sampled_from(schools)), 2026, f"new {i}")
            for i in range(draw(st.integers(0, 2)))
        ]
    if not keys:
        return []
    chosen = draw(st.lists(st.sampled_from(keys), max_size=3, unique=True))
    members = st.lists(st.sampled_from(ssids), max_size=4) if ssids else st.just([])
    users = st.lists(st.sampled_from(emails), max_size=2) if emails else st.just([])
    return [Group(key, "All", draw(members), draw(users)) for key in chosen]


def _built(d: Directory, accounts: list[Account], groups: list[Group]) -> Directory:
    """What ``Directory.build`` makes of ``d`` with the changes (each in place, new ones
    after): the reference."""
    by_email: dict[Email, Account] = dict(d.accounts.items())
    by_email.update((a.email, a) for a in accounts)
    by_key: dict[GroupKey, Group] = dict(d.groups.items())
    by_key.update((g.key, g) for g in groups)
    return Directory.build(
        organizations=d.tree,
        accounts=by_email.values(),
        students=d.students.values(),
        groups=by_key.values(),
        custom_groups=d.custom_groups.values(),
        rule_set=d.rule_set,
    )


def _errors(exc: DirectoryError) -> set[tuple[str, str]]:
    return {(p.rule, p.message) for p in exc.problems if p.is_error}


def _moved(value: Any, source: Directory, target: Directory) -> Any:
    """A request's user or student of ``source``, as ``target`` holds it."""
    if isinstance(value, User) and source.owns(value):
        return target.user(value.email)
    if isinstance(value, Student) and value._home is source.students:
        return target.students.get(value.ssid, value)
    return value


def _answers(d: Directory, asked: list[tuple[User, Action, object]]) -> list[Any]:
    """Decisions and query answers for requests (drawn on another directory of the content)."""
    out: list[Any] = []
    source = asked[0][0].directory
    for user, action, resource in asked:
        user, resource = _moved(user, source, d), _moved(resource, source, d)
        out.append(decide(user, action, resource))
        out.append(sorted(u.email for u in who_can(action, resource, d)))
    for user in list(d.users())[:4]:
        out.append([s.ssid for s in visible(user, Action.VIEW_STUDENT_RESULTS)])
        out.append(visible(user, Action.VIEW_GROUP))
        out.append(grantable(user, d))
    return out


def _same(layered: Directory, built: Directory, data: st.DataObject) -> None:
    assert dump_directory(layered) == dump_directory(built)
    assert layered.warnings == built.warnings
    assert dict(layered.primaries) == dict(built.primaries)
    asked = data.draw(st.lists(requests(built), min_size=1, max_size=8))
    assert _answers(layered, asked) == _answers(built, asked)
    for name in {*built.holders, *layered.holders}:
        assert dict(layered.holders.get(name) or {}) == dict(built.holders.get(name) or {})
    for email in built.accounts:
        assert layered.groups_by_user.get(email, ()) == built.groups_by_user.get(email, ())
    for ssid in built.students:
        assert layered.groups_by_student.get(ssid, ()) == built.groups_by_student.get(ssid, ())


@pytest.mark.parametrize("parent", list(_PARENTS))
@settings(max_examples=40, deadline=None)
@given(directories(max_accounts=8, max_students=12, max_groups=3), st.data())
def test_a_change_is_the_built_directory(parent: str, drawn: Directory, data: Any) -> None:
    """A change of a directory (in memory or stored) equals ``build`` of the same content:
    dump, warnings, decisions and query answers; a refused one is refused with the same errors
    (E1–E7, R5–R7, V3, V4); the directory changed answers as before."""
    d = _PARENTS[parent](drawn)
    before = dump_directory(d)
    warnings = d.warnings
    old_asked = data.draw(st.lists(requests(d), min_size=1, max_size=6))
    old_answers = [decide(u, a, r) for u, a, r in old_asked]
    accounts = data.draw(_account_changes(d))
    groups = data.draw(_group_changes(d))
    try:
        built = _built(d, accounts, groups)
    except DirectoryError as exc:
        expected = _errors(exc)
        with pytest.raises(DirectoryError) as refused:
            d.with_changes(accounts=accounts, groups=groups)
        assert _errors(refused.value) == expected
        return
    layered = d.with_changes(accounts=accounts, groups=groups)
    _same(layered, built, data)
    # the directory changed is unchanged, and each directory's users are its own (G11)
    assert dump_directory(d) == before
    assert d.warnings == warnings
    assert [decide(u, a, r) for u, a, r in old_asked] == old_answers
    for email in d.accounts:
        assert not layered.owns(d.user(email))
        assert not d.owns(layered.user(email))
    # a change of the changed directory: one level of views, the same as build again
    more_accounts = data.draw(_account_changes(layered))
    more_groups = data.draw(_group_changes(layered))
    try:
        again = _built(built, more_accounts, more_groups)
    except DirectoryError:
        with pytest.raises(DirectoryError):
            layered.with_changes(accounts=more_accounts, groups=more_groups)
        return
    _same(layered.with_changes(accounts=more_accounts, groups=more_groups), again, data)
