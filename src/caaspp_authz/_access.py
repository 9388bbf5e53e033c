"""Two checks the directory and the decision both need, on plain values (V1, V3).

This module sits below :mod:`caaspp_authz.directory` (which warns about stale custom groups and
group assignments when it is built) and :mod:`caaspp_authz.decision` (which decides), so that
the two share one implementation and neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from caaspp_authz.accounts import Account
from caaspp_authz.catalog import Permission
from caaspp_authz.orgs import CDSCode, OrgTree

_PII = Permission.PII.value
_PII_GROUP = Permission.PII_GROUP.value
_OPENING = frozenset({Permission.PII, Permission.PII_GROUP})

T = TypeVar("T")
V = TypeVar("V", bound="Viewer")
S = TypeVar("S", bound="_Student")


class Viewer(Protocol):
    """What the V1 check reads of a user: its precomputed scopes (G10 applied)."""

    @property
    def reach(self) -> Mapping[str, frozenset[CDSCode]]: ...

    @property
    def group_students(self) -> frozenset[str]: ...


class _Student(Protocol):
    @property
    def ssid(self) -> str: ...

    @property
    def school(self) -> CDSCode: ...


def student_check(
    by_pii: T, by_group: T, held: Callable[[V, S], bool]
) -> Callable[[V, S], T | None]:
    """V1, V2: the one check of who views a student's results, as a function of (user, student).

    It returns ``by_pii`` when PII covers the school where the result was earned, ``by_group``
    when the student is in a group assigned to the user and PII_GROUP covers the school, and
    ``None`` otherwise; ``held(user, student)`` is asked before allowing (the decision asks
    whether the directory holds that student). Built once per caller, so that the decision's
    hot path is one call.
    """

    def check(user: V, student: S) -> T | None:
        school = student.school
        reach = user.reach
        pii = reach.get(_PII)
        if pii is not None and school in pii:
            return by_pii if held(user, student) else None
        if student.ssid in user.group_students:
            group = reach.get(_PII_GROUP)
            if group is not None and school in group:
                return by_group if held(user, student) else None
        return None

    return check


def may_be_assigned(tree: OrgTree, account: Account, school: str) -> bool:
    """V3 (revised decision): whether a group at ``school`` may be assigned to ``account``.

    The account holds at least one role carrying PII_GROUP or PII at an organization covering
    the school (O4). The role counts whether it is in force or waits for its forms (G10), and
    whether the account is active or not (G11): both can change without a new assignment.
    """
    covering = tree.covering(school)
    return any(
        a.org in covering and not _OPENING.isdisjoint(a.role.permissions)
        for a in account.assignments
    )
