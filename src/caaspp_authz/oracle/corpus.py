"""The conformance corpus: directories, and request → decision lines with their rule IDs.

A corpus is a folder any implementation, in any language, can replay:

- ``corpus.json``: the manifest: ``format`` (1), ``version`` (the SHA-256 of every case, so
  two corpora with the same version hold the same expectations), the rule IDs its decisions
  name, and one entry a directory (``name``, ``rule_set``, ``actor``, its ``directory`` and
  ``cases`` files, and its number of ``requests``).
- ``directories/NAME.json``: a directory in the directory format (INTERFACES.md).
- ``cases/NAME.jsonl``: one line a request, in order: ``{"request": REQUEST, "allowed": bool,
  "rules": [...], "cell": [relation, variant]}``. ``request`` is the request format;
  ``allowed`` and ``rules`` are this library's decision; ``cell``, with the directory's
  ``rule_set`` and ``actor`` and the request's action, says where the case sits in the
  exhaustive decision table.

The corpus is written from the exhaustive decision table (:mod:`caaspp_authz.oracle.table`),
so it covers every cell of it, and from a few edge cases that reach the rules no cell of the
table reaches (an unknown principal, E1; an inactive account, G11; missing forms, G10; a
second primary, R7; a credential, R5; a role at the wrong level, R2; E3, E4 and E8 under
``one-role-per-email``). Reasons are left out: a corpus fixes decisions and rule IDs, not
wording. The library ships one, :data:`BUILTIN`, which ``caaspp-authz conform`` uses by default.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from caaspp_authz.accounts import Account, Assignment, Email, RuleSet
from caaspp_authz.catalog import Form, Program, by_name
from caaspp_authz.decision import Action, decide
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError
from caaspp_authz.oracle import table
from caaspp_authz.orgs import Organization
from caaspp_authz.resources import (
    Assessment,
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
    ProgramScope,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
)
from caaspp_authz.serialize import dump_directory

__all__ = [
    "BUILTIN",
    "FORMAT",
    "CorpusDirectory",
    "CorpusError",
    "build",
    "read",
    "render",
    "request_json",
    "write",
]

FORMAT = 1
"""The corpus format number; a change of layout or line shape gets a new one."""

EDGE_ACTOR = "edge cases"
"""The actor name of the edge-case directories, whose principals vary by case."""

BUILTIN = Path(__file__).resolve().parent / "builtin_corpus"
"""The corpus shipped with the library (``caaspp-authz corpus --out`` writes the same)."""


class CorpusError(CaasppAuthzError, ValueError):
    """A corpus folder that cannot be read: a missing file, a line that is not a case."""


@attrs.frozen
class CorpusDirectory:
    """One directory of a corpus and its cases (each a parsed line of ``cases/NAME.jsonl``)."""

    name: str
    rule_set: str
    actor: str
    directory: Mapping[str, Any]
    cases: tuple[Mapping[str, Any], ...]
    path: Path | None = None
    """The directory file on disk, when read from a folder."""


def _group(key: GroupKey) -> dict[str, Any]:
    return {"school": key.school, "school_year": key.school_year, "name": key.name}


def _resource(resource: object) -> dict[str, Any]:
    if isinstance(resource, Student):
        return {"student": resource.ssid}
    if isinstance(resource, GroupKey):
        return {"group": _group(resource)}
    if isinstance(resource, GroupAssignment):
        return {"group_assignment": {"group": _group(resource.group), "to": resource.to}}
    if isinstance(resource, CustomGroup):
        return {
            "custom_group": {
                "owner": resource.owner,
                "name": resource.name,
                "students": sorted(resource.students),
            }
        }
    if isinstance(resource, Report):
        return {"report": {"organizations": list(resource.organizations)}}
    if isinstance(resource, ResourceLink):
        return {"resource_link": {"organization": resource.organization}}
    if isinstance(resource, ToolsForTeachers):
        return {"tools_for_teachers": True}
    if isinstance(resource, Organization):
        return {"organization": resource.cds}
    if isinstance(resource, ProgramScope):  # T2, T3: `assessment` only where it is not `all`
        scope: dict[str, Any] = {"organization": resource.cds, "program": resource.program.value}
        if resource.assessment is not Assessment.ALL:
            scope["assessment"] = resource.assessment.value
        return scope
    if isinstance(resource, Account):
        return {"account": resource.email}
    if isinstance(resource, Grant):
        grant: dict[str, Any] = {
            "to": resource.to,
            "role": resource.role.name,
            "organization": resource.organization,
            "primary": resource.primary,
        }
        if resource.credentialed:
            grant["credentialed"] = True
        return {"grant": grant}
    if isinstance(resource, Unknown) and resource.kind in ("student", "organization", "account"):
        return {resource.kind: resource.value}
    raise TypeError(f"no request format for `{resource!r}`")


def request_json(principal: str, action: Action, resource: object) -> dict[str, Any]:
    """The request in the request format (INTERFACES.md) that ``Request.from_json`` reads back."""
    return {"principal": principal, "action": action.value, "resource": _resource(resource)}


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in out.split("-") if part)


def _case(
    directory: Directory, principal: str, action: Action, resource: object, cell: list[str]
) -> dict[str, Any]:
    d = decide(directory.user(principal), action, resource)
    return {
        "request": request_json(principal, action, resource),
        "allowed": d.allowed,
        "rules": list(d.rules),
        "cell": cell,
    }


# --- edge cases: the rules no cell of the table reaches --------------------------------------

_ALL_FORMS = {p: frozenset(Form) for p in Program}
_LC, _SC = by_name("LEA CAASPP Coordinator"), by_name("Site CAASPP Coordinator")
_ROSTER, _TA = by_name("Educator—Roster"), by_name("CAASPP Test Administrator")
_EXAMINER, _DISTRICT = by_name("CAASPP Test Examiner"), by_name("Educator—District")
_ELPAC_EXAMINER = by_name("ELPAC Test Examiner")


def _account(email: str, *assignments: Assignment, **kw: Any) -> Account:
    kw.setdefault("forms", _ALL_FORMS)
    return Account(Email(email), credentialed=True, assignments=list(assignments), **kw)


def _edge_world(rule_set: RuleSet) -> tuple[Directory, list[tuple[str, Action, object, str]]]:
    """A directory and ``(principal, action, resource, what)`` edge cases for ``rule_set``."""
    a1, a2, lea = table.SCHOOL_A1, table.SCHOOL_A2, table.LEA_A
    accounts = [
        _account("superintendent@example.org", superintendent_of=lea),
        _account("primary@example.org", Assignment(_LC, lea, primary=True)),
        _account("inactive@example.org", Assignment(_SC, a1), active=False),
        _account("noforms@example.org", Assignment(_SC, a2), forms={}),
        _account("roster1@example.org", Assignment(_ROSTER, a1)),
        _account("roster2@example.org", Assignment(_ROSTER, a2)),
        _account("elpac@example.org", Assignment(_ELPAC_EXAMINER, a2)),
    ]
    student = Student("0000000001", a2)
    directory = Directory.build(
        organizations=table.ORGS, accounts=accounts, students=[student], rule_set=rule_set
    )
    new = Email("new.user@example.org")
    cases: list[tuple[str, Action, object, str]] = [
        ("nobody@example.org", Action.ACCESS_TOOLS_FOR_TEACHERS, ToolsForTeachers(), "E1"),
        ("inactive@example.org", Action.ACCESS_TOOLS_FOR_TEACHERS, ToolsForTeachers(), "G11"),
        ("noforms@example.org", Action.VIEW_STUDENT_RESULTS, student, "G10"),
        ("primary@example.org", Action.ADD_ROLE, Grant(new, _EXAMINER, a1), "R5"),
        ("primary@example.org", Action.ADD_ROLE, Grant(new, _DISTRICT, a1), "R2"),
        (
            "superintendent@example.org",
            Action.ADD_ROLE,
            Grant(new, _LC, lea, primary=True),
            "R7",
        ),
        (
            "primary@example.org",
            Action.EDIT_ACCOUNT,
            directory.accounts[Email("superintendent@example.org")],
            "R6",
        ),
        (
            "superintendent@example.org",
            Action.DEACTIVATE_ACCOUNT,
            directory.accounts[Email("superintendent@example.org")],
            "R6: its own account",
        ),
        (
            "primary@example.org",
            Action.ADD_ROLE,
            Grant(Email("roster1@example.org"), _TA, a1),
            "E4",
        ),
        (
            "primary@example.org",
            Action.ADD_ROLE,
            Grant(Email("roster2@example.org"), _TA, a1),
            "E3",
        ),
        (
            "primary@example.org",
            Action.ADD_ROLE,
            Grant(Email("elpac@example.org"), _TA, a1),
            "E3 and E8: a role of the other program",
        ),
        (
            "primary@example.org",
            Action.VIEW_STUDENT_RESULTS,
            Unknown("student", "0000000009"),
            "unknown student",
        ),
    ]
    return directory, cases


def build() -> list[CorpusDirectory]:
    """Every directory of the corpus and its cases, decided by this library now."""
    out: list[CorpusDirectory] = []
    for n, world in enumerate(table.worlds(), start=1):
        cases = tuple(
            _case(
                world.directory,
                table.ACTOR,
                case.action,
                case.resource,
                [case.cell.relation, case.cell.variant],
            )
            for case in world.cases
        )
        name = f"{n:02d}-{_slug(world.rule_set.value)}-{_slug(world.actor)}"
        dumped = dump_directory(world.directory)
        out.append(CorpusDirectory(name, world.rule_set.value, world.actor, dumped, cases))
    for rule_set in RuleSet:
        edge_directory, edge = _edge_world(rule_set)
        cases = tuple(
            _case(
                edge_directory,
                principal,
                action,
                resource,
                ["edge", what],
            )
            for principal, action, resource, what in edge
        )
        name = f"{len(out) + 1:02d}-{_slug(rule_set.value)}-edge-cases"
        edges = dump_directory(edge_directory)
        out.append(CorpusDirectory(name, rule_set.value, EDGE_ACTOR, edges, cases))
    return out


def _line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(directories: Sequence[CorpusDirectory]) -> dict[str, str]:
    """The corpus as files: relative path → text, the manifest included."""
    files: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    rules: set[str] = set()
    total = 0
    digest = hashlib.sha256()
    for d in directories:
        directory_file = f"directories/{d.name}.json"
        cases_file = f"cases/{d.name}.jsonl"
        files[directory_file] = json.dumps(d.directory, ensure_ascii=False, indent=1) + "\n"
        text = "".join(_line(c) + "\n" for c in d.cases)
        files[cases_file] = text
        digest.update(files[directory_file].encode("utf-8"))
        digest.update(text.encode("utf-8"))
        for c in d.cases:
            rules.update(c["rules"])
        total += len(d.cases)
        entries.append(
            {
                "name": d.name,
                "rule_set": d.rule_set,
                "actor": d.actor,
                "directory": directory_file,
                "cases": cases_file,
                "requests": len(d.cases),
            }
        )
    manifest = {
        "format": FORMAT,
        "version": digest.hexdigest(),
        "requests": total,
        "rules": sorted(rules, key=_rule_order),
        "directories": entries,
    }
    files["corpus.json"] = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    return files


def _rule_order(rule: str) -> tuple[str, int]:
    return rule[:1], int(rule[1:]) if rule[1:].isdigit() else 0


def write(out: str | Path, directories: Sequence[CorpusDirectory] | None = None) -> Path:
    """Write a corpus (by default the whole one, :func:`build`) into the folder ``out``.

    The folder's ``corpus.json``, ``directories/`` and ``cases/`` are replaced as a whole: the
    new corpus is written beside them first and moved in place once complete.
    """
    target = Path(out)
    files = render(build() if directories is None else directories)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".corpus-", dir=target))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for name in ("directories", "cases"):
            if (target / name).exists():
                shutil.rmtree(target / name)
            (staging / name).replace(target / name)
        (staging / "corpus.json").replace(target / "corpus.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CorpusError(f"cannot read `{path}`: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"`{path}` is not JSON: {str(exc)[:200]}") from None


def _cases(path: Path) -> Iterator[Mapping[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read `{path}`: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError:
            raise CorpusError(f"`{path}` line {number} is not JSON") from None
        if (
            not isinstance(case, dict)
            or not isinstance(case.get("request"), dict)
            or not isinstance(case.get("allowed"), bool)
        ):
            raise CorpusError(f"`{path}` line {number} is not a case (`request`, `allowed`)")
        yield case


def read(folder: str | Path = BUILTIN) -> list[CorpusDirectory]:
    """The directories and cases of the corpus in ``folder`` (by default :data:`BUILTIN`)."""
    root = Path(folder)
    manifest = _json_file(root / "corpus.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CorpusError(f"`{root / 'corpus.json'}` is not a corpus of format {FORMAT}")
    out: list[CorpusDirectory] = []
    for entry in manifest.get("directories", []):
        try:
            name, directory_file, cases_file = entry["name"], entry["directory"], entry["cases"]
            rule_set, actor = str(entry["rule_set"]), str(entry["actor"])
        except (KeyError, TypeError):
            raise CorpusError(
                f"`{root / 'corpus.json'}` lists an entry without its files"
            ) from None
        path = root / directory_file
        out.append(
            CorpusDirectory(
                str(name),
                rule_set,
                actor,
                _json_file(path),
                tuple(_cases(root / cases_file)),
                path,
            )
        )
    return out
