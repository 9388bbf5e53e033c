"""Helpers the property tests share: rebuilding a directory with one thing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs
from hypothesis import strategies as st

from caaspp_authz import (
    Account,
    Action,
    CustomGroup,
    Directory,
    Grant,
    GroupAssignment,
    GroupKey,
    Organization,
    Report,
    ResourceLink,
    Student,
    User,
)
from caaspp_authz._access import may_be_assigned
from caaspp_authz.strategies import directories, requests

Request = tuple[User, Action, object]


@st.composite
def scenarios(draw: st.DrawFn, *, max_requests: int = 6) -> tuple[Directory, list[Request]]:
    """A drawn directory and a few requests against it."""
    directory = draw(directories())
    found = draw(st.lists(requests(directory), min_size=1, max_size=max_requests))
    return directory, found


def rebuild(
    directory: Directory,
    *,
    accounts: Iterable[Account] | None = None,
    change: Callable[[Account], Account] | None = None,
) -> Directory:
    """The same directory with its accounts replaced or changed; groups keep valid assignees.

    An assignee the group no longer opens anything to (V3) is taken off the group: that only
    takes access away from it.
    """
    new = list(directory.accounts.values()) if accounts is None else list(accounts)
    if change is not None:
        new = [change(a) for a in new]
    by_email = {a.email: a for a in new}
    groups = [
        attrs.evolve(
            g,
            users=frozenset(
                u for u in g.users if may_be_assigned(directory.tree, by_email[u], g.key.school)
            ),
        )
        for g in directory.groups.values()
    ]
    return Directory.build(
        organizations=list(directory.tree),
        accounts=new,
        students=directory.students.values(),
        groups=groups,
        custom_groups=directory.custom_groups.values(),
        rule_set=directory.rule_set,
    )


def same_user(directory: Directory, user: User) -> User:
    """The user with the same e-mail in another directory."""
    return directory.user(user.email)


def touched(directory: Directory, resource: object) -> list[str]:
    """The organizations a CERS or test-administration resource touches (O4)."""
    if isinstance(resource, Student):
        return [resource.school]
    if isinstance(resource, GroupKey):
        return [resource.school]
    if isinstance(resource, GroupAssignment):
        return [resource.group.school]
    if isinstance(resource, CustomGroup):
        return [
            directory.students[s].school
            for s in sorted(resource.students)
            if s in directory.students
        ]
    if isinstance(resource, Report):
        return list(resource.organizations)
    if isinstance(resource, ResourceLink):
        return [resource.organization]
    if isinstance(resource, Organization):
        return [resource.cds]
    if isinstance(resource, Grant):
        return [resource.organization]
    return []


def same_resource(directory: Directory, resource: object) -> object:
    """The resource as ``directory`` holds it: a student of another directory (V1) becomes the
    directory's record for its SSID, or a value built by hand, verified against it."""
    if isinstance(resource, Student):
        own = directory.student(resource.ssid)
        return own if own == resource else Student(resource.ssid, resource.school)
    return resource
