"""Examples for the command line: ``caaspp-authz decide`` (INTERFACES.md)."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from caaspp_authz import dump_directory
from caaspp_authz.cli import main
from tests.builders import IN_GROUP, NOT_IN_GROUP, acct, district, mapping
from tests.conftest import EXAMPLES


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


# --- the flag form, text output, exit codes, echo --------------------------------------------


def _flags(directory_file: Path, principal: str, ssid: str, *more: str) -> list[str]:
    return [
        "decide", "--directory", str(directory_file), "--principal", principal,
        "--action", "view_student_results", "--resource", json.dumps({"student": ssid}), *more,
    ]  # fmt: skip


def _text(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    status = main(argv, out=out)
    return status, out.getvalue()


def test_decide_flag_form(directory_file: Path) -> None:
    """V1, V2: `decide --principal --action --resource` decides one request, as --request does."""
    status, lines = _run(*_flags(directory_file, "ta1@d.org", IN_GROUP))
    assert status == 0
    assert lines[0]["allowed"] is True
    assert lines[0]["rules"] == ["V1", "V2", "P2", "O4"]


def test_decide_text_format_is_one_readable_line(directory_file: Path) -> None:
    """`--format text`: one line, the verdict, the rule IDs and the reason (and fix on denial)."""
    status, text = _text(_flags(directory_file, "ta1@d.org", NOT_IN_GROUP, "--format", "text"))
    assert status == 0
    assert text.count("\n") == 1
    assert text.startswith("denied [V1 V2]: ")
    assert "; fix: " in text


def test_decide_exit_code_3_for_a_denial(directory_file: Path) -> None:
    """`--exit-code`: 0 when allowed, 3 when denied; without it a denial exits 0."""
    assert _run(*_flags(directory_file, "ta1@d.org", IN_GROUP, "--exit-code"))[0] == 0
    assert _run(*_flags(directory_file, "ta1@d.org", NOT_IN_GROUP, "--exit-code"))[0] == 3
    assert _run(*_flags(directory_file, "ta1@d.org", NOT_IN_GROUP))[0] == 0


def test_decide_exit_code_in_a_batch(directory_file: Path, tmp_path: Path) -> None:
    """`--requests --exit-code`: 3 when any request is denied, 1 when any line is an error."""
    batch = tmp_path / "r.jsonl"
    batch.write_text(
        "\n".join(json.dumps(_request("ta1@d.org", s)) for s in (IN_GROUP, NOT_IN_GROUP)),
        encoding="utf-8",
    )
    d = str(directory_file)
    assert _run("decide", "--directory", d, "--requests", str(batch), "--exit-code")[0] == 3
    batch.write_text(batch.read_text("utf-8") + "\n{\n", encoding="utf-8")
    assert _run("decide", "--directory", d, "--requests", str(batch), "--exit-code")[0] == 1


def test_decide_echo_puts_each_request_beside_its_decision(
    directory_file: Path, tmp_path: Path
) -> None:
    """`--echo`: each line carries its request (or the line's text when it is not JSON)."""
    batch = tmp_path / "r.jsonl"
    request = _request("ta1@d.org", IN_GROUP)
    batch.write_text(json.dumps(request) + "\nnot json\n", encoding="utf-8")
    d = str(directory_file)
    status, lines = _run("decide", "--directory", d, "--requests", str(batch), "--echo")
    assert status == 1
    assert lines[0]["request"] == request
    assert lines[0]["allowed"] is True
    assert lines[1]["request"] == "not json"
    assert "error" in lines[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--action", "view_results"], "did you mean `view_student_results`?"),
        (["--principal", "ta1"], "`--principal`: `ta1` is not an e-mail address"),
        (["--resource", "{"], "`--resource` is not JSON"),
        (["--resource", '{"group": 1}'], "`--resource`: "),
    ],
)
def test_decide_flag_form_bad_arguments_exit_2(
    directory_file: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flag is a message on stderr naming it (and the closest action), exit 2."""
    argv = _flags(directory_file, "ta1@d.org", IN_GROUP)
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        argv[argv.index(flag) + 1] = value
    assert _text(argv) == (2, "")
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--principal", "ta1@d.org"],
        ["--request", "r.json", "--requests", "r.jsonl"],
        ["--request", "r.json", "--echo"],
    ],
)
def test_decide_needs_exactly_one_form(
    directory_file: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A partial flag form, two forms at once, or --echo without --requests exit 2."""
    assert main(["decide", "--directory", str(directory_file), *argv]) == 2
    assert capsys.readouterr().err.startswith("caaspp-authz: ")


def test_request_line_longer_than_the_bound_is_an_error_line(
    directory_file: Path, tmp_path: Path
) -> None:
    """A request line over 1 MiB is an error line naming the bound; the batch goes on."""
    from caaspp_authz.cli import MAX_LINE

    good = json.dumps(_request("ta1@d.org", IN_GROUP))
    huge = json.dumps(_request("ta1@d.org", "1" * (MAX_LINE + 10)))
    batch = tmp_path / "r.jsonl"
    batch.write_text(f"{good}\n{huge}\n{good}\n", encoding="utf-8")
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", str(batch))
    assert status == 1
    assert [("error" in line) for line in lines] == [False, True, False]
    assert lines[1]["error"] == f"line 2 is longer than {MAX_LINE} bytes"


def test_request_line_with_an_integer_too_long_is_an_error_line(
    directory_file: Path, tmp_path: Path
) -> None:
    """A line with a 5,000-digit number is an error line, not the end of the batch."""
    good = json.dumps(_request("ta1@d.org", IN_GROUP))
    batch = tmp_path / "r.jsonl"
    batch.write_text(f'{{"principal": {"9" * 5000}}}\n{good}\n', encoding="utf-8")
    status, lines = _run("decide", "--directory", str(directory_file), "--requests", str(batch))
    assert status == 1
    assert "error" in lines[0]
    assert len(lines[0]["error"]) < 400
    assert lines[1]["allowed"] is True


# --- standard input, missing files, warnings ---------------------------------------------------


def test_request_and_directory_from_stdin(
    directory_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--request -` and `--directory -` read standard input."""
    request = tmp_path / "r.json"
    request.write_text(json.dumps(_request("ta1@d.org", IN_GROUP)), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(request.read_text("utf-8")))
    status, lines = _run("decide", "--directory", str(directory_file), "--request", "-")
    assert (status, lines[0]["allowed"]) == (0, True)
    monkeypatch.setattr("sys.stdin", io.StringIO(directory_file.read_text("utf-8")))
    status, lines = _run("decide", "--directory", "-", "--request", str(request))
    assert (status, lines[0]["allowed"]) == (0, True)


def test_missing_directory_file_names_no_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `--directory` file that is not there is a plain message, not an upload rule (U2)."""
    missing = tmp_path / "none.json"
    argv = ["grantable", "--directory", str(missing), "--principal", "a@b.org"]
    assert main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err == f"caaspp-authz: cannot read `--directory {missing}`: no such file\n"


def _legacy_directory(tmp_path: Path) -> Path:
    """The example directory with one role written in its legacy spelling (an R3 warning)."""
    data = json.loads((EXAMPLES / "directory.json").read_text("utf-8"))
    for account in data["accounts"]:
        for held in account["roles"]:
            if held["role"] == "Site CAASPP Coordinator":
                held["role"] = "Test Site Coordinator"
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["decide", "--request", str(EXAMPLES / "request.json")],
        ["grantable", "--principal", "teacher@example.org"],
        ["visible", "--principal", "teacher@example.org", "--action", "view_group"],
    ],
)
def test_directory_warnings_on_stderr_unless_quiet(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """R3: the directory's warnings go to stderr; `--quiet` hides them; stdout is unchanged."""
    path = str(_legacy_directory(tmp_path))
    out = io.StringIO()
    assert main([*argv, "--directory", path], out=out) == 0
    err = capsys.readouterr().err
    assert "caaspp-authz: warning: [R3]" in err
    assert "Test Site Coordinator" in err
    quiet = io.StringIO()
    assert main([*argv, "--directory", path, "--quiet"], out=quiet) == 0
    assert capsys.readouterr().err == ""
    assert quiet.getvalue() == out.getvalue()


# --- check-directory, schema, version, colour, escapes --------------------------------------


def test_check_directory_valid_with_warnings(tmp_path: Path) -> None:
    """`check-directory`: a directory that loads exits 0 and lists its warnings (R3)."""
    status, text = _text(["check-directory", str(_legacy_directory(tmp_path))])
    assert status == 0
    lines = text.splitlines()
    assert lines[0].startswith("legacy.json: valid: 0 error(s), ")
    assert any(line.startswith("  warning [R3]") for line in lines)


def test_check_directory_lists_every_problem(tmp_path: Path) -> None:
    """`check-directory`: a refused directory exits 1 with every problem (R4, O5), also as JSON."""
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(mapping(acct("a@d.org", "Site CASSPP Coordinator", "1.9E+13"))),
        encoding="utf-8",
    )
    status, text = _text(["check-directory", str(path)])
    assert status == 1
    assert text.startswith("bad.json: refused: 2 error(s)")
    status, text = _text(["check-directory", str(path), "--format", "json"])
    body = json.loads(text)
    assert (status, body["valid"]) == (1, False)
    assert {p["rule"] for p in body["problems"]} >= {"R4", "O5"}
    assert set(body["problems"][0]) == {"rule", "severity", "where", "value", "message", "fix"}


def test_check_directory_not_json_is_a_problem_of_the_file(tmp_path: Path) -> None:
    """`check-directory`: a file that is not JSON is refused (exit 1); a missing one exits 2."""
    path = tmp_path / "d.json"
    path.write_text("{", encoding="utf-8")
    assert _text(["check-directory", str(path)])[0] == 1
    assert _text(["check-directory", str(tmp_path / "none.json")])[0] == 2


@pytest.mark.parametrize("name", ["directory", "request"])
def test_schema_command_prints_the_packaged_schema(name: str) -> None:
    """`schema directory|request` prints the JSON Schema the package carries."""
    status, text = _text(["schema", name])
    assert status == 0
    assert json.loads(text)["$schema"].startswith("https://json-schema.org/")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the distribution's version, which `__version__` also holds."""
    import caaspp_authz

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"caaspp-authz {caaspp_authz.__version__}\n"
    out = io.StringIO()
    assert main(["--version", "decide"], out=out) == 0  # before any check of the command
    assert out.getvalue() == f"caaspp-authz {caaspp_authz.__version__}\n"
    assert caaspp_authz.__version__[0].isdigit()


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Always a terminal."""
        return True


def test_colour_auto_always_never_and_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--color auto` colours a terminal unless NO_COLOR is set; always/never override it."""
    argv = ["check-directory", str(_legacy_directory(tmp_path))]

    def coloured(*extra: str) -> bool:
        out = _Terminal()
        main([*extra, *argv], out=out)
        return "\x1b[" in out.getvalue()

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert coloured()
    assert not coloured("--color", "never")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not coloured()
    assert coloured("--color", "always")
    out = io.StringIO()
    main([*argv, "--color", "always"], out=out)  # after the subcommand too
    assert "\x1b[1m" in out.getvalue()


def test_control_characters_are_escaped_in_everything_printed(
    directory_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A terminal escape sequence in a request reaches the output escaped, in text and JSON."""
    hostile = "\x1b]0;owned\x07\x9b2J\u202e"
    batch = tmp_path / "r.jsonl"
    batch.write_text(json.dumps(_request(f"ta1{hostile}@d.org", IN_GROUP)), encoding="utf-8")
    d = str(directory_file)
    for fmt in ("json", "text"):
        out = _Terminal()
        main(
            ["decide", "--directory", d, "--requests", str(batch), "--echo", "--format", fmt],
            out=out,
        )
        text = out.getvalue()
        for bad in ("\x1b]", "\x07", "\x9b", "\u202e"):
            assert bad not in text
        assert "\\u001b]0;owned\\u0007" in text
        if fmt == "json":  # still JSON, and it reads back as the original characters
            assert hostile in json.loads(text)["request"]["principal"]
    main(["grantable", "--directory", d, "--principal", hostile], out=io.StringIO())
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\\u001b]0;owned" in err


def test_strategies_without_hypothesis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing the strategies without Hypothesis says to install the `hypothesis` extra."""
    import sys

    monkeypatch.setitem(sys.modules, "hypothesis", None)
    monkeypatch.delitem(sys.modules, "caaspp_authz.strategies", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"caaspp-authz\[hypothesis\]"):
        importlib.import_module("caaspp_authz.strategies")


def test_completion_script_names_every_command() -> None:
    """`completion bash` prints a bash script that completes every subcommand."""
    status, text = _text(["completion", "bash"])
    assert status == 0
    for command in ("decide", "check-directory", "validate", "apply", "grantable", "schema"):
        assert command in text
    assert "complete " in text


def test_completion_without_shtab_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without shtab, `completion` exits 2 and says to install the `cli` extra."""
    import sys

    monkeypatch.setitem(sys.modules, "shtab", None)
    assert _text(["completion", "zsh"]) == (2, "")
    assert "caaspp-authz[cli]" in capsys.readouterr().err
