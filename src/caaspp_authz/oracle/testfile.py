"""Declarative test files: a directory and the assertions a district holds about it (TOML).

A file names a directory, by path (``directory = "directory.json"``, relative to the file) or
inline (a ``[directory]`` table in the directory format), and lists assertions:

- ``[[allow]]`` / ``[[deny]]``: ``principal``, ``action``, ``resource`` (the request format);
  ``rules`` optionally lists rule IDs the decision must name.
- ``[[visible]]``: ``principal``, ``action`` and optionally ``kind`` (``students``, ``groups``
  or ``organizations``); ``expect`` (exactly these), ``includes`` and/or ``excludes``.
  Students are SSIDs, organizations CDS codes, groups ``{school, school_year, name}``.
- ``[[who_can]]``: ``action``, ``resource``; ``expect``, ``includes`` and/or ``excludes``
  (e-mails).
- ``[[upload]]``: ``kind`` (``users`` or ``groups``), ``as`` (the uploader's e-mail),
  ``file`` (relative to the test file) or ``content`` (the CSV text), and ``problems``: every
  problem the validation must report, each matched on the keys given (``row``, ``column``,
  ``rule``, ``severity``, ``value``, ``message``, the message matched as a substring). A
  problem found that matches none is a failure too; ``valid`` optionally asserts the verdict.

Every assertion may carry a ``name``. :func:`run` checks them all and returns a
:class:`Report` with one :class:`Failure` for each assertion that does not hold, saying why.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from caaspp_authz.accounts import canonical_email
from caaspp_authz.decision import POLICY, Action
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError, DirectoryError, InvalidEmail, RequestError
from caaspp_authz.orgs import Organization
from caaspp_authz.queries import visible, who_can
from caaspp_authz.request import Request, read_resource
from caaspp_authz.resources import GroupKey, Student
from caaspp_authz.serialize import load_directory
from caaspp_authz.uploads import problem_json, validate_groups, validate_users

__all__ = ["Failure", "Report", "TestFileError", "load", "run"]

_SECTIONS = ("allow", "deny", "visible", "who_can", "upload")
_KINDS: Mapping[str, type] = {
    "students": Student,
    "groups": GroupKey,
    "organizations": Organization,
}


class TestFileError(CaasppAuthzError, ValueError):
    """A test file that cannot be used at all: not TOML, no usable directory, unknown keys."""

    __test__ = False  # not a pytest test class


@attrs.frozen
class Failure:
    """An assertion that does not hold: which one (section, number, name) and why."""

    section: str
    number: int
    name: str | None
    why: str

    def __str__(self) -> str:
        label = f"[[{self.section}]] #{self.number}" + (f" ({self.name})" if self.name else "")
        return f"{label}: {self.why}"


@attrs.frozen
class Report:
    """Every assertion checked, and the failures among them, in file order."""

    assertions: int
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        """Whether every assertion holds."""
        return not self.failures

    def summary(self) -> str:
        """The final line: ``N assertions, M failed``."""
        return f"{self.assertions} assertions, {len(self.failures)} failed"


class _Fail(Exception):
    """An assertion's reason for failing, raised inside its check."""


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise _Fail(f"`{key}` must be text, not `{value!r}`")
    return value


def _request(entry: Mapping[str, Any], directory: Directory) -> Request:
    mapping = {k: entry.get(k) for k in ("principal", "action", "resource")}
    try:
        return Request.from_json(mapping, directory)
    except RequestError as exc:
        raise _Fail(f"the request cannot be read: {exc}") from None


def _shown(request: Mapping[str, Any]) -> str:
    resource = ", ".join(f"{k} {v}" for k, v in (request.get("resource") or {}).items())
    return f"`{request.get('principal')}` {request.get('action')} {resource}".rstrip()


