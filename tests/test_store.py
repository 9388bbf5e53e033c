"""The storage format: SQLite files written atomically, sniffed, refused when not the library's."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from caaspp_authz import Directory, DirectoryError, decide, load_directory
from caaspp_authz.oracle.table import ACTOR, worlds
from caaspp_authz.serialize import dump_directory
from caaspp_authz.store import is_store, read_mapping, read_store, write_store
from caaspp_authz.strategies import directories
from tests.conftest import EXAMPLES
from tests.golden import regenerate
from tests.property.support import same_resource
from tests.storage import via_sqlite


def test_example_round_trips_through_the_store(example: Directory, tmp_path: Path) -> None:
    """dump → convert → load → dump gives the very JSON directory, in the same order."""
    path = tmp_path / "d.sqlite"
    write_store(example, path)
    assert is_store(path)
    assert dump_directory(load_directory(path)) == dump_directory(example)
    assert read_mapping(path) == dump_directory(example)


@given(directories())
def test_every_directory_round_trips_through_the_store(directory: Directory) -> None:
    """For every valid directory, the stored one loads back to the same JSON directory."""
    assert dump_directory(via_sqlite(directory)) == dump_directory(directory)


def test_format_is_sniffed_not_named(example: Directory, tmp_path: Path) -> None:
    """A stored directory named .json and a JSON one named .sqlite each load by content."""
    stored = tmp_path / "looks.json"
    write_store(example, stored)
    text = tmp_path / "looks.sqlite"
    text.write_text(json.dumps(dump_directory(example)), encoding="utf-8")
    assert dump_directory(load_directory(stored)) == dump_directory(example)
    assert dump_directory(load_directory(text)) == dump_directory(example)


def test_another_sqlite_database_is_refused(tmp_path: Path) -> None:
    """An SQLite file without the library's marker table is refused with a clear error."""
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE students (ssid TEXT)")
    db.commit()
    db.close()
    with pytest.raises(DirectoryError, match="not a caaspp-authz directory"):
        load_directory(path)


