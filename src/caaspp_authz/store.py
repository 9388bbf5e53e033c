"""The library's own storage format: a directory in one SQLite file.

The JSON directory format (:mod:`caaspp_authz.serialize`) stays the interchange format. The
storage format holds the same directory as tables with indexes, in an SQLite database (the
standard library's :mod:`sqlite3`, so the core needs nothing more): it opens without parsing
JSON text, it is opened read-only, and many processes reading one file share it through the
operating system's page cache.

- :func:`write_store` writes a directory (a :class:`~caaspp_authz.directory.Directory`, so
  only a directory that passed the rulebook is ever stored) to a file, atomically: a temporary
  file in the same folder, flushed to disk, renamed over the target.
- :func:`read_store` reads one back; :func:`~caaspp_authz.serialize.load_directory` calls it
  for any file that begins with the SQLite header, whatever its name.
- A file is the library's only if it holds the ``caaspp_authz`` marker table naming this
  format and its version; any other SQLite database is refused with a
  :class:`~caaspp_authz.errors.DirectoryError`.

``dump_directory(read_store(write_store(d)))`` equals ``dump_directory(d)``: the stored
directory loads back as the very directory, in the same order, checked by the rulebook again.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from caaspp_authz._files import replace_atomically
from caaspp_authz.accounts import RuleSet
from caaspp_authz.directory import Directory
from caaspp_authz.errors import DirectoryError, Problem, shown

__all__ = [
    "HEADER",
    "STORE_FORMAT",
    "STORE_VERSION",
    "is_store",
    "open_directory",
    "policy_digest",
    "read_mapping",
    "read_store",
    "write_store",
]

HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

STORE_FORMAT = "caaspp-authz-directory"
"""The value of the marker table's ``format`` row."""

STORE_VERSION = 1
"""The storage format's version (the marker table's ``version`` row)."""

_SCHEMA = """
CREATE TABLE caaspp_authz (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE organizations (
    pos INTEGER PRIMARY KEY, cds TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    level TEXT, lea TEXT);
CREATE TABLE accounts (
    pos INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, phone TEXT NOT NULL, active INTEGER NOT NULL,
    credentialed INTEGER NOT NULL, superintendent_of TEXT, forms TEXT NOT NULL);
CREATE TABLE roles (
    account INTEGER NOT NULL, pos INTEGER NOT NULL, role TEXT NOT NULL, org TEXT NOT NULL,
    is_primary INTEGER NOT NULL, PRIMARY KEY (account, pos)) WITHOUT ROWID;
CREATE TABLE students (pos INTEGER PRIMARY KEY, ssid TEXT NOT NULL UNIQUE, school TEXT NOT NULL);
CREATE TABLE groups (
    pos INTEGER PRIMARY KEY, name TEXT NOT NULL, school TEXT NOT NULL,
    school_year INTEGER NOT NULL, subject TEXT NOT NULL);
CREATE TABLE group_students (
    grp INTEGER NOT NULL, ssid TEXT NOT NULL, PRIMARY KEY (grp, ssid)) WITHOUT ROWID;
CREATE TABLE group_users (
    grp INTEGER NOT NULL, email TEXT NOT NULL, PRIMARY KEY (grp, email)) WITHOUT ROWID;
CREATE TABLE custom_groups (pos INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE custom_group_students (
    grp INTEGER NOT NULL, ssid TEXT NOT NULL, PRIMARY KEY (grp, ssid)) WITHOUT ROWID;
CREATE TABLE warnings (
    pos INTEGER PRIMARY KEY, rule TEXT NOT NULL, message TEXT NOT NULL, severity TEXT NOT NULL,
    place TEXT, row INTEGER, col TEXT, value TEXT, fix TEXT);
"""

_INDEXES = """
CREATE INDEX roles_by_org ON roles (org);
CREATE INDEX students_by_school ON students (school, pos);
CREATE INDEX groups_by_key ON groups (school, school_year, name);
CREATE INDEX group_students_by_ssid ON group_students (ssid);
CREATE INDEX group_users_by_email ON group_users (email);
"""


