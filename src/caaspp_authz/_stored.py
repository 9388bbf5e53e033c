"""A :class:`~caaspp_authz.directory.Directory` read on demand from a stored directory file.

:func:`open_lazily` makes a ``Directory`` whose mappings (accounts, students, groups, the
students of each school, the groups of each user and student, the holders index, positions,
users) are views over the SQLite file of :mod:`caaspp_authz.store`, opened read-only: a
lookup is an indexed query, and nothing is read until it is asked for. The decision code and
the queries run over it unchanged (one implementation over one directory interface).

What the decision derives from the rulebook is derived again here, from the current catalog:
a user (scopes, reach, in-force roles, G10) is made by :meth:`Directory._make_user
<caaspp_authz.directory.Directory._make_user>` the first time it is asked for, and stays the
directory's own object, checked by identity (G11, fail closed), for as long as a caller holds
it; the holders
index asks the file which accounts hold a role carrying the permission at the organization and
keeps those whose user holds it in force (G10).

Memory stays bounded however long a service runs and however many accounts it decides for:
what is read is kept in caches of a fixed size (the most recently used :data:`USERS_KEPT`
users, :data:`ACCOUNTS_KEPT` accounts, :data:`GROUPS_KEPT` groups), and a user beyond them
that no caller holds is let go and made again on its next use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from caaspp_authz.accounts import Account, Assignment, Email, RuleSet
from caaspp_authz.catalog import ROLES, Form, Program, by_name
from caaspp_authz.directory import Directory, User
from caaspp_authz.errors import Problem, Severity
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree, is_lea_code
from caaspp_authz.resources import CustomGroup, Group, GroupKey, Student

__all__ = ["ACCOUNTS_KEPT", "GROUPS_KEPT", "USERS_KEPT", "open_lazily"]

USERS_KEPT = 20_000
"""Users a stored directory keeps made beyond those its callers hold: the most recently asked
for. A user a caller holds is the directory's own for as long as it is held."""
ACCOUNTS_KEPT = 50_000
"""Accounts (and e-mails known to hold none) a stored directory keeps read: the most recent."""
GROUPS_KEPT = 20_000
"""Groups a stored directory keeps read: the most recently used."""

K = TypeVar("K")
V = TypeVar("V")


class _Lookups(Mapping[K, V]):
    """A read-only view whose lookups all go through ``get`` (``None``: not held).

    Each view answers ``get`` with an indexed query (or a layer's dictionary); indexing and
    ``in`` follow from it, so an absent key costs one lookup and raises nothing but
    ``KeyError``."""

    def get(self, key: object, default: Any = None) -> Any:
        """The value held for ``key``, or ``default``: each view's own lookup."""
        raise NotImplementedError

    def __getitem__(self, key: K) -> V:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None


