"""Examples for the command line: ``caaspp-authz decide`` (INTERFACES.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from caaspp_authz import dump_directory
from caaspp_authz.cli import main
from tests.builders import IN_GROUP, NOT_IN_GROUP, acct, district, mapping


def _request(principal: str, ssid: str) -> dict[str, Any]:
    return {
        "principal": principal,
        "action": "view_student_results",
        "resource": {"student": ssid},
    }


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    """The standard test district, written as a directory file."""
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(dump_directory(district())), encoding="utf-8")
    return path


def _run(*argv: str) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_decide_one_request(directory_file: Path, tmp_path: Path) -> None:
    """`decide --request` prints one decision line and exits 0."""
    request = tmp_path / "r.json"
    request.write_text(json.dumps(_request("ta1@d.org", IN_GROUP)), encoding="utf-8")
    status, lines = _run("decide", "--directory", str(directory_file), "--request", str(request))
    assert status == 0
    assert lines == [
        {
            "allowed": True,
            "rules": ["V1", "V2", "P2", "O4"],
            "reason": lines[0]["reason"],
            "fix": None,
        }
    ]


def test_decide_one_malformed_request_exits_1(directory_file: Path, tmp_path: Path) -> None:
    """`decide --request` with a malformed request prints an error line and exits 1."""
    request = tmp_path / "r.json"
    request.write_text(json.dumps({"principal": "ta1@d.org", "action": "fly"}), encoding="utf-8")
    status, lines = _run("decide", "--directory", str(directory_file), "--request", str(request))
    assert status == 1
    assert lines == [{"error": "`fly` is not an action"}]


def test_decide_batch_goes_on_after_malformed_lines(directory_file: Path, tmp_path: Path) -> None:
    """`decide --requests`: a malformed line yields an error in its place, the batch goes on, exit 1."""
    batch = tmp_path / "r.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps(_request("ta1@d.org", IN_GROUP)),
                "{not json",
                "",
                json.dumps({"principal": "ta1@d.org", "action": "fly", "resource": {}}),
                json.dumps(_request("ta1@d.org", NOT_IN_GROUP)),
            ]
        ),
        encoding="utf-8",
    )
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", str(batch))
    assert status == 1
    assert len(lines) == 4
    assert lines[0]["allowed"] is True
    assert lines[1]["error"].startswith("line 2 is not JSON")
    assert "error" in lines[2]
    assert lines[3]["allowed"] is False
    assert lines[3]["fix"]


def test_decide_batch_all_decided_exits_0(
    directory_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`decide --requests -` reads stdin; every line decided, allowed or not, exits 0."""
    text = "\n".join(json.dumps(_request("ta1@d.org", s)) for s in (IN_GROUP, NOT_IN_GROUP))
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", "-")
    assert status == 0
    assert [line["allowed"] for line in lines] == [True, False]


def test_refused_directory_exits_2_with_problems_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused directory exits 2 and lists its problems on stderr."""
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(mapping(acct("a@d.org", "Site CASSPP Coordinator", "1.9E+13"))),
        encoding="utf-8",
    )
    request = tmp_path / "r.json"
    request.write_text("{}", encoding="utf-8")
    status, lines = _run("decide", "--directory", str(path), "--request", str(request))
    assert status == 2
    assert lines == []
    err = capsys.readouterr().err
    assert "the directory is refused: 2 problem(s)" in err
    assert "[R4]" in err
    assert "[O5]" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["decide", "--directory", "d.json"],
        ["nonsense"],
        [],
    ],
)
def test_unusable_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Unusable arguments exit 2."""
    assert main(argv, out=io.StringIO()) == 2
    assert capsys.readouterr().err


def test_unreadable_request_files_exit_2(
    directory_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing request file, a non-JSON request file, or a missing batch file exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    d = str(directory_file)
    assert main(["decide", "--directory", d, "--request", str(tmp_path / "no.json")]) == 2
    assert main(["decide", "--directory", d, "--request", str(bad)]) == 2
    assert main(["decide", "--directory", d, "--requests", str(tmp_path / "no.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` exits 0."""
    assert main(["--help"]) == 0
    assert "decide" in capsys.readouterr().out


def test_decide_batch_survives_bytes_that_are_not_utf8(
    directory_file: Path, tmp_path: Path
) -> None:
    """INTERFACES: a line that is not UTF-8 yields an error line and the batch goes on."""
    good = json.dumps(
        {
            "principal": "ta1@d.org",
            "action": "view_student_results",
            "resource": {"student": IN_GROUP},
        }
    ).encode()
    requests = tmp_path / "r.jsonl"
    requests.write_bytes(good + b"\n" + b'{"principal": "\xff"}\n' + good + b"\n")
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", str(requests))
    assert status == 1
    assert [("error" in line) for line in lines] == [False, True, False]
    assert "not UTF-8" in lines[1]["error"]


def test_decide_batch_survives_deeply_nested_json(directory_file: Path, tmp_path: Path) -> None:
    """INTERFACES: a line nested too deeply to read is an error line, not a crash."""
    requests = tmp_path / "r.jsonl"
    requests.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", str(requests))
    assert status == 1
    assert "error" in lines[0]


def test_deeply_nested_directory_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """U2: a directory file nested too deeply is refused (exit 2), never a traceback."""
    directory = tmp_path / "d.json"
    directory.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    request = tmp_path / "r.json"
    request.write_text("{}", encoding="utf-8")
    assert main(["decide", "--directory", str(directory), "--request", str(request)]) == 2
    assert "nested too deeply" in capsys.readouterr().err
