"""``Directory.with_changes``: a change checked like a build, made without one (R7, G11, V3)."""

from __future__ import annotations

import attrs
import pytest

from caaspp_authz import (
    Account,
    Action,
    Assignment,
    CDSCode,
    Directory,
    DirectoryError,
    Email,
    _layered,
    can,
    decide,
    dump_directory,
    role,
)
from caaspp_authz.queries import visible
from caaspp_authz.uploads import apply_groups, apply_users
from tests.storage import via_sqlite
from tests.uploadfiles import COORDINATOR, ELEMENTARY, groups, user_row, users

_VIEW = Action.VIEW_STUDENT_RESULTS


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> Directory:
        raise AssertionError("Directory.build was called")

    monkeypatch.setattr(Directory, "build", refuse)


@pytest.mark.parametrize("stored", [False, True])
def test_a_one_row_upload_is_applied_without_a_rebuild(
    example: Directory, stored: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U2: applying a one-row user upload makes the new directory without ``build``, and the
    directory it was applied to is unchanged."""
    d = via_sqlite(example) if stored else example
    before = dump_directory(d)
    file = users(user_row("new.one@example.org", "CAASPP Test Administrator", ELEMENTARY))
    _no_build(monkeypatch)
    new = apply_users(file, d, uploader=COORDINATOR).directory
    assert new.account("new.one@example.org") is not None
    assert d.account("new.one@example.org") is None
    assert dump_directory(d) == before
    user = new.user("new.one@example.org")
    assert new.owns(user)
    assert user.active
    assert not d.owns(user)


def test_a_group_upload_is_applied_without_a_rebuild(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U5: applying a group upload to a group the directory holds makes the new directory
    without ``build``; the assignee's user of the new directory sees the group's students."""
    group = next(iter(example.groups.values()))
    ssid = next(iter(group.students))
    login = next(iter(group.users))
    file = groups((group.key.name, group.key.school, str(group.key.school_year), "", ssid, login))
    _no_build(monkeypatch)
    new = apply_groups(file, example, uploader=COORDINATOR).directory
    assert new.groups[group.key].students == frozenset({ssid})
    assert example.groups[group.key] is group


def test_a_second_primary_is_refused(example: Directory) -> None:
    """R7: a change giving a second account the primary of an LEA role is refused, naming both."""
    primary = next((a, x) for a in example.accounts.values() for x in a.assignments if x.primary)
    account, held = primary
    copy = attrs.evolve(account, email=Email("second.primary@example.org"))
    with pytest.raises(DirectoryError) as refused:
        example.with_changes(accounts=[copy])
    rules = {p.rule for p in refused.value.problems if p.is_error}
    assert "R7" in rules
    assert any(account.email in p.message for p in refused.value.problems if p.rule == "R7")
    assert held.org in {p.value for p in refused.value.problems if p.rule == "R7"}


def test_each_directory_keeps_its_own_users(example: Directory) -> None:
    """G11: a user of the directory changed is not the changed directory's own, nor the
    reverse; each decides on its own directory, and the old one as before."""
    email = next(e for e in example.accounts if visible(example.user(e), _VIEW))
    old_user = example.user(email)
    seen = visible(old_user, _VIEW)
    account = example.accounts[email]
    new = example.with_changes(accounts=[attrs.evolve(account, active=False)])
    assert not new.owns(old_user)
    assert not example.owns(new.user(email))
    assert example.owns(old_user)
    assert old_user.active
    assert visible(old_user, _VIEW) == seen
    assert all(can(old_user, _VIEW, s) for s in seen)
    assert not new.user(email).active
    assert not any(can(new.user(email), _VIEW, s) for s in seen)


def test_a_change_of_a_change_is_one_level_deep(example: Directory) -> None:
    """A change of a changed directory holds its views over the first directory's mappings."""
    site = role("CAASPP Test Administrator")
    first = example.with_changes(
        accounts=[
            Account(Email("a@example.org"), assignments=[Assignment(site, CDSCode(ELEMENTARY))])
        ]
    )
    second = first.with_changes(
        accounts=[
            Account(Email("b@example.org"), assignments=[Assignment(site, CDSCode(ELEMENTARY))])
        ]
    )
    assert second.accounts._base is example.accounts  # type: ignore[attr-defined]
    assert list(second.accounts)[-2:] == ["a@example.org", "b@example.org"]
    assert "b@example.org" not in first.accounts
    loaded = Directory.build(
        organizations=example.tree,
        accounts=second.accounts.values(),
        students=example.students.values(),
        groups=example.groups.values(),
        custom_groups=example.custom_groups.values(),
        rule_set=example.rule_set,
    )
    assert dump_directory(second) == dump_directory(loaded)
    assert second.warnings == loaded.warnings


def test_past_the_limit_a_change_builds_the_whole_directory(
    example: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of a changed directory whose views are past the limit is built whole, equal to
    the same change made over views."""
    site = role("CAASPP Test Administrator")
    first = example.with_changes(
        accounts=[
            Account(Email("a@example.org"), assignments=[Assignment(site, CDSCode(ELEMENTARY))])
        ]
    )
    change = [Account(Email("b@example.org"), assignments=[Assignment(site, CDSCode(ELEMENTARY))])]
    layered = first.with_changes(accounts=change)
    monkeypatch.setattr(_layered, "REBUILD_OVER", 1)
    built = first.with_changes(accounts=change)
    assert not isinstance(built.accounts, _layered.Over)
    assert isinstance(layered.accounts, _layered.Over)
    assert dump_directory(built) == dump_directory(layered)
    assert built.warnings == layered.warnings


def test_a_user_kept_from_before_a_change_is_denied_todays_students(example: Directory) -> None:
    """V1, G11: a user of the directory changed is denied a student of the new directory, and
    a user of the new directory one of the directory changed, as after a reload."""
    email = next(e for e in example.accounts if visible(example.user(e), _VIEW))
    kept = example.user(email)
    account = example.accounts[email]
    new = example.with_changes(accounts=[attrs.evolve(account, active=False)])
    ssid = visible(kept, _VIEW)[0].ssid
    assert can(kept, _VIEW, example.students[ssid])
    assert not can(kept, _VIEW, new.students[ssid])  # yesterday's access is not kept
    assert "another directory" in decide(kept, _VIEW, new.students[ssid]).reason
    again = new.with_changes(accounts=[account])  # active once more
    assert can(again.user(email), _VIEW, again.students[ssid])
    assert not can(again.user(email), _VIEW, example.students[ssid])
    assert visible(again.user(email), _VIEW) == [
        again.students[s.ssid] for s in visible(kept, _VIEW)
    ]


def test_a_change_of_a_change_answers_holders_one_level_deep(example: Directory) -> None:
    """P2: the holders index of a change of a changed directory reads the first directory's
    index and both changes, and answers as a build of the same content."""
    site = [Assignment(role("Site CAASPP Coordinator"), CDSCode(ELEMENTARY))]
    forms = example.accounts[Email("site.coordinator@example.org")].forms
    first = example.with_changes(
        accounts=[Account(Email("a@example.org"), forms=forms, assignments=site)]
    )
    second = first.with_changes(
        accounts=[Account(Email("b@example.org"), forms=forms, assignments=site)]
    )
    assert second.holders._base is example.holders  # type: ignore[attr-defined]
    built = Directory.build(
        organizations=example.tree,
        accounts=second.accounts.values(),
        students=example.students.values(),
        groups=example.groups.values(),
        custom_groups=example.custom_groups.values(),
        rule_set=example.rule_set,
    )
    for name in built.holders:
        assert dict(second.holders[name]) == dict(built.holders[name])
    assert "b@example.org" in second.holders["PII"][CDSCode(ELEMENTARY)]
