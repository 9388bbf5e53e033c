"""The upload commands: validate, apply and directory from-cde (INTERFACES.md, U2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from caaspp_authz import load_directory
from caaspp_authz.cli import main
from tests.conftest import EXAMPLES
from tests.uploadfiles import COORDINATOR, SITE, csv_bytes

DIRECTORY = str(EXAMPLES / "directory.json")


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_validate_valid_users_exits_0() -> None:
    """U2: a valid file exits 0 and says so."""
    status, text = _run(
        "validate", "users", str(EXAMPLES / "users_upload.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR,
    )  # fmt: skip
    assert status == 0
    assert text.startswith("users_upload.csv: valid: 6 row(s), 0 error(s), 2 warning(s)")
    assert "\x1b[" not in text  # no colour when stdout is not a terminal


def test_validate_errors_exits_1_grouped_by_row() -> None:
    """U2: a file with errors exits 1; problems are grouped under their row."""
    status, text = _run(
        "validate", "users", str(EXAMPLES / "users_upload_errors.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR,
    )  # fmt: skip
    assert status == 1
    lines = text.splitlines()
    assert lines[1] == "row 2"
    assert lines[2].startswith("  error   [O5] CDS Code: ")
    assert "row 4" in lines


def test_validate_json_format() -> None:
    """The JSON output has `valid` and problems with row, column, value, rule, severity,
    message."""
    status, text = _run(
        "validate", "users", str(EXAMPLES / "users_upload_errors.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR, "--format", "json",
    )  # fmt: skip
    assert status == 1
    body = json.loads(text)
    assert body["valid"] is False
    first = body["problems"][0]
    assert set(first) >= {"row", "column", "value", "rule", "severity", "message"}
    assert (first["row"], first["rule"], first["severity"]) == (2, "O5", "error")


def test_validate_groups_json() -> None:
    """U5: the example group file is valid as the site coordinator, in JSON."""
    status, text = _run(
        "validate", "groups", str(EXAMPLES / "groups_upload.csv"),
        "--directory", DIRECTORY, "--as", SITE, "--format", "json",
    )  # fmt: skip
    assert status == 0
    assert json.loads(text)["valid"] is True


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "users", "missing.csv", "--directory", DIRECTORY, "--as", COORDINATOR],
        ["validate", "users", str(EXAMPLES / "users_upload.csv"), "--directory", DIRECTORY,
         "--as", "nobody@example.org"],
        ["validate", "users", str(EXAMPLES / "users_upload.csv"), "--directory", "nope.json",
         "--as", COORDINATOR],
        ["validate", "people", "x.csv", "--directory", DIRECTORY, "--as", COORDINATOR],
        ["validate", "users", "x.csv"],
    ],
)  # fmt: skip
def test_unusable_arguments_exit_2(argv: list[str]) -> None:
    """A missing file, an unknown uploader, a refused directory or a bad command exits 2."""
    assert _run(*argv)[0] == 2


def test_apply_users_writes_the_new_directory(tmp_path: Path) -> None:
    """U4, G11: apply writes the new directory and prints the change report."""
    out_file = tmp_path / "new.json"
    status, text = _run(
        "apply", "users", str(EXAMPLES / "users_upload.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR, "--out", str(out_file),
    )  # fmt: skip
    assert status == 0
    assert "overridden  no.forms@example.org: CAASPP Test Administrator" in text
    assert "reactivated account former.teacher@example.org  (G11)" in text
    new = load_directory(out_file)
    assert new.account("vera.nolan@example.org") is not None


def test_apply_refused_file_writes_nothing(tmp_path: Path) -> None:
    """U2: a file with errors exits 1 and writes no directory."""
    out_file = tmp_path / "new.json"
    status, text = _run(
        "apply", "users", str(EXAMPLES / "users_upload_errors.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR, "--out", str(out_file),
    )  # fmt: skip
    assert status == 1
    assert text.startswith("users_upload_errors.csv: not applied")
    assert not out_file.exists()


def test_apply_groups_json(tmp_path: Path) -> None:
    """U5: apply groups with --format json reports the changes as JSON."""
    out_file = tmp_path / "new.json"
    status, text = _run(
        "apply", "groups", str(EXAMPLES / "groups_upload.csv"),
        "--directory", DIRECTORY, "--as", SITE, "--out", str(out_file), "--format", "json",
    )  # fmt: skip
    assert status == 0
    body = json.loads(text)
    assert body["applied"] is True
    assert body["changes"]["students_added"] == ["1000000009"]


def test_directory_from_cde(tmp_path: Path) -> None:
    """O1-O3: directory from-cde writes a directory that loads."""
    out_file = tmp_path / "d.json"
    status, text = _run(
        "directory", "from-cde", str(EXAMPLES / "cde_pubschls_sample.txt"), "--out", str(out_file)
    )
    assert status == 0
    assert text.startswith("wrote ")
    assert len(load_directory(out_file).tree) > 0


def test_directory_from_cde_missing_file(tmp_path: Path) -> None:
    """A CDE file that cannot be read exits 2."""
    assert _run("directory", "from-cde", "missing.txt", "--out", str(tmp_path / "d.json"))[0] == 2


def test_progress_reader_passes_bytes_through() -> None:
    """The progress bar wrapper hands over every byte and ends at 100%."""
    from caaspp_authz._cli_uploads import _Progress

    data = b"x" * 100_000
    bar = io.StringIO()
    reader = _Progress(io.BytesIO(data), len(data), bar)
    read = b"".join(iter(lambda: reader.read(4096), b""))
    assert read == data
    assert bar.getvalue().rstrip().endswith("100%")


# --- what the file is, standard input, the summary, atomic writes, escapes ------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "this is an Excel workbook"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 200, "this is an Excel 97-2003 workbook"),
        ("First Name,Last Name\r\n".encode("utf-16"), "this is UTF-16 text"),
        (
            b"group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login\r\n",
            "this is a CERS student-group file",
        ),
    ],
)
def test_validate_says_what_the_file_is(tmp_path: Path, data: bytes, says: str) -> None:
    """U3: an Excel file, UTF-16 text, or a group file given as a user file: one clear error."""
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    status, text = _run(
        "validate", "users", str(path), "--directory", DIRECTORY, "--as", COORDINATOR,
        "--format", "json",
    )  # fmt: skip
    assert status == 1
    problems = json.loads(text)["problems"]
    assert len(problems) == 1
    assert problems[0]["message"].startswith(says)
    assert problems[0]["fix"]


def test_user_file_given_to_validate_groups(tmp_path: Path) -> None:
    """U3: a TOMS user file given to `apply groups` names the right command; nothing written."""
    out_file = tmp_path / "new.json"
    status, text = _run(
        "apply", "groups", str(EXAMPLES / "users_upload.csv"),
        "--directory", DIRECTORY, "--as", SITE, "--out", str(out_file),
    )  # fmt: skip
    assert status == 1
    assert "this is a TOMS user file" in text
    assert "use `caaspp-authz apply users`" in text
    assert not out_file.exists()


def test_validate_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """`validate users -` reads the file from standard input."""
    text = (EXAMPLES / "users_upload.csv").read_text("utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    status, out = _run("validate", "users", "-", "--directory", DIRECTORY, "--as", COORDINATOR)
    assert status == 0
    assert out.startswith("standard input: valid: 6 row(s)")


def test_apply_prints_a_summary_and_details_on_request(tmp_path: Path) -> None:
    """`apply`: counts per kind of change and the first changes; `--details` lists every one."""
    from caaspp_authz._cli_uploads import _FIRST_CHANGES

    rows = [
        [f"First{i}", f"Last{i}", "19647331111111", f"new{i}@example.org", "213-555-0100",
         "CAASPP Test Administrator"]
        for i in range(_FIRST_CHANGES + 5)
    ]  # fmt: skip
    path = tmp_path / "many.csv"
    path.write_bytes(csv_bytes(rows))
    argv = ["apply", "users", str(path), "--directory", DIRECTORY, "--as", COORDINATOR]
    status, text = _run(*argv, "--out", str(tmp_path / "a.json"))
    assert status == 0
    lines = text.splitlines()
    assert "  15 account(s) created" in lines
    assert lines[-1] == "  ... and 20 more (--details or --format json for all)"  # 30 changes
    assert len(lines) < _FIRST_CHANGES + 10
    status, text = _run(*argv, "--out", str(tmp_path / "b.json"), "--details")
    assert sum(line.startswith("  created     account") for line in text.splitlines()) == 15
    assert "more (--details" not in text


def test_failed_write_leaves_the_old_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U2: a write that fails before it completes leaves `--out` as it was and no stray file."""
    out_file = tmp_path / "directory.json"
    out_file.write_text("old\n", encoding="utf-8")

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", fail)
    status, _ = _run(
        "apply", "users", str(EXAMPLES / "users_upload.csv"),
        "--directory", DIRECTORY, "--as", COORDINATOR, "--out", str(out_file),
    )  # fmt: skip
    assert status == 2
    assert out_file.read_text("utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["directory.json"]


def test_write_keeps_the_target_mode(tmp_path: Path) -> None:
    """The atomic writer keeps the mode of the file it replaces."""
    from caaspp_authz._cli_uploads import write_atomically

    target = tmp_path / "d.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, "new")
    assert (target.read_text("utf-8"), target.stat().st_mode & 0o777) == ("new", 0o640)


def test_validate_escapes_terminal_sequences_from_the_file(tmp_path: Path) -> None:
    """A value carrying `ESC ] 0 ; ... BEL` is printed escaped, with colour on or off."""
    rows = [["Ada", "Park", "\x1b]0;owned\x07", "ada@example.org", "213-555-0100", "Educator"]]
    path = tmp_path / "hostile.csv"
    path.write_bytes(csv_bytes(rows))
    for colour in ("always", "never"):
        status, text = _run(
            "validate", "users", str(path), "--directory", DIRECTORY, "--as", COORDINATOR,
            "--color", colour,
        )  # fmt: skip
        assert status == 1
        assert "\x1b]" not in text
        assert "\x07" not in text
        assert "\\u001b]0;owned\\u0007" in text


def test_long_argument_is_echoed_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    """A 100,000-character `--as` is repeated in at most a few hundred characters."""
    status, _ = _run(
        "validate", "users", str(EXAMPLES / "users_upload.csv"), "--directory", DIRECTORY,
        "--as", "a" * 100_000 + "@example.org",
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert len(err) < 400
    assert "(100012 characters)" in err
