"""The published JSON Schemas: current, and they accept the shipped files and refuse bad ones."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from caaspp_authz import dump_directory
from caaspp_authz.cli import schema_text
from tests import schemas
from tests.builders import district
from tests.conftest import EXAMPLES


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


@pytest.mark.parametrize("folder", schemas.FOLDERS, ids=lambda f: f.parent.name)
def test_schemas_are_current(folder: object) -> None:
    """The package's and the docs' schema files are what the catalog and actions render."""
    for name, text in schemas.rendered().items():
        path = schemas.ROOT / str(folder) / name
        assert path.read_text("utf-8") == text, f"run `{schemas.REGENERATE}`"


@pytest.mark.parametrize("name", ["directory", "request"])
def test_schemas_are_valid_json_schemas(name: str) -> None:
    """Each schema is a valid draft 2020-12 schema."""
    jsonschema.Draft202012Validator.check_schema(_schema(name))


def test_directory_schema_accepts_the_shipped_directories() -> None:
    """The example directory and the test district (as dumped) satisfy the directory schema."""
    validator = jsonschema.Draft202012Validator(_schema("directory"))
    validator.validate(json.loads((EXAMPLES / "directory.json").read_text("utf-8")))
    validator.validate(dump_directory(district()))


@pytest.mark.parametrize(
    "change",
    [
        {"format": 2},
        {"organizations": [{"cds": "123", "name": "x"}]},
        {"accounts": [{"email": "a@b.org"}]},
        {"rule_set": "many"},
    ],
)
def test_directory_schema_refuses_what_the_loader_refuses(change: dict[str, Any]) -> None:
    """A wrong format, a short CDS code, missing account fields, an unknown rule set fail."""
    data = json.loads((EXAMPLES / "directory.json").read_text("utf-8"))
    data.update(change)
    assert not jsonschema.Draft202012Validator(_schema("directory")).is_valid(data)


def test_request_schema_accepts_the_shipped_requests() -> None:
    """Every example request satisfies the request schema."""
    validator = jsonschema.Draft202012Validator(_schema("request"))
    validator.validate(json.loads((EXAMPLES / "request.json").read_text("utf-8")))
    for line in (EXAMPLES / "requests.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            validator.validate(json.loads(line))


@pytest.mark.parametrize(
    "request_",
    [
        {"principal": "a@b.org", "action": "fly", "resource": {}},
        {"principal": "a@b.org", "action": "view_student_results", "resource": {"group": {}}},
        {"principal": "a@b.org", "action": "edit_account", "resource": {"organization": "1"}},
        {
            "principal": "a@b.org",
            "action": "manage_test_settings",
            "resource": {"organization": "19647330000000", "assessment": "interim"},
        },
    ],
)
def test_request_schema_refuses_malformed_requests(request_: dict[str, Any]) -> None:
    """An unknown action, or a resource of another action's shape, fails the schema (T2, T3)."""
    assert not jsonschema.Draft202012Validator(_schema("request")).is_valid(request_)
