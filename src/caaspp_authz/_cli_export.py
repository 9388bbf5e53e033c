"""The ``export`` command: the policy and a directory for SpiceDB or Cedar, and upload deltas.

- ``export spicedb --directory D --out DIR [--requests R.jsonl]``: ``schema.zed``,
  ``relationships.txt`` (one relationship a line) and ``import.yaml`` (for ``zed import``);
- ``export spicedb --delta REPORT.json --directory NEW --out DIR``: ``delta.json`` (the
  WriteRelationships body) and ``delta.txt`` (one ``touch``/``delete`` line a relationship),
  from the change report of ``apply users|groups --format json``, NEW being the directory the
  apply wrote;
- ``export cedar --directory D --out DIR [--requests R.jsonl]``: ``policies.cedar``,
  ``schema.cedarschema.json`` and ``entities.json``.

With ``--requests``, ``DIR/requests.jsonl`` holds each request in the engine's own form, in
order. Registered by appending to :data:`caaspp_authz.cli.COMMANDS`. Exit status: 0 when
written, 1 when a request line is malformed (the others are still written, the line gets an
``error``), 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from caaspp_authz._json import loads as strict_json
from caaspp_authz.cli import EXIT_INPUT, EXIT_OK, UsageError, read_directory
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError
from caaspp_authz.export import cedar, delta, spicedb
from caaspp_authz.request import Request

__all__ = ["COMMANDS", "add_export"]


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write `{path}`: {exc.strerror}") from None


def _out_dir(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make `{out}`: {exc.strerror}") from None
    return out


def _requests(
    args: argparse.Namespace, directory: Directory, form: Callable[..., dict[str, Any]]
) -> tuple[list[str], bool]:
    """Each request line of ``--requests`` in the engine's form; whether any was malformed."""
    try:
        text = Path(args.requests).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read `{args.requests}`: {exc}") from None
    lines: list[str] = []
    failed = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            request = Request.from_json(strict_json(line), directory)
        except (CaasppAuthzError, ValueError) as exc:
            failed = True
            lines.append(json.dumps({"error": f"line {number}: {str(exc)[:300]}"}))
            continue
        body = form(directory, request.user.email, request.action, request.resource)
        lines.append(json.dumps(body, ensure_ascii=False))
    return lines, failed


def _report(path: str) -> Any:
    try:
        data = strict_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the change report `{path}`: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("changes"), dict):
        return data["changes"]  # the whole output of `apply ... --format json`
    return data


def _spicedb(args: argparse.Namespace, out: TextIO) -> int:
    directory = read_directory(args.directory)
    target = _out_dir(args)
    if args.delta is not None:
        try:
            updates = delta.from_report(_report(args.delta), directory)
        except CaasppAuthzError as exc:
            raise UsageError(str(exc)) from None
        body = {"updates": [u.to_json() for u in updates]}
        _write(target / "delta.json", json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        _write(target / "delta.txt", "".join(f"{u}\n" for u in updates))
        deletes = sum(u.operation == "delete" for u in updates)
        out.write(
            f"wrote {len(updates) - deletes} writes and {deletes} deletes to "
            f"{target / 'delta.json'}\n"
        )
        return EXIT_OK
    text = spicedb.schema()
    rels = spicedb.relationships(directory)
    _write(target / "schema.zed", text)
    _write(target / "relationships.txt", "".join(f"{r}\n" for r in rels))
    _write(target / "import.yaml", spicedb.zed_import(text, rels))
    status = EXIT_OK
    if args.requests is not None:
        lines, failed = _requests(args, directory, spicedb.check_request)
        _write(target / "requests.jsonl", "".join(f"{line}\n" for line in lines))
        status = EXIT_INPUT if failed else EXIT_OK
    out.write(f"wrote the schema and {len(rels)} relationships to {target}\n")
    return status


def _cedar(args: argparse.Namespace, out: TextIO) -> int:
    directory = read_directory(args.directory)
    target = _out_dir(args)
    ents = cedar.entities(directory)
    _write(target / "policies.cedar", cedar.policies())
    _write(target / "schema.cedarschema.json", json.dumps(cedar.schema(), indent=1) + "\n")
    _write(target / "entities.json", json.dumps(ents, indent=1, ensure_ascii=False) + "\n")
    status = EXIT_OK
    if args.requests is not None:
        lines, failed = _requests(args, directory, cedar.requests_for)
        _write(target / "requests.jsonl", "".join(f"{line}\n" for line in lines))
        status = EXIT_INPUT if failed else EXIT_OK
    out.write(f"wrote the policies, the schema and {len(ents)} entities to {target}\n")
    return status


def add_export(sub: Any) -> None:
    """Add ``export spicedb`` and ``export cedar``."""
    parser = sub.add_parser("export", help="export the policy and a directory to an engine")
    engines = parser.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    for engine, helptext, run in (
        ("spicedb", "a SpiceDB schema and relationships, or a delta", _spicedb),
        ("cedar", "Cedar policies, schema and entities", _cedar),
    ):
        p = engines.add_parser(engine, help=helptext)
        p.add_argument("--directory", required=True, metavar="D", help="the directory file")
        p.add_argument("--out", required=True, metavar="DIR", help="the folder to write")
        p.add_argument(
            "--requests", metavar="R.jsonl", help="also write these requests in the engine's form"
        )
        if engine == "spicedb":
            p.add_argument(
                "--delta",
                metavar="REPORT.json",
                help="write the delta of this change report (`apply --format json`); "
                "--directory is then the new directory",
            )
        else:
            p.set_defaults(delta=None)
        p.set_defaults(run=run)


COMMANDS: list[Callable[[Any], None]] = [add_export]
