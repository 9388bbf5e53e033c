"""Every request of a small world, and the comparison of an engine's answers with ``can``.

Where the space is small enough it is enumerated, not sampled: every account of the directory
(and one unknown e-mail) against every exported action on every resource of the directory, a
resource it does not hold, a group key it does not hold at each test site, and reports of one
and two organizations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from caaspp_authz import Action, can
from caaspp_authz.catalog import Program
from caaspp_authz.decision import POLICY
from caaspp_authz.directory import Directory, User
from caaspp_authz.export._model import (
    EXPORTED,
    GROUP_PERMISSIONS,
    ORGANIZATION_ACTIONS,
    REPORT_ACTIONS,
    Check,
    Plan,
    Verdict,
    plan,
)
from caaspp_authz.orgs import CDSCode, Level, Organization
from caaspp_authz.resources import (
    Assessment,
    GroupKey,
    ProgramScope,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
)

UNKNOWN_CODE = CDSCode("99999999999999")


def users(directory: Directory) -> list[User]:
    """Every account, and one e-mail the directory does not know (E1)."""
    return [*directory.users(), directory.user("nobody@unknown.example")]


def resources(directory: Directory, action: Action) -> list[object]:
    """Every resource of the directory ``action`` takes, and some it does not hold."""
    orgs = list(directory.tree)
    codes = [o.cds for o in orgs]
    if action is Action.VIEW_STUDENT_RESULTS:
        return [
            *directory.students.values(),
            Student("0000000000", codes[0]),
            Unknown("student", "0000000000"),
        ]
    if action in GROUP_PERMISSIONS or action is Action.CREATE_GROUP:
        fresh = [GroupKey(c, 2026, "Not Yet") for c in codes]
        return [*directory.groups, *fresh, GroupKey(UNKNOWN_CODE, 2026, "Nowhere")]
    if action is Action.ACCESS_TOOLS_FOR_TEACHERS:
        return [ToolsForTeachers()]
    if action in REPORT_ACTIONS:
        singles = [Report((c,)) for c in [*codes, UNKNOWN_CODE]]
        pairs = [Report((a, b)) for a, b in zip(codes, codes[1:] + codes[:1], strict=True)]
        return [*singles, *pairs, Report(())]
    assert action in ORGANIZATION_ACTIONS
    kinds = POLICY[action].kinds
    if ResourceLink in kinds:
        return [*(ResourceLink(c) for c in codes), ResourceLink(UNKNOWN_CODE)]
    unknown = Organization(UNKNOWN_CODE, "Unknown", Level.LEA)
    found: list[object] = [*orgs, unknown]
    if ProgramScope in kinds:  # T2, T3: each program and assessment
        found += [
            ProgramScope(o, program, assessment)
            for o in [*orgs, unknown]
            for program in Program
            for assessment in Assessment
        ]
    return found


@attrs.frozen
class Case:
    """One request, how an engine is asked it, and the library's answer."""

    user: User
    action: Action
    resource: object
    plan: Plan
    expected: bool


def cases(directory: Directory) -> Iterator[Case]:
    """Every request of the small world, with ``can``'s answer."""
    for action in sorted(EXPORTED, key=lambda a: a.value):
        items = resources(directory, action)
        for user in users(directory):
            for resource in items:
                yield Case(
                    user,
                    action,
                    resource,
                    plan(directory, action, resource),
                    can(user, action, resource),
                )


@attrs.frozen
class Tally:
    """How many requests one run compared, and the disagreements found."""

    compared: int = 0
    engine: int = 0
    prechecked: int = 0
    allowed: int = 0
    worlds: int = 1
    disagreements: tuple[str, ...] = ()

    def add(self, other: Tally) -> Tally:
        """Both tallies together."""
        return Tally(
            self.compared + other.compared,
            self.engine + other.engine,
            self.prechecked + other.prechecked,
            self.allowed + other.allowed,
            self.worlds + other.worlds,
            self.disagreements + other.disagreements,
        )


def compare(all_cases: list[Case], answers: dict[tuple[str, Check], bool], user_id: Any) -> Tally:
    """Combine the engine's answers per request (all checks must allow) and compare."""
    wrong: list[str] = []
    engine = prechecked = 0
    for case in all_cases:
        if case.plan.verdict is Verdict.ENGINE:
            engine += 1
            got = all(answers[(user_id(case.user), c)] for c in case.plan.checks)
        else:
            prechecked += 1
            got = False
        if got != case.expected:
            wrong.append(
                f"{case.user.email} {case.action.value} {case.resource!r}: engine {got}, "
                f"can {case.expected}"
            )
    allowed = sum(case.expected for case in all_cases)
    return Tally(len(all_cases), engine, prechecked, allowed, 1, tuple(wrong[:20]))
