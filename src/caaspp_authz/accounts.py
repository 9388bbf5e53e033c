"""Accounts: the e-mail that is the account, its role assignments, forms and status (E1–E7).

An e-mail is canonicalized once, at the edge, by :func:`canonical_email` (E1, E6). The two
e-mail rule sets are named values of :class:`RuleSet`; :func:`email_rule_problems` applies the
chosen one to an account's assignments (E2–E5, E7).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import NewType

import attrs

from caaspp_authz.catalog import Form, Program, Role, at_least, highest
from caaspp_authz.errors import InvalidEmail, Problem, Severity
from caaspp_authz.orgs import CDSCode

__all__ = [
    "Account",
    "Assignment",
    "Email",
    "RuleSet",
    "canonical_email",
    "email_rule_problems",
]

Email = NewType("Email", str)
"""An e-mail address canonicalized by :func:`canonical_email`: trimmed and lower-cased (E1)."""

_EMAIL = re.compile(r"[^@\s.]+(?:\.[^@\s.]+)*@[^@\s.]+(?:\.[^@\s.]+)+")
"""E1: a local part, one ``@`` and a domain of two or more labels, each made of non-empty parts
joined by single dots (no dot at the start or end of either, no two dots together), with no
space."""
MAX_EXTENSION = 10


def canonical_email(text: str) -> Email:
    """Check an e-mail address and return its canonical form (E1, E6).

    E1: addresses compare case-insensitively, so the canonical form is lower-cased. The local
    part and the domain are runs of characters other than ``@`` and spaces, separated by single
    dots (``a..b@example.org``, ``.a@example.org`` and ``a@example..org`` are refused); the
    domain has a dot.
    E6: the part after the last dot is at most 10 characters.
    """
    if not isinstance(text, str):
        raise InvalidEmail(repr(text), f"an e-mail address must be text, not `{text!r}`")
    value = text.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise InvalidEmail(text, f"`{text}` is not an e-mail address")
    extension = value.rsplit(".", 1)[1]
    if len(extension) > MAX_EXTENSION:
        raise InvalidEmail(
            text,
            f"the part of `{text}` after its last dot has {len(extension)} characters; "
            f"TOMS allows at most {MAX_EXTENSION}",
            rule="E6",
        )
    return Email(value)


class RuleSet(enum.Enum):
    """The e-mail rule sets (E7): the caller picks one; nothing else changes."""

    ONE_ROLE_PER_EMAIL = "one-role-per-email"
    """E2–E5 as the source documents state them: one account, one role (the default)."""
    MULTI_ROLE = "multi-role"
    """Current TOMS: one account may hold several roles; E3, E4 and E5 do not apply."""


@attrs.frozen
class Assignment:
    """A role held at an organization (R2, O4); ``primary`` matters only where R7 applies."""

    role: Role
    org: CDSCode
    primary: bool = False


def _assignments(values: Iterable[Assignment]) -> tuple[Assignment, ...]:
    return tuple(values)


def _forms(value: Mapping[Program, Iterable[Form]]) -> Mapping[Program, frozenset[Form]]:
    return {program: frozenset(forms) for program, forms in value.items() if forms}


@attrs.frozen
class Account:
    """One TOMS account, identified by its canonical e-mail (E1).

    Its ``repr`` names the e-mail, status, forms and roles, never the person's names or phone
    number (FERPA: a log line or a test failure carries no contact data).
    """

    email: Email
    first_name: str = attrs.field(default="", repr=False)
    last_name: str = attrs.field(default="", repr=False)
    phone: str = attrs.field(default="", repr=False)
    active: bool = True
    credentialed: bool = False
    superintendent_of: CDSCode | None = None
    forms: Mapping[Program, frozenset[Form]] = attrs.field(factory=dict, converter=_forms)
    assignments: tuple[Assignment, ...] = attrs.field(default=(), converter=_assignments)

    def __hash__(self) -> int:
        return hash(self.email)

    def has_forms(self, program: Program, needed: frozenset[Form]) -> bool:
        """Whether every form in ``needed`` is on file for ``program`` (G10)."""
        return needed <= self.forms.get(program, frozenset())

    def in_force(self, assignment: Assignment) -> bool:
        """Whether an assignment grants anything: its forms are on file for each program (G10)."""
        r = assignment.role
        return all(self.has_forms(p, r.forms) for p in r.programs)

    @property
    def roles(self) -> frozenset[Role]:
        """The distinct roles the account holds."""
        return frozenset(a.role for a in self.assignments)


def email_rule_problems(account: Account, rule_set: RuleSet) -> list[Problem]:
    """The rule set's e-mail rules applied to one account's assignments (E2–E4, E7).

    ``one-role-per-email``: an account holds one role, at as many organizations as it likes
    (E2); two different roles are an error (E3), and two at one organization name the highest
    of them (E4). ``multi-role``: any roles, with a warning where a role at an organization adds
    nothing to another role held there (E7).
    """
    if len(account.assignments) < 2:
        return []  # E3, E4, E7 each need two assignments
    where = f"account `{account.email}`"
    problems: list[Problem] = []
    by_org: dict[CDSCode, list[Role]] = {}
    for a in account.assignments:
        by_org.setdefault(a.org, []).append(a.role)
    if rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
        for org, roles in by_org.items():
            distinct = list(dict.fromkeys(roles))
            if len(distinct) > 1:
                top = highest(distinct)
                names = ", ".join(f"`{r}`" for r in distinct)
                fix = (
                    f"keep only `{top}`, the highest of them"
                    if top
                    else "no role among them is the highest: use a different e-mail for one"
                )
                problems.append(
                    Problem("E4", f"holds {names} at `{org}`", where=where, value=org, fix=fix)
                )
        distinct_all = list(dict.fromkeys(a.role for a in account.assignments))
        if len(distinct_all) > 1 and not problems:
            names = ", ".join(f"`{r}`" for r in distinct_all)
            problems.append(
                Problem(
                    "E3",
                    f"holds different roles ({names}); one account holds one role",
                    where=where,
                    fix="use a different e-mail address for each role",
                )
            )
    else:
        for org, roles in by_org.items():
            distinct = list(dict.fromkeys(roles))
            for top in distinct:
                for b in distinct:
                    if top is not b and at_least(top, b):
                        problems.append(
                            Problem(
                                "E7",
                                f"`{b}` at `{org}` adds nothing to `{top}` held there",
                                severity=Severity.WARNING,
                                where=where,
                                value=org,
                                fix=f"remove `{b}` at `{org}`",
                            )
                        )
    return problems