def is_store(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` begins with the SQLite header (sniffed, not its name)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(HEADER)) == HEADER
    except OSError:
        return False


def policy_digest() -> str:
    """A digest of the catalog (roles and grant rows) and the library's version.

    A stored file records the digest of the library that wrote it, having checked the
    directory against the rulebook; a library with another digest checks it again in full.
    """
    from caaspp_authz import __version__
    from caaspp_authz.catalog import GRANTS, ROLES

    text = json.dumps([__version__, _canonical(ROLES), _canonical(GRANTS)], default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    """A value as JSON-ready data whose text does not depend on set order or hash seeds."""
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        return [type(value).__name__, [_canonical(getattr(value, f.name)) for f in fields]]
    if isinstance(value, enum.Enum):
        return [type(value).__name__, _canonical(value.value)]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=repr)
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def write_store(
    directory: Directory,
    path: str | os.PathLike[str],
    *,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Write ``directory`` to ``path`` in the storage format, atomically.

    A reader of ``path`` sees the old file or the whole new one, never a part: the database is
    written to a temporary file in the same folder, flushed to disk and renamed over ``path``.
    ``progress``, when given, is called with the name of each table as it is written.
    """
    from caaspp_authz.serialize import dump_directory

    data = dump_directory(directory)
    replace_atomically(
        path,
        lambda temporary: _write_tables(
            data, directory.warnings, temporary, progress or (lambda _: None)
        ),
    )


def _write_tables(
    data: Mapping[str, Any],
    warnings: Iterable[Problem],
    path: str,
    progress: Callable[[str], None],
) -> None:
    Path(path).unlink()  # sqlite3 makes the file itself
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a temporary file: nothing to roll back to
        db.execute("PRAGMA synchronous = OFF")  # fsync'd once, whole, before the rename
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO caaspp_authz VALUES (?, ?)",
            [
                ("format", STORE_FORMAT),
                ("version", str(STORE_VERSION)),
                ("rule_set", data["rule_set"]),
                ("policy", policy_digest()),
            ],
        )
        db.executemany(
            "INSERT INTO warnings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (i, p.rule, p.message, p.severity.value, p.where, p.row, p.column, p.value, p.fix)
                for i, p in enumerate(warnings)
            ),
        )
        progress("organizations")
        db.executemany(
            "INSERT INTO organizations VALUES (?, ?, ?, ?, ?)",
            (
                (i, o["cds"], o["name"], o.get("level"), o.get("lea"))
                for i, o in enumerate(data["organizations"])
            ),
        )
        progress("accounts")
        accounts = data["accounts"]
        db.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    a["email"],
                    a["first_name"],
                    a["last_name"],
                    a["phone"],
                    a["active"],
                    a["credentialed"],
                    a["superintendent_of"],
                    json.dumps(a["forms"], ensure_ascii=False),
                )
                for i, a in enumerate(accounts)
            ),
        )
        db.executemany(
            "INSERT INTO roles VALUES (?, ?, ?, ?, ?)",
            (
                (i, j, r["role"], r["org"], r["primary"])
                for i, a in enumerate(accounts)
                for j, r in enumerate(a["roles"])
            ),
        )
        progress("students")
        db.executemany(
            "INSERT INTO students VALUES (?, ?, ?)",
            ((i, s["ssid"], s["school"]) for i, s in enumerate(data["students"])),
        )
        progress("groups")
        groups = data["groups"]
        db.executemany(
            "INSERT INTO groups VALUES (?, ?, ?, ?, ?)",
            (
                (i, g["name"], g["school"], g["school_year"], g["subject"])
                for i, g in enumerate(groups)
            ),
        )
        db.executemany(
            "INSERT INTO group_students VALUES (?, ?)",
            ((i, ssid) for i, g in enumerate(groups) for ssid in g["students"]),
        )
        db.executemany(
            "INSERT INTO group_users VALUES (?, ?)",
            ((i, email) for i, g in enumerate(groups) for email in g["users"]),
        )
        customs = data["custom_groups"]
        db.executemany(
            "INSERT INTO custom_groups VALUES (?, ?, ?)",
            ((i, c["owner"], c["name"]) for i, c in enumerate(customs)),
        )
        db.executemany(
            "INSERT INTO custom_group_students VALUES (?, ?)",
            ((i, ssid) for i, c in enumerate(customs) for ssid in c["students"]),
        )
        progress("indexes")
        db.executescript(_INDEXES)
        db.commit()
    finally:
        db.close()


def _refuse(path: Path, message: str) -> DirectoryError:
    return DirectoryError([Problem("U2", f"`{shown(str(path))}` {message}")])


def open_store(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a stored directory read-only, after checking its marker table.

    Raises :class:`~caaspp_authz.errors.DirectoryError` for a file that cannot be read, is not
    an SQLite database, or is an SQLite database that is not a directory of this format.
    """
    file = Path(path)
    if not is_store(file):
        raise _refuse(file, "is not an SQLite database")
    try:
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _refuse(file, f"cannot be opened: {exc}") from None
    try:
        marker = dict(db.execute("SELECT key, value FROM caaspp_authz").fetchall())
    except sqlite3.Error:
        db.close()
        raise _refuse(
            file, "is an SQLite database but not a caaspp-authz directory (no marker table)"
        ) from None
    if marker.get("format") != STORE_FORMAT:
        db.close()
        raise _refuse(file, "is an SQLite database but not a caaspp-authz directory")
    if marker.get("version") != str(STORE_VERSION):
        db.close()
        raise _refuse(
            file,
            f"is a caaspp-authz directory of storage version "
            f"`{shown(marker.get('version'))}`; this library reads version {STORE_VERSION}",
        )
    return db


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The stored directory in the JSON directory format (a mapping, as ``dump_directory``)."""
    db = open_store(path)
    try:
        return _mapping(db)
    except sqlite3.Error as exc:
        raise _refuse(Path(path), f"cannot be read: {exc}") from None
    finally:
        db.close()


def _grouped(rows: Iterable[tuple[int, Any]]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for key, value in rows:
        found.setdefault(key, []).append(value)
    return found


def _mapping(db: sqlite3.Connection) -> dict[str, Any]:
    marker = dict(db.execute("SELECT key, value FROM caaspp_authz"))
    organizations: list[dict[str, Any]] = []
    for cds, name, level, lea in db.execute(
        "SELECT cds, name, level, lea FROM organizations ORDER BY pos"
    ):
        org: dict[str, Any] = {"cds": cds, "name": name}
        if level is not None:
            org["level"] = level
        if lea is not None:
            org["lea"] = lea
        organizations.append(org)
    roles = _grouped(
        (account, {"role": role, "org": org, "primary": bool(primary)})
        for account, role, org, primary in db.execute(
            "SELECT account, role, org, is_primary FROM roles ORDER BY account, pos"
        )
    )
    accounts = [
        {
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "active": bool(active),
            "credentialed": bool(credentialed),
            "superintendent_of": sup,
            "forms": json.loads(forms),
            "roles": roles.get(pos, []),
        }
        for pos, email, first, last, phone, active, credentialed, sup, forms in db.execute(
            "SELECT * FROM accounts ORDER BY pos"
        )
    ]
    students = [
        {"ssid": ssid, "school": school}
        for ssid, school in db.execute("SELECT ssid, school FROM students ORDER BY pos")
    ]
    members = _grouped(db.execute("SELECT grp, ssid FROM group_students ORDER BY grp, ssid"))
    assignees = _grouped(db.execute("SELECT grp, email FROM group_users ORDER BY grp, email"))
    groups = [
        {
            "name": name,
            "school": school,
            "school_year": year,
            "subject": subject,
            "students": members.get(pos, []),
            "users": assignees.get(pos, []),
        }
        for pos, name, school, year, subject in db.execute("SELECT * FROM groups ORDER BY pos")
    ]
    chosen = _grouped(db.execute("SELECT grp, ssid FROM custom_group_students ORDER BY grp, ssid"))
    customs = [
        {"owner": owner, "name": name, "students": chosen.get(pos, [])}
        for pos, owner, name in db.execute("SELECT * FROM custom_groups ORDER BY pos")
    ]
    return {
        "format": 1,
        "rule_set": marker.get("rule_set"),
        "organizations": organizations,
        "accounts": accounts,
        "students": students,
        "groups": groups,
        "custom_groups": customs,
    }


def open_directory(path: str | os.PathLike[str]) -> Directory:
    """Open a stored directory to be read on demand (what ``load_directory`` does with one).

    Nothing is loaded whole: the directory's mappings query the file, opened read-only, as
    decisions and queries ask (:mod:`caaspp_authz._stored`). The file was checked against the
    rulebook when it was written; a file written by a library with another catalog or version
    (:func:`policy_digest`) is loaded and checked in full instead (:func:`read_store`).
    """
    from caaspp_authz._stored import open_lazily

    db = open_store(path)
    try:
        marker = dict(db.execute("SELECT key, value FROM caaspp_authz").fetchall())
        rule_sets = {s.value: s for s in RuleSet}
        rule_set = rule_sets.get(marker.get("rule_set", ""))
        if marker.get("policy") != policy_digest() or rule_set is None:
            db.close()
            return read_store(path)
        return open_lazily(db, rule_set)
    except sqlite3.Error as exc:
        db.close()
        raise _refuse(Path(path), f"cannot be read: {exc}") from None


def read_store(path: str | os.PathLike[str]) -> Directory:
    """Load a stored directory whole; it is checked against the rulebook as a JSON one is.

    Raises :class:`~caaspp_authz.errors.DirectoryError` for a file that is not the library's
    or a directory the rulebook refuses.
    """
    from caaspp_authz.serialize import load_directory

    return load_directory(read_mapping(path))
