"""Upload files: the TOMS user upload and the CERS student-group upload, validated and applied.

A file is validated before it is applied, and a file with any error applies nothing (U2).
Validation streams: records are read one at a time and every problem is reported, not only
the first, each with its spreadsheet row (the header is row 1), column, value, rule ID,
severity, message and, where one exists, a fix.

- :func:`validate_users` / :func:`iter_user_problems`: the TOMS user upload (U1, U3, U4, U6,
  R3–R5, O5, E1–E7, G3, G9).
- :func:`validate_groups` / :func:`iter_group_problems`: the CERS student-group upload (U5, V3).
- :func:`apply_users` / :func:`apply_groups`: a validated file applied to a directory gives a
  new :class:`~caaspp_authz.directory.Directory`, built through ``Directory.build`` so that every
  rule is checked again, and a :class:`ChangeReport`.
- :func:`users_csv` / :func:`groups_csv`: a directory's assignments and groups written as upload
  files.

Validation keeps, per e-mail of the file, the one role it was first given and the row (E5), and
per group of the file its subject; never the rows themselves. Checks that depend only on a
row's CDS code and role (O5, R2–R5, G3, G9) are computed once per distinct pair, and the user
upload remembers up to 4,096 e-mail domains it found plain (E1, E6). A user-upload row of a pair
with no problem, plain names and phone and a plain ASCII address takes a fast path through
those; every other row takes the full checks, which find the same outcome for a row of the fast
path.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, cast

import attrs

from caaspp_authz._csvread import (
    _FORMULA_STARTS,
    Record,
    _Batch,
    _parts,
    _record,
    header_and_records,
    looks_like_formula,
)
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet, canonical_email
from caaspp_authz.catalog import ROLES, Role, highest, resolve_role
from caaspp_authz.decision import Action, decide, governs
from caaspp_authz.directory import Directory, User
from caaspp_authz.errors import (
    CaasppAuthzError,
    DirectoryError,
    InvalidCDSCode,
    InvalidEmail,
    Problem,
    Severity,
    UnknownRole,
)
from caaspp_authz.orgs import CDSCode, Level, parse_cds
from caaspp_authz.resources import SUBJECTS, Group, GroupKey, Student

__all__ = [
    "GROUP_HEADER",
    "USER_HEADER",
    "AssignmentChange",
    "ChangeReport",
    "GroupRow",
    "MemberChange",
    "Source",
    "UploadError",
    "UploadResult",
    "UserRow",
    "Validation",
    "apply_groups",
    "apply_users",
    "groups_csv",
    "iter_group_problems",
    "iter_user_problems",
    "problem_json",
    "users_csv",
    "validate_groups",
    "validate_users",
]

USER_HEADER = (
    "First Name",
    "Last Name",
    "CDS Code",
    "E-mail Address",
    "Telephone Number",
    "Role in Organization",
)
"""The TOMS user upload header, in order (U1); names match case-insensitively."""

GROUP_HEADER = (
    "group_name",
    "school_natural_id",
    "school_year",
    "subject_code",
    "student_ssid",
    "group_user_login",
)
"""The CERS student-group upload header, in order (U5)."""

Source = str | os.PathLike[str] | BinaryIO | bytes
"""An upload file: a path, an open binary stream, or the file's bytes."""

_FIRST, _LAST, _CDS, _EMAIL, _PHONE, _ROLE = USER_HEADER
_GNAME, _GSCHOOL, _GYEAR, _GSUBJECT, _GSSID, _GLOGIN = GROUP_HEADER
_ROLE_INDEX: Mapping[str, int] = {r.name: i for i, r in enumerate(ROLES)}
_SHOWN = 80
_PLAIN_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{1,10}")
"""E1, E6 in one pattern: ``canonical_email``'s pattern with the part after the last dot (the
only dot the pattern's ``\\.`` can match, as the part after it has none) at most 10 long."""

_DOMAINS = 4096
"""How many plain e-mail domains a user-upload validation remembers."""

_lower = cast("Callable[[str], Email]", str.lower)
"""``str.lower``, typed as giving the canonical e-mail it gives once an address is checked."""

_UNUSUAL_START = frozenset(_FORMULA_STARTS | {c for c in map(chr, range(0x3001)) if c.isspace()})
"""First characters that send a name or phone to the full checks: a formula start (U3) or a
character ``str.strip`` removes (U1); every such character is below U+3001."""


def _plainly_valid(email: str) -> bool:
    """Whether ``canonical_email`` accepts this trimmed, lower-cased address (E1, E6)."""
    return _PLAIN_EMAIL.fullmatch(email) is not None


class UploadError(CaasppAuthzError, ValueError):
    """An upload file with errors: nothing was applied (U2). Carries every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        head = f"the file is refused: {len(errors)} error(s)"
        super().__init__("\n".join([head, *(f"  {p}" for p in errors)]))

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that refused the file."""
        return tuple(p for p in self.problems if p.is_error)


@attrs.frozen
class Validation:
    """What validating an upload file found: every problem, in row order, and the rows read."""

    kind: str
    problems: tuple[Problem, ...]
    rows: int

    @property
    def valid(self) -> bool:
        """Whether the file has no error (warnings do not refuse a file)."""
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that refuse the file."""
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems that do not refuse the file."""
        return tuple(p for p in self.problems if not p.is_error)

    def to_json(self) -> dict[str, Any]:
        """The ``validate`` command's JSON output (INTERFACES.md), with a ``fix`` key added."""
        return {
            "valid": self.valid,
            "problems": [problem_json(p) for p in self.problems],
        }


def problem_json(p: Problem) -> dict[str, Any]:
    """One problem in the ``validate`` command's JSON form."""
    return {
        "row": p.row,
        "column": p.column,
        "value": p.value,
        "rule": p.rule,
        "severity": p.severity.value,
        "message": p.message,
        "fix": p.fix,
    }


