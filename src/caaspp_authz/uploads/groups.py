"""The CERS student-group upload: validated and applied by deciding the requests it implies.

For each group of the file (school, name and school year) the file becomes its whole
membership (U5). A group implies ``upload_groups`` on its school, ``create_group`` (a group the
directory does not hold) or ``edit_group`` (one it holds), and an ``assign_group`` for each user
login of its rows; each is decided by :func:`~caaspp_authz.decision.decide` itself, so a file
never does what those requests through another door would be denied.

What is about the file itself stays here: the header and every field (U5), the record's shape
(U3), CDS codes (O5, O4), SSIDs and logins as text, and the checks of the reporting platform
(U8: at most 200 SSID rows a group, one subject a group in any letter case, each school's and
each group's rows together, a school year of four digits from 2014, at least one row).

An SSID the directory does not list is a warning and stays a member of its group, but the
directory never gains a student from a group file (U5): which students exist, and where their
results were earned, is enrollment data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import attrs

from caaspp_authz._csvread import Record, looks_like_formula
from caaspp_authz.accounts import Email, canonical_email
from caaspp_authz.decision import Action, Decision, decide
from caaspp_authz.directory import Directory
from caaspp_authz.errors import DirectoryError, InvalidCDSCode, InvalidEmail, Problem, Severity
from caaspp_authz.orgs import CDSCode, parse_cds
from caaspp_authz.resources import SUBJECTS, Group, GroupAssignment, GroupKey
from caaspp_authz.uploads._common import (
    Source,
    _at,
    _cds_fix,
    _changed,
    _drain,
    _formula_warning,
    _header_problems,
    _open,
    _problem,
    _shown,
    _sorted,
    _Template,
    _width_problem,
    csv_safe,
    kept_text,
)
from caaspp_authz.uploads.report import (
    ChangeReport,
    MemberChange,
    UploadError,
    UploadResult,
    Validation,
)

__all__ = [
    "GROUP_HEADER",
    "GroupRow",
    "apply_groups",
    "groups_csv",
    "iter_group_problems",
    "validate_groups",
]

GROUP_HEADER = (
    "group_name",
    "school_natural_id",
    "school_year",
    "subject_code",
    "student_ssid",
    "group_user_login",
)
"""The CERS student-group upload header, in order (U5)."""

_GNAME, _GSCHOOL, _GYEAR, _GSUBJECT, _GSSID, _GLOGIN = GROUP_HEADER

MAX_GROUP_STUDENTS = 200
"""U8 (a): the most rows with an SSID one group may have (a repeated SSID counts again)."""

FIRST_SCHOOL_YEAR = 2014
"""U8 (d): the first school year a group may have (the first CAASPP year)."""

_SUBJECTS = {s.casefold(): s for s in SUBJECTS}
_SORT_FIX = "sort the file by school, group name and school year"


@attrs.frozen
class GroupRow:
    """One valid row of a group upload: a member of a group (U5); SSID, login or both."""

    row: int
    key: GroupKey
    subject: str
    ssid: str | None
    login: Email | None


@attrs.define
class _GroupSeen:
    subject: str
    subject_row: int
    """The row that gave the group its subject (U8 b): its first row, or its first row with
    one when the first rows leave it blank."""
    ssid_rows: int = 0
    students: set[str] | None = None
    users: set[Email] | None = None
    allowed: bool = True
    """Whether ``create_group`` or ``edit_group`` is allowed (and the school's upload)."""


class _GroupCheck:
    """The group-upload checks, fed one record at a time (U5, U8, O5, and through ``decide``:
    V3, V1)."""

    def __init__(self, directory: Directory, uploader: str, *, keep: bool) -> None:
        self.directory = directory
        self.user = directory.user(uploader)
        self.schools: dict[str, tuple[CDSCode | None, tuple[_Template, ...]]] = {}
        self.logins: dict[str, tuple[Email | None, tuple[_Template, ...]]] = {}
        self.groups: dict[GroupKey, _GroupSeen] = {}
        self.assigned: dict[tuple[GroupKey, Email], Decision] = {}
        """``assign_group`` to a group the directory holds, decided once a group and login."""
        self.pending: dict[tuple[GroupKey, Email], tuple[int, str]] = {}
        """Assignments to groups the directory does not hold yet, with the first row and login
        text of each: decided at the end."""
        self.keep = keep
        self.rows = 0
        # U8 (c): the school and group of the rows being read, and those already left
        self.current_school: CDSCode | None = None
        self.current_group: GroupKey | None = None
        self.left_schools: set[CDSCode] = set()
        self.left_groups: set[GroupKey] = set()
        self.unknown_students: set[str] = set()

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
            message = f"`{cds}` is an LEA: a student group belongs to a school"
            return None, (("U5", message, err, _GSCHOOL, text, None),)
        decided = decide(self.user, Action.UPLOAD_GROUPS, tree.organizations[cds])
        if not decided.allowed:
            message = f"`{self.user.email}` may not upload groups for `{cds}`: {decided.reason}"
            return cds, (("U5", message, err, _GSCHOOL, text, decided.fix),)
        return cds, ()

    def _login(self, text: str) -> tuple[Email | None, tuple[_Template, ...]]:
        found = self.logins.get(text)
        if found is None:
            found = self.logins[text] = self._decide_login(text)
        return found

    def _decide_login(self, text: str) -> tuple[Email | None, tuple[_Template, ...]]:
        """U5: a login is an e-mail of a known account (decision); whether it may be assigned
        the group is ``assign_group``'s (V3)."""
        err = Severity.ERROR
        try:
            email = canonical_email(text)
        except InvalidEmail as exc:
            return None, ((exc.rule, str(exc.args[0]), err, _GLOGIN, _shown(text), None),)
        if email not in self.directory.accounts:
            message = f"`{email}` is not a known account: a group is assigned to users only"
            fix = "add the user (a TOMS user upload) first"
            return None, (("U5", message, err, _GLOGIN, _shown(text), fix),)
        return email, ()

    def _order(self, row: int, school: CDSCode, name: str, year: int) -> Problem | None:
        """U8 (c): each school's rows together, and within them each group's; a school or a
        group that comes back after another has started is an error where it comes back. Only
        rows that name a school of the directory, a group name and a valid year are placed."""
        group = GroupKey(school, year, name)
        problem = None
        if school != self.current_school:
            if self.current_school is not None:
                self.left_schools.add(self.current_school)
            if self.current_group is not None:
                self.left_groups.add(self.current_group)
            self.current_school, self.current_group = school, group
            if school in self.left_schools:
                problem = _problem(
                    "U8",
                    f"the rows of school `{school}` are not together: it comes back "
                    "here after another school",
                    row=row,
                    column=_GSCHOOL,
                    value=school,
                    fix=_SORT_FIX,
                )
        elif group != self.current_group:
            if self.current_group is not None:
                self.left_groups.add(self.current_group)
            self.current_group = group
            if group in self.left_groups:
                problem = _problem(
                    "U8",
                    f"the rows of group {group} are not together: "
                    "it comes back here after another group of its school",
                    row=row,
                    column=_GNAME,
                    value=name,
                    fix=_SORT_FIX,
                )
        return problem

    def feed(self, record: Record) -> list[Problem]:
        if not record.fields:  # a blank record wider than the header, skipped (U3)
            return list(record.problems)
        self.rows += 1
        row = record.row
        problems = list(record.problems)
        width = _width_problem(record, 6)
        if width is not None:
            problems.append(width)
            return problems
        name_text, school_text, year_text, subject, ssid_text, login_text = record.fields
        name = kept_text(name_text)  # U3: `\t=1` stays `\t=1`
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
        year = self._year(row, year_text, problems)
        if known is not None and name and year is not None:
            order = self._order(row, known, name, year)
            if order is not None:
                problems.append(order)
        subject_clean = subject.strip()
        canonical = _SUBJECTS.get(subject_clean.casefold(), "") if subject_clean else ""
        if subject_clean and not canonical:  # U5, U8 (b): any case, or blank
            problems.append(
                _problem(
                    "U5",
                    f"subject `{_shown(subject)}` is none of {', '.join(SUBJECTS)}",
                    row=row,
                    column=_GSUBJECT,
                    value=subject,
                    fix=f"write one of {', '.join(SUBJECTS)}, or leave it blank",
                )
            )
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
            login, templates = self._login(login_text)
            problems.extend(_at(row, t) for t in templates)
        if ssid_ok is not None and school is not None:
            problem = self._student(row, ssid_ok, school)
            if problem is not None:
                problems.append(problem)
        if name and school is not None and year is not None:
            key = GroupKey(school, year, name)
            seen = self.groups.get(key)
            if seen is None:
                seen = self.groups[key] = self._new_group(row, key, canonical, problems)
            elif canonical and seen.subject and canonical != seen.subject:
                problems.append(
                    _problem(
                        "U8",
                        f"group `{name}` has subject `{seen.subject}` on row "
                        f"{seen.subject_row} and `{canonical}` here; a group has one subject",
                        row=row,
                        column=_GSUBJECT,
                        value=subject_clean,
                        fix=f"write `{seen.subject}`",
                    )
                )
            elif not seen.subject:
                seen.subject, seen.subject_row = canonical, row
            if ssid_ok is not None:
                seen.ssid_rows += 1
                if seen.ssid_rows == MAX_GROUP_STUDENTS + 1:
                    problems.append(
                        _problem(
                            "U8",
                            f"group `{name}` has more than {MAX_GROUP_STUDENTS} rows with an SSID",
                            row=row,
                            column=_GSSID,
                            value=ssid_ok,
                            fix=f"split the group into groups of at most {MAX_GROUP_STUDENTS} "
                            "students",
                        )
                    )
            if login is not None and seen.allowed:
                problem = self._assign(row, key, login, login_text)
                if problem is not None:
                    problems.append(problem)
            if seen.students is not None and seen.users is not None:
                if ssid_ok is not None:
                    seen.students.add(ssid_ok)
                if login is not None:
                    seen.users.add(login)
        return problems

    def _year(self, row: int, text: str, problems: list[Problem]) -> int | None:
        """U5, U8 (d): a school year of four digits, from 2014 on."""
        clean = text.strip()
        if not clean:
            problems.append(_problem("U5", f"`{_GYEAR}` is empty", row=row, column=_GYEAR))
            return None
        if len(clean) == 4 and clean.isdigit() and clean.isascii():
            year = int(clean)
            if year >= FIRST_SCHOOL_YEAR:
                return year
            problems.append(
                _problem(
                    "U8",
                    f"school year `{clean}` is before {FIRST_SCHOOL_YEAR}, the first CAASPP year",
                    row=row,
                    column=_GYEAR,
                    value=text,
                    fix="write the year the school year ends, such as `2026`",
                )
            )
            return None
        problems.append(
            _problem(
                "U8",
                f"school year `{_shown(text)}` is not a four-digit year",
                row=row,
                column=_GYEAR,
                value=text,
                fix="write the year the school year ends, such as `2026`",
            )
        )
        return None

    def _new_group(
        self, row: int, key: GroupKey, subject: str, problems: list[Problem]
    ) -> _GroupSeen:
        """V3: the group implies ``create_group`` (a new one) or ``edit_group``."""
        exists = self.directory.group(key) is not None
        action = Action.EDIT_GROUP if exists else Action.CREATE_GROUP
        decided = decide(self.user, action, key)
        seen = _GroupSeen(subject, row, allowed=decided.allowed)
        if self.keep:
            seen.students, seen.users = set(), set()
        if not decided.allowed:
            problems.append(
                _problem(
                    decided.rules[0] if decided.rules else "V3",
                    decided.reason,
                    row=row,
                    column=_GNAME,
                    value=key.name,
                    fix=decided.fix,
                )
            )
        return seen

    def _assign(self, row: int, key: GroupKey, login: Email, text: str) -> Problem | None:
        """V3: each login of a group implies ``assign_group``; to a group the directory does not
        hold yet, it is decided at the end, once the file's groups are known."""
        if self.directory.group(key) is None:
            self.pending.setdefault((key, login), (row, text))
            return None
        decided = self.assigned.get((key, login))
        if decided is None:
            decided = self.assigned[(key, login)] = decide(
                self.user, Action.ASSIGN_GROUP, GroupAssignment(key, login)
            )
            return _assign_problem(row, decided, text)
        return None

    def _student(self, row: int, ssid: str, school: CDSCode) -> Problem | None:
        """U5 (revised): an SSID the directory does not list stays a member, opening nothing;
        V1: a student listed at another school stays there. Neither names a school the
        uploader may not see the student's results at."""
        student = self.directory.students.get(ssid)
        if student is None:
            if ssid in self.unknown_students:
                return None
            self.unknown_students.add(ssid)
            return _problem(
                "U5",
                f"student `{ssid}` is not in the directory: it stays a member of the group, "
                "which opens nothing of it until the directory lists the student",
                row=row,
                column=_GSSID,
                value=ssid,
                severity=Severity.WARNING,
            )
        if student.school == school:
            return None
        if decide(self.user, Action.VIEW_STUDENT_RESULTS, student).allowed:
            listed = f"`{student.school}`"
        else:
            listed = "another school"
        return _problem(
            "V1",
            f"student `{ssid}` is listed at {listed}, not at `{school}`: results it earned "
            "there are not opened by this group's school",
            row=row,
            column=_GSSID,
            value=ssid,
            severity=Severity.WARNING,
        )

    def finish(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.rows == 0:  # U8 (e)
            problems.append(
                _problem(
                    "U8",
                    "the file has a header and no rows",
                    row=1,
                    fix="add a row for each student and user of each group",
                )
            )
        if self.pending:
            problems.extend(self._finish_pending())
        return problems

    def _finish_pending(self) -> list[Problem]:
        """``assign_group`` to the file's new groups, decided where they exist: the
        organizations, the uploader, the logins' accounts and those groups, empty."""
        accounts = self.directory.accounts
        emails = {login for _, login in self.pending}
        if self.user.account is not None:
            emails.add(self.user.email)
        try:
            after = Directory.build(
                organizations=self.directory.tree,
                accounts=[accounts[e] for e in sorted(emails)],
                groups=[Group(key) for key in {key for key, _ in self.pending}],
                rule_set=self.directory.rule_set,
            )
        except DirectoryError:  # pragma: no cover - empty groups at known schools always load
            after = self.directory
        user = after.user(self.user.email)
        problems = []
        for (key, login), (row, text) in self.pending.items():
            decided = decide(user, Action.ASSIGN_GROUP, GroupAssignment(key, login))
            problem = _assign_problem(row, decided, text)
            if problem is not None:
                problems.append(problem)
        return problems


def _assign_problem(row: int, decided: Decision, text: str) -> Problem | None:
    if decided.allowed:
        return None
    return _problem(
        decided.rules[0] if decided.rules else "V3",
        decided.reason,
        row=row,
        column=_GLOGIN,
        value=text,
        fix=decided.fix,
    )


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
    """Every problem of a CERS student-group upload, as the file is read (U5, U8, V3, O5);
    assignments to groups the directory does not hold yet come last."""
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
    created, an existing one replaced (members not in the file leave it). An SSID the directory
    does not list stays a member, and the directory's students are not changed (U5).
    """
    problems_iter, check = _group_run(source, directory, uploader=uploader, keep=True)
    problems = _sorted(problems_iter)
    if any(p.is_error for p in problems):
        raise UploadError(problems)
    groups: dict[GroupKey, Group] = {}  # the changed groups only: the rest is shared
    created: list[GroupKey] = []
    replaced: list[GroupKey] = []
    joined: list[MemberChange] = []
    left: list[MemberChange] = []
    for key, seen in check.groups.items():
        students = frozenset(seen.students or ())
        users = frozenset(seen.users or ())
        old = directory.groups.get(key)
        before_s = old.students if old else frozenset()
        before_u = old.users if old else frozenset()
        (replaced if old else created).append(key)
        joined.extend(MemberChange(key, "student", s) for s in sorted(students - before_s))
        joined.extend(MemberChange(key, "user", u) for u in sorted(users - before_u))
        left.extend(MemberChange(key, "student", s) for s in sorted(before_s - students))
        left.extend(MemberChange(key, "user", u) for u in sorted(before_u - users))
        groups[key] = Group(key, seen.subject or "All", students, users)  # U8 (b)
    new_directory = _changed(directory, groups=groups.values())
    changes = ChangeReport(
        groups_created=created,
        groups_replaced=replaced,
        members_added=joined,
        members_removed=left,
    )
    return UploadResult(new_directory, changes, tuple(p for p in problems if not p.is_error))


def _order_key(group: Group) -> tuple[str, str, int]:
    return (group.key.school, group.key.name, group.key.school_year)


def groups_csv(directory: Directory) -> str:
    """The directory's assigned groups written as a CERS student-group upload (U5).

    One row a member: students first (with no login), then users (with no SSID); a group with no
    member cannot be written and is left out. A group name a spreadsheet would run as a formula
    or a login is written after a `'` (U3). Groups are written sorted by school, name and school
    year, so that each school's and each group's rows are together (U8).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GROUP_HEADER)
    for g in sorted(directory.groups.values(), key=_order_key):
        k = g.key
        name = csv_safe(k.name)
        for ssid in sorted(g.students):
            writer.writerow((name, k.school, k.school_year, g.subject, ssid, ""))
        for email in sorted(g.users):
            writer.writerow((name, k.school, k.school_year, g.subject, "", csv_safe(email)))
    return out.getvalue()