def test_another_marker_or_version_is_refused(example: Directory, tmp_path: Path) -> None:
    """A marker naming another format, or a storage version this library does not read."""
    path = tmp_path / "d.sqlite"
    write_store(example, path)
    db = sqlite3.connect(path)
    db.execute("UPDATE caaspp_authz SET value = '99' WHERE key = 'version'")
    db.commit()
    db.close()
    with pytest.raises(DirectoryError, match="storage version `99`"):
        load_directory(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE caaspp_authz SET value = 'something-else' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(DirectoryError, match="not a caaspp-authz directory"):
        load_directory(path)


def test_a_damaged_database_is_refused(tmp_path: Path) -> None:
    """A file with the SQLite header and garbage after it raises DirectoryError, not a crash."""
    path = tmp_path / "d.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    with pytest.raises(DirectoryError, match=r"d\.sqlite"):
        load_directory(path)


def test_a_stored_directory_is_checked_in_full_on_demand(
    example: Directory, tmp_path: Path
) -> None:
    """A stored file edited to break the rulebook (O4) is refused by read_store and by
    check-directory, which check it in full as a JSON file is checked."""
    from caaspp_authz.cli import main

    path = tmp_path / "d.sqlite"
    write_store(example, path)
    db = sqlite3.connect(path)
    db.execute("UPDATE roles SET org = '99999999999999'")
    db.commit()
    db.close()
    with pytest.raises(DirectoryError, match="O4"):
        read_store(path)
    assert main(["check-directory", str(path)]) != 0


def test_another_policy_is_checked_in_full(example: Directory, tmp_path: Path) -> None:
    """A file written under another catalog or version loads whole and is checked again."""
    path = tmp_path / "d.sqlite"
    write_store(example, path)
    assert not isinstance(load_directory(path).accounts, dict)  # read on demand
    db = sqlite3.connect(path)
    db.execute("UPDATE caaspp_authz SET value = 'other' WHERE key = 'policy'")
    db.execute("UPDATE roles SET org = '99999999999999'")
    db.commit()
    db.close()
    with pytest.raises(DirectoryError, match="O4"):
        load_directory(path)


def test_policy_digest_is_stable_across_processes() -> None:
    """The digest does not depend on the hash seed, so a file opens on demand everywhere."""
    import subprocess
    import sys

    code = "from caaspp_authz.store import policy_digest; print(policy_digest())"
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(seen) == 1


def test_lazy_directory_keeps_the_guards(example: Directory, tmp_path: Path) -> None:
    """G11, V1: the opened directory allows only its own users and students, by identity."""
    from caaspp_authz import Action, Student, can

    path = tmp_path / "d.sqlite"
    write_store(example, path)
    opened = load_directory(path)
    email = next(iter(opened.accounts))
    user = opened.user(email)
    assert opened.user(email) is user
    assert opened.owns(user)
    assert not opened.owns(example.user(email))
    view = Action.VIEW_STUDENT_RESULTS
    for ssid in opened.students:
        mine = opened.students[ssid]
        assert can(example.user(email), view, mine) is False  # another directory's user
        allowed = can(user, view, mine)
        assert can(user, view, Student(mine.ssid, mine.school)) is allowed  # equal value
        assert can(user, view, example.students[ssid]) is False  # another directory's student


def test_users_no_caller_holds_are_let_go_and_held_ones_stay_the_directorys_own(
    example: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G11, V1: a stored directory keeps a bounded number of users made; one a caller holds
    stays the directory's own (the same object, allowed), one let go leaves the directory's
    identities, and a made-again user is allowed while a copy of it is still denied."""
    import copy
    import gc

    from caaspp_authz import Action, _stored, can

    monkeypatch.setattr(_stored, "USERS_KEPT", 2)
    monkeypatch.setattr(_stored, "ACCOUNTS_KEPT", 2)
    monkeypatch.setattr(_stored, "GROUPS_KEPT", 1)
    path = tmp_path / "d.sqlite"
    write_store(example, path)
    opened = load_directory(path)
    view = Action.VIEW_STUDENT_RESULTS
    held = opened.user("caaspp.coordinator@example.org")
    student = opened.students["1000000001"]
    assert can(held, view, student)
    for email in opened.accounts:  # every other user made, used, and dropped
        other = opened.user(email)
        can(other, view, student)
        del other
    gc.collect()
    users = opened._users
    assert isinstance(users, _stored._Users)
    assert len(users._refs) <= 2 + 1  # the kept ones and the one held here
    assert len(opened._active) <= 2 + 1  # type: ignore[arg-type]
    assert opened.user("caaspp.coordinator@example.org") is held  # still the directory's own
    assert can(held, view, student)
    assert not can(copy.copy(held), view, student)
    theirs = example.students["1000000001"]
    for email in opened.accounts:  # and each made again still decides as the JSON directory
        assert can(opened.user(email), view, student) is can(example.user(email), view, theirs)


def test_a_failed_write_leaves_the_old_file(
    example: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write is atomic: a failure keeps the old file whole and leaves no temporary file."""
    from caaspp_authz import store

    path = tmp_path / "d.sqlite"
    write_store(example, path)
    before = path.read_bytes()

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_tables", broken)
    with pytest.raises(OSError):
        write_store(example, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.sqlite"]


def test_golden_table_holds_over_the_store() -> None:
    """Every decision of the golden table is the same when its worlds load from the store."""
    found: set[tuple[str, ...]] = set()
    for world in worlds():
        directory = via_sqlite(world.directory)
        user = directory.user(ACTOR)
        for case in world.cases:
            d = decide(user, case.action, same_resource(directory, case.resource))
            c = case.cell
            verdict = "allow" if d.allowed else "deny"
            found.add(
                (c.rule_set, c.actor, c.action, c.relation, c.variant, verdict, ",".join(d.rules))
            )
    lines = ["\t".join(r) for r in sorted(found)]
    expected = regenerate.TABLE.read_text(encoding="utf-8").splitlines()[1:]
    assert lines == expected


def test_convert_command_round_trips(tmp_path: Path) -> None:
    """`directory convert` writes the storage format and back, to the same JSON directory."""
    from caaspp_authz.cli import main

    stored, back = tmp_path / "d.sqlite", tmp_path / "d.json"
    source = EXAMPLES / "directory.json"
    assert main(["directory", "convert", str(source), "--out", str(stored), "-q"]) == 0
    assert is_store(stored)
    assert main(["directory", "convert", str(stored), "--out", str(back), "-q"]) == 0
    expected = dump_directory(load_directory(source))
    assert json.loads(back.read_text(encoding="utf-8")) == expected
    assert main(["check-directory", str(stored)]) == 0


def test_an_open_directory_outlives_a_replaced_file(example: Directory, tmp_path: Path) -> None:
    """A directory opened on demand keeps reading its file after a new one is renamed over it."""
    from caaspp_authz.uploads import apply_users

    path = tmp_path / "d.sqlite"
    write_store(example, path)
    old = load_directory(path)
    applied = apply_users(
        EXAMPLES / "users_upload.csv", old, uploader="caaspp.coordinator@example.org"
    )
    write_store(applied.directory, path)
    assert old.account("vera.nolan@example.org") is None
    assert dump_directory(old) == dump_directory(example)
    assert load_directory(path).account("vera.nolan@example.org") is not None


def test_apply_writes_the_storage_format_for_a_sqlite_out(tmp_path: Path) -> None:
    """`apply users --out NEW.sqlite` writes the storage format, loading as the JSON result."""
    from caaspp_authz.cli import main

    stored, text = tmp_path / "new.sqlite", tmp_path / "new.json"
    common = [
        "apply",
        "users",
        str(EXAMPLES / "users_upload.csv"),
        "--directory",
        str(EXAMPLES / "directory.json"),
        "--as",
        "caaspp.coordinator@example.org",
        "-q",
        "--out",
    ]
    assert main([*common, str(stored)]) == 0
    assert main([*common, str(text)]) == 0
    assert is_store(stored)
    assert not is_store(text)
    assert dump_directory(load_directory(stored)) == dump_directory(load_directory(text))


def test_unknown_keys_find_nothing_in_an_opened_directory(
    example: Directory, tmp_path: Path
) -> None:
    """V1, E1: keys the file lacks, or of the wrong type, find nothing; nothing raises."""
    from caaspp_authz import Action, Student, can
    from caaspp_authz.orgs import CDSCode
    from caaspp_authz.resources import GroupKey

    path = tmp_path / "d.sqlite"
    write_store(example, path)
    opened = load_directory(path)
    mappings: list[Any] = [opened.accounts, opened.students, opened.groups, opened.holders]
    for mapping in mappings:
        assert mapping.get(None) is None
        assert mapping.get("nobody") is None
    assert opened.groups.get(GroupKey(CDSCode("19647330000000"), 2026, "none")) is None
    assert opened.students_by_school.get(CDSCode("99999999999999")) is None
    with pytest.raises(KeyError):
        opened.student_positions[None]  # type: ignore[index]
    assert opened.user("nobody@nowhere.org").account is None
    stranger = Student("9999999999", CDSCode("19647331111111"))
    for email in opened.accounts:
        assert can(opened.user(email), Action.VIEW_STUDENT_RESULTS, stranger) is False