@attrs.frozen
class UserRow:
    """One valid row of a user upload: a role at an organization for an e-mail (U1)."""

    row: int
    first_name: str
    last_name: str
    cds: CDSCode
    email: Email
    phone: str
    role: Role


@attrs.frozen
class GroupRow:
    """One valid row of a group upload: a member of a group (U5); SSID, login or both."""

    row: int
    key: GroupKey
    subject: str
    ssid: str | None
    login: Email | None


@attrs.frozen
class AssignmentChange:
    """A role at an organization given to an account; ``previous`` is the role it replaced (U4)."""

    email: Email
    role: str
    org: CDSCode
    previous: str | None = None

    def to_json(self) -> dict[str, Any]:
        """This change as JSON."""
        return {"email": self.email, "role": self.role, "org": self.org, "previous": self.previous}


@attrs.frozen
class MemberChange:
    """A student (by SSID) or a user (by e-mail) joining or leaving a group."""

    group: GroupKey
    kind: str
    member: str

    def to_json(self) -> dict[str, Any]:
        """This change as JSON."""
        return {
            "group": {
                "name": self.group.name,
                "school": self.group.school,
                "school_year": self.group.school_year,
            },
            "kind": self.kind,
            "member": self.member,
        }


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


def _key_json(key: GroupKey) -> dict[str, Any]:
    return {"name": key.name, "school": key.school, "school_year": key.school_year}


@attrs.frozen
class ChangeReport:
    """Everything applying an upload changed (U4, U5, U6, G11)."""

    assignments_added: tuple[AssignmentChange, ...] = attrs.field(default=(), converter=_tuple)
    assignments_overridden: tuple[AssignmentChange, ...] = attrs.field(
        default=(), converter=_tuple
    )
    accounts_created: tuple[Email, ...] = attrs.field(default=(), converter=_tuple)
    accounts_reactivated: tuple[Email, ...] = attrs.field(default=(), converter=_tuple)
    accounts_credentialed: tuple[Email, ...] = attrs.field(default=(), converter=_tuple)
    groups_created: tuple[GroupKey, ...] = attrs.field(default=(), converter=_tuple)
    groups_replaced: tuple[GroupKey, ...] = attrs.field(default=(), converter=_tuple)
    members_added: tuple[MemberChange, ...] = attrs.field(default=(), converter=_tuple)
    members_removed: tuple[MemberChange, ...] = attrs.field(default=(), converter=_tuple)
    students_added: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    def to_json(self) -> dict[str, Any]:
        """The change report as JSON."""
        return {
            "assignments_added": [c.to_json() for c in self.assignments_added],
            "assignments_overridden": [c.to_json() for c in self.assignments_overridden],
            "accounts_created": list(self.accounts_created),
            "accounts_reactivated": list(self.accounts_reactivated),
            "accounts_credentialed": list(self.accounts_credentialed),
            "groups_created": [_key_json(k) for k in self.groups_created],
            "groups_replaced": [_key_json(k) for k in self.groups_replaced],
            "members_added": [c.to_json() for c in self.members_added],
            "members_removed": [c.to_json() for c in self.members_removed],
            "students_added": list(self.students_added),
        }

    def lines(self) -> list[str]:
        """The change report as readable lines, one a change, after a line of counts."""
        out: list[str] = []
        for c in self.assignments_added:
            out.append(f"added       {c.email}: {c.role} at {c.org}")
        for c in self.assignments_overridden:
            out.append(f"overridden  {c.email}: {c.previous} at {c.org} -> {c.role}  (U4)")
        out.extend(f"created     account {e}" for e in self.accounts_created)
        out.extend(f"reactivated account {e}  (G11)" for e in self.accounts_reactivated)
        out.extend(f"credentialed account {e}  (R5, U6)" for e in self.accounts_credentialed)
        out.extend(f"created     group {k}" for k in self.groups_created)
        out.extend(f"replaced    group {k}" for k in self.groups_replaced)
        out.extend(f"students    added {s}  (U5)" for s in self.students_added)
        for m in self.members_added:
            out.append(f"joined      {m.kind} {m.member} -> group {m.group}")
        for m in self.members_removed:
            out.append(f"left        {m.kind} {m.member} <- group {m.group}")
        return out


@attrs.frozen(eq=False)
class UploadResult:
    """An applied upload: the new directory, what changed, and the file's warnings."""

    directory: Directory
    changes: ChangeReport
    warnings: tuple[Problem, ...]


# --- shared pieces ---------------------------------------------------------------------------


def _open(source: Source) -> tuple[Record | None, Iterator[Record]]:
    if isinstance(source, bytes | bytearray):
        return header_and_records(io.BytesIO(bytes(source)))
    return header_and_records(source)


def _open_parts(source: Source) -> tuple[Record | None, Iterator[Record | _Batch]]:
    """The header and the records after it, the fast path's in batches (see ``_parts``)."""
    parts = _parts(io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray) else source)
    header = next(parts, None)
    assert header is None or isinstance(header, Record)  # the header is never in a batch
    return header, parts


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "…"


