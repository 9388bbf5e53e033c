"""The directory format (JSON, ``format: 1``): reading it into a Directory and writing it back.

:func:`load_directory` collects every problem of the file (a bad CDS code, an unknown role, a
missing field) with where it is and raises one :class:`~caaspp_authz.errors.DirectoryError`;
then :meth:`Directory.build <caaspp_authz.directory.Directory.build>` checks the rulebook. A
directory is loaded whole or not at all.

The JSON text is read strictly (``caaspp_authz._json``): a key twice in one object, a number
longer than 64 characters, ``NaN`` and nesting too deep for the reader are refused with a
problem saying which. No message echoes more than a bounded part of a value
(:func:`~caaspp_authz.errors.shown`). A name or phone number beginning with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return loads with a warning: a spreadsheet would run it as a formula.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from caaspp_authz._csvread import looks_like_formula
from caaspp_authz._files import replace_atomically
from caaspp_authz._json import JsonProblem
from caaspp_authz._json import loads as _loads
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet, canonical_email
from caaspp_authz.catalog import Form, Program, resolve_role
from caaspp_authz.directory import Directory
from caaspp_authz.errors import (
    CaasppAuthzError,
    DirectoryError,
    InvalidCDSCode,
    InvalidEmail,
    Problem,
    Severity,
    UnknownRole,
    shown,
)
from caaspp_authz.orgs import CDSCode, Level, Organization, is_lea_code, parse_cds
from caaspp_authz.resources import CustomGroup, Group, GroupKey, Student

__all__ = [
    "FORMAT",
    "dump_directory",
    "iter_directory_json",
    "load_directory",
    "write_directory_json",
]

FORMAT = 1
T = TypeVar("T")


class _Reader:
    """Reads one directory mapping, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, rule: str, where: str, message: str, value: object = None, **kw: Any) -> None:
        text = None if value is None else shown(value)
        self.problems.append(Problem(rule, message, where=where, value=text, **kw))

    def field(self, item: Mapping[str, Any], name: str, where: str, kind: type[T]) -> T | None:
        if name not in item:
            self.fail("U2", where, f"field `{name}` is missing")
            return None
        value = item[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail("U2", where, f"field `{name}` must be {kind.__name__}, not `{shown(value)}`")
            return None
        return value

    def opt(self, item: Mapping[str, Any], name: str, where: str, kind: type[T], default: T) -> T:
        if item.get(name) is None:
            return default
        value = self.field(item, name, where, kind)
        return default if value is None else value

    def convert(
        self, parse: Callable[[str], T], text: object, where: str, column: str
    ) -> T | None:
        if not isinstance(text, str):
            self.fail("U2", where, f"field `{column}` must be text, not `{shown(text)}`")
            return None
        try:
            return parse(text)
        except (InvalidCDSCode, InvalidEmail, UnknownRole) as exc:
            fix = getattr(exc, "suggestion", None)
            self.fail(exc.rule, where, shown(str(exc.args[0]), 300), text, column=column, fix=fix)
            return None

    def formula(self, where: str, column: str, value: str) -> None:
        """Warn on a value a spreadsheet would run as a formula (written out to a CSV file)."""
        if looks_like_formula(value):
            self.fail(
                "U3",
                where,
                f"`{column}` begins with `{value[0]!r}`: a spreadsheet would run it as a formula",
                value,
                column=column,
                severity=Severity.WARNING,
                fix="check the value; files the library writes escape it",
            )

    def items(self, data: Mapping[str, Any], name: str, *, required: bool) -> list[Any]:
        value = data.get(name)
        if value is None:
            if required:
                self.fail("U2", "the directory", f"`{name}` is missing")
            return []
        if not isinstance(value, list):
            self.fail("U2", "the directory", f"`{name}` must be a list")
            return []
        return value


def load_directory(source: str | os.PathLike[str] | Mapping[str, Any]) -> Directory:
    """Load a directory from a path to a file or an already parsed mapping (format 1).

    The file is either the JSON directory format or the library's storage format
    (:mod:`caaspp_authz.store`), told apart by its first bytes (the SQLite header), not its
    name. Raises :class:`~caaspp_authz.errors.DirectoryError` listing every problem; never loads a
    directory in part.
    """
    if isinstance(source, Mapping):
        data: Any = source
    else:
        path = Path(source)
        from caaspp_authz import store

        if store.is_store(path):
            return store.open_directory(path)
        try:
            data = _loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise DirectoryError(
                [Problem("U2", f"cannot read `{shown(str(path))}`: {exc.strerror}")]
            ) from exc
        except UnicodeDecodeError as exc:
            raise DirectoryError(
                [Problem("U2", f"`{shown(str(path))}` is not UTF-8 text: {exc.reason}")]
            ) from None
        except JsonProblem as exc:
            raise DirectoryError([Problem("U2", f"`{shown(str(path))}` {exc}")]) from None
    if not isinstance(data, Mapping):
        raise DirectoryError([Problem("U2", "a directory is a JSON object")])
    return _read(data)


def _read(data: Mapping[str, Any]) -> Directory:
    r = _Reader()
    version = data.get("format")
    if type(version) is not int or version != FORMAT:  # not `true`, not `1.0`
        r.fail("U2", "the directory", f"`format` must be {FORMAT}", data.get("format"))
    rule_set = RuleSet.ONE_ROLE_PER_EMAIL
    given = data.get("rule_set")
    if given is not None:
        known = {s.value: s for s in RuleSet}
        if isinstance(given, str) and given in known:
            rule_set = known[given]
        else:
            names = ", ".join(f"`{s.value}`" for s in RuleSet)
            r.fail("E7", "the directory", f"`rule_set` must be one of {names}", given)

    orgs: list[Organization] = []
    for i, item in enumerate(r.items(data, "organizations", required=True), start=1):
        orgs.extend(_org(r, item, f"organization {i}"))
    accounts = [
        a
        for i, item in enumerate(r.items(data, "accounts", required=False), start=1)
        for a in _account(r, item, f"account {i}")
    ]
    students = _students(r, r.items(data, "students", required=False))
    groups = [
        g
        for i, item in enumerate(r.items(data, "groups", required=False), start=1)
        for g in _group(r, item, f"group {i}")
    ]
    customs = [
        c
        for i, item in enumerate(r.items(data, "custom_groups", required=False), start=1)
        for c in _custom(r, item, f"custom group {i}")
    ]
    errors = [p for p in r.problems if p.severity is Severity.ERROR]
    if errors:
        raise DirectoryError(r.problems)
    try:
        directory = Directory.build(
            organizations=orgs,
            accounts=accounts,
            students=students,
            groups=groups,
            custom_groups=customs,
            rule_set=rule_set,
        )
    except DirectoryError as exc:
        raise DirectoryError([*r.problems, *exc.problems]) from None
    if r.problems:
        directory = attrs.evolve(directory, warnings=(*r.problems, *directory.warnings))
    return directory


def _students(r: _Reader, items: list[Any]) -> list[Student]:
    """The students, each school code checked once however many students it has (O5)."""
    schools: dict[str, CDSCode] = {}
    bad: dict[str, str] = {}
    students: list[Student] = []
    for i, item in enumerate(items, start=1):
        if type(item) is not dict and not isinstance(item, Mapping):  # the cheap test first
            r.fail("U2", f"student {i}", "must be an object")
            continue
        ssid, school_text = item.get("ssid"), item.get("school")
        if type(ssid) is not str and not isinstance(ssid, str):
            r.field(item, "ssid", f"student {i}", str)  # records the problem
            continue
        if type(school_text) is not str and not isinstance(school_text, str):
            r.fail(
                "U2",
                f"student `{shown(ssid)}`",
                f"field `school` must be text, not `{shown(school_text)}`",
            )
            continue
        school = schools.get(school_text)
        if school is None and school_text not in bad:
            try:
                school = schools[school_text] = parse_cds(school_text)
            except InvalidCDSCode as exc:
                bad[school_text] = str(exc)
        if school is None:
            r.fail(
                "O5", f"student `{shown(ssid)}`", bad[school_text], school_text, column="school"
            )
            continue
        students.append(Student(ssid, school))
    return students


def _org(r: _Reader, item: Any, where: str) -> list[Organization]:
    if not isinstance(item, Mapping):
        r.fail("U2", where, "must be an object")
        return []
    code = r.convert(parse_cds, item.get("cds"), where, "cds")
    name = r.field(item, "name", where, str)
    if code is None or name is None:
        return []
    where = f"organization `{code}`"
    r.formula(where, "name", name)
    level_text = r.opt(item, "level", where, str, "")
    lea_text = item.get("lea")
    if level_text not in ("", "lea", "school"):
        r.fail("O1", where, "`level` must be `lea` or `school`", level_text)
        return []
    if level_text == "lea" or (level_text == "" and is_lea_code(code) and lea_text is None):
        if lea_text is not None:
            r.fail("O3", where, "an LEA has no parent `lea`", lea_text)
            return []
        return [Organization(code, name, Level.LEA)]
    if is_lea_code(code) and level_text != "school":
        r.fail("O2", where, f"`{code}` ends in 0000000, so it is an LEA and has no `lea`")
        return []
    lea: CDSCode | None
    if lea_text is None:
        lea = CDSCode(code[:7] + "0000000")
    else:
        lea = r.convert(parse_cds, lea_text, where, "lea")
        if lea is None:
            return []
    return [Organization(code, name, Level.SCHOOL, lea)]


def _forms(r: _Reader, item: Any, where: str) -> dict[Program, frozenset[Form]]:
    if item is None:
        return {}
    if not isinstance(item, Mapping):
        r.fail("G10", where, "`forms` must be an object of program → list of forms")
        return {}
    forms: dict[Program, frozenset[Form]] = {}
    programs = {p.value: p for p in Program}
    kinds = {f.value: f for f in Form}
    for program_text, names in item.items():
        program = programs.get(program_text) if isinstance(program_text, str) else None
        if program is None:
            r.fail("R1", where, f"`{shown(program_text)}` is not a program (CAASPP or ELPAC)")
            continue
        if not isinstance(names, list):
            r.fail("G10", where, f"the forms of {program_text} must be a list")
            continue
        found: set[Form] = set()
        for name in names:
            form = kinds.get(name) if isinstance(name, str) else None
            if form is None:
                r.fail(
                    "G10", where, f"`{shown(name)}` is not a form (agreement or affidavit)", name
                )
                continue
            found.add(form)
        forms[program] = frozenset(found)
    return forms


def _account(r: _Reader, item: Any, where: str) -> list[Account]:
    if not isinstance(item, Mapping):
        r.fail("U2", where, "must be an object")
        return []
    email = r.convert(canonical_email, item.get("email"), where, "email")
    if email is None:
        return []
    where = f"account `{email}`"
    names = {k: r.field(item, k, where, str) for k in ("first_name", "last_name", "phone")}
    for column, value in names.items():
        if value is not None and not (column == "phone" and _phone_like(value)):
            r.formula(where, column, value)
    sup_text = item.get("superintendent_of")
    sup = None if sup_text is None else r.convert(parse_cds, sup_text, where, "superintendent_of")
    assignments: list[Assignment] = []
    roles = item.get("roles", [])
    if not isinstance(roles, list):
        r.fail("U2", where, "`roles` must be a list")
        roles = []
    for j, role_item in enumerate(roles, start=1):
        rwhere = f"{where}, role {j}"
        if not isinstance(role_item, Mapping):
            r.fail("U2", rwhere, "must be an object")
            continue
        found = r.convert(resolve_role, role_item.get("role"), rwhere, "role")
        org = r.convert(parse_cds, role_item.get("org"), rwhere, "org")
        primary = r.opt(role_item, "primary", rwhere, bool, False)
        if found is None or org is None:
            continue
        role, legacy = found
        if legacy:
            r.fail(
                "R3",
                rwhere,
                f"`{shown(role_item['role'])}` is a legacy name of `{role}`",
                role_item["role"],
                severity=Severity.WARNING,
                fix=f"write `{role}`",
            )
        assignments.append(Assignment(role, org, primary))
    return [
        Account(
            email=email,
            first_name=names["first_name"] or "",
            last_name=names["last_name"] or "",
            phone=names["phone"] or "",
            active=r.opt(item, "active", where, bool, True),
            credentialed=r.opt(item, "credentialed", where, bool, False),
            superintendent_of=sup,
            forms=_forms(r, item.get("forms"), where),
            assignments=assignments,
        )
    ]


def _emails(r: _Reader, values: Any, where: str, name: str) -> frozenset[Email]:
    if not isinstance(values, list):
        r.fail("U2", where, f"`{name}` must be a list")
        return frozenset()
    found = (r.convert(canonical_email, v, where, name) for v in values)
    return frozenset(e for e in found if e is not None)


def _ssids(r: _Reader, values: Any, where: str) -> frozenset[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        r.fail("U2", where, "`students` must be a list of SSIDs")
        return frozenset()
    return frozenset(values)


def _group(r: _Reader, item: Any, where: str) -> list[Group]:
    if not isinstance(item, Mapping):
        r.fail("U2", where, "must be an object")
        return []
    name = r.field(item, "name", where, str)
    school = r.convert(parse_cds, item.get("school"), where, "school")
    year = r.field(item, "school_year", where, int)
    subject = r.field(item, "subject", where, str)
    students = _ssids(r, item.get("students", []), where)
    users = _emails(r, item.get("users", []), where, "users")
    if name is None or school is None or year is None or subject is None:
        return []
    r.formula(where, "name", name)
    return [Group(GroupKey(school, year, name), subject, students, users)]


def _custom(r: _Reader, item: Any, where: str) -> list[CustomGroup]:
    if not isinstance(item, Mapping):
        r.fail("U2", where, "must be an object")
        return []
    owner = r.convert(canonical_email, item.get("owner"), where, "owner")
    name = r.field(item, "name", where, str)
    students = _ssids(r, item.get("students", []), where)
    if owner is None or name is None:
        return []
    r.formula(where, "name", name)
    return [CustomGroup(owner, name, students)]


def _phone_like(value: str) -> bool:
    """A telephone number as people write one (``+1 213-555-0100``): no formula warning."""
    return bool(value) and all(c.isdigit() or c in " +-().x" for c in value)


def _org_entry(org: Organization) -> dict[str, Any]:
    entry: dict[str, Any] = {"cds": org.cds, "name": org.name}
    if org.level is Level.LEA and not is_lea_code(org.cds):
        entry["level"] = "lea"
    elif org.level is Level.SCHOOL:
        if is_lea_code(org.cds):
            entry["level"] = "school"
        if org.lea != org.cds[:7] + "0000000" or is_lea_code(org.cds):
            entry["lea"] = org.lea
    return entry


def _account_entry(a: Account) -> dict[str, Any]:
    return {
        "email": a.email,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "phone": a.phone,
        "active": a.active,
        "credentialed": a.credentialed,
        "superintendent_of": a.superintendent_of,
        "forms": {
            p.value: sorted(f.value for f in a.forms.get(p, ())) for p in Program if a.forms.get(p)
        }
        if a.forms
        else {},
        "roles": [
            {"role": x.role.name, "org": x.org, "primary": x.primary} for x in a.assignments
        ],
    }


def _student_entry(s: Student) -> dict[str, Any]:
    return {"ssid": s.ssid, "school": s.school}


def _group_entry(g: Group) -> dict[str, Any]:
    return {
        "name": g.key.name,
        "school": g.key.school,
        "school_year": g.key.school_year,
        "subject": g.subject,
        "students": sorted(g.students),
        "users": sorted(g.users),
    }


def _custom_entry(c: CustomGroup) -> dict[str, Any]:
    return {"owner": c.owner, "name": c.name, "students": sorted(c.students)}


def _sections(directory: Directory) -> list[tuple[str, Iterable[dict[str, Any]]]]:
    """The directory's lists, each made one entry at a time as it is read."""
    return [
        ("organizations", map(_org_entry, directory.tree)),
        ("accounts", map(_account_entry, directory.accounts.values())),
        ("students", map(_student_entry, directory.students.values())),
        ("groups", map(_group_entry, directory.groups.values())),
        ("custom_groups", map(_custom_entry, directory.custom_groups.values())),
    ]


def dump_directory(directory: Directory) -> dict[str, Any]:
    """The directory in the directory format, ready for ``json.dump``; loads back equal."""
    out: dict[str, Any] = {"format": FORMAT, "rule_set": directory.rule_set.value}
    for name, entries in _sections(directory):
        out[name] = list(entries)
    return out


def _encoder() -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False).encode``, its C encoder made once (not once a
    call) where the standard library has one."""
    base = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python without the C accelerator
        return base.encode
    encode = make(
        None, base.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )

    def one(value: Any) -> str:
        return "".join(encode(value, 0))

    return one


def iter_directory_json(directory: Directory) -> Iterator[str]:
    """The directory's JSON text (the directory format) in pieces, written as it is read.

    ``"".join(iter_directory_json(d))`` is a JSON text whose value is ``dump_directory(d)``;
    each organization, account, student and group is one line of it. A big directory is
    written without holding its whole mapping or text in memory, and each entry is encoded by
    the standard library's C encoder.
    """
    encode = _encoder()
    yield "{\n"
    yield f'  "format": {FORMAT},\n  "rule_set": {encode(directory.rule_set.value)},\n'
    sections = _sections(directory)
    for i, (name, entries) in enumerate(sections):
        yield f'  "{name}": ['
        lead = "\n    "
        for entry in entries:
            yield lead + encode(entry)
            lead = ",\n    "
        closing = "]" if lead == "\n    " else "\n  ]"
        yield closing + (",\n" if i < len(sections) - 1 else "\n")
    yield "}\n"


def write_directory_json(directory: Directory, path: str | os.PathLike[str]) -> None:
    """Write the directory's JSON text to ``path`` atomically, as it is read
    (:func:`iter_directory_json`): a reader sees the old file or the whole new one."""

    def fill(temporary: str) -> None:
        with open(temporary, "w", encoding="utf-8", newline="\n") as f:
            pending: list[str] = []
            size = 0
            for piece in iter_directory_json(directory):
                pending.append(piece)
                size += len(piece)
                if size > 1 << 20:
                    f.write("".join(pending))
                    pending, size = [], 0
            f.write("".join(pending))

    replace_atomically(path, fill)


_ = CaasppAuthzError