class _Kept(Generic[K, V]):
    """A cache of at most ``size`` entries that lets the least recently used go (thread-safe)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def put(self, key: K, value: V) -> None:
        gone = None
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                gone = self._items.popitem(last=False)
        del gone  # let go outside the lock: dropping a user's last reference runs its callback

    def __len__(self) -> int:
        return len(self._items)


class _Db:
    """One read-only connection, shared by every view of one directory (and by threads)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.lock = threading.Lock()
        weakref.finalize(self, db.close)  # closed when the last view of the directory goes

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def scalar(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        rows = self.rows(sql, args)
        return rows[0][0] if rows else None


def _count(db: _Db, sql: str) -> int:
    value = db.scalar(sql)
    return int(value) if value is not None else 0


_MISSES = 2048
"""Lookups of e-mails without an account after which every e-mail of the file is read once."""


class _Accounts(_Lookups[Email, Account]):
    """E-mail → account, read from the file on first use and kept."""

    def __init__(self, db: _Db) -> None:
        self._db = db
        self._cache: _Kept[str, Account | bool] = _Kept(ACCOUNTS_KEPT)  # False: no such account
        self._len: int | None = None
        self._misses = 0
        self._emails: frozenset[str] | None = None

    def _read(self, where: str, key: Any) -> list[Account]:
        found = self._db.rows(f"SELECT * FROM accounts WHERE {where}", (key,))
        out: list[Account] = []
        for pos, email, first, last, phone, active, credentialed, sup, forms in found:
            roles = self._db.rows(
                "SELECT role, org, is_primary FROM roles WHERE account = ? ORDER BY pos", (pos,)
            )
            out.append(
                _account(email, first, last, phone, active, credentialed, sup, forms, roles)
            )
        return out

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        value = self._cache.get(key)
        if value is None:
            emails = self._emails
            if emails is not None and key not in emails:
                return default  # known to be absent: nothing read, nothing kept
            found = self._read("email = ?", key)
            value = found[0] if found else False
            self._cache.put(key, value)
            if value is False and emails is None:
                self._misses += 1
                if self._misses == _MISSES:
                    # many e-mails without an account (a big upload of new ones): every
                    # e-mail of the file, read once, answers the rest without a query each
                    rows = self._db.rows("SELECT email FROM accounts")
                    self._emails = frozenset(e for (e,) in rows)
        return default if value is False else value

    def __iter__(self) -> Iterator[Email]:
        return iter(
            [Email(e) for (e,) in self._db.rows("SELECT email FROM accounts ORDER BY pos")]
        )

    def values(self) -> Any:
        """Every account in directory order, read in two queries (not one per account)."""
        roles: dict[int, list[Any]] = {}
        for account, role, org, primary in self._db.rows(
            "SELECT account, role, org, is_primary FROM roles ORDER BY account, pos"
        ):
            roles.setdefault(account, []).append((role, org, primary))
        out: list[Account] = []
        for pos, email, first, last, phone, active, credentialed, sup, forms in self._db.rows(
            "SELECT * FROM accounts ORDER BY pos"
        ):
            found = self._cache.get(email)
            if not isinstance(found, Account):  # made for this list, not kept (memory bounded)
                found = _account(
                    email, first, last, phone, active, credentialed, sup, forms, roles.get(pos, [])
                )
            out.append(found)
        return out

    def __len__(self) -> int:
        if self._len is None:
            self._len = _count(self._db, "SELECT count(*) FROM accounts")
        return self._len


def _account(
    email: str,
    first: str,
    last: str,
    phone: str,
    active: int,
    credentialed: int,
    sup: str | None,
    forms: str,
    roles: list[Any],
) -> Account:
    return Account(
        email=Email(email),
        first_name=first,
        last_name=last,
        phone=phone,
        active=bool(active),
        credentialed=bool(credentialed),
        superintendent_of=None if sup is None else CDSCode(sup),
        forms={
            Program(p): frozenset(Form(f) for f in names) for p, names in json.loads(forms).items()
        },
        assignments=[Assignment(by_name(r), CDSCode(o), bool(p)) for r, o, p in roles],
    )


class _Students(_Lookups[str, Student]):
    """SSID → student; each student made on demand, known as this directory's own (V1)."""

    def __init__(self, db: _Db) -> None:
        self._db = db
        self._len: int | None = None

    def made(self, ssid: str, school: str) -> Student:
        s = Student(ssid, CDSCode(school))
        object.__setattr__(s, "_home", self)  # V1: the directory's own value
        return s

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        school = self._db.scalar("SELECT school FROM students WHERE ssid = ?", (key,))
        return default if school is None else self.made(key, school)

    def __iter__(self) -> Iterator[str]:
        return iter([s for (s,) in self._db.rows("SELECT ssid FROM students ORDER BY pos")])

    def values(self) -> Any:
        return [
            self.made(ssid, school)
            for ssid, school in self._db.rows("SELECT ssid, school FROM students ORDER BY pos")
        ]

    def __len__(self) -> int:
        if self._len is None:
            self._len = _count(self._db, "SELECT count(*) FROM students")
        return self._len


class _BySchool(_Lookups[CDSCode, tuple[Student, ...]]):
    """School → its students, in directory order."""

    def __init__(self, db: _Db, students: _Students) -> None:
        self._db = db
        self._students = students

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        rows = self._db.rows("SELECT ssid FROM students WHERE school = ? ORDER BY pos", (key,))
        return tuple(self._students.made(s, key) for (s,) in rows) if rows else default

    def __iter__(self) -> Iterator[CDSCode]:
        rows = self._db.rows("SELECT school FROM students GROUP BY school ORDER BY min(pos)")
        return iter([CDSCode(s) for (s,) in rows])

    def __len__(self) -> int:
        return _count(self._db, "SELECT count(DISTINCT school) FROM students")


class _Positions(Mapping[str, int]):
    """Key → its position in directory order (students or accounts)."""

    def __init__(self, db: _Db, table: str, column: str) -> None:
        self._db = db
        self._sql = f"SELECT pos FROM {table} WHERE {column} = ?"
        self._all = f"SELECT {column} FROM {table} ORDER BY pos"
        self._len = f"SELECT count(*) FROM {table}"

    def __getitem__(self, key: object) -> int:
        found = self._db.scalar(self._sql, (key,)) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return int(found)

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self._db.rows(self._all)])

    def __len__(self) -> int:
        return _count(self._db, self._len)