def _problem(
    rule: str,
    message: str,
    *,
    row: int,
    column: str | None = None,
    value: str | None = None,
    fix: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Problem:
    return Problem(
        rule,
        message,
        severity=severity,
        row=row,
        column=column,
        value=None if value is None else _shown(value),
        fix=fix,
    )


def _header_problems(header: Record | None, expected: tuple[str, ...], rule: str) -> list[Problem]:
    """U1, U5: the header names every column, in order; names match case-insensitively."""
    listed = ",".join(expected)
    if header is None:
        return [
            _problem(
                rule, "the file is empty: it has no header", row=1, fix=f"start with `{listed}`"
            )
        ]
    problems = list(header.problems)
    got = header.fields
    for i, name in enumerate(expected):
        if i >= len(got):
            problems.append(
                _problem(
                    rule,
                    f"column `{name}` is missing from the header",
                    row=header.row,
                    column=name,
                    fix=f"the header is `{listed}`",
                )
            )
        elif got[i].strip().casefold() != name.casefold():
            problems.append(
                _problem(
                    rule,
                    f"column {i + 1} of the header is `{_shown(got[i])}`, not `{name}`",
                    row=header.row,
                    column=name,
                    value=got[i],
                    fix=f"the header is `{listed}`",
                )
            )
    for extra in got[len(expected) :]:
        problems.append(
            _problem(
                rule,
                f"the header has a column `{_shown(extra)}` after the {len(expected)} it takes",
                row=header.row,
                value=extra,
                fix=f"the header is `{listed}`",
            )
        )
    return problems


def _width_problem(record: Record, width: int) -> Problem | None:
    """U3: a record of the wrong width (a comma inside an unquoted field breaks the record)."""
    n = len(record.fields)
    if n == width:
        return None
    hint = (
        "a comma inside a field breaks the record: put the field in double quotes"
        if n > width
        else "a field is missing: every row has a field for each column"
    )
    return _problem(
        "U3",
        f"the row has {n} field(s), not {width}",
        row=record.row,
        value=",".join(record.fields),
        fix=hint,
    )


def _cds_fix(exc: InvalidCDSCode) -> str | None:
    text = str(exc.args[0])
    if "did you mean `" in text:
        return "write `" + text.split("did you mean `", 1)[1].split("`", 1)[0] + "`"
    if "scientific notation" in text or "decimal point" in text:
        return "re-enter the 14-digit code as text (format the column as Text before typing)"
    return None


def _formula_warning(row: int, column: str, value: str) -> Problem:
    """U3 (decision): a value a spreadsheet would run as a formula is kept, with a warning."""
    return _problem(
        "U3",
        f"`{_shown(value)}` starts with `{value[:1]}`: a spreadsheet that opens an export of it "
        "could run it as a formula",
        row=row,
        column=column,
        value=value,
        fix="remove the leading character",
        severity=Severity.WARNING,
    )


_Template = tuple[str, str, Severity, str | None, str | None, str | None]
"""A problem without its row: rule, message, severity, column, value, fix."""


def _at(row: int, t: _Template) -> Problem:
    rule, message, severity, column, value, fix = t
    return Problem(rule, message, severity=severity, row=row, column=column, value=value, fix=fix)


# --- the TOMS user upload --------------------------------------------------------------------


@attrs.define
class _Pair:
    """What a row's CDS code and role text decide, computed once per distinct pair."""

    cds: CDSCode | None
    role: Role | None
    problems: tuple[_Template, ...]
    ok: tuple[CDSCode, Role, int] | None = None
    """For a pair with no problem: its code, its role, and its organization's index << 5 |
    its role's index (E5)."""


@attrs.define
class _Seen:
    """E5, U4: what the file gives an e-mail: its first row and role, and per organization."""

    row: int
    role: Role
    conflicted: bool = False
    orgs: dict[CDSCode, tuple[int, set[Role]]] | None = None


class _UserCheck:
    """The user-upload checks, fed one record at a time (U1, U3, U4, U6, R3–R5, O5, E1–E7)."""

    def __init__(self, directory: Directory, uploader: str, *, keep: bool) -> None:
        self.directory = directory
        self.user: User = directory.user(uploader)
        self.one_role = directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL
        self.accounts = directory.accounts
        self.pairs: dict[tuple[str, str], _Pair] = {}
        # the pairs with no problem, by role text, then CDS code text: ``_Pair.ok``
        self.fast: dict[str, dict[str, tuple[CDSCode, Role, int]]] = {}
        self.domains: set[str] = set()  # E1, E6: domains of plain addresses, see _plain_domain
        # E5: a new e-mail's first row, organization and role, packed in one int
        self.new: dict[Email, int] = {}
        self.org_index = {code: i for i, code in enumerate(directory.tree.organizations)}
        self.existing: dict[Email, _Seen] = {}
        self.kept: list[UserRow] | None = [] if keep else None
        self.rows = 0

    # per distinct (CDS code, role) pair: O5, O4, R3, R4, R2, G9, G3, R5, U6

    def _pair(self, cds_text: str, role_text: str) -> _Pair:
        key = (cds_text, role_text)
        found = self.pairs.get(key)
        if found is None:
            found = self.pairs[key] = self._decide_pair(cds_text, role_text)
            if found.ok is not None:
                self.fast.setdefault(role_text, {})[cds_text] = found.ok
        return found

    def _decide_pair(self, cds_text: str, role_text: str) -> _Pair:
        out: list[_Template] = []
        err, warn = Severity.ERROR, Severity.WARNING
        cds: CDSCode | None = None
        if cds_text.strip():
            try:
                cds = parse_cds(cds_text)
            except InvalidCDSCode as exc:
                out.append(("O5", str(exc.args[0]), err, _CDS, _shown(cds_text), _cds_fix(exc)))
            else:
                if self.directory.organization(cds) is None:
                    out.append(
                        (
                            "O4",
                            f"organization `{cds}` is not in the directory",
                            err,
                            _CDS,
                            cds_text,
                            None,
                        )
                    )
                    cds = None
        role: Role | None = None
        if role_text:
            try:
                role, legacy = resolve_role(role_text)
            except UnknownRole as exc:
                fix = f"write `{exc.suggestion}`" if exc.suggestion else None
                out.append(("R4", str(exc), err, _ROLE, _shown(role_text), fix))
            else:
                if legacy:
                    out.append(
                        (
                            "R3",
                            f"`{role_text}` is a legacy name of `{role}`",
                            warn,
                            _ROLE,
                            role_text,
                            f"write `{role}`",
                        )
                    )
        if cds is not None:
            decided = decide(
                self.user, Action.UPLOAD_USERS, self.directory.tree.organizations[cds]
            )
            if not decided.allowed:
                out.append(
                    (
                        "G9",
                        f"`{self.user.email}` may not upload users for `{cds}`: {decided.reason}",
                        err,
                        _CDS,
                        cds,
                        decided.fix,
                    )
                )
        if cds is not None and role is not None:
            org = self.directory.tree.organizations[cds]
            tree = self.directory.tree
            if not role.may_be_held_at(
                lea=org.level is Level.LEA, test_site=tree.is_test_site(cds)
            ):
                where = "an LEA" if org.level is Level.LEA else "a school"
                out.append(
                    (
                        "R2",
                        f"`{role}` is a {role.level.value} role and `{cds}` is {where}",
                        err,
                        _ROLE,
                        role_text,
                        None,
                    )
                )
            elif all(t[2] is warn for t in out) and governs(self.user, role, cds) is None:
                out.append(
                    (
                        "G3",
                        f"`{self.user.email}` may not grant `{role}` at `{cds}`",
                        err,
                        _ROLE,
                        role_text,
                        "a coordinator who may grant it there uploads this row (G3)",
                    )
                )
        if role is not None and role.needs_credential:
            out.append(
                (
                    "R5",
                    f"`{role}` must be held by a licensed or credentialed employee: uploading "
                    "this row attests the credential, and the account is recorded credentialed",
                    warn,
                    _ROLE,
                    role_text,
                    None,
                )
            )
        ok = None
        if not out and cds is not None and role is not None:
            ok = (cds, role, (self.org_index[cds] << 5) | _ROLE_INDEX[role.name])
        return _Pair(cds, role, tuple(out), ok)

    def feed(self, record: Record) -> Sequence[Problem]:
        """The problems of one record: one with a U3 problem takes the full checks, any other
        the loop of :meth:`feed_batch`."""
        if record.problems:
            self.rows += 1
            return self._feed(record)
        return self.feed_batch(record.row, (record.fields,))

    def feed_batch(self, first_row: int, batch: Sequence[Sequence[str]]) -> list[Problem]:
        """The problems of records with no U3 problem, on consecutive rows from ``first_row``.

        A row of an already seen CDS code and role with no problem in them, names and phone
        that are neither blank nor a formula (U1, U3) and start with no space, and an e-mail
        ``canonical_email`` accepts (E1, E6) takes a fast path: it is kept for E5 (or checked
        against the directory's account) without the full checks of :meth:`_feed`, which every
        other row takes and which find the same outcome for a row of the fast path.
        """
        self.rows += len(batch)
        problems: list[Problem] = []
        fast = self.fast
        domains = self.domains
        unusual = _UNUSUAL_START
        accounts = self.accounts
        one_role = self.one_role
        new = self.new
        kept = self.kept
        for row, fields in enumerate(batch, first_row):
            try:
                first, last, cds_text, email_text, phone, role_text = fields
                cds, role, packed_pair = fast[role_text][cds_text]
                # U1, U3: names and phone neither blank (IndexError) nor a formula, and
                # starting with no space; E1, E6: a plain ASCII address of a domain already
                # found plain (or found so now)
                usual = (
                    first[0] not in unusual
                    and last[0] not in unusual
                    and phone[0] not in unusual
                    and email_text.isascii()
                )
            except (ValueError, KeyError, IndexError):
                # not 6 fields, a pair not yet decided clean, or an empty name or phone
                problems.extend(self._feed(_record(row, tuple(fields), ())))
                continue
            if usual:
                local, _, domain = email_text.partition("@")
                if (
                    local
                    and (domain in domains or self._plain_domain(domain))
                    and local.isprintable()
                    and " " not in local
                ):
                    email = _lower(email_text)
                    if kept is not None:
                        kept.append(
                            UserRow(
                                row, first.strip(), last.strip(), cds, email, phone.strip(), role
                            )
                        )
                    if email in accounts:
                        problems.extend(self._email_rules(row, email, role, cds))
                    elif not one_role:  # E7: under multi-role nothing is kept for a new e-mail
                        pass
                    elif email not in new:  # E5, inline: a new e-mail's first row, org and role
                        new[email] = (row << 37) | packed_pair
                    elif (new[email] ^ packed_pair) & 31:
                        problems.extend(self._email_rules(row, email, role, cds))
                    continue
            problems.extend(self._feed(_record(row, tuple(fields), ())))
        return problems

    def _plain_domain(self, domain: str) -> bool:
        """Whether ``domain``, the part of an ASCII address after its first ``@``, is one that
        ``canonical_email`` accepts after a plain local part (E1, E6); a plain one is kept, up
        to :data:`_DOMAINS` of them, so that the next address at it is checked at once."""
        if not _plainly_valid("x@" + domain):  # a plain local part, so this is the domain's
            return False
        if len(self.domains) < _DOMAINS:
            self.domains.add(domain)
        return True

    def _feed(self, record: Record) -> list[Problem]:
        row = record.row
        problems = list(record.problems)
        width = _width_problem(record, 6)
        if width is not None:
            problems.append(width)
            return problems
        first, last, cds_text, email_text, phone, role_text = record.fields
        # U1: every field is required.
        for column, value in (
            (_FIRST, first),
            (_LAST, last),
            (_CDS, cds_text),
            (_EMAIL, email_text),
            (_PHONE, phone),
            (_ROLE, role_text),
        ):
            if not value.strip():
                problems.append(_problem("U1", f"`{column}` is empty", row=row, column=column))
        for column, value in ((_FIRST, first), (_LAST, last), (_PHONE, phone)):
            if looks_like_formula(value):
                problems.append(_formula_warning(row, column, value))
        pair = self._pair(cds_text, role_text)
        problems.extend(_at(row, t) for t in pair.problems)
        email: Email | None = None
        if email_text.strip():
            try:
                email = canonical_email(email_text)
            except InvalidEmail as exc:
                fix = (
                    "use an address whose part after the last dot has at most 10 characters"
                    if exc.rule == "E6"
                    else None
                )
                problems.append(
                    _problem(
                        exc.rule,
                        str(exc.args[0]),
                        row=row,
                        column=_EMAIL,
                        value=email_text,
                        fix=fix,
                    )
                )
        if email is None or pair.role is None or pair.cds is None:
            return problems
        problems.extend(self._email_rules(row, email, pair.role, pair.cds))
        if self.kept is not None:
            self.kept.append(
                UserRow(
                    row, first.strip(), last.strip(), pair.cds, email, phone.strip(), pair.role
                )
            )
        return problems

    def _email_rules(self, row: int, email: Email, role: Role, cds: CDSCode) -> Sequence[Problem]:
        """E5 within the file (one-role-per-email); U4 and E5 against the directory at the end."""
        account = self.directory.accounts.get(email)
        if account is not None:
            seen = self.existing.get(email)
            if seen is None:
                seen = self.existing[email] = _Seen(row, role, orgs={})
            assert seen.orgs is not None
            at = seen.orgs.get(cds)
            if at is None:
                seen.orgs[cds] = (row, {role})
            else:
                at[1].add(role)
            if not self.one_role or seen.role == role:
                return []
            seen.conflicted = True
            return [
                self._two_roles(row, email, seen.row, seen.role, role, same_org=at is not None)
            ]
        if not self.one_role:
            return []
        packed = self.new.get(email)
        index = _ROLE_INDEX[role.name]
        org_index = self.org_index[cds]
        if packed is None:
            self.new[email] = (row << 37) | (org_index << 5) | index
            return []
        if packed & 31 == index:
            return []
        first_row, first_role = packed >> 37, ROLES[packed & 31]
        same_org = (packed >> 5) & 0xFFFFFFFF == org_index
        return [self._two_roles(row, email, first_row, first_role, role, same_org=same_org)]

    def _two_roles(
        self, row: int, email: Email, first_row: int, first: Role, role: Role, *, same_org: bool
    ) -> Problem:
        """E5 (E3, E4): two rows of the file give one e-mail two different roles."""
        top = highest([first, role])
        fix = (
            f"keep only `{top}`, the highest of them (E4)"
            if same_org and top is not None
            else "use a different e-mail address for each role (E3)"
        )
        return _problem(
            "E5",
            f"`{email}` is given `{role}` here and `{first}` on row {first_row}; one e-mail "
            "holds one role",
            row=row,
            column=_ROLE,
            value=role.name,
            fix=fix,
        )

    def finish(self) -> list[Problem]:
        """U4 overrides and E5 against the directory's existing roles (decided at the end, when
        the file's rows for an e-mail are all known)."""
        problems: list[Problem] = []
        for email, seen in self.existing.items():
            account = self.directory.accounts[email]
            assert seen.orgs is not None
            for a in account.assignments:
                at = seen.orgs.get(a.org)
                if at is not None:
                    if a.role in at[1]:
                        continue
                    new = sorted(r.name for r in at[1])
                    problems.append(
                        _problem(
                            "U4",
                            f"`{email}` holds `{a.role}` at `{a.org}`; this row replaces it "
                            f"with `{new[0] if len(new) == 1 else ', '.join(new)}`",
                            row=at[0],
                            column=_ROLE,
                            value=new[0],
                            severity=Severity.WARNING,
                        )
                    )
                    if governs(self.user, a.role, a.org, primary=a.primary) is None:
                        problems.append(
                            _problem(
                                "G6",
                                f"replacing `{a.role}` at `{a.org}` removes it, and "
                                f"`{self.user.email}` may not remove it",
                                row=at[0],
                                column=_ROLE,
                                value=new[0],
                                fix="a coordinator who governs that role there uploads this row",
                            )
                        )
                elif self.one_role and not seen.conflicted and a.role != seen.role:
                    problems.append(
                        _problem(
                            "E5",
                            f"`{email}` already holds `{a.role}` at `{a.org}`; one e-mail holds "
                            f"one role, so it cannot also hold `{seen.role}`",
                            row=seen.row,
                            column=_EMAIL,
                            value=email,
                            fix="use a different e-mail address for this role (E3)",
                        )
                    )
        if self.rows == 0:
            problems.append(
                _problem(
                    "U1",
                    "the file has a header and no rows",
                    row=1,
                    severity=Severity.WARNING,
                )
            )
        return problems


def iter_user_problems(
    source: Source, directory: Directory, *, uploader: str
) -> Iterator[Problem]:
    """Every problem of a TOMS user upload, as the file is read (U1–U4, U6, R3–R5, O5, E1–E7,
    G3, G6, G9). Problems found only once the whole file is read (U4, E5 against the
    directory) come last; :func:`validate_users` sorts them by row."""
    yield from _user_run(source, directory, uploader=uploader, keep=False)[0]


def _user_run(
    source: Source, directory: Directory, *, uploader: str, keep: bool
) -> tuple[Iterator[Problem], _UserCheck]:
    check = _UserCheck(directory, uploader, keep=keep)

    def run() -> Iterator[Problem]:
        header, parts = _open_parts(source)
        head = _header_problems(header, USER_HEADER, "U1")
        yield from head
        if any(p.is_error for p in head):
            _drain(parts)
            return
        feed, feed_batch = check.feed, check.feed_batch
        for part in parts:
            found = feed(part) if isinstance(part, Record) else feed_batch(*part)
            if found:
                yield from found
        yield from check.finish()

    return run(), check


def _drain(records: Iterator[Any]) -> None:
    close = getattr(records, "close", None)
    if close is not None:
        close()


def _sorted(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: p.row or 0))


