"""The JSON Schemas of the directory and request formats, rendered from the catalog and actions.

The package carries them (``src/caaspp_authz/schemas/``) and the docs publish them
(``docs/schemas/``); ``python -m tests.schemas --write`` rewrites both, and
``tests/test_schemas.py`` fails when either differs from what this module renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from caaspp_authz.accounts import Account, RuleSet
from caaspp_authz.catalog import ROLES, Form, Program
from caaspp_authz.decision import POLICY, Action
from caaspp_authz.orgs import Organization
from caaspp_authz.resources import (
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
)

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = (ROOT / "src" / "caaspp_authz" / "schemas", ROOT / "docs" / "schemas")
REGENERATE = "python -m tests.schemas --write"
BASE = "https://caaspp-authz.readthedocs.io/en/latest/schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

CDS = {"type": "string", "pattern": "^[0-9]{14}$", "description": "a 14-digit CDS code (O2)"}
SSID = {"type": "string", "pattern": "^[0-9]{10}$", "description": "a 10-digit SSID"}
EMAIL = {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$", "description": "an e-mail (E1)"}


def _role() -> dict[str, Any]:
    """Any text; the catalog's names are offered to editors (R3 also accepts other spellings)."""
    names = sorted({n for r in ROLES for n in (r.name, *r.spellings, *r.legacy_names)})
    return {
        "description": "a role name in any spelling the rulebook lists (R3, R4)",
        "anyOf": [{"enum": names}, {"type": "string"}],
    }


def directory_schema() -> dict[str, Any]:
    """The directory format (`format: 1`) as INTERFACES.md and docs/directory-format.md give it."""
    forms = {"type": "array", "items": {"enum": [f.value for f in Form]}, "uniqueItems": True}
    organization = {
        "type": "object",
        "required": ["cds", "name"],
        "properties": {
            "cds": CDS,
            "name": {"type": "string"},
            "lea": {**CDS, "description": "the LEA of a school (default: its first 7 digits)"},
            "level": {
                "enum": ["lea", "school"],
                "description": "`lea`: a school code that is an LEA of its own (O3)",
            },
        },
    }
    account = {
        "type": "object",
        "required": ["email", "first_name", "last_name", "phone"],
        "properties": {
            "email": EMAIL,
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "phone": {"type": "string"},
            "active": {"type": "boolean", "default": True},
            "credentialed": {"type": "boolean", "default": False},
            "superintendent_of": {"anyOf": [CDS, {"type": "null"}], "default": None},
            "forms": {
                "type": "object",
                "properties": {p.value: forms for p in Program},
                "additionalProperties": False,
            },
            "roles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["role", "org"],
                    "properties": {
                        "role": _role(),
                        "org": CDS,
                        "primary": {"type": "boolean", "default": False},
                    },
                },
            },
        },
    }
    group = {
        "type": "object",
        "required": ["name", "school", "school_year", "subject"],
        "properties": {
            "name": {"type": "string"},
            "school": CDS,
            "school_year": {"type": "integer"},
            "subject": {"type": "string", "examples": ["All", "Math", "ELA"]},
            "students": {"type": "array", "items": SSID},
            "users": {"type": "array", "items": EMAIL},
        },
    }
    custom = {
        "type": "object",
        "required": ["owner", "name"],
        "properties": {
            "owner": EMAIL,
            "name": {"type": "string"},
            "students": {"type": "array", "items": SSID},
        },
    }
    return {
        "$schema": DRAFT,
        "$id": f"{BASE}/directory.schema.json",
        "title": "caaspp-authz directory",
        "description": "Organizations, accounts, students and groups (format 1).",
        "type": "object",
        "required": ["format", "organizations"],
        "properties": {
            "format": {"const": 1},
            "rule_set": {"enum": [r.value for r in RuleSet], "default": "one-role-per-email"},
            "organizations": {"type": "array", "items": organization},
            "accounts": {"type": "array", "items": account},
            "students": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["ssid", "school"],
                    "properties": {"ssid": SSID, "school": CDS},
                },
            },
            "groups": {"type": "array", "items": group},
            "custom_groups": {"type": "array", "items": custom},
        },
    }


