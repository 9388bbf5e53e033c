"""Two checks the directory and the decision both need, on plain values (V1, V3).

This module sits below :mod:`caaspp_authz.directory` (which warns about stale custom groups and
group assignments when it is built) and :mod:`caaspp_authz.decision` (which decides), so that
the two share one implementation and neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Mapping

from caaspp_authz.accounts import Account
from caaspp_authz.catalog import Permission
from caaspp_authz.orgs import CDSCode, OrgTree

_PII = Permission.PII.value
_PII_GROUP = Permission.PII_GROUP.value
_OPENING = frozenset({Permission.PII, Permission.PII_GROUP})


def student_path(
    reach: Mapping[str, frozenset[CDSCode]], group_students: frozenset[str], ssid: str, school: str
) -> str | None:
    """V1, V2: which path opens a student's results to a user, or ``None``.

    ``"PII"`` when PII covers the school where the result was earned; ``"PII_GROUP"`` when the
    student is in a group assigned to the user and PII_GROUP covers the school. ``reach`` and
    ``group_students`` are the user's precomputed scopes (G10 applied).
    """
    pii = reach.get(_PII)
    if pii is not None and school in pii:
        return _PII
    if ssid in group_students:
        held = reach.get(_PII_GROUP)
        if held is not None and school in held:
            return _PII_GROUP
    return None


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
