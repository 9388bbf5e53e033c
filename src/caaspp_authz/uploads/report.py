"""The values an upload produces: problems as JSON, a validation, a change report (U2, U4).

Nothing here reads a file or decides a request; :mod:`~caaspp_authz.uploads.users` and
:mod:`~caaspp_authz.uploads.groups` build these values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from caaspp_authz.accounts import Email
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError, Problem
from caaspp_authz.orgs import CDSCode
from caaspp_authz.resources import GroupKey

__all__ = [
    "AssignmentChange",
    "ChangeReport",
    "MemberChange",
    "UploadError",
    "UploadResult",
    "Validation",
    "problem_json",
]


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