class _GroupPositions(Mapping[GroupKey, int]):
    """Group key → its position in directory order."""

    def __init__(self, db: _Db) -> None:
        self._db = db

    def __getitem__(self, key: GroupKey) -> int:
        found = None
        if isinstance(key, GroupKey):
            found = self._db.scalar(
                "SELECT pos FROM groups WHERE school = ? AND school_year = ? AND name = ?",
                (key.school, key.school_year, key.name),
            )
        if found is None:
            raise KeyError(key)
        return int(found)

    def __iter__(self) -> Iterator[GroupKey]:
        rows = self._db.rows("SELECT school, school_year, name FROM groups ORDER BY pos")
        return iter([GroupKey(CDSCode(s), y, n) for s, y, n in rows])

    def __len__(self) -> int:
        return _count(self._db, "SELECT count(*) FROM groups")


class _Groups(_Lookups[GroupKey, Group]):
    """Group key → group, by position in the file, each read on first use and kept."""

    def __init__(self, db: _Db) -> None:
        self._db = db
        self._cache: _Kept[int, Group] = _Kept(GROUPS_KEPT)

    def at(self, pos: int) -> Group:
        found = self._cache.get(pos)
        if found is None:
            name, school, year, subject = self._db.rows(
                "SELECT name, school, school_year, subject FROM groups WHERE pos = ?", (pos,)
            )[0]
            students = self._db.rows("SELECT ssid FROM group_students WHERE grp = ?", (pos,))
            users = self._db.rows("SELECT email FROM group_users WHERE grp = ?", (pos,))
            found = Group(
                GroupKey(CDSCode(school), year, name),
                subject,
                frozenset(s for (s,) in students),
                frozenset(Email(e) for (e,) in users),
            )
            self._cache.put(pos, found)
        return found

    def values(self) -> Any:
        """Every group in directory order, read in three queries (not four per group)."""
        members: dict[int, set[str]] = {}
        for grp, ssid in self._db.rows("SELECT grp, ssid FROM group_students"):
            members.setdefault(grp, set()).add(ssid)
        users: dict[int, set[Email]] = {}
        for grp, email in self._db.rows("SELECT grp, email FROM group_users"):
            users.setdefault(grp, set()).add(Email(email))
        out: list[Group] = []
        for pos, name, school, year, subject in self._db.rows(
            "SELECT pos, name, school, school_year, subject FROM groups ORDER BY pos"
        ):
            found = self._cache.get(pos)
            if found is None:  # made for this list, not kept (memory bounded)
                found = Group(
                    GroupKey(CDSCode(school), year, name),
                    subject,
                    frozenset(members.get(pos, ())),
                    frozenset(users.get(pos, ())),
                )
            out.append(found)
        return out

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, GroupKey):
            return default
        pos = self._db.scalar(
            "SELECT pos FROM groups WHERE school = ? AND school_year = ? AND name = ?",
            (key.school, key.school_year, key.name),
        )
        return default if pos is None else self.at(pos)

    def __iter__(self) -> Iterator[GroupKey]:
        rows = self._db.rows("SELECT school, school_year, name FROM groups ORDER BY pos")
        return iter([GroupKey(CDSCode(s), y, n) for s, y, n in rows])

    def __len__(self) -> int:
        return _count(self._db, "SELECT count(*) FROM groups")