def validate_users(source: Source, directory: Directory, *, uploader: str) -> Validation:
    """Validate a TOMS user upload as ``uploader`` against ``directory``; every problem, in row
    order (U2)."""
    problems, check = _user_run(source, directory, uploader=uploader, keep=False)
    found = _sorted(problems)
    return Validation("users", found, check.rows)


def apply_users(source: Source, directory: Directory, *, uploader: str) -> UploadResult:
    """Apply a TOMS user upload: a new directory and the change report (U2, U4, U6, G11).

    Raises :class:`UploadError` carrying every problem when the file has any error; nothing is
    applied. Each row gives its e-mail its role at its organization: a new e-mail is a new,
    active account; an inactive account is reactivated (G11); the rows of the file for one
    e-mail and organization replace whatever the account held there (U4); a role that needs a
    credential records the account credentialed (U6). Names and phone are taken from the file.
    """
    problems_iter, check = _user_run(source, directory, uploader=uploader, keep=True)
    problems = _sorted(problems_iter)
    if any(p.is_error for p in problems):
        raise UploadError(problems)
    assert check.kept is not None
    by_email: dict[Email, list[UserRow]] = {}
    for r in check.kept:
        by_email.setdefault(r.email, []).append(r)
    added: list[AssignmentChange] = []
    overridden: list[AssignmentChange] = []
    created: list[Email] = []
    reactivated: list[Email] = []
    credentialed: list[Email] = []
    accounts: dict[Email, Account] = dict(directory.accounts)
    for email, rows in by_email.items():
        old = accounts.get(email)
        wanted: dict[CDSCode, list[Role]] = {}
        for r in rows:
            roles = wanted.setdefault(r.cds, [])
            if r.role not in roles:
                roles.append(r.role)
        last = rows[-1]
        kept = [a for a in old.assignments if a.org not in wanted] if old else []
        new_assignments = list(kept)
        for org, roles in wanted.items():
            before = [a for a in old.assignments if a.org == org] if old else []
            before_roles = [a.role for a in before]
            for role in roles:
                held = next((a for a in before if a.role == role), None)
                new_assignments.append(held or Assignment(role, org))
                if held is None:
                    replaced = [r for r in before_roles if r not in roles]
                    if replaced:
                        for prev in replaced:
                            overridden.append(AssignmentChange(email, role.name, org, prev.name))
                    else:
                        added.append(AssignmentChange(email, role.name, org))
        needs_credential = any(r.role.needs_credential for r in rows)
        if old is None:
            created.append(email)
            account = Account(
                email=email,
                first_name=last.first_name,
                last_name=last.last_name,
                phone=last.phone,
                credentialed=needs_credential,
                assignments=new_assignments,
            )
            if needs_credential:
                credentialed.append(email)
        else:
            if not old.active:
                reactivated.append(email)  # G11: an upload reactivates the account
            if needs_credential and not old.credentialed:
                credentialed.append(email)
            account = attrs.evolve(
                old,
                first_name=last.first_name,
                last_name=last.last_name,
                phone=last.phone,
                active=True,
                credentialed=old.credentialed or needs_credential,
                assignments=new_assignments,
            )
        accounts[email] = account
    new_directory = _rebuild(directory, accounts=accounts.values())
    changes = ChangeReport(
        assignments_added=added,
        assignments_overridden=overridden,
        accounts_created=created,
        accounts_reactivated=reactivated,
        accounts_credentialed=credentialed,
    )
    return UploadResult(new_directory, changes, tuple(p for p in problems if not p.is_error))


