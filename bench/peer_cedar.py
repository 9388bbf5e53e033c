"""V1 translated to Cedar, evaluated through ``cedarpy`` (the Rust Cedar engine).

Entities: ``Org`` (a school's parent is its LEA), ``Student`` (parents: its school and the
assigned groups it is in), ``Group``, and ``User`` with three attributes: ``pii`` and
``pii_group``, the organizations where the user holds that permission through an assignment in
force (G10 applied by the directory), and ``groups``, the groups assigned to it. Cedar's ``in``
follows the parent links, so "an LEA covers its schools" (O4) is the entity hierarchy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import cedarpy

from caaspp_authz import Directory

ACTION = 'Action::"view_student_results"'

POLICIES = """
permit (principal is User, action == Action::"view_student_results", resource is Student)
when { resource in principal.pii };

permit (principal is User, action == Action::"view_student_results", resource is Student)
when { resource in principal.groups && resource in principal.pii_group };
"""


def _ref(kind: str, ident: str) -> dict[str, Any]:
    return {"__entity": {"type": kind, "id": ident}}


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": kind, "id": ident}


def group_id(school: str, year: int, name: str) -> str:
    """The id of a group entity: its key, school, year and name (U5)."""
    return f"{school}/{year}/{name}"


class Cedar:
    """The V1 policy as Cedar entities and policies, built from a directory."""

    def __init__(self, directory: Directory) -> None:
        self.policies = cedarpy.PolicySet.from_str(POLICIES)
        groups_of: dict[str, list[str]] = {}
        for g in directory.groups.values():
            gid = group_id(g.key.school, g.key.school_year, g.key.name)
            for ssid in g.students:
                groups_of.setdefault(ssid, []).append(gid)
        self.texts: dict[tuple[str, str], str] = {}
        for org in directory.tree:
            parents = [] if org.lea is None else [_uid("Org", org.lea)]
            self._add("Org", org.cds, {}, parents)
        for g in directory.groups.values():
            self._add("Group", group_id(g.key.school, g.key.school_year, g.key.name), {}, [])
        for s in directory.students.values():
            parents = [_uid("Org", s.school)] + [
                _uid("Group", g) for g in groups_of.get(s.ssid, ())
            ]
            self._add("Student", s.ssid, {}, parents)
        for user in directory.users():
            if not user.active:  # G11: an inactive account is left out, so it is denied
                continue
            attrs = {
                "pii": [_ref("Org", o) for o in sorted(user.scope("PII"))],
                "pii_group": [_ref("Org", o) for o in sorted(user.scope("PII_GROUP"))],
                "groups": [
                    _ref("Group", group_id(k.school, k.school_year, k.name))
                    for k in sorted(user.groups, key=str)
                ],
            }
            self._add("User", user.email, attrs, [])
        self.document = "[" + ",".join(self.texts.values()) + "]"
        self.student_parents = {
            s.ssid: (
                s.school,
                directory.tree.organizations[s.school].lea_code,
                tuple(groups_of.get(s.ssid, ())),
            )
            for s in directory.students.values()
        }
        self.entities: Any = None

    def _add(self, kind: str, ident: str, attrs: dict[str, Any], parents: list[Any]) -> None:
        entity = {"uid": _uid(kind, ident), "attrs": attrs, "parents": parents}
        self.texts[(kind, ident)] = json.dumps(entity)

    def load(self) -> None:
        """Parse every entity once into a reusable handle (cedarpy ``Entities``)."""
        self.entities = cedarpy.Entities.from_json_str(self.document)

    @staticmethod
    def request(email: str, ssid: str) -> dict[str, Any]:
        """The Cedar request for ``email`` viewing the results of ``ssid``."""
        return {
            "principal": f'User::"{email}"',
            "action": ACTION,
            "resource": f'Student::"{ssid}"',
            "context": {},
        }

    def can(self, email: str, ssid: str) -> bool:
        """One request against the pre-parsed entity handle, as a service would call it."""
        return bool(
            cedarpy.is_authorized(self.request(email, ssid), self.policies, self.entities).allowed
        )

    def slice_for(self, email: str, ssid: str) -> str:
        """The entities one request needs: the user, the student, its school, LEA and groups."""
        school, lea, groups = self.student_parents[ssid]
        texts = self.texts
        keys = [("User", email), ("Student", ssid), ("Org", school), ("Org", lea)]
        keys.extend(("Group", g) for g in groups)
        return "[" + ",".join(texts[k] for k in keys if k in texts) + "]"

    def can_sliced(self, email: str, ssid: str) -> bool:
        """One request with only the entities it needs, parsed by the call."""
        entities = self.slice_for(email, ssid)
        return bool(
            cedarpy.is_authorized(self.request(email, ssid), self.policies, entities).allowed
        )

    def can_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Many requests in one call against the pre-parsed entity handle."""
        requests = [self.request(e, s) for e, s in pairs]
        results = cedarpy.is_authorized_batch(requests, self.policies, self.entities)
        return [bool(r.allowed) for r in results]
