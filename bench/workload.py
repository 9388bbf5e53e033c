"""A deterministic, seeded workload for benchmarks: a directory mapping and requests.

:func:`build` returns a :class:`Workload`: a directory in the directory format (format 1),
ready for :func:`caaspp_authz.load_directory`, and ``view_student_results`` requests as
``(principal e-mail, student SSID)`` pairs. The same :class:`Shape` and seed give the same
workload, byte for byte, on every machine.

The directory respects the rulebook: roles are drawn from the catalog at their level (R2), every
account has its forms on file (G10) and, for roles that need one, a credential (R5); an account
with two assignments holds the same role at two organizations (E2, E3, the default
``one-role-per-email`` rule set); group assignees hold a role in the group's LEA (V3).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from caaspp_authz.catalog import ROLES, Permission, Role, RoleLevel

__all__ = ["LARGE", "SMALL", "Shape", "Workload", "build"]

SEED = 20_260_101


@attrs.frozen
class Shape:
    """The size of a workload. Every count is exact; ``seed`` fixes every random draw."""

    leas: int = 5
    schools_per_lea: int = 20
    students_per_school: int = 1000
    accounts: int = 2000
    lea_account_share: float = 0.2
    two_assignment_share: float = 0.3
    groups: int = 20
    group_size: tuple[int, int] = (20, 40)
    assignees: tuple[int, int] = (1, 3)
    requests: int = 100_000
    seed: int = SEED

    @property
    def students(self) -> int:
        """How many students the directory lists."""
        return self.leas * self.schools_per_lea * self.students_per_school


SMALL = Shape()
"""5 LEAs × 20 schools × 1,000 students: 100,000 students, 2,000 accounts, 100,000 requests."""

LARGE = Shape(schools_per_lea=600, requests=0)
"""5 LEAs × 600 schools × 1,000 students: 3,000,000 students, for the list filter."""


@attrs.frozen
class Workload:
    """A directory mapping, requests, and the two users the list filter is measured for."""

    shape: Shape
    directory: Mapping[str, Any]
    requests: Sequence[tuple[str, str]]
    lea_user: str
    """An account holding PII at one LEA (an LEA coordinator or Educator—District)."""
    group_user: str
    """An account whose only path to results is PII_GROUP and its assigned groups (V1, V2)."""


def lea_code(i: int) -> str:
    """The CDS code of the ``i``-th LEA (0-based): distinct county and district digits."""
    return f"{10 + i % 80:02d}{10000 + i:05d}0000000"


def school_code(lea: str, j: int) -> str:
    """The CDS code of the ``j``-th school (0-based) of an LEA: its own 7 school digits."""
    return f"{lea[:7]}{j + 1:07d}"


def _forms(role: Role) -> dict[str, list[str]]:
    """G10: every form the role needs, on file for each of its programs."""
    needed = sorted(f.value for f in role.forms)
    return (
        {p.value: needed for p in sorted(role.programs, key=lambda p: p.value)} if needed else {}
    )


def _roles_at(level: RoleLevel) -> list[Role]:
    """R2: the roles that may be held at an LEA or at a school (``any`` roles at both)."""
    return [r for r in ROLES if r.level in (level, RoleLevel.ANY)]


def _group_only(role: Role) -> bool:
    return Permission.PII_GROUP in role.permissions and Permission.PII not in role.permissions


def build(shape: Shape = SMALL) -> Workload:
    """Build the workload for ``shape``; the same shape gives the same workload."""
    rng = random.Random(shape.seed)
    leas = [lea_code(i) for i in range(shape.leas)]
    schools = {lea: [school_code(lea, j) for j in range(shape.schools_per_lea)] for lea in leas}
    organizations: list[dict[str, Any]] = []
    for i, lea in enumerate(leas):
        organizations.append({"cds": lea, "name": f"District {i + 1}"})
        organizations.extend(
            {"cds": s, "name": f"District {i + 1} School {j + 1}"}
            for j, s in enumerate(schools[lea])
        )

    students: list[dict[str, Any]] = []
    by_school: dict[str, list[str]] = {}
    lea_of: dict[str, str] = {}
    n = 0
    for lea in leas:
        for school in schools[lea]:
            lea_of[school] = lea
            ssids = [f"{1_000_000_000 + n + k:010d}" for k in range(shape.students_per_school)]
            n += shape.students_per_school
            by_school[school] = ssids
            students.extend({"ssid": ssid, "school": school} for ssid in ssids)

    lea_roles, school_roles = _roles_at(RoleLevel.LEA), _roles_at(RoleLevel.SCHOOL)
    accounts: list[dict[str, Any]] = []
    held: dict[str, tuple[Role, list[str]]] = {}
    for k in range(shape.accounts):
        email = f"staff{k:05d}@example.org"
        two = rng.random() < shape.two_assignment_share
        if rng.random() < shape.lea_account_share:
            role = rng.choice(lea_roles)
            orgs = rng.sample(leas, 2 if two and len(leas) > 1 else 1)
        else:
            role = rng.choice(school_roles)
            pool = schools[rng.choice(leas)]  # E2: the same role at two sites of one LEA
            orgs = rng.sample(pool, 2 if two and len(pool) > 1 else 1)
        held[email] = (role, orgs)
        accounts.append(
            {
                "email": email,
                "first_name": "Staff",
                "last_name": f"{k:05d}",
                "phone": "213-555-0100",
                "active": True,
                "credentialed": role.needs_credential,  # R5
                "superintendent_of": None,
                "forms": _forms(role),
                "roles": [{"role": role.name, "org": o, "primary": False} for o in orgs],
            }
        )

    # V2: group assignees. The first assignee of each group holds a group-only role at the
    # group's school, so that groups open results; the others hold any role in the LEA (V3).
    group_only = [e for e, (r, orgs) in held.items() if _group_only(r) and orgs[0] in lea_of]
    in_lea: dict[str, list[str]] = {lea: [] for lea in leas}
    for email, (_, orgs) in held.items():
        for lea in {lea_of.get(o, o) for o in orgs}:
            in_lea[lea].append(email)
    groups: list[dict[str, Any]] = []
    groups_of: dict[str, list[list[str]]] = {}
    first_assignees = rng.sample(group_only, shape.groups)
    for g, first in enumerate(first_assignees):
        school = rng.choice(held[first][1])
        members = rng.sample(by_school[school], rng.randint(*shape.group_size))
        others = [e for e in in_lea[lea_of[school]] if e != first]
        users = [first, *rng.sample(others, rng.randint(*shape.assignees) - 1)]
        groups.append(
            {
                "name": f"Group {g + 1}",
                "school": school,
                "school_year": 2026,
                "subject": "All",
                "students": members,
                "users": users,
            }
        )
        for u in users:
            groups_of.setdefault(u, []).append(members)

    emails = list(held)
    all_students = [s["ssid"] for s in students]
    requests: list[tuple[str, str]] = []
    for _ in range(shape.requests):
        email = rng.choice(emails)
        draw = rng.random()
        if draw < 0.1 and email in groups_of:  # a student of one of the user's groups
            ssid = rng.choice(rng.choice(groups_of[email]))
        elif draw < 0.5:  # a student under one of the user's organizations
            org = rng.choice(held[email][1])
            pool = by_school[org] if org in by_school else by_school[rng.choice(schools[org])]
            ssid = rng.choice(pool)
        else:  # anyone
            ssid = rng.choice(all_students)
        requests.append((email, ssid))

    lea_user = next(
        e
        for e, (r, orgs) in held.items()
        if Permission.PII in r.permissions and r.level is RoleLevel.LEA and len(orgs) == 1
    )
    directory = {
        "format": 1,
        "rule_set": "one-role-per-email",
        "organizations": organizations,
        "accounts": accounts,
        "students": students,
        "groups": groups,
        "custom_groups": [],
    }
    return Workload(
        shape=shape,
        directory=directory,
        requests=tuple(requests),
        lea_user=lea_user,
        group_user=first_assignees[0],
    )
