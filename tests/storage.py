"""Every storage the library offers, for tests that must hold over each of them.

``STORAGES`` maps a name to a function taking a built directory to the same directory as a
program loads it from that storage: ``memory`` is the directory itself; ``sqlite`` writes it
in the storage format (:mod:`caaspp_authz.store`) and loads it back with ``load_directory``;
``changed`` makes it by changes of a smaller directory (``Directory.with_changes``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from caaspp_authz import Directory, load_directory
from caaspp_authz.store import write_store
from caaspp_authz.strategies import directories

__all__ = ["STORAGES", "stored_directories", "via_changes", "via_sqlite"]


def via_sqlite(directory: Directory) -> Directory:
    """The directory written to the storage format and loaded back from the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "directory.sqlite"
        write_store(directory, path)
        return load_directory(path)


def via_changes(directory: Directory) -> Directory:
    """The same directory made by changes (``Directory.with_changes``): its last accounts that
    no group or custom group names and its last groups, added to a directory built without
    them, then one account put in place of itself."""
    accounts = list(directory.accounts.values())
    named = {e for g in directory.groups.values() for e in g.users}
    named |= {c.owner for c in directory.custom_groups.values()}
    cut = len(accounts)
    while cut > 0 and len(accounts) - cut < 2 and accounts[cut - 1].email not in named:
        cut -= 1
    groups = list(directory.groups.values())
    keep = max(0, len(groups) - 2)
    base = Directory.build(
        organizations=directory.tree,
        accounts=accounts[:cut],
        students=directory.students.values(),
        groups=groups[:keep],
        custom_groups=directory.custom_groups.values(),
        rule_set=directory.rule_set,
    )
    changed = base.with_changes(accounts=accounts[cut:], groups=groups[keep:])
    return changed.with_changes(accounts=accounts[:1])


def _same(directory: Directory) -> Directory:
    return directory


STORAGES: dict[str, Callable[[Directory], Directory]] = {
    "memory": _same,
    "sqlite": via_sqlite,
    "changed": via_changes,
}


def stored_directories(storage: str) -> st.SearchStrategy[Directory]:
    """:func:`~caaspp_authz.strategies.directories`, loaded from ``storage``."""
    return directories().map(STORAGES[storage])
