"""Small directories for example-based tests, built in the directory format (INTERFACES.md).

One LEA with two schools and a direct-funded charter, and a second LEA with one school; every
account has every security form on file unless a test says otherwise (G10), so that a test
states only what it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from caaspp_authz import Decision, Directory, Request, load_directory

LEA = "19647330000000"
SCHOOL_1 = "19647331111111"
SCHOOL_2 = "19647332222222"
CHARTER = "19647330123456"
"""A direct-funded charter: an LEA of its own whose code is a school code (O3)."""
OTHER_LEA = "01611920000000"
OTHER_SCHOOL = "01611921234567"

ALL_FORMS: Mapping[str, list[str]] = {
    "CAASPP": ["agreement", "affidavit"],
    "ELPAC": ["agreement", "affidavit"],
}


def organizations() -> list[dict[str, Any]]:
    """The standard organizations: LEA with School 1, School 2; a charter; another LEA."""
    return [
        {"cds": LEA, "name": "Example Unified"},
        {"cds": SCHOOL_1, "name": "School 1"},
        {"cds": SCHOOL_2, "name": "School 2"},
        {"cds": CHARTER, "name": "Charter Academy", "level": "lea"},
        {"cds": OTHER_LEA, "name": "Sample Valley Unified"},
        {"cds": OTHER_SCHOOL, "name": "Sample Valley Elementary"},
    ]


def acct(
    email: str,
    role: str | None = None,
    org: str | None = None,
    *,
    primary: bool = False,
    roles: Sequence[tuple[str, str]] = (),
    forms: Mapping[str, list[str]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An account entry holding ``role`` at ``org`` (and any ``roles``), every form on file."""
    held = [*([(role, org)] if role is not None and org is not None else []), *roles]
    entry: dict[str, Any] = {
        "email": email,
        "first_name": "Test",
        "last_name": "User",
        "phone": "213-555-0100",
        "forms": dict(ALL_FORMS if forms is None else forms),
        "roles": [{"role": r, "org": o, "primary": primary} for r, o in held],
    }
    entry.update(fields)
    return entry


def ssids(n: int, *, prefix: str = "1") -> list[str]:
    """``n`` distinct 10-digit SSIDs starting with ``prefix``."""
    return [f"{prefix}{i:0{10 - len(prefix)}d}" for i in range(1, n + 1)]


def students(school: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Student entries for ``ids``, all at ``school``."""
    return [{"ssid": s, "school": school} for s in ids]


def group(
    name: str,
    school: str,
    members: Iterable[str] = (),
    users: Iterable[str] = (),
    *,
    year: int = 2026,
    subject: str = "All",
) -> dict[str, Any]:
    """A group entry."""
    return {
        "name": name,
        "school": school,
        "school_year": year,
        "subject": subject,
        "students": list(members),
        "users": list(users),
    }


def key(name: str, school: str = SCHOOL_1, year: int = 2026) -> dict[str, Any]:
    """A group reference in the request format."""
    return {"school": school, "school_year": year, "name": name}


def mapping(
    *accounts: dict[str, Any],
    students: Iterable[dict[str, Any]] = (),
    groups: Iterable[dict[str, Any]] = (),
    custom_groups: Iterable[dict[str, Any]] = (),
    rule_set: str | None = None,
    orgs: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A whole directory mapping in format 1."""
    data: dict[str, Any] = {
        "format": 1,
        "organizations": organizations() if orgs is None else list(orgs),
        "accounts": list(accounts),
        "students": list(students),
        "groups": list(groups),
        "custom_groups": list(custom_groups),
    }
    if rule_set is not None:
        data["rule_set"] = rule_set
    return data


def build(
    *accounts: dict[str, Any],
    students: Iterable[dict[str, Any]] = (),
    groups: Iterable[dict[str, Any]] = (),
    custom_groups: Iterable[dict[str, Any]] = (),
    rule_set: str | None = None,
    orgs: Iterable[dict[str, Any]] | None = None,
) -> Directory:
    """Load a directory built by :func:`mapping`."""
    return load_directory(
        mapping(
            *accounts,
            students=students,
            groups=groups,
            custom_groups=custom_groups,
            rule_set=rule_set,
            orgs=orgs,
        )
    )


def ask(directory: Directory, principal: str, action: str, resource: dict[str, Any]) -> Decision:
    """Decide one request in the request format."""
    request = {"principal": principal, "action": action, "resource": resource}
    return Request.from_json(request, directory).decide()


def grant(
    to: str, role: str, org: str, *, primary: bool = False, **extra: Any
) -> dict[str, Any]:
    """A grant resource in the request format."""
    return {"grant": {"to": to, "role": role, "organization": org, "primary": primary, **extra}}
