"""``caaspp-authz export``: the files it writes load into the engines, and replaying its
``requests.jsonl`` there gives the same answers as ``caaspp-authz decide``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cedarpy
import pytest

from caaspp_authz import load_directory
from caaspp_authz.cli import main
from caaspp_authz.export import spicedb
from caaspp_authz.export._model import Check
from caaspp_authz.export.delta import Update
from tests.conftest import EXAMPLES
from tests.export.engines import SpiceDB

DIRECTORY = str(EXAMPLES / "directory.json")
REQUESTS = str(EXAMPLES / "requests.jsonl")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def decisions() -> list[bool]:
    status, text = run("decide", "--directory", DIRECTORY, "--requests", REQUESTS)
    assert status == 0
    return [json.loads(line)["allowed"] for line in text.splitlines()]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _check(body: dict[str, object]) -> Check:
    resource = body["resource"]
    assert isinstance(resource, dict)
    return Check(resource["objectType"], resource["objectId"], str(body["permission"]))


def _user(body: dict[str, object]) -> str:
    subject = body["subject"]
    assert isinstance(subject, dict)
    return str(subject["object"]["objectId"])


def test_spicedb_export_replays_as_decide(tmp_path: Path) -> None:
    """The SpiceDB files load into SpiceDB, and each request of requests.jsonl, checked
    there, is allowed exactly when `decide` allows it."""
    status, text = run(
        "export",
        "spicedb",
        "--directory",
        DIRECTORY,
        "--out",
        str(tmp_path),
        "--requests",
        REQUESTS,
    )
    assert status == 0, text
    rels = [
        spicedb.parse_relationship(line)
        for line in (tmp_path / "relationships.txt").read_text(encoding="utf-8").splitlines()
    ]
    assert "relationships: |-" in (tmp_path / "import.yaml").read_text(encoding="utf-8")
    db = SpiceDB((tmp_path / "schema.zed").read_text(encoding="utf-8"))
    try:
        db.touch(rels)
        got: list[bool | None] = []
        for body in lines(tmp_path / "requests.jsonl"):
            if "library" in body or "denied" in body:
                got.append(None if "library" in body else False)
                continue
            parts = body.get("checks", [body])
            assert isinstance(parts, list)
            got.append(all(db.check([(_user(p), _check(p))])[0] for p in parts))
    finally:
        db.close()
    assert_replayed(got, decisions())


def assert_replayed(got: list[bool | None], want: list[bool]) -> None:
    """The engine's answers equal decide's on every line the engine is asked (None: a line
    the library decides, left out), and the engine is asked most of them."""
    assert len(got) == len(want)
    asked = [(g, w) for g, w in zip(got, want, strict=True) if g is not None]
    assert [g for g, _ in asked] == [w for _, w in asked]
    assert len(asked) * 2 > len(got)


def test_cedar_export_replays_as_decide(tmp_path: Path) -> None:
    """The Cedar files validate, and each request of requests.jsonl, authorized by cedarpy,
    is allowed exactly when `decide` allows it."""
    status, _ = run(
        "export",
        "cedar",
        "--directory",
        DIRECTORY,
        "--out",
        str(tmp_path),
        "--requests",
        REQUESTS,
    )
    assert status == 0
    policies = (tmp_path / "policies.cedar").read_text(encoding="utf-8")
    schema = (tmp_path / "schema.cedarschema.json").read_text(encoding="utf-8")
    entities = (tmp_path / "entities.json").read_text(encoding="utf-8")
    assert cedarpy.validate_policies(policies, schema).validation_passed
    got: list[bool | None] = []
    for body in lines(tmp_path / "requests.jsonl"):
        if "library" in body or "denied" in body:
            got.append(None if "library" in body else False)
            continue
        parts = body.get("checks", [body])
        assert isinstance(parts, list)
        got.append(all(cedarpy.is_authorized(p, policies, entities).allowed for p in parts))
    assert_replayed(got, decisions())


def test_delta_from_an_applied_upload(tmp_path: Path) -> None:
    """U4, G11: `export spicedb --delta` of `apply users --format json` turns the old
    export's relationships into the new directory's."""
    after = tmp_path / "after.json"
    status, report = run(
        "apply",
        "users",
        str(EXAMPLES / "users_upload.csv"),
        "--directory",
        DIRECTORY,
        "--as",
        "caaspp.coordinator@example.org",
        "--out",
        str(after),
        "--format",
        "json",
    )
    assert status == 0
    (tmp_path / "report.json").write_text(report, encoding="utf-8")
    status, text = run(
        "export",
        "spicedb",
        "--delta",
        str(tmp_path / "report.json"),
        "--directory",
        str(after),
        "--out",
        str(tmp_path / "delta"),
    )
    assert status == 0, text
    body = json.loads((tmp_path / "delta" / "delta.json").read_text(encoding="utf-8"))
    held = set(spicedb.relationships(load_directory(DIRECTORY)))
    for u in body["updates"]:
        r = u["relationship"]
        rel = spicedb.Relationship(
            r["resource"]["objectType"],
            r["resource"]["objectId"],
            r["relation"],
            r["subject"]["object"]["objectType"],
            r["subject"]["object"]["objectId"],
            r["subject"].get("optionalRelation", ""),
        )
        (held.add if u["operation"] == "OPERATION_TOUCH" else held.discard)(rel)
    assert held == set(spicedb.relationships(load_directory(after)))
    text_lines = (tmp_path / "delta" / "delta.txt").read_text(encoding="utf-8").splitlines()
    assert len(text_lines) == len(body["updates"]) > 0
    assert all(line.split(" ", 1)[0] in ("touch", "delete") for line in text_lines)
    assert str(Update("touch", spicedb.parse_relationship(text_lines[-1].split(" ", 1)[1])))


def test_a_malformed_request_line_is_an_error_line(tmp_path: Path) -> None:
    """A malformed or duplicate-key request line gets an `error` in its place; the others are
    written; exit 1."""
    requests = tmp_path / "r.jsonl"
    requests.write_text(
        '{"principal": "a@b.org", "action": "fly"}\n\n'
        # strict JSON, as `decide --requests`: a key given twice is refused, not last-one-wins
        '{"principal": "teacher@example.org", "action": "view_student_results", '
        '"resource": {"student": "1000000008"}, "resource": {"student": "1000000001"}}\n'
        + Path(REQUESTS).read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    status, _ = run(
        "export",
        "cedar",
        "--directory",
        DIRECTORY,
        "--out",
        str(tmp_path / "o"),
        "--requests",
        str(requests),
    )
    assert status == 1
    written = lines(tmp_path / "o" / "requests.jsonl")
    assert "error" in written[0]
    assert "twice" in str(written[1]["error"])
    assert len(written) == 2 + len(decisions())


@pytest.mark.parametrize(
    "report",
    ['{"assignments_added": 3}', "not json", '["a list"]', '{"changes": {}, "changes": {}}'],
)
def test_an_unusable_report_is_exit_2(tmp_path: Path, report: str) -> None:
    """A change report that is not one is refused with exit status 2 and nothing written."""
    path = tmp_path / "report.json"
    path.write_text(report, encoding="utf-8")
    status, _ = run(
        "export",
        "spicedb",
        "--delta",
        str(path),
        "--directory",
        DIRECTORY,
        "--out",
        str(tmp_path / "o"),
    )
    assert status == 2
    assert not (tmp_path / "o" / "delta.json").exists()