def _rebuild(
    directory: Directory,
    *,
    accounts: Iterable[Account] | None = None,
    students: Iterable[Student] | None = None,
    groups: Iterable[Group] | None = None,
) -> Directory:
    """A new directory through ``Directory.build``, so that every rule is checked again."""
    try:
        return Directory.build(
            organizations=directory.tree,
            accounts=directory.accounts.values() if accounts is None else accounts,
            students=directory.students.values() if students is None else students,
            groups=directory.groups.values() if groups is None else groups,
            custom_groups=directory.custom_groups.values(),
            rule_set=directory.rule_set,
        )
    except DirectoryError as exc:
        raise UploadError(exc.problems) from None


def users_csv(directory: Directory, *, exclude: Iterable[str] = ()) -> str:
    """The directory's role assignments written as a TOMS user upload (U1), one row each.

    Accounts whose e-mail is in ``exclude`` are left out; roles are written by current name.
    """
    skip = {e.strip().lower() for e in exclude}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(USER_HEADER)
    for account in directory.accounts.values():
        if account.email in skip:
            continue
        for a in account.assignments:
            writer.writerow(
                (
                    account.first_name,
                    account.last_name,
                    a.org,
                    account.email,
                    account.phone,
                    a.role.name,
                )
            )
    return out.getvalue()


