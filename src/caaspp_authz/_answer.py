"""The values every check of the decision returns and names: actions and decisions.

:mod:`caaspp_authz.decision` re-exports :class:`Action` and :class:`Decision`; the checks of
its private modules build decisions with :func:`allow` and :func:`deny`.

A denial has two texts where the full one would tell the principal something it may not see
(another account's roles, where a student's results were earned, whether an SSID or an
account exists): the principal's own (``reason``, ``fix``), which ``decide`` returns, and the
audit detail, which only ``explain`` returns. Both carry the same rule IDs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from caaspp_authz.accounts import Assignment

__all__ = [
    "Action",
    "Audited",
    "Decision",
    "allow",
    "deny",
    "for_audit",
    "for_principal",
    "in_order",
]


class Action(enum.Enum):
    """Every action a request may name (INTERFACES.md); ``Action("view_group")`` works too."""

    VIEW_STUDENT_RESULTS = "view_student_results"
    VIEW_GROUP = "view_group"
    CREATE_GROUP = "create_group"
    EDIT_GROUP = "edit_group"
    DELETE_GROUP = "delete_group"
    ASSIGN_GROUP = "assign_group"
    CREATE_CUSTOM_GROUP = "create_custom_group"
    EDIT_CUSTOM_GROUP = "edit_custom_group"
    DELETE_CUSTOM_GROUP = "delete_custom_group"
    VIEW_CUSTOM_GROUP = "view_custom_group"
    CREATE_AGGREGATE_REPORT = "create_aggregate_report"
    VIEW_AGGREGATE_REPORT = "view_aggregate_report"
    EXPORT_AGGREGATE_REPORT = "export_aggregate_report"
    MANAGE_RESOURCE_LINKS = "manage_resource_links"
    ACCESS_TOOLS_FOR_TEACHERS = "access_tools_for_teachers"
    UPLOAD_USERS = "upload_users"
    UPLOAD_GROUPS = "upload_groups"
    ADMINISTER_SUMMATIVE = "administer_summative"
    ADMINISTER_ALTERNATE = "administer_alternate"
    ADMINISTER_INTERIM = "administer_interim"
    ADMINISTER_PRACTICE = "administer_practice"
    ADMINISTER_ELPAC = "administer_elpac"
    MANAGE_TEST_SETTINGS = "manage_test_settings"
    HAND_SCORE_INTERIM = "hand_score_interim"
    VIEW_COMPLETION_STATUS = "view_completion_status"
    EDIT_ACCOUNT = "edit_account"
    DEACTIVATE_ACCOUNT = "deactivate_account"
    REACTIVATE_ACCOUNT = "reactivate_account"
    RESET_PASSWORD = "reset_password"
    DELETE_ACCOUNT = "delete_account"
    ADD_ROLE = "add_role"
    REMOVE_ROLE = "remove_role"


# Members are singletons compared by identity: hash them by identity too, in C, so that looking
# an action up in the policy table costs no Python-level call. Set after the class so that its
# declared type stays Enum's own (type checkers see one `__hash__`, not an ambiguous override).
Action.__hash__ = object.__hash__  # type: ignore[method-assign]


@attrs.frozen
class Decision:
    """The answer to a request: allowed or not, the rule IDs that decided it, and why.

    ``fix`` says, for a denial, what would change the answer; it is ``None`` when allowed or
    when nothing the user could do would.
    """

    allowed: bool
    rules: tuple[str, ...]
    reason: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The decision line of the command-line format (INTERFACES.md)."""
        return {
            "allowed": self.allowed,
            "rules": list(self.rules),
            "reason": self.reason,
            "fix": self.fix,
        }


def allow(rules: tuple[str, ...], reason: str) -> Decision:
    """An allowing decision: the rule IDs that allowed it and why."""
    return Decision(True, rules, reason)


@attrs.frozen
class Audited(Decision):
    """A denial as a check returns it: the principal's text and, apart, the audit detail.

    Never returned by ``decide`` or ``explain``: :func:`for_principal` and :func:`for_audit`
    turn it into a plain :class:`Decision` with the same rule IDs.
    """

    audit: Callable[[], tuple[str, str | None]] | tuple[str, str | None] = ("", None)
    """The audit ``(reason, fix)``, or a function giving it, so that a denial the principal
    reads costs no audit text (the hot V1 path passes a function)."""


def deny(
    rules: tuple[str, ...],
    reason: str,
    fix: str | None = None,
    *,
    audit: Callable[[], tuple[str, str | None]] | tuple[str, str | None] | None = None,
) -> Decision:
    """A denial: the rule IDs that decided it, why, and what would change the answer.

    ``reason`` and ``fix`` are what the principal may read; ``audit``, where given, is the
    ``(reason, fix)`` that names what the principal may not see, for :func:`for_audit` only.
    """
    if audit is None:
        return Decision(False, rules, reason, fix)
    return Audited(False, rules, reason, fix, audit)


def for_principal(decision: Decision) -> Decision:
    """The decision as the principal may read it: the audit detail dropped (no personal data
    the principal may not see)."""
    if type(decision) is Audited:
        return Decision(False, decision.rules, decision.reason, decision.fix)
    return decision


def for_audit(decision: Decision) -> Decision:
    """The decision with its audit detail in place of the principal's text, same rule IDs."""
    if type(decision) is Audited:
        audit = decision.audit
        reason, fix = audit if isinstance(audit, tuple) else audit()
        return Decision(False, decision.rules, reason, fix)
    return decision


def in_order(assignments: tuple[Assignment, ...]) -> list[Assignment]:
    """Assignments in a fixed order, so that a reason never depends on how a directory lists
    them (P4: a user's access is the union of its assignments, in no order)."""
    return sorted(assignments, key=lambda a: (a.role.name, a.org, a.primary))