class _GroupsOf(_Lookups[str, tuple[Group, ...]]):
    """Assignee e-mail (or member SSID) → the groups, in directory order."""

    def __init__(self, db: _Db, groups: _Groups, table: str, column: str) -> None:
        self._db = db
        self._groups = groups
        self._sql = f"SELECT grp FROM {table} WHERE {column} = ? ORDER BY grp"
        self._keys = f"SELECT {column} FROM {table} GROUP BY {column} ORDER BY min(grp)"
        self._len = f"SELECT count(DISTINCT {column}) FROM {table}"

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        rows = self._db.rows(self._sql, (key,))
        return tuple(self._groups.at(p) for (p,) in rows) if rows else default

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self._db.rows(self._keys)])

    def __len__(self) -> int:
        return _count(self._db, self._len)


class _Users(_Lookups[Email, User]):
    """E-mail → the directory's own user, made on first use (G11: checked by identity).

    A made user is referenced weakly: it stays the directory's own, the one object returned
    for its e-mail and in :attr:`active`, for as long as anything holds it. The directory
    itself holds only the :data:`USERS_KEPT` most recently asked for; one nobody holds is let
    go, its identity leaves :attr:`active` before its memory is freed, and it is made again
    on its next use.
    """

    def __init__(self, accounts: Mapping[Email, Account]) -> None:
        self._accounts = accounts
        self._refs: dict[Email, weakref.ref[User]] = {}
        self._kept: _Kept[Email, User] = _Kept(USERS_KEPT)
        self.active: set[int] = set()
        """The identities of the living users of active accounts: ``Directory._active``."""
        # Re-entrant: letting a user go (in `_kept.put`, under this lock) runs its callback.
        self._lock = threading.RLock()
        self.directory: Directory | None = None

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        email = Email(key)
        ref = self._refs.get(email)
        found = None if ref is None else ref()
        if found is not None:
            self._kept.put(email, found)
            return found
        if self.directory is None or self._accounts.get(email) is None:
            return default
        user = self.directory._make_user(email)
        with self._lock:  # two threads making one user: both return the one kept
            ref = self._refs.get(email)
            kept = None if ref is None else ref()
            if kept is None:
                kept = user
                self._refs[email] = weakref.ref(user, self._forget(email, id(user)))
                if user.active:
                    self.active.add(id(user))
            self._kept.put(email, kept)
            return kept

    def _forget(self, email: Email, identity: int) -> Callable[[weakref.ref[User]], None]:
        """What to do when the user of ``email`` is let go: its identity is no longer ours."""

        def gone(ref: weakref.ref[User]) -> None:
            with self._lock:
                self.active.discard(identity)
                if self._refs.get(email) is ref:
                    del self._refs[email]

        return gone

    def __iter__(self) -> Iterator[Email]:
        return iter(self._accounts)

    def values(self) -> Any:
        return [self[e] for e in self._accounts]

    def __len__(self) -> int:
        return len(self._accounts)


