"""V1 translated to Casbin: pycasbin's ``FastEnforcer`` with an RBAC-with-domains model.

A domain is a school. A request is ``(user, school of the student, student, action)``: the
caller looks the student's school up, as it would for any domain model.

Materialized tables (built from the directory when the enforcer is loaded):

- ``g, USER, PII, SCHOOL`` and ``g, USER, PII_GROUP, SCHOOL``: the user holds the permission
  through an assignment in force over the school (G10 applied). RBAC with domains has no
  hierarchy of domains, so a permission held at an LEA is written once for each of its
  schools (O4).
- ``g, USER, group:ID, SCHOOL``: the group ``ID`` of school ``SCHOOL`` is assigned to the user.
- ``g, SSID, group:ID, SCHOOL``: the student is in the group. (A second role definition
  ``g2`` would be the natural home of this table, but pycasbin 1.43's ``FastModel`` loads only
  the first role definition of a model: its ``add_def`` drops the return value the loader
  reads to go on.)
- ``p, PII, SCHOOL, *, view_student_results`` and
  ``p, group:ID, SCHOOL, group:ID, view_student_results``: one row per school and per group.

The matcher joins them: PII in the school's domain, or an assigned group holding the student
and PII_GROUP in the school's domain (V1, V2). ``cache_key_order=[1, 3]`` lets the
``FastEnforcer`` consider only the policy rows of the request's school and action.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import casbin

from caaspp_authz import Directory

ACT = "view_student_results"

MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.act == p.act && \
(p.obj == "*" || (g(r.obj, p.obj, r.dom) && g(r.sub, "PII_GROUP", r.dom)))
"""


class Casbin:
    """The V1 policy as Casbin policy rows, built from a directory."""

    def __init__(self, directory: Directory) -> None:
        tree = directory.tree
        schools = [o.cds for o in tree if o.lea is not None]
        self.school_of = {s.ssid: s.school for s in directory.students.values()}
        self.p: list[list[str]] = [["PII", s, "*", ACT] for s in schools]
        self.g: list[list[str]] = []
        for g in directory.groups.values():
            gid = f"group:{g.key.school}/{g.key.school_year}/{g.key.name}"
            self.p.append([gid, g.key.school, gid, ACT])
            self.g.extend([ssid, gid, g.key.school] for ssid in sorted(g.students))
            self.g.extend([u, gid, g.key.school] for u in sorted(g.users))
        for user in directory.users():
            if not user.active:  # G11: an inactive account is left out, so it is denied
                continue
            for name in ("PII", "PII_GROUP"):
                for org in sorted(user.scope(name)):
                    for school in tree.covered_by(org):  # O4, materialized
                        if tree.organizations[school].lea is not None or school == org:
                            self.g.append([user.email, name, school])
        self.enforcer: Any = None

    def load(self) -> None:
        """Build the enforcer and add every materialized row."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.conf"
            path.write_text(MODEL, encoding="utf-8")
            enforcer = casbin.FastEnforcer(str(path), cache_key_order=[1, 3])
        enforcer.add_policies(self.p)
        enforcer.add_named_grouping_policies("g", self.g)
        self.enforcer = enforcer

    @property
    def rows(self) -> int:
        """How many materialized rows the enforcer holds."""
        return len(self.p) + len(self.g)

    def can(self, email: str, ssid: str) -> bool:
        """One request: look the student's school up, then enforce in that domain."""
        school = self.school_of.get(ssid)
        if school is None:
            return False
        return bool(self.enforcer.enforce(email, school, ssid, ACT))
