"""Every storage the library offers, for tests that must hold over each of them.

``STORAGES`` maps a name to a function taking a built directory to the same directory as a
program loads it from that storage: ``memory`` is the directory itself; ``sqlite`` writes it
in the storage format (:mod:`caaspp_authz.store`) and loads it back with ``load_directory``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from caaspp_authz import Directory, load_directory
from caaspp_authz.store import write_store
from caaspp_authz.strategies import directories

__all__ = ["STORAGES", "stored_directories", "via_sqlite"]


def via_sqlite(directory: Directory) -> Directory:
    """The directory written to the storage format and loaded back from the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "directory.sqlite"
        write_store(directory, path)
        return load_directory(path)


def _same(directory: Directory) -> Directory:
    return directory


STORAGES: dict[str, Callable[[Directory], Directory]] = {"memory": _same, "sqlite": via_sqlite}


def stored_directories(storage: str) -> st.SearchStrategy[Directory]:
    """:func:`~caaspp_authz.strategies.directories`, loaded from ``storage``."""
    return directories().map(STORAGES[storage])
