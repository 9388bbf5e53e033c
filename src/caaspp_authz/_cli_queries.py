"""The query commands: ``visible``, ``who-can`` and ``grantable`` (one JSON document each).

Exit status: 0 with an answer, 2 for unusable arguments (an action that does not exist, a
principal that is not an e-mail, a resource not of the request format: a message on stderr
naming the argument and the closest valid value) or a refused directory.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from caaspp_authz._json import JsonProblem
from caaspp_authz._json import loads as strict_json
from caaspp_authz.accounts import Email
from caaspp_authz.cli import (
    EXIT_OK,
    SafeOutput,
    UsageError,
    action_argument,
    directory_arguments,
    email_argument,
    read_directory,
)
from caaspp_authz.decision import POLICY, Action
from caaspp_authz.directory import Directory
from caaspp_authz.errors import RequestError
from caaspp_authz.orgs import Organization
from caaspp_authz.queries import grantable, visible, who_can
from caaspp_authz.request import read_resource
from caaspp_authz.resources import GroupKey, Student

__all__ = ["add_commands"]

_KINDS: dict[str, type] = {"students": Student, "groups": GroupKey, "organizations": Organization}


def _principal(text: str) -> Email:
    return Email(email_argument("--principal", text))


def _answer(out: SafeOutput, document: dict[str, Any]) -> int:
    out.write(json.dumps(document, ensure_ascii=False) + "\n")
    return EXIT_OK


def _listed(directory: Directory, kind: str) -> list[object]:
    if kind == "students":
        return list(directory.students.values())
    if kind == "groups":
        return list(directory.groups)
    return list(directory.tree)


def _shown(item: object) -> object:
    if isinstance(item, Student):
        return item.ssid
    if isinstance(item, GroupKey):
        return {"school": item.school, "school_year": item.school_year, "name": item.name}
    assert isinstance(item, Organization)
    return item.cds


def _visible(directory: Directory, args: argparse.Namespace) -> dict[str, Any]:
    action = action_argument("--action", args.action)
    user = directory.user(_principal(args.principal))
    takes = POLICY[action].kinds
    kind = args.kind or next((k for k, t in _KINDS.items() if t in takes), None)
    if kind is None or _KINDS[kind] not in takes:
        what = args.kind or "students, groups or organizations"
        raise UsageError(f"`--action`: `{action.value}` does not act on {what}")
    if kind == "students" and action is Action.VIEW_STUDENT_RESULTS:
        found = visible(user, action)  # V1, V2: from the indexes
    else:
        found = visible(user, action, _listed(directory, kind))
    return {kind: [_shown(item) for item in found]}


def _cmd_visible(args: argparse.Namespace, out: SafeOutput) -> int:
    action_argument("--action", args.action)
    _principal(args.principal)
    directory = read_directory(args.directory, quiet=args.quiet)
    return _answer(out, _visible(directory, args))


def _cmd_who_can(args: argparse.Namespace, out: SafeOutput) -> int:
    action = action_argument("--action", args.action)
    try:  # strict JSON, as every reader of the request format (duplicate keys refused)
        value = strict_json(args.resource)
    except JsonProblem as exc:
        raise UsageError(f"`--resource` {exc}") from None
    directory = read_directory(args.directory, quiet=args.quiet)
    try:
        resource = read_resource(action, value, directory)
    except RequestError as exc:
        raise UsageError(f"`--resource`: {exc}") from None
    return _answer(out, {"accounts": [u.email for u in who_can(action, resource, directory)]})


def _cmd_grantable(args: argparse.Namespace, out: SafeOutput) -> int:
    _principal(args.principal)
    directory = read_directory(args.directory, quiet=args.quiet)
    user = directory.user(_principal(args.principal))
    pairs = grantable(user, directory)
    return _answer(
        out, {"grants": [{"role": role.name, "organization": code} for role, code in pairs]}
    )


def add_commands(sub: Any) -> None:
    """Add ``visible``, ``who-can`` and ``grantable`` to the ``caaspp-authz`` parser."""
    p = sub.add_parser("visible", help="what a user may act on: students, groups, organizations")
    directory_arguments(p)
    p.add_argument("--principal", required=True, metavar="EMAIL", help="the user")
    p.add_argument("--action", required=True, metavar="ACTION", help="an action name")
    p.add_argument(
        "--kind",
        choices=sorted(_KINDS),
        help="what to list (default: what the action acts on)",
    )
    p.set_defaults(run=_cmd_visible)

    p = sub.add_parser("who-can", help="every account allowed an action on one resource")
    directory_arguments(p)
    p.add_argument("--action", required=True, metavar="ACTION", help="an action name")
    p.add_argument(
        "--resource",
        required=True,
        metavar="JSON",
        help='a resource of the request format, such as \'{"student": "1000000001"}\'',
    )
    p.set_defaults(run=_cmd_who_can)

    p = sub.add_parser("grantable", help="every role and organization a user may grant")
    directory_arguments(p)
    p.add_argument("--principal", required=True, metavar="EMAIL", help="the user")
    p.set_defaults(run=_cmd_grantable)