# --- the CERS student-group upload -----------------------------------------------------------


@attrs.define
class _GroupSeen:
    row: int
    subject: str
    students: set[str] | None = None
    users: set[Email] | None = None


class _GroupCheck:
    """The group-upload checks, fed one record at a time (U5, V3, O5)."""

    def __init__(self, directory: Directory, uploader: str, *, keep: bool) -> None:
        self.directory = directory
        self.user = directory.user(uploader)
        self.schools: dict[str, tuple[CDSCode | None, tuple[_Template, ...]]] = {}
        self.logins: dict[
            tuple[str, CDSCode | None], tuple[Email | None, tuple[_Template, ...]]
        ] = {}
        self.groups: dict[GroupKey, _GroupSeen] = {}
        self.keep = keep
        self.new_students: dict[str, CDSCode] = {}
        self.rows = 0

    def _school(self, text: str) -> tuple[CDSCode | None, tuple[_Template, ...]]:
        found = self.schools.get(text)
        if found is None:
            found = self.schools[text] = self._decide_school(text)
        return found

    def _decide_school(self, text: str) -> tuple[CDSCode | None, tuple[_Template, ...]]:
        err = Severity.ERROR
        try:
            cds = parse_cds(text)
        except InvalidCDSCode as exc:
            return None, (("O5", str(exc.args[0]), err, _GSCHOOL, _shown(text), _cds_fix(exc)),)
        tree = self.directory.tree
        if cds not in tree:
            return None, (
                ("O4", f"school `{cds}` is not in the directory", err, _GSCHOOL, text, None),
            )
        if not tree.is_test_site(cds):
            return None, (
                (
                    "U5",
                    f"`{cds}` is an LEA: a student group belongs to a school",
                    err,
                    _GSCHOOL,
                    text,
                    None,
                ),
            )
        decided = decide(self.user, Action.UPLOAD_GROUPS, tree.organizations[cds])
        if not decided.allowed:
            return cds, (
                (
                    "U5",
                    f"`{self.user.email}` may not upload groups for `{cds}`: {decided.reason}",
                    err,
                    _GSCHOOL,
                    text,
                    decided.fix,
                ),
            )
        return cds, ()

    def _login(
        self, text: str, school: CDSCode | None
    ) -> tuple[Email | None, tuple[_Template, ...]]:
        key = (text, school)
        found = self.logins.get(key)
        if found is None:
            found = self.logins[key] = self._decide_login(text, school)
        return found

    def _decide_login(
        self, text: str, school: CDSCode | None
    ) -> tuple[Email | None, tuple[_Template, ...]]:
        err = Severity.ERROR
        try:
            email = canonical_email(text)
        except InvalidEmail as exc:
            return None, ((exc.rule, str(exc.args[0]), err, _GLOGIN, _shown(text), None),)
        account = self.directory.accounts.get(email)
        if account is None:
            return None, (
                (
                    "V3",
                    f"`{email}` is not a known account: a group is assigned to users only",
                    err,
                    _GLOGIN,
                    text,
                    "add the user (a TOMS user upload) first",
                ),
            )
        if school is None:
            return email, ()
        lea = self.directory.tree.organizations[school].lea_code
        if not any(
            (org := self.directory.tree.get(a.org)) is not None and org.lea_code == lea
            for a in account.assignments
        ):
            return None, (
                (
                    "V3",
                    f"`{email}` holds no role in LEA `{lea}`, the school's LEA",
                    err,
                    _GLOGIN,
                    text,
                    "assign groups only to users with a role in the school's LEA",
                ),
            )
        return email, ()

    def feed(self, record: Record) -> list[Problem]:
        self.rows += 1
        row = record.row
        problems = list(record.problems)
        width = _width_problem(record, 6)
        if width is not None:
            problems.append(width)
            return problems
        name_text, school_text, year_text, subject, ssid_text, login_text = record.fields
        name = name_text.strip()
        if not name:
            problems.append(_problem("U5", f"`{_GNAME}` is empty", row=row, column=_GNAME))
        elif looks_like_formula(name_text):
            problems.append(_formula_warning(row, _GNAME, name_text))
        school: CDSCode | None = None
        known: CDSCode | None = None  # a school of the directory, uploadable or not
        if not school_text.strip():
            problems.append(_problem("U5", f"`{_GSCHOOL}` is empty", row=row, column=_GSCHOOL))
        else:
            known, templates = self._school(school_text)
            problems.extend(_at(row, t) for t in templates)
            school = None if templates else known
        year: int | None = None
        year_clean = year_text.strip()
        if not year_clean:
            problems.append(_problem("U5", f"`{_GYEAR}` is empty", row=row, column=_GYEAR))
        elif len(year_clean) == 4 and year_clean.isdigit() and year_clean.isascii():
            year = int(year_clean)
        else:
            problems.append(
                _problem(
                    "U5",
                    f"school year `{_shown(year_text)}` is not a four-digit year",
                    row=row,
                    column=_GYEAR,
                    value=year_text,
                    fix="write the year the school year ends, such as `2026`",
                )
            )
        subject_clean = subject.strip()
        if subject_clean not in SUBJECTS:
            near = next((s for s in SUBJECTS if s.casefold() == subject_clean.casefold()), None)
            problems.append(
                _problem(
                    "U5",
                    f"subject `{_shown(subject)}` is none of {', '.join(SUBJECTS)}"
                    if subject_clean
                    else f"`{_GSUBJECT}` is empty",
                    row=row,
                    column=_GSUBJECT,
                    value=subject or None,
                    fix=f"write `{near}`" if near else f"write one of {', '.join(SUBJECTS)}",
                )
            )
            subject_clean = ""
        ssid = ssid_text.strip()
        login_clean = login_text.strip()
        if not ssid and not login_clean:
            problems.append(
                _problem(
                    "U5",
                    "the row has neither a student SSID nor a user login",
                    row=row,
                    column=_GSSID,
                    fix="give a student SSID, a user login, or both",
                )
            )
        ssid_ok: str | None = None
        if ssid:
            if len(ssid) == 10 and ssid.isdigit() and ssid.isascii():
                ssid_ok = ssid
            else:
                problems.append(
                    _problem(
                        "U5",
                        f"SSID `{_shown(ssid_text)}` is not 10 digits",
                        row=row,
                        column=_GSSID,
                        value=ssid_text,
                        fix="a spreadsheet may have dropped leading zeros: format the column as Text"
                        if ssid.isdigit() and len(ssid) < 10
                        else None,
                    )
                )
        login: Email | None = None
        if login_clean:
            login, templates = self._login(login_text, known)
            problems.extend(_at(row, t) for t in templates)
        if ssid_ok is not None and school is not None:
            student = self.directory.students.get(ssid_ok)
            if student is None:
                first = ssid_ok not in self.new_students
                other = self.new_students.setdefault(ssid_ok, school)
                if first:
                    problems.append(
                        _problem(
                            "U5",
                            f"student `{ssid_ok}` is not in the directory; it is added at "
                            f"`{school}`",
                            row=row,
                            column=_GSSID,
                            value=ssid_ok,
                            severity=Severity.WARNING,
                        )
                    )
                elif other != school:
                    problems.append(self._elsewhere(row, ssid_ok, other, school))
            elif student.school != school:
                problems.append(self._elsewhere(row, ssid_ok, student.school, school))
        if name and school is not None and year is not None:
            key = GroupKey(school, year, name)
            seen = self.groups.get(key)
            if seen is None:
                seen = self.groups[key] = _GroupSeen(row, subject_clean)
                if self.keep:
                    seen.students, seen.users = set(), set()
            elif subject_clean and seen.subject and subject_clean != seen.subject:
                problems.append(
                    _problem(
                        "U5",
                        f"group `{name}` has subject `{seen.subject}` on row {seen.row} and "
                        f"`{subject_clean}` here; a group has one subject",
                        row=row,
                        column=_GSUBJECT,
                        value=subject_clean,
                        fix=f"write `{seen.subject}`",
                    )
                )
            elif not seen.subject:
                seen.subject = subject_clean
            if seen.students is not None and seen.users is not None:
                if ssid_ok is not None:
                    seen.students.add(ssid_ok)
                if login is not None:
                    seen.users.add(login)
        return problems

    def _elsewhere(self, row: int, ssid: str, listed: CDSCode, school: CDSCode) -> Problem:
        """V1 (decision): a student listed at another school stays there; a warning."""
        return _problem(
            "V1",
            f"student `{ssid}` is listed at `{listed}`, not at `{school}`: results it earned at "
            f"`{listed}` are not opened by this group's school",
            row=row,
            column=_GSSID,
            value=ssid,
            severity=Severity.WARNING,
        )

    def finish(self) -> list[Problem]:
        if self.rows == 0:
            return [
                _problem(
                    "U5", "the file has a header and no rows", row=1, severity=Severity.WARNING
                )
            ]
        return []