def _decision(allowed: bool) -> Callable[[Mapping[str, Any], Directory, Path], None]:
    def check(entry: Mapping[str, Any], directory: Directory, base: Path) -> None:
        request = _request(entry, directory)
        d = request.decide()
        got = f"{'allow' if d.allowed else 'deny'} ({', '.join(d.rules) or 'no rule'})"
        if d.allowed is not allowed:
            want = "allow" if allowed else "deny"
            raise _Fail(f"{_shown(entry)}: expected {want}, got {got}: {d.reason}")
        rules = entry.get("rules", [])
        missing = [r for r in rules if r not in d.rules]
        if missing:
            raise _Fail(
                f"{_shown(entry)}: the decision names {got}, not {', '.join(missing)}: {d.reason}"
            )

    return check


def _item(value: object) -> object:
    """A listed item as :func:`_compare` compares it: groups as a tuple."""
    if isinstance(value, Mapping):
        return (str(value.get("school")), value.get("school_year"), str(value.get("name")))
    return value


def _listed(item: object) -> object:
    if isinstance(item, Student):
        return item.ssid
    if isinstance(item, GroupKey):
        return (item.school, item.school_year, item.name)
    if isinstance(item, Organization):
        return item.cds
    return str(item)


def _show_item(item: object) -> str:
    if isinstance(item, tuple):
        return f"group {item[2]!r} at `{item[0]}` ({item[1]})"
    return f"`{item}`"


def _compare(entry: Mapping[str, Any], found: Sequence[object], what: str) -> None:
    have = {_item(x) for x in found}
    problems: list[str] = []
    if "expect" in entry:
        want = {_item(x) for x in entry["expect"]}
        if want - have:
            problems.append("missing " + ", ".join(sorted(map(_show_item, want - have))))
        if have - want:
            problems.append("also " + ", ".join(sorted(map(_show_item, have - want))))
    for x in entry.get("includes", []):
        if _item(x) not in have:
            problems.append(f"missing {_show_item(_item(x))}")
    for x in entry.get("excludes", []):
        if _item(x) in have:
            problems.append(f"unexpectedly {_show_item(_item(x))}")
    if not any(k in entry for k in ("expect", "includes", "excludes")):
        raise _Fail("give `expect`, `includes` or `excludes`")
    if problems:
        raise _Fail(f"{what}: {'; '.join(problems)}")


def _action(entry: Mapping[str, Any]) -> Action:
    text = _text(entry, "action")
    try:
        return Action(text)
    except ValueError:
        raise _Fail(f"`{text}` is not an action") from None


def _visible(entry: Mapping[str, Any], directory: Directory, base: Path) -> None:
    action = _action(entry)
    try:
        principal = canonical_email(_text(entry, "principal"))
    except InvalidEmail as exc:
        raise _Fail(f"`principal`: {exc}") from None
    takes = POLICY[action].kinds
    given = entry.get("kind")
    kind = given if given is not None else next((k for k, t in _KINDS.items() if t in takes), None)
    if not isinstance(kind, str) or kind not in _KINDS or _KINDS[kind] not in takes:
        raise _Fail(f"`{action.value}` does not act on {kind or 'a listed kind'}")
    user = directory.user(principal)
    items: list[object]
    if kind == "students":
        items = list(directory.students.values())
    elif kind == "groups":
        items = list(directory.groups)
    else:
        items = list(directory.tree)
    found = [_listed(x) for x in visible(user, action, items)]
    _compare(entry, found, f"`{principal}` may {action.value} {kind}")


def _who_can(entry: Mapping[str, Any], directory: Directory, base: Path) -> None:
    action = _action(entry)
    try:
        resource = read_resource(action, entry.get("resource"), directory)
    except RequestError as exc:
        raise _Fail(f"the resource cannot be read: {exc}") from None
    found = [str(u.email) for u in who_can(action, resource, directory)]
    _compare(entry, found, f"who may {action.value}")


_PROBLEM_KEYS = ("row", "column", "value", "rule", "severity", "message")