class _HoldersAt(_Lookups[CDSCode, tuple[Email, ...]]):
    """Organization → the accounts holding ``name`` there in force (G10), in directory order."""

    def __init__(self, db: _Db, users: _Users, name: str, roles: tuple[str, ...]) -> None:
        self._db = db
        self._users = users
        self._name = name
        marks = ", ".join("?" * len(roles))
        self._roles = roles
        self._sql = (
            "SELECT a.email FROM roles r JOIN accounts a ON a.pos = r.account "
            f"WHERE r.org = ? AND r.role IN ({marks}) GROUP BY a.pos ORDER BY a.pos"
        )
        self._orgs = f"SELECT DISTINCT org FROM roles WHERE role IN ({marks})"

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        found = tuple(
            Email(e)
            for (e,) in self._db.rows(self._sql, (key, *self._roles))
            if key in self._users[Email(e)].scope(self._name)
        )
        return found or default

    def __iter__(self) -> Iterator[CDSCode]:
        orgs = [CDSCode(o) for (o,) in self._db.rows(self._orgs, self._roles)]
        return iter([o for o in orgs if self.get(o) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Holders(_Lookups[str, Mapping[CDSCode, tuple[Email, ...]]]):
    """Permission or capability value → its holders index (as ``Directory.holders``)."""

    def __init__(self, db: _Db, users: _Users) -> None:
        carriers: dict[str, list[str]] = {}
        for role in ROLES:  # from the current catalog: which roles carry each name (P2, T1–T3)
            for name in role.scope_keys:
                carriers.setdefault(name, []).append(role.name)
        self._at = {
            name: _HoldersAt(db, users, name, tuple(roles)) for name, roles in carriers.items()
        }

    def get(self, key: object, default: Any = None) -> Any:
        # A name no role carries has no holders; one that some role carries answers its
        # organizations on demand (an organization without holders is left out, as in build).
        at = self._at.get(key) if isinstance(key, str) else None
        return default if at is None else at

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, at in self._at.items() if any(True for _ in at)])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _tree(db: _Db) -> OrgTree:
    orgs: list[Organization] = []
    for cds, name, level, lea in db.rows(
        "SELECT cds, name, level, lea FROM organizations ORDER BY pos"
    ):
        code = CDSCode(cds)
        if level == "lea" or (level is None and lea is None and is_lea_code(cds)):
            orgs.append(Organization(code, name, Level.LEA))
        else:
            parent = CDSCode(lea) if lea is not None else CDSCode(cds[:7] + "0000000")
            orgs.append(Organization(code, name, Level.SCHOOL, parent))
    return OrgTree.build(orgs)


def _customs(db: _Db) -> dict[tuple[Email, str], CustomGroup]:
    chosen: dict[int, set[str]] = {}
    for grp, ssid in db.rows("SELECT grp, ssid FROM custom_group_students"):
        chosen.setdefault(grp, set()).add(ssid)
    return {
        (Email(owner), name): CustomGroup(Email(owner), name, frozenset(chosen.get(pos, ())))
        for pos, owner, name in db.rows("SELECT pos, owner, name FROM custom_groups ORDER BY pos")
    }


def _primaries(db: _Db) -> dict[tuple[CDSCode, str], Email]:
    """R7: the primary of each LEA and coordinator role (at most one: checked when written)."""
    found: dict[tuple[CDSCode, str], Email] = {}
    for email, role, org in db.rows(
        "SELECT a.email, r.role, r.org FROM roles r JOIN accounts a ON a.pos = r.account "
        "WHERE r.is_primary ORDER BY a.pos, r.pos"
    ):
        if by_name(role).has_primary:
            found.setdefault((CDSCode(org), role), Email(email))
    return found


def _warnings(db: _Db) -> tuple[Problem, ...]:
    return tuple(
        Problem(
            rule,
            message,
            severity=Severity(severity),
            where=where,
            row=row,
            column=column,
            value=value,
            fix=fix,
        )
        for rule, message, severity, where, row, column, value, fix in db.rows(
            "SELECT rule, message, severity, place, row, col, value, fix FROM warnings "
            "ORDER BY pos"
        )
    )


def open_lazily(connection: sqlite3.Connection, rule_set: RuleSet) -> Directory:
    """A directory over an open, checked store connection (see the module docstring)."""
    db = _Db(connection)
    accounts = _Accounts(db)
    students = _Students(db)
    groups = _Groups(db)
    users = _Users(accounts)
    directory = Directory(
        tree=_tree(db),
        rule_set=rule_set,
        accounts=accounts,
        students=students,
        groups=groups,
        custom_groups=_customs(db),
        warnings=_warnings(db),
        students_by_school=_BySchool(db, students),
        groups_by_user=_GroupsOf(db, groups, "group_users", "email"),  # type: ignore[arg-type]
        primaries=_primaries(db),
        users=users,
        active=users.active,
        holders=_Holders(db, users),
        groups_by_student=_GroupsOf(db, groups, "group_students", "ssid"),
        student_positions=_Positions(db, "students", "ssid"),
        account_positions=_Positions(db, "accounts", "email"),  # type: ignore[arg-type]
        group_positions=_GroupPositions(db),
    )
    users.directory = directory
    return directory