def _group_run(
    source: Source, directory: Directory, *, uploader: str, keep: bool
) -> tuple[Iterator[Problem], _GroupCheck]:
    check = _GroupCheck(directory, uploader, keep=keep)

    def run() -> Iterator[Problem]:
        header, records = _open(source)
        head = _header_problems(header, GROUP_HEADER, "U5")
        yield from head
        if any(p.is_error for p in head):
            _drain(records)
            return
        for record in records:
            found = check.feed(record)
            if found:
                yield from found
        yield from check.finish()

    return run(), check


def iter_group_problems(
    source: Source, directory: Directory, *, uploader: str
) -> Iterator[Problem]:
    """Every problem of a CERS student-group upload, as the file is read (U5, V3, O5)."""
    yield from _group_run(source, directory, uploader=uploader, keep=False)[0]


def validate_groups(source: Source, directory: Directory, *, uploader: str) -> Validation:
    """Validate a CERS student-group upload as ``uploader``; every problem, in row order."""
    problems, check = _group_run(source, directory, uploader=uploader, keep=False)
    found = _sorted(problems)
    return Validation("groups", found, check.rows)


def apply_groups(source: Source, directory: Directory, *, uploader: str) -> UploadResult:
    """Apply a CERS student-group upload: a new directory and the change report (U5).

    Raises :class:`UploadError` carrying every problem when the file has any error. For each
    group of the file, its rows are its whole membership: a group not in the directory is
    created, an existing one replaced (members not in the file leave it); an SSID the directory
    does not list is added as a student of the group's school.
    """
    problems_iter, check = _group_run(source, directory, uploader=uploader, keep=True)
    problems = _sorted(problems_iter)
    if any(p.is_error for p in problems):
        raise UploadError(problems)
    groups: dict[GroupKey, Group] = dict(directory.groups)
    created: list[GroupKey] = []
    replaced: list[GroupKey] = []
    joined: list[MemberChange] = []
    left: list[MemberChange] = []
    for key, seen in check.groups.items():
        students = frozenset(seen.students or ())
        users = frozenset(seen.users or ())
        old = groups.get(key)
        before_s = old.students if old else frozenset()
        before_u = old.users if old else frozenset()
        (replaced if old else created).append(key)
        joined.extend(MemberChange(key, "student", s) for s in sorted(students - before_s))
        joined.extend(MemberChange(key, "user", u) for u in sorted(users - before_u))
        left.extend(MemberChange(key, "student", s) for s in sorted(before_s - students))
        left.extend(MemberChange(key, "user", u) for u in sorted(before_u - users))
        groups[key] = Group(key, seen.subject or (old.subject if old else "All"), students, users)
    new_students = [Student(ssid, school) for ssid, school in check.new_students.items()]
    new_directory = _rebuild(
        directory,
        students=[*directory.students.values(), *new_students],
        groups=groups.values(),
    )
    changes = ChangeReport(
        groups_created=created,
        groups_replaced=replaced,
        members_added=joined,
        members_removed=left,
        students_added=[s.ssid for s in new_students],
    )
    return UploadResult(new_directory, changes, tuple(p for p in problems if not p.is_error))


def groups_csv(directory: Directory) -> str:
    """The directory's assigned groups written as a CERS student-group upload (U5).

    One row a member: students first (with no login), then users (with no SSID); a group with no
    member cannot be written and is left out.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GROUP_HEADER)
    for g in directory.groups.values():
        k = g.key
        for ssid in sorted(g.students):
            writer.writerow((k.name, k.school, k.school_year, g.subject, ssid, ""))
        for email in sorted(g.users):
            writer.writerow((k.name, k.school, k.school_year, g.subject, "", email))
    return out.getvalue()
