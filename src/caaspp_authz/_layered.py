"""A directory changed without a rebuild: changed accounts and groups over another directory.

:func:`changed` makes the :class:`~caaspp_authz.directory.Directory` that
``Directory.with_changes`` returns. Its mappings are views (:class:`Over`): the changed
accounts and groups, and every index entry they touch, in small dictionaries over the
mappings of the directory changed (in memory or stored, :mod:`caaspp_authz._stored`); every
other key is answered by that directory's own mapping. The directory changed is not touched
and stays valid: the two share what did not change (immutable values, shared structure).

What ``Directory.build`` checks is checked again here, by the very functions it runs, on what
the change touches and on what the change can affect: the changed accounts (E1–E7, O4, R2,
R5–R7), the R7 primaries against every other account, the changed groups and the groups
assigned to a changed account (V3), and the custom groups of every user whose groups or roles
changed (V4). Students are not changed: the new directory reads them from the directory
changed, each made on demand as the new directory's own (V1: a decision knows its directory's
students by identity, so a user kept from before a change is denied today's students, as after
a reload).

The new directory makes its own users, on first use, and keeps them (G11: by identity), so a
user of the directory changed is denied by the new one, and one of the new directory by the
old one. A view over a view is never made: a change of a changed directory copies the small
dictionaries and applies the new change to the copy, so every lookup is one level deep.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from caaspp_authz._stored import _Lookups, _Users
from caaspp_authz.accounts import Account, Email
from caaspp_authz.directory import (
    Directory,
    _accounts,
    _groups,
    _stale_custom_groups,
)
from caaspp_authz.errors import DirectoryError, Problem, shown
from caaspp_authz.orgs import CDSCode
from caaspp_authz.resources import Group, GroupKey, Student

__all__ = ["GONE", "Over", "changed"]

K = TypeVar("K")
V = TypeVar("V")

_MISSING: Any = object()


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


GONE: Any = _Gone()
"""A change's value for a key the changed mapping no longer holds."""

REBUILD_OVER = 200_000
"""How many keys a directory's views may hold over the directory changed before a change
builds the whole directory instead (``Directory.build``): the views are copied at every change,
so their size bounds the time of a change."""


class Over(Mapping[K, V], Generic[K, V]):
    """A mapping over ``base``: some of its keys with new values (in place), some removed, and
    new keys after its own, in the order they came. ``key_of`` gives a value's key, so that
    :meth:`values` reads the base in one pass (a stored base reads it in a few queries)."""

    __slots__ = ("_added", "_base", "_gone", "_key_of", "_over")

    def __init__(
        self,
        base: Mapping[K, V],
        key_of: Callable[[V], K] | None = None,
        over: dict[K, V] | None = None,
        gone: frozenset[K] = frozenset(),
        added: dict[K, V] | None = None,
    ) -> None:
        self._base = base
        self._key_of = key_of
        self._over: dict[K, V] = over or {}
        self._gone = gone
        self._added: dict[K, V] = added or {}

    @classmethod
    def of(cls, mapping: Mapping[K, V], key_of: Callable[[V], K] | None = None) -> Over[K, V]:
        """``mapping`` as a view to change (itself when it is one)."""
        if isinstance(mapping, Over):
            return mapping
        return cls(mapping, key_of)

    @property
    def size(self) -> int:
        """How many keys the view holds over its base."""
        return len(self._over) + len(self._gone) + len(self._added)

    def changed(self, changes: Mapping[K, V], *, new: Mapping[K, V] | None = None) -> Over[K, V]:
        """A new view: this one with ``changes`` made (a value :data:`GONE` removes its key),
        and ``new``, keys the view does not hold, added after its own."""
        if not changes and not new:
            return self
        over, gone, added = dict(self._over), set(self._gone), dict(self._added)
        if new:
            added.update(new)
        base = self._base
        for key, value in changes.items():
            if value is GONE:
                if added.pop(key, _MISSING) is _MISSING:
                    over.pop(key, None)
                    if key in base:
                        gone.add(key)
            elif key in added:
                added[key] = value
            elif key in over or key in base:
                over[key] = value
                gone.discard(key)
            else:
                added[key] = value
        return Over(self._base, self._key_of, over, frozenset(gone), added)

    def get(self, key: Any, default: Any = None) -> Any:
        over: dict[Any, Any] = self._over
        try:
            found = over.get(key, _MISSING)
        except TypeError:  # an unhashable key: not held
            return default
        if found is not _MISSING:
            return found
        added: dict[Any, Any] = self._added
        found = added.get(key, _MISSING)
        if found is not _MISSING:
            return found
        if key in self._gone:
            return default
        base: Mapping[Any, Any] = self._base
        return base.get(key, default)

    def __getitem__(self, key: K) -> V:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __iter__(self) -> Iterator[K]:
        gone = self._gone
        for key in self._base:
            if key not in gone:
                yield key
        yield from self._added

    def values(self) -> Any:
        key_of = self._key_of
        if key_of is None:
            return [self[k] for k in self]
        over, gone = self._over, self._gone
        out: list[V] = []
        for value in self._base.values():
            key = key_of(value)
            if key not in gone:
                out.append(over.get(key, value))
        out.extend(self._added.values())
        return out

    def __len__(self) -> int:
        return len(self._base) - len(self._gone) + len(self._added)


