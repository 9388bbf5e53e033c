"""The public Hypothesis strategies: argument checking and validity of what they draw."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from caaspp_authz import (
    Action,
    Directory,
    Level,
    OrgTree,
    RuleSet,
    Unknown,
    User,
    canonical_email,
    dump_directory,
    load_directory,
    parse_cds,
)
from caaspp_authz.decision import POLICY
from caaspp_authz.orgs import Organization, is_lea_code
from caaspp_authz.strategies import (
    cds_codes,
    directories,
    emails,
    organizations,
    requests,
    roles,
)


@pytest.mark.parametrize(
    ("factory", "kwargs"),
    [
        (cds_codes, {"level": Level.STATE}),
        (cds_codes, {"level": "lea"}),
        (roles, {"level": "school"}),
        (organizations, {"max_leas": 0}),
        (organizations, {"max_schools_per_lea": -1}),
        (organizations, {"max_leas": True}),
        (directories, {"rule_set": "multi-role"}),
        (directories, {"max_leas": 0}),
        (directories, {"max_accounts": -1}),
        (directories, {"max_students": 1.5}),
        (directories, {"max_groups": -2}),
        (directories, {"max_schools_per_lea": "3"}),
        (requests, {"directory": None}),
    ],
)
def test_bad_arguments_raise_invalid_argument(factory: Any, kwargs: dict[str, Any]) -> None:
    """Every strategy refuses a bad argument with InvalidArgument, as Hypothesis' own do."""
    with pytest.raises(InvalidArgument):
        factory(**kwargs).example()


@given(cds_codes(level=Level.LEA), cds_codes(level=Level.SCHOOL), cds_codes())
def test_cds_codes_parse(lea: str, school: str, either: str) -> None:
    """O2: drawn codes are 14 digits; LEA codes end in 0000000, school codes do not."""
    assert parse_cds(lea) == lea
    assert parse_cds(either) == either
    assert is_lea_code(lea)
    assert not is_lea_code(school)


@given(emails())
def test_emails_are_canonical(email: str) -> None:
    """E1, E6: a drawn e-mail is already in its canonical form."""
    assert canonical_email(email) == email


@given(organizations())
def test_organizations_build(orgs: list[Organization]) -> None:
    """O1–O3: a drawn organization list builds into a tree."""
    tree = OrgTree.build(orgs)
    assert len(tree) == len(orgs) >= 1


@given(directories())
def test_directories_are_valid_and_round_trip(directory: Directory) -> None:
    """A drawn directory is valid (it was built) and loads back from its own dump."""
    again = load_directory(dump_directory(directory))
    assert dump_directory(again) == dump_directory(directory)


@given(directories(rule_set=RuleSet.ONE_ROLE_PER_EMAIL))
def test_one_role_per_email_is_respected(directory: Directory) -> None:
    """E3: under one-role-per-email every drawn account holds at most one role."""
    assert directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL
    for account in directory.accounts.values():
        assert len(account.roles) <= 1


@given(directories(), st.data())
def test_custom_groups_come_from_sources(directory: Directory, data: st.DataObject) -> None:
    """V4: every drawn custom group holds only students its owner may take."""
    for group in directory.custom_groups.values():
        owner = directory.user(group.owner)
        assert group.students <= owner.custom_sources


@given(st.data())
def test_requests_fit_their_action(data: st.DataObject) -> None:
    """Every drawn request names a resource of a kind its action takes, or an unknown one."""
    directory = data.draw(directories())
    user, action, resource = data.draw(requests(directory))
    assert isinstance(user, User)
    assert isinstance(action, Action)
    assert isinstance(resource, (Unknown, *POLICY[action].kinds))
