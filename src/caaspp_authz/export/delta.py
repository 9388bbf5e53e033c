"""Deltas: the relationship writes and deletes that bring a SpiceDB export to a new directory.

- :func:`from_report`: from the change report of ``apply users`` / ``apply groups`` (its JSON
  form, as ``apply --format json`` prints it, or the report itself) and the new directory;
- :func:`for_grant`: from a single grant (``add_role`` allowed and applied);
- :func:`diff`: between two whole directories, for any other change (forms put on file,
  an account deactivated, a role removed one by one).

Each is a list of :class:`Update` values, deletes first, never the same relationship twice,
ready for one WriteRelationships call (or several, in order). A delete of a relationship the
engine does not hold is a no-op in SpiceDB, so a delta may be applied again safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from caaspp_authz.catalog import role as role_named
from caaspp_authz.directory import Directory
from caaspp_authz.errors import RequestError
from caaspp_authz.export._model import encode, group_id
from caaspp_authz.export.spicedb import (
    Relationship,
    account_relationships,
    binding_relationships,
    group_relationships,
    relationships,
)
from caaspp_authz.resources import Grant, GroupKey

__all__ = ["Update", "diff", "for_grant", "from_report"]

_OPERATIONS = {"touch": "OPERATION_TOUCH", "delete": "OPERATION_DELETE"}


@attrs.frozen(order=True)
class Update:
    """One relationship update: ``touch`` (write, or keep) or ``delete``."""

    operation: str
    relationship: Relationship

    def to_json(self) -> dict[str, Any]:
        """The update as the SpiceDB HTTP API's WriteRelationships takes it."""
        return {
            "operation": _OPERATIONS[self.operation],
            "relationship": self.relationship.to_json(),
        }

    def __str__(self) -> str:
        return f"{self.operation} {self.relationship}"


def _updates(touch: Iterable[Relationship], delete: Iterable[Relationship]) -> list[Update]:
    """Deletes first, then touches; a relationship touched is not also deleted."""
    touched = set(touch)
    deleted = set(delete) - touched
    return [Update("delete", r) for r in sorted(deleted)] + [
        Update("touch", r) for r in sorted(touched)
    ]


def diff(before: Directory, after: Directory) -> list[Update]:
    """Every update that turns ``before``'s export into ``after``'s."""
    old, new = set(relationships(before)), set(relationships(after))
    return _updates(new - old, old - new)


def _in_force(directory: Directory, email: str, role_name: str, org: str) -> bool:
    """G10: whether ``after`` holds that assignment in force."""
    account = directory.account(email)
    if account is None:
        return False
    return any(
        a.role.name == role_name and a.org == org and account.in_force(a)
        for a in account.assignments
    )


def _binding(directory: Directory, email: str, role_text: str, org: str) -> list[Relationship]:
    name = role_named(role_text).name
    return binding_relationships(email, name, org, in_force=_in_force(directory, email, name, org))


def _held_at(directory: Directory, email: str, org: str) -> list[Relationship]:
    """The bindings of every role ``email`` holds at ``org`` in ``directory`` (G10 applied),
    whatever role the report names for the change there."""
    account = directory.account(email)
    if account is None:
        return []
    return [
        r
        for a in account.assignments
        if a.org == org
        for r in binding_relationships(
            account.email, a.role.name, org, in_force=account.in_force(a)
        )
    ]


def _key(value: Mapping[str, Any]) -> GroupKey:
    return GroupKey(value["school"], int(value["school_year"]), value["name"])


def _field(report: Mapping[str, Any], name: str) -> list[Any]:
    value = report.get(name, [])
    if not isinstance(value, list):
        raise RequestError(f"change report field `{name}` is not a list")
    return value


def from_report(report: Mapping[str, Any] | Any, after: Directory) -> list[Update]:
    """The updates a change report calls for, ``after`` being the directory it produced.

    U4: where the report names a change of an account's roles at an organization (added or
    overridden), the binding of each role it replaced there (``previous``) is deleted and the
    binding of every role the account holds there in ``after`` is written (its ``subject``
    only if in force, G10), so a report that names one change per organization suffices. G11: a created or reactivated account
    gets its ``active`` relationship. U5: created groups get their school; members joining
    and leaving are written and deleted; students added get their school (V1).
    Raises :class:`~caaspp_authz.errors.RequestError` for a report that is not one.
    """
    data: Mapping[str, Any] = report.to_json() if hasattr(report, "to_json") else report
    if not isinstance(data, Mapping):
        raise RequestError("a change report is a JSON object")
    touch: list[Relationship] = []
    delete: list[Relationship] = []
    try:
        pairs: dict[tuple[str, str], None] = {}
        for c in [*_field(data, "assignments_added"), *_field(data, "assignments_overridden")]:
            role_named(c["role"])  # a change names a role of the catalog
            pairs[(c["email"], c["org"])] = None
            if c.get("previous"):
                name = role_named(c["previous"]).name
                delete.extend(binding_relationships(c["email"], name, c["org"], in_force=True))
        for email, org in pairs:  # U4: every role the account now holds where a row changed
            touch.extend(_held_at(after, email, org))
        for email in [*_field(data, "accounts_created"), *_field(data, "accounts_reactivated")]:
            account = after.account(email)
            if account is not None:
                touch.extend(account_relationships(account.email, active=account.active))
        for k in [*_field(data, "groups_created"), *_field(data, "groups_replaced")]:
            key = _key(k)
            touch.extend(group_relationships(key.school, group_id(key), (), ()))
        for m in _field(data, "members_added"):
            touch.extend(_member(_key(m["group"]), m["kind"], m["member"]))
        for m in _field(data, "members_removed"):
            delete.extend(_member(_key(m["group"]), m["kind"], m["member"]))
        for ssid in _field(data, "students_added"):
            student = after.student(ssid)
            if student is not None:
                touch.append(
                    Relationship(
                        "student", encode(ssid), "school", "organization", encode(student.school)
                    )
                )
    except (KeyError, TypeError, ValueError, LookupError) as exc:
        raise RequestError(f"not a change report: {str(exc)[:200]}") from None
    return _updates(touch, delete)


def _member(key: GroupKey, kind: str, member: str) -> list[Relationship]:
    """V1, V3: a student's membership of a group, or a user's assignment to it."""
    gid = group_id(key)
    if kind == "student":
        return [Relationship("student", encode(member), "group", "group", gid)]
    if kind == "user":
        return [Relationship("group", gid, "assignee", "user", encode(member))]
    raise ValueError(f"member kind `{kind}` is neither `student` nor `user`")


def for_grant(grant: Grant, after: Directory) -> list[Update]:
    """The updates of one applied grant (G1–G6, G11): its binding, and the account active."""
    touch = _binding(after, grant.to, grant.role.name, grant.organization)
    account = after.account(grant.to)
    if account is not None:
        touch.extend(account_relationships(account.email, active=account.active))
    return _updates(touch, ())