class _Students(_Lookups[str, Student]):
    """The students of the directory changed, each made on demand as this directory's own
    (V1: a decision knows a directory's own student by identity, so a user of the directory
    changed is denied a student of the new one, and the reverse, as after a reload)."""

    def __init__(self, base: Mapping[str, Student]) -> None:
        self._base = base.base if isinstance(base, _Students) else base

    @property
    def base(self) -> Mapping[str, Student]:
        return self._base

    def made(self, found: Student) -> Student:
        s = Student(found.ssid, found.school)
        object.__setattr__(s, "_home", self)  # V1: this directory's own value
        return s

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        found = self._base.get(key)
        return default if found is None else self.made(found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._base

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def values(self) -> Any:
        made = self.made
        return [made(s) for s in self._base.values()]

    def __len__(self) -> int:
        return len(self._base)


class _BySchool(_Lookups[CDSCode, tuple[Student, ...]]):
    """School → its students, made as the new directory's own (see :class:`_Students`)."""

    def __init__(self, base: Mapping[CDSCode, tuple[Student, ...]], students: _Students) -> None:
        self._base = base.base if isinstance(base, _BySchool) else base
        self._students = students

    @property
    def base(self) -> Mapping[CDSCode, tuple[Student, ...]]:
        return self._base

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        found = self._base.get(CDSCode(key))
        if found is None:
            return default
        made = self._students.made
        return tuple(made(s) for s in found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._base

    def __iter__(self) -> Iterator[CDSCode]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


def _email(account: Account) -> Email:
    return account.email


def _key(group: Group) -> GroupKey:
    return group.key


class _HoldersAt(_Lookups[CDSCode, tuple[Email, ...]]):
    """The holders index of one permission or capability: the organizations where a changed
    account held it or holds it now answered again, every other from the directory changed."""

    def __init__(
        self,
        base: Mapping[CDSCode, tuple[Email, ...]],
        name: str,
        touched: dict[CDSCode, set[Email]],
        directory: Directory,
        changed: frozenset[Email],
    ) -> None:
        self._base = base
        self._name = name
        self.touched = touched
        self._directory = directory
        self._changed = changed

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        if key not in self.touched:
            return self._base.get(key, default)  # type: ignore[call-overload]
        d = self._directory
        found = [e for e in self._base.get(key, ()) if e not in self._changed]  # type: ignore[call-overload]
        candidates = self.touched[key]  # type: ignore[index]
        found.extend(e for e in candidates if key in d._users[e].scope(self._name))  # G10
        found.sort(key=d.account_positions.__getitem__)
        return tuple(found) if found else default

    def __iter__(self) -> Iterator[CDSCode]:
        for code in self._base:
            if code not in self.touched or self.get(code) is not None:
                yield code
        for code in sorted(self.touched):
            if code not in self._base and self.get(code) is not None:
                yield code

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Holders(_Lookups[str, Mapping[CDSCode, tuple[Email, ...]]]):
    """``Directory.holders`` of a changed directory: the touched names answered again."""

    def __init__(
        self,
        base: Mapping[str, Mapping[CDSCode, tuple[Email, ...]]],
        accounts: list[Account],
        directory: Directory,
        changed: frozenset[Email],
    ) -> None:
        if isinstance(base, _Holders):  # one level deep: the earlier changes' accounts too
            earlier: _Holders = base
            accounts = [*earlier._accounts, *accounts]
            changed = earlier._changed | changed
            base = earlier._base
        self._base: Mapping[str, Mapping[CDSCode, tuple[Email, ...]]] = base
        self._accounts: list[Account] = accounts
        self._directory = directory
        self._changed: frozenset[Email] = changed
        self._made: dict[str, _HoldersAt] | None = None

    @property
    def _at(self) -> dict[str, _HoldersAt]:
        """The touched names' indexes, made on first use (a big change that no query asks
        about never pays for them)."""
        made = self._made
        if made is None:
            made = {}
            for name, orgs in _touched_names(self._accounts).items():
                held = self._base.get(name)  # not `or`: a stored index's truth reads it all
                made[name] = _HoldersAt(
                    {} if held is None else held, name, orgs, self._directory, self._changed
                )
            self._made = made
        return made

    def get(self, key: object, default: Any = None) -> Any:
        at = self._at.get(key) if isinstance(key, str) else None
        if at is None:
            return self._base.get(key, default)  # type: ignore[call-overload]
        if key in self._base or any(at.get(c) is not None for c in at.touched):
            return at
        return default

    def __iter__(self) -> Iterator[str]:
        for name in self._base:
            if self.get(name) is not None:
                yield name
        for name in self._at:
            if name not in self._base and self.get(name) is not None:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _touched_names(accounts: Iterable[Account]) -> dict[str, dict[CDSCode, set[Email]]]:
    """Where each account holds a role carrying each permission or capability (P2, T1–T3),
    in force or not: the holders index entries a change of these accounts can touch, and the
    accounts that can hold it there."""
    touched: dict[str, dict[CDSCode, set[Email]]] = {}
    for account in accounts:
        for a in account.assignments:
            for name in a.role.scope_keys:
                touched.setdefault(name, {}).setdefault(a.org, set()).add(account.email)
    return touched


def _primaries(
    parent: Directory,
    accounts: Mapping[Email, Account],
    changed: Mapping[Email, Account],
    position: Callable[[Email], int],
    problems: list[Problem],
) -> dict[tuple[CDSCode, str], Email]:
    """R7: at most one primary per LEA and coordinator role, the changed accounts against every
    other; the first in directory order keeps it and each later one is an error (as build)."""
    primaries = {k: e for k, e in parent.primaries.items() if e not in changed}
    wanting: dict[tuple[CDSCode, str], list[Email]] = {}
    for account in changed.values():
        for a in account.assignments:
            if a.primary and a.role.has_primary:
                wanting.setdefault((a.org, a.role.name), []).append(account.email)
    for key, emails in wanting.items():
        holders = list(dict.fromkeys(emails))
        held = primaries.get(key)
        if held is not None:
            holders.append(held)
        holders.sort(key=position)
        first = primaries[key] = holders[0]
        for email in holders[1:]:
            role = next(a.role for a in accounts[email].assignments if (a.org, a.role.name) == key)
            problems.append(
                Problem(
                    "R7",
                    f"`{email}` and `{first}` are both primary `{role}` at `{key[0]}`",
                    where=f"account `{email}`",
                    value=key[0],
                )
            )
    return primaries


_GROUP_WHERE = re.compile(r"group `(.*)` \((\d+)\) at `(\d+)`", re.DOTALL)


def _account_of(where: str) -> Email:
    return Email(where[len("account `") : -1])


def _group_of(where: str) -> GroupKey | None:
    found = _GROUP_WHERE.fullmatch(where)
    if found is None:
        return None
    return GroupKey(CDSCode(found.group(3)), int(found.group(2)), found.group(1))


def _by_where(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {}
    for p in problems:
        found.setdefault(p.where or "", []).append(p)
    return found


def changed(
    parent: Directory, *, accounts: Iterable[Account] = (), groups: Iterable[Group] = ()
) -> Directory:
    """``parent`` with ``accounts`` and ``groups`` added or put in place of those of their key
    (see the module docstring); raises ``DirectoryError`` listing every problem."""
    tree = parent.tree
    rule_set = parent.rule_set
    accounts = list(accounts)
    groups = list(groups)
    views = parent.accounts
    if isinstance(views, Over) and views.size + len(accounts) + len(groups) > REBUILD_OVER:
        return _rebuilt(parent, accounts, groups)  # flatten: the views grew too large to copy
    problems: list[Problem] = []
    new_accounts = _accounts(tree, accounts, rule_set, problems)
    # the accounts changed, as the parent holds them (one lookup each, here only)
    old_accounts = {e: a for e in new_accounts if (a := parent.accounts.get(e)) is not None}
    account_view: Over[Email, Account] = Over.of(parent.accounts, _email).changed(
        {e: new_accounts[e] for e in old_accounts},
        new={e: a for e, a in new_accounts.items() if e not in old_accounts},
    )
    # positions of the accounts and groups the directory changed does not hold
    end = len(parent.accounts) if len(old_accounts) < len(new_accounts) else 0
    account_positions = Over.of(parent.account_positions).changed(
        {},
        new={e: end + i for i, e in enumerate(e for e in new_accounts if e not in old_accounts)},
    )
    position = account_positions.__getitem__
    primaries = _primaries(parent, account_view, new_accounts, position, problems)
    group_problems: list[Problem] = []
    new_groups = _groups(tree, groups, account_view, group_problems)
    group_view: Over[GroupKey, Group] = Over.of(parent.groups, _key).changed(new_groups)
    if any(p.is_error for p in (*problems, *group_problems)):
        raise DirectoryError([*problems, *group_problems])
    group_positions = Over.of(parent.group_positions).changed(
        {},
        new={
            k: len(parent.groups) + i
            for i, k in enumerate(k for k in new_groups if k not in parent.groups)
        },
    )

    # the groups of each user and of each student that a changed group held or holds
    users_of: dict[Email, None] = {}
    students_of: dict[str, None] = {}
    for key, g in new_groups.items():
        users_of.update(dict.fromkeys(g.users))
        students_of.update(dict.fromkeys(g.students))
        old = parent.groups.get(key)
        if old is not None:
            users_of.update(dict.fromkeys(old.users))
            students_of.update(dict.fromkeys(old.students))
    by_user = _regrouped(parent.groups_by_user, users_of, new_groups, group_positions, "users")
    by_student = _regrouped(
        parent.groups_by_student, students_of, new_groups, group_positions, "students"
    )
    groups_by_user = Over.of(parent.groups_by_user).changed(by_user)
    groups_by_student = Over.of(parent.groups_by_student).changed(by_student)

    # V3 again for the groups assigned to a changed account (an assignment that stopped
    # qualifying is a warning, one that qualifies again is not)
    again = {  # an account new to the directory has the groups of by_user only
        g.key: g
        for e in new_accounts
        if e in old_accounts or e in by_user
        for g in groups_by_user.get(e, ())
        if g.key not in new_groups
    }
    _groups(tree, again.values(), account_view, group_problems)
    if any(p.is_error for p in group_problems):  # pragma: no cover - only warnings here
        raise DirectoryError([*problems, *group_problems])

    changed_emails = frozenset(new_accounts)
    touched = [*new_accounts.values(), *old_accounts.values()]  # holders answered again
    users = _Users(account_view)
    students = _Students(parent.students)
    directory = Directory(
        tree=tree,
        rule_set=rule_set,
        accounts=account_view,
        students=students,
        groups=group_view,
        custom_groups=parent.custom_groups,
        warnings=(),
        students_by_school=_BySchool(parent.students_by_school, students),
        groups_by_user=groups_by_user,
        primaries=primaries,
        users=users,
        active=users.active,
        sets=parent._sets,
        reaches=parent._reaches,
        holders=parent.holders,
        groups_by_student=groups_by_student,
        student_positions=parent.student_positions,
        account_positions=account_positions,
        group_positions=group_positions,
    )
    users.directory = directory
    object.__setattr__(
        directory, "holders", _Holders(parent.holders, touched, directory, changed_emails)
    )

    # V4 again for the custom groups of every user whose roles or groups changed
    owners = changed_emails | users_of.keys()
    customs = [c for c in parent.custom_groups.values() if c.owner in owners]
    stale = _stale_custom_groups(directory, customs)
    warnings = _warnings(
        parent,
        directory,
        [p for p in problems if not p.is_error],
        [p for p in group_problems if not p.is_error],
        stale,
        {*old_accounts, *_warned(problems)},
        {*new_groups, *again},
        customs,
    )
    object.__setattr__(directory, "warnings", tuple(warnings))
    return directory


def _rebuilt(parent: Directory, accounts: list[Account], groups: list[Group]) -> Directory:
    """The changed directory through ``Directory.build`` (every rule checked again)."""
    return Directory.build(
        organizations=parent.tree,
        accounts=_in_place(parent.accounts.values(), accounts, _email),
        students=parent.students.values(),
        groups=_in_place(parent.groups.values(), groups, _key),
        custom_groups=parent.custom_groups.values(),
        rule_set=parent.rule_set,
    )


def _in_place(old: Iterable[V], new: list[V], key_of: Callable[[V], Any]) -> list[V]:
    """``old`` with each value of ``new`` in place of the one of its key, the others after
    (a key given twice is given twice, for ``build`` to refuse)."""
    by_key = {key_of(v): v for v in new}
    if len(by_key) < len(new):
        return [*(v for v in old if key_of(v) not in by_key), *new]
    out = [by_key.pop(key_of(v), v) for v in old]
    out.extend(by_key.values())
    return out


def _regrouped(
    base: Mapping[Any, tuple[Group, ...]],
    touched: Mapping[Any, None],
    new_groups: Mapping[GroupKey, Group],
    positions: Mapping[GroupKey, int],
    field: str,
) -> dict[Any, Any]:
    """The groups of each touched user (or student), in directory order; GONE for none."""
    joined: dict[Any, list[Group]] = {}
    for g in new_groups.values():
        for member in getattr(g, field):
            joined.setdefault(member, []).append(g)
    out: dict[Any, Any] = {}
    for member in touched:
        found = {g.key: g for g in base.get(member, ()) if g.key not in new_groups}
        for g in joined.get(member, ()):
            found[g.key] = g
        if found:
            out[member] = tuple(sorted(found.values(), key=lambda g: positions[g.key]))
        else:
            out[member] = GONE
    return out


def _warned(problems: list[Problem]) -> set[Email]:
    """The accounts with a warning among ``problems`` (build's account checks)."""
    return {_account_of(p.where) for p in problems if p.where and p.where.startswith("account `")}


def _phase(p: Problem) -> int:
    """Which of build's checks gave a warning: 1 an account's, 2 a group's, 3 a custom
    group's (V4), 0 none (a reader's warning about the file it read)."""
    where = p.where or ""
    if where.startswith("account `"):
        return 1
    if where.startswith("group `"):
        return 2
    if where.startswith("custom group `"):
        return 3
    return 0


def _spliced(
    warnings: tuple[Problem, ...],
    lo: int,
    hi: int,
    blocks: Mapping[int, list[Problem]],
    at: Callable[[Problem], int],
) -> list[Problem]:
    """``warnings[lo:hi]`` (in order of ``at``) with the warnings at each position of
    ``blocks`` put in place of its block there; found by bisection, not by a scan."""
    out: list[Problem] = []
    start = lo
    for pos in sorted(blocks):
        first = bisect.bisect_left(warnings, pos, start, hi, key=at)
        end = bisect.bisect_right(warnings, pos, first, hi, key=at)
        out.extend(warnings[start:first])
        out.extend(blocks[pos])
        start = end
    out.extend(warnings[start:hi])
    return out


def _warnings(
    parent: Directory,
    directory: Directory,
    account_warnings: list[Problem],
    group_warnings: list[Problem],
    stale: list[Problem],
    emails: Collection[Email],
    keys: set[GroupKey],
    customs: list[Any],
) -> list[Problem]:
    """The warnings ``Directory.build`` gives for the new directory: the parent's, with those of
    what was checked again put in their place (build's order: the accounts' warnings in
    directory order, then the groups', then the custom groups'). The parent's warnings are in
    that order, so each block is found by bisection. A reader's warnings (about the JSON file
    the parent was read from) go, as in a rebuild."""
    ws = parent.warnings
    b1 = bisect.bisect_left(ws, 1, key=_phase)
    b2 = bisect.bisect_left(ws, 2, b1, key=_phase)
    b3 = bisect.bisect_left(ws, 3, b2, key=_phase)
    accounts_at = directory.account_positions
    by_account = _by_where(account_warnings)
    acc = _spliced(
        ws,
        b1,
        b2,
        {accounts_at[e]: by_account.get(f"account `{e}`", []) for e in emails},
        lambda p: accounts_at[_account_of(p.where or "")],
    )
    groups_at = directory.group_positions

    def group_at(p: Problem) -> int:
        key = _group_of(p.where or "")
        return -1 if key is None else groups_at[key]

    by_group = _by_where(group_warnings)
    grp = _spliced(
        ws, b2, b3, {groups_at[k]: by_group.get(f"group {k}", []) for k in keys}, group_at
    )
    cus: list[Problem] = list(ws[b3:])
    if customs:
        where_of = {c: f"custom group `{shown(c.name)}` of `{c.owner}`" for c in customs}
        custom_at = {
            f"custom group `{shown(c.name)}` of `{c.owner}`": i
            for i, c in enumerate(parent.custom_groups.values())
        }
        by_custom = _by_where(stale)
        cus = _spliced(
            ws,
            b3,
            len(ws),
            {custom_at[w]: by_custom.get(w, []) for w in where_of.values()},
            lambda p: custom_at.get(p.where or "", -1),
        )
    return [*acc, *grp, *cus]
