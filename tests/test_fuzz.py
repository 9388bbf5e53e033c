"""The fuzz harnesses' oracles, run over their seeds and over every input a fuzzing run failed
on (``fuzz/``; ``python -m fuzz TARGET`` runs them under atheris), so that the harnesses keep
working and every failure found stays fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuzz import MAX_LEN, TARGETS, load
from fuzz._common import SEEDS

REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"


def _inputs() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for target in TARGETS:
        for folder in (SEEDS / target, REGRESSIONS / target):
            if folder.is_dir():
                found.extend((target, path) for path in sorted(folder.iterdir()))
    return found


def test_every_target_has_seeds_that_fit_its_inputs() -> None:
    """Each target starts from valid inputs of its own, each no longer than the target's
    longest input (a longer one would be cut), so that a run reaches deep paths."""
    for target in TARGETS:
        seeds = list((SEEDS / target).iterdir())
        assert len(seeds) >= 3, target
        assert all(p.stat().st_size <= MAX_LEN[target] for p in seeds), target


@pytest.mark.parametrize(
    ("target", "path"), _inputs(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_oracle_holds_on_seeds_and_kept_failures(target: str, path: Path) -> None:
    """The target's oracle (a declared error or an answer that agrees with ``decide``, dump and
    load that round-trip, bounded messages) holds on this seed or once-failing input."""
    if target == "cli" and path.suffix == ".json":  # kept as words: the spelling may change
        from fuzz import cli

        cli.check_argv(json.loads(path.read_text(encoding="utf-8")))
        return
    load(target)(path.read_bytes())


def test_upload_seeds_reach_apply() -> None:
    """U2: some seed of each upload target is a valid file, so a run reaches ``apply``."""
    from caaspp_authz.uploads import validate_groups, validate_users
    from fuzz import groups, users
    from fuzz._common import example_directory

    d = example_directory()
    valid_users = [
        validate_users(p, d, uploader=users.UPLOADER).valid
        for p in sorted((SEEDS / "users").iterdir())
    ]
    valid_groups = [
        validate_groups(p, d, uploader=groups.UPLOADER).valid
        for p in sorted((SEEDS / "groups").iterdir())
    ]
    assert any(valid_users)
    assert not all(valid_users)
    assert any(valid_groups)


def test_cli_seeds_spell_the_commands_they_are_made_of() -> None:
    """The ``cli`` seeds still spell their commands in the target's current vocabulary."""
    from fuzz import _make_seeds, cli

    assert sorted(p.name for p in (SEEDS / "cli").iterdir()) == sorted(_make_seeds.CLI_SEEDS)
    for name in _make_seeds.CLI_SEEDS:
        data = (SEEDS / "cli" / name).read_bytes()
        assert cli.argv_of(data) == _make_seeds.cli_argv(name), name


def test_cli_seeds_spell_real_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The ``cli`` seeds spell real commands that run (exit 0) or find errors (exit 1), not
    only usage errors."""
    import contextlib
    import io

    from caaspp_authz import cli
    from fuzz import cli as target
    from fuzz._common import quiet_cli

    monkeypatch.chdir(tmp_path)  # the seeds write `out.json` and the like where they run
    statuses: list[int] = []
    for path in sorted((SEEDS / "cli").iterdir()):
        argv = target.argv_of(path.read_bytes())
        with quiet_cli(), contextlib.redirect_stderr(io.StringIO()):
            statuses.append(cli.main(argv, out=io.StringIO()))
    assert set(statuses) == {0, 1}, statuses


def test_directory_oracle_fails_on_a_round_trip_that_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ``directory`` oracle is not vacuous: a dump that differs from one call to the next
    fails it."""
    from caaspp_authz import dump_directory as real
    from fuzz import directory

    calls = iter(range(1000))

    def drifting(d: object) -> dict[str, object]:
        return {**real(d), "drift": next(calls)}  # type: ignore[arg-type]

    monkeypatch.setattr("fuzz.directory.dump_directory", drifting)
    with pytest.raises(AssertionError, match="dump -> load -> dump"):
        directory.check((SEEDS / "directory" / "example_small.json").read_bytes())


def test_request_oracle_fails_when_can_and_decide_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ``request`` oracle is not vacuous: a ``can`` that answers the opposite of
    ``decide`` fails it."""
    from caaspp_authz import decide
    from fuzz import request

    monkeypatch.setattr("fuzz._common.can", lambda *args: not decide(*args).allowed)
    with pytest.raises(AssertionError):
        request.check((SEEDS / "request" / "requests_0.jsonl").read_bytes())


def test_cli_oracle_fails_on_an_exception_out_of_main(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``cli`` oracle is not vacuous: an exception out of a command reaches the fuzzer."""
    from caaspp_authz import cli
    from fuzz import cli as target

    def broken(*args: object, **kwargs: object) -> dict[str, object]:
        raise KeyError("boom")

    monkeypatch.setattr(cli, "_decision_json", broken)
    with pytest.raises(KeyError):
        target.check((SEEDS / "cli" / "decide_flags").read_bytes())


# -- what fuzzing found, each a promise kept --------------------------------------------------


def test_test_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    """Fail closed: `caaspp-authz test` on a file that is not UTF-8 (a spreadsheet saved in
    Windows-1252) says so and exits 2, where it raised UnicodeDecodeError out of ``main``."""
    import contextlib
    import io

    from caaspp_authz import cli
    from caaspp_authz.oracle.testfile import TestFileError, load

    path = tmp_path / "tests.toml"
    path.write_bytes('directory = "d.json"  # Educator\u2014Roster\n'.encode("cp1252"))
    with pytest.raises(TestFileError, match="not UTF-8"):
        load(path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(["test", str(path)], out=io.StringIO()) == 2
    assert "is not TOML: it is not UTF-8 text" in err.getvalue()


def test_decision_table_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    """Fail closed: `caaspp-authz diff --old FILE` on a file that is not UTF-8 says so and
    exits 2, where it raised UnicodeDecodeError out of ``main``."""
    import contextlib
    import io

    from caaspp_authz import cli

    path = tmp_path / "table.tsv"
    path.write_bytes(b"\xff\xfe\x00not a table")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(["diff", "--old", str(path)], out=io.StringIO()) == 2
    assert "not UTF-8 text" in err.getvalue()


def test_argument_errors_echo_a_bounded_line() -> None:
    """No message echoes a value whole: argparse's "unrecognized arguments" repeats every
    argument, and each line it prints is now cut to 1,000 characters and its true length."""
    import contextlib
    import io

    from caaspp_authz import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = cli.main(["schema", "request", *(["x" * 50] * 100)], out=io.StringIO())
    assert status == 2
    lines = err.getvalue().splitlines()
    assert all(len(line) <= 1100 for line in lines), max(map(len, lines))
    assert lines[-1].endswith("characters)")


def test_cde_command_line_check_holds_on_every_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``cde`` target's check of ``directory from-cde`` (on one input in four while
    fuzzing) holds on every seed: it writes exactly the directory, or nothing on an error."""
    from fuzz import cde

    monkeypatch.setattr(cde, "CLI_ONE_IN", 1)
    for path in sorted((SEEDS / "cde").iterdir()):
        cde.check(path.read_bytes())