def _resources() -> dict[type, dict[str, Any]]:
    key = {
        "type": "object",
        "required": ["school", "school_year", "name"],
        "properties": {
            "school": CDS,
            "school_year": {"type": "integer"},
            "name": {"type": "string"},
        },
    }
    one = {"type": "object", "minProperties": 1, "maxProperties": 1}
    return {
        Student: {**one, "required": ["student"], "properties": {"student": SSID}},
        GroupKey: {**one, "required": ["group"], "properties": {"group": key}},
        GroupAssignment: {
            **one,
            "required": ["group_assignment"],
            "properties": {
                "group_assignment": {
                    "type": "object",
                    "required": ["group", "to"],
                    "properties": {"group": key, "to": EMAIL},
                }
            },
        },
        CustomGroup: {
            **one,
            "required": ["custom_group"],
            "properties": {
                "custom_group": {
                    "type": "object",
                    "required": ["owner", "name"],
                    "properties": {
                        "owner": EMAIL,
                        "name": {"type": "string"},
                        "students": {"type": "array", "items": SSID},
                    },
                }
            },
        },
        Report: {
            **one,
            "required": ["report"],
            "properties": {
                "report": {
                    "type": "object",
                    "required": ["organizations"],
                    "properties": {"organizations": {"type": "array", "items": CDS}},
                }
            },
        },
        ResourceLink: {
            **one,
            "required": ["resource_link"],
            "properties": {
                "resource_link": {
                    "type": "object",
                    "required": ["organization"],
                    "properties": {"organization": CDS},
                }
            },
        },
        ToolsForTeachers: {
            **one,
            "required": ["tools_for_teachers"],
            "properties": {"tools_for_teachers": {"const": True}},
        },
        Grant: {
            **one,
            "required": ["grant"],
            "properties": {
                "grant": {
                    "type": "object",
                    "required": ["to", "role", "organization"],
                    "properties": {
                        "to": EMAIL,
                        "role": _role(),
                        "organization": CDS,
                        "primary": {"type": "boolean"},
                        "credentialed": {"type": "boolean"},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "phone": {"type": "string"},
                    },
                }
            },
        },
    }


def _organization_resource(action: Action) -> dict[str, Any]:
    props: dict[str, Any] = {"organization": CDS}
    if action in (Action.MANAGE_TEST_SETTINGS, Action.VIEW_COMPLETION_STATUS):
        props["program"] = {"enum": [p.value for p in Program], "default": "CAASPP"}
    if action is Action.VIEW_COMPLETION_STATUS:
        props["assessment"] = {"enum": ["interim", "all"], "default": "all"}
    return {
        "type": "object",
        "required": ["organization"],
        "properties": props,
        "additionalProperties": False,
    }


def _account_resource() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["account"],
        "properties": {"account": EMAIL},
        "additionalProperties": False,
    }


def request_schema() -> dict[str, Any]:
    """The request format: one branch an action, with the resource shape that action takes."""
    shapes = _resources()
    branches = []
    for action in Action:
        kinds = POLICY[action].kinds
        if Account in kinds:
            resource = _account_resource()
        elif Organization in kinds:
            resource = _organization_resource(action)
        else:
            resource = next(shape for kind, shape in shapes.items() if kind in kinds)
        branches.append(
            {
                "if": {"properties": {"action": {"const": action.value}}},
                "then": {"properties": {"resource": resource}},
            }
        )
    return {
        "$schema": DRAFT,
        "$id": f"{BASE}/request.schema.json",
        "title": "caaspp-authz request",
        "description": "Who asks to do what on which resource (the request format).",
        "type": "object",
        "required": ["principal", "action", "resource"],
        "properties": {
            "principal": EMAIL,
            "action": {"enum": [a.value for a in Action]},
            "resource": {"type": "object"},
        },
        "allOf": branches,
    }


def rendered() -> dict[str, str]:
    """File name to text of every schema."""
    return {
        f"{name}.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in (("directory", directory_schema()), ("request", request_schema()))
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {REGENERATE}")
    for folder in FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in rendered().items():
            (folder / name).write_text(text, encoding="utf-8")