def _matches(want: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    for key, value in want.items():
        if key == "message":
            if str(value) not in str(got["message"]):
                return False
        elif got.get(key) != value:
            return False
    return True


def _upload(entry: Mapping[str, Any], directory: Directory, base: Path) -> None:
    kind = entry.get("kind")
    if kind not in ("users", "groups"):
        raise _Fail(f"`kind` must be `users` or `groups`, not `{kind!r}`")
    uploader = _text(entry, "as")
    if "content" in entry:
        source: bytes | str = _text(entry, "content").encode("utf-8")
    else:
        path = base / _text(entry, "file")
        if not path.is_file():
            raise _Fail(f"no file `{path}`")
        source = str(path)
    validate = validate_users if kind == "users" else validate_groups
    result = validate(source, directory, uploader=uploader)
    found = [problem_json(p) for p in result.problems]
    wanted = entry.get("problems", [])
    if not isinstance(wanted, list) or not all(isinstance(w, Mapping) for w in wanted):
        raise _Fail("`problems` must be a list of tables")
    reasons: list[str] = []
    unmatched = list(found)
    for want in wanted:
        bad = set(want) - set(_PROBLEM_KEYS)
        if bad:
            raise _Fail(f"a problem may give {', '.join(_PROBLEM_KEYS)}, not {', '.join(bad)}")
        hit = next((g for g in unmatched if _matches(want, g)), None)
        if hit is None:
            shown = ", ".join(f"{k} {v!r}" for k, v in want.items())
            reasons.append(f"no problem with {shown}")
        else:
            unmatched.remove(hit)
    for g in unmatched:
        reasons.append(
            f"unexpected {g['severity']} on row {g['row']} [{g['rule']}]: {g['message']}"
        )
    if "valid" in entry and entry["valid"] is not result.valid:
        reasons.append(f"expected {'valid' if entry['valid'] else 'not valid'}")
    if reasons:
        raise _Fail(f"{kind} file: " + "; ".join(reasons))


_CHECKS: Mapping[str, Callable[[Mapping[str, Any], Directory, Path], None]] = {
    "allow": _decision(True),
    "deny": _decision(False),
    "visible": _visible,
    "who_can": _who_can,
    "upload": _upload,
}


def load(path: str | Path) -> tuple[Directory, dict[str, Any]]:
    """Read a test file: its directory and its parsed TOML. Raises :class:`TestFileError`."""
    source = Path(path)
    try:
        with source.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise TestFileError(f"cannot read `{source}`: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TestFileError(f"`{source}` is not TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib lets the decoding error out
        raise TestFileError(
            f"`{source}` is not TOML: it is not UTF-8 text ({exc.reason})"
        ) from None
    unknown = set(data) - {"directory", *_SECTIONS}
    if unknown:
        raise TestFileError(
            f"`{source}`: unknown key(s) {', '.join(sorted(unknown))}; "
            f"a test file has `directory` and {', '.join(_SECTIONS)}"
        )
    given = data.get("directory")
    try:
        if isinstance(given, str):
            directory = load_directory(source.parent / given)
        elif isinstance(given, Mapping):
            directory = load_directory(given)
        else:
            raise TestFileError(f"`{source}` names no `directory` (a path or a table)")
    except DirectoryError as exc:
        raise TestFileError(f"`{source}`: {exc}") from None
    except OSError as exc:
        raise TestFileError(f"`{source}`: cannot read the directory: {exc}") from None
    return directory, data


def run(path: str | Path) -> Report:
    """Check every assertion of the test file at ``path``; raises :class:`TestFileError`
    for a file that cannot be used at all."""
    directory, data = load(path)
    base = Path(path).parent
    failures: list[Failure] = []
    count = 0
    for section in _SECTIONS:
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise TestFileError(f"`{section}` must be an array of tables (`[[{section}]]`)")
        for number, entry in enumerate(entries, start=1):
            count += 1
            name = entry.get("name") if isinstance(entry, Mapping) else None
            try:
                if not isinstance(entry, Mapping):
                    raise _Fail("must be a table")
                _CHECKS[section](entry, directory, base)
            except _Fail as exc:
                failures.append(Failure(section, number, name, str(exc)))
    return Report(count, tuple(failures))
