"""The upload commands: validate, apply and directory from-cde (INTERFACES.md, U2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from caaspp_authz import load_directory
from caaspp_authz.cli import main
from tests.conftest import EXAMPLES
from tests.uploadfiles import COORDINATOR, SITE

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
    assert body["changes"]["students_added"] == []  # U5: a group file adds no student


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
