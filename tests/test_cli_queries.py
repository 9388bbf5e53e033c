"""The visible, who-can and grantable commands: JSON out, exit status 0 or 2."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from caaspp_authz.cli import main
from tests.conftest import EXAMPLES

DIRECTORY = str(EXAMPLES / "directory.json")


def _run(*argv: str) -> tuple[int, Any]:
    out = io.StringIO()
    status = main([argv[0], "--directory", DIRECTORY, *argv[1:]], out=out)
    text = out.getvalue()
    assert text.count("\n") == (1 if text else 0)  # one JSON document
    return status, json.loads(text) if text else None


def test_visible_students() -> None:
    """V1, V2: the students a test administrator may see, as SSIDs."""
    status, doc = _run(
        "visible", "--principal", "teacher@example.org", "--action", "view_student_results"
    )
    assert (status, doc) == (0, {"students": ["1000000001", "1000000002"]})


def test_visible_groups_and_organizations() -> None:
    """V3, T1: groups as keys, organizations as CDS codes, by the action or by --kind."""
    status, doc = _run(
        "visible", "--principal", "site.coordinator@example.org", "--action", "view_group"
    )
    assert status == 0
    assert doc == {
        "groups": [{"school": "19647331111111", "school_year": 2026, "name": "Period 1"}]
    }
    status, doc = _run(
        "visible",
        "--principal",
        "site.coordinator@example.org",
        "--action",
        "administer_summative",
        "--kind",
        "organizations",
    )
    assert (status, doc) == (0, {"organizations": ["19647331111111"]})


@pytest.mark.parametrize(
    "argv",
    [
        ("visible", "--principal", "teacher@example.org", "--action", "fly"),
        ("visible", "--principal", "not an e-mail", "--action", "view_group"),
        ("visible", "--principal", "teacher@example.org", "--action", "add_role"),
        ("visible", "--principal", "a@b.org", "--action", "view_group", "--kind", "students"),
        ("who-can", "--action", "view_student_results", "--resource", "{"),
        (  # strict JSON, as every reader of the request format: a key twice is refused
            "who-can",
            "--action",
            "view_student_results",
            "--resource",
            '{"student": "1000000008", "student": "1000000001"}',
        ),
        (
            "who-can",
            "--action",
            "view_student_results",
            "--resource",
            '{"account": "teacher@example.org"}',
        ),
        ("grantable", "--principal", "nope"),
    ],
)
def test_unusable_arguments_exit_2(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed argument is a message on stderr naming the argument, exit 2, nothing on stdout."""
    status, doc = _run(*argv)
    assert (status, doc) == (2, None)
    err = capsys.readouterr().err
    assert err.startswith("caaspp-authz: `--")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("visible", "--principal", "teacher@example.org", "--action", "view_results"),
            "caaspp-authz: `--action`: `view_results` is not an action; "
            "did you mean `view_student_results`?\n",
        ),
        (
            ("who-can", "--action", "edit_grup", "--resource", "{}"),
            "caaspp-authz: `--action`: `edit_grup` is not an action; did you mean `edit_group`?\n",
        ),
        (
            ("grantable", "--principal", "notanemail"),
            "caaspp-authz: `--principal`: `notanemail` is not an e-mail address\n",
        ),
    ],
)
def test_bad_argument_names_the_closest_value(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad action names the closest action (difflib); a bad e-mail names its flag; exit 2."""
    assert _run(*argv) == (2, None)
    assert capsys.readouterr().err == message


def test_who_can() -> None:
    """V1, V2: who-can reads a resource of the request format and lists accounts in order."""
    status, doc = _run(
        "who-can", "--action", "view_student_results", "--resource", '{"student": "1000000001"}'
    )
    assert status == 0
    assert doc["accounts"][-2:] == ["teacher@example.org", "examiner@example.org"]
    status, doc = _run(
        "who-can", "--action", "view_student_results", "--resource", '{"student": "9999999999"}'
    )
    assert (status, doc) == (0, {"accounts": []})


def test_grantable() -> None:
    """G1: the superintendent may designate the two LEA coordinators."""
    status, doc = _run("grantable", "--principal", "superintendent@example.org")
    assert status == 0
    assert doc == {
        "grants": [
            {"role": "LEA CAASPP Coordinator", "organization": "19647330000000"},
            {"role": "LEA ELPAC Coordinator", "organization": "19647330000000"},
        ]
    }


def test_refused_directory_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A directory that cannot be read is a usage error: exit status 2, nothing on stdout."""
    out = io.StringIO()
    status = main(["grantable", "--directory", "missing.json", "--principal", "a@b.org"], out=out)
    assert (status, out.getvalue()) == (2, "")
    assert "missing.json" in capsys.readouterr().err
