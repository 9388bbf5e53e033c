"""The queries agree with brute force over ``can`` on every directory the strategies draw."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caaspp_authz import (
    ROLES,
    Action,
    Directory,
    Email,
    Grant,
    ResourceLink,
    ToolsForTeachers,
    User,
    can,
)
from caaspp_authz.queries import allowed_actions, can_many, grantable, visible, who_can
from caaspp_authz.strategies import requests
from tests.storage import STORAGES, stored_directories

NEWCOMER = Email("nobody.yet@newcomer.org")

# Every query holds over every storage the library offers: the directory built in memory and
# the same directory loaded from the storage format.
pytestmark = pytest.mark.parametrize("storage", list(STORAGES))


_GROUPS = {Action.VIEW_GROUP, Action.CREATE_GROUP, Action.EDIT_GROUP, Action.DELETE_GROUP}
_CUSTOM = {
    Action.CREATE_CUSTOM_GROUP,
    Action.EDIT_CUSTOM_GROUP,
    Action.DELETE_CUSTOM_GROUP,
    Action.VIEW_CUSTOM_GROUP,
}
_ACCOUNTS = {
    Action.EDIT_ACCOUNT,
    Action.DEACTIVATE_ACCOUNT,
    Action.REACTIVATE_ACCOUNT,
    Action.RESET_PASSWORD,
    Action.DELETE_ACCOUNT,
}
_UNLISTED = {
    Action.ASSIGN_GROUP,
    Action.CREATE_AGGREGATE_REPORT,
    Action.VIEW_AGGREGATE_REPORT,
    Action.EXPORT_AGGREGATE_REPORT,
    Action.ADD_ROLE,
    Action.REMOVE_ROLE,
}


def _collection(directory: Directory, action: Action) -> Sequence[object] | None:
    """The directory's own resources of the kind an action takes, as the docs describe them."""
    if action is Action.VIEW_STUDENT_RESULTS:
        return list(directory.students.values())
    if action is Action.MANAGE_RESOURCE_LINKS:
        return [ResourceLink(o.cds) for o in directory.tree]
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        return [ToolsForTeachers()]
    if action in _GROUPS:
        return list(directory.groups)
    if action in _CUSTOM:
        return list(directory.custom_groups.values())
    if action in _ACCOUNTS:
        return list(directory.accounts.values())
    if action in _UNLISTED:
        return None
    return list(directory.tree)  # the actions over an organization


def _users(directory: Directory) -> list[User]:
    return [*directory.users(), directory.user("no.account@nowhere.org")]


@given(st.data())
def test_visible_from_a_list_is_can_filtered(storage: str, data: st.DataObject) -> None:
    """G11, V1–V7, T1–T3: visible(u, a, rs) == [r for r in rs if can(u, a, r)], in order."""
    directory = data.draw(stored_directories(storage))
    drawn = data.draw(st.lists(requests(directory), min_size=1, max_size=12))
    user, action, _ = drawn[0]
    resources: list[object] = [r for _, _, r in drawn]
    mine = _collection(directory, action)
    if mine is not None:
        resources += data.draw(st.permutations(list(mine)))
    expected = [r for r in resources if can(user, action, r)]
    assert visible(user, action, resources) == expected, (action, user.email, resources)
    assert visible(user, action, iter(resources)) == expected


@given(st.data())
def test_visible_in_the_directory_is_can_filtered(storage: str, data: st.DataObject) -> None:
    """G11, V1–V7, T1–T3: visible(u, a) is the directory's own resources can allows, in order."""
    directory = data.draw(stored_directories(storage))
    for user in _users(directory):
        for action in Action:
            mine = _collection(directory, action)
            if mine is None:
                continue
            assert visible(user, action) == [r for r in mine if can(user, action, r)], action


@given(st.data())
def test_who_can_is_can_over_every_account(storage: str, data: st.DataObject) -> None:
    """G11, V1–V7: who_can(a, r) lists exactly the accounts can allows, in directory order."""
    directory = data.draw(stored_directories(storage))
    for _, action, resource in data.draw(st.lists(requests(directory), max_size=8)):
        expected = [u for u in directory.users() if can(u, action, resource)]
        assert who_can(action, resource, directory) == expected


@given(st.data())
def test_who_can_sees_every_student_and_group(storage: str, data: st.DataObject) -> None:
    """V1–V3: for every student and group of the directory, who_can agrees with can."""
    directory = data.draw(stored_directories(storage))
    cases: list[tuple[Action, object]] = [
        (Action.VIEW_STUDENT_RESULTS, s) for s in directory.students.values()
    ]
    cases += [(a, k) for k in directory.groups for a in (Action.VIEW_GROUP, Action.EDIT_GROUP)]
    cases += [(Action.ADMINISTER_SUMMATIVE, o) for o in directory.tree]
    for action, resource in cases:
        expected = [u for u in directory.users() if can(u, action, resource)]
        assert who_can(action, resource, directory) == expected


@given(st.data())
def test_allowed_actions_is_can_over_every_action(storage: str, data: st.DataObject) -> None:
    """G11: allowed_actions(u, r) lists exactly the actions can allows, in Action order."""
    directory = data.draw(stored_directories(storage))
    for user, _, resource in data.draw(st.lists(requests(directory), max_size=8)):
        expected = [a for a in Action if can(user, a, resource)]
        assert allowed_actions(user, resource) == expected


@given(st.data())
def test_grantable_is_add_role_over_every_role_and_organization(
    storage: str, data: st.DataObject
) -> None:
    """G1–G6, R2, G11: grantable(u) is every (role, organization) add_role allows for a new
    account (credential attested, not primary), organizations in order, roles in catalog order."""
    directory = data.draw(stored_directories(storage))
    for user in _users(directory):
        expected = [
            (role, org.cds)
            for org in directory.tree
            for role in ROLES
            if can(
                user,
                Action.ADD_ROLE,
                Grant(NEWCOMER, role, org.cds, primary=False, credentialed=True),
            )
        ]
        assert grantable(user, directory) == expected


@given(st.data())
def test_can_many_is_can_of_each(storage: str, data: st.DataObject) -> None:
    """can_many(requests) == [can(u, a, r) for each request], in order."""
    directory = data.draw(stored_directories(storage))
    batch = data.draw(st.lists(requests(directory), max_size=20))
    students = [
        (user, Action.VIEW_STUDENT_RESULTS, s)
        for user in _users(directory)
        for s in directory.students.values()
    ]
    batch += students
    assert can_many(batch) == [can(u, a, r) for u, a, r in batch]
