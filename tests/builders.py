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


def grant(to: str, role: str, org: str, *, primary: bool = False, **extra: Any) -> dict[str, Any]:
    """A grant resource in the request format."""
    return {"grant": {"to": to, "role": role, "organization": org, "primary": primary, **extra}}


def staff() -> list[dict[str, Any]]:
    """One account for each role, most at School 1, and a coordinator in the other LEA."""
    return [
        acct("sup@d.org", superintendent_of=LEA),
        acct("lc@d.org", "LEA CAASPP Coordinator", LEA, primary=True),
        acct("lc2@d.org", "LEA CAASPP Coordinator", LEA),
        acct("le@d.org", "LEA ELPAC Coordinator", LEA, primary=True),
        acct("ed@d.org", "Educator—District", LEA),
        acct("lsc@d.org", "LS Correspondence Administrator", LEA),
        acct("sc1@d.org", "Site CAASPP Coordinator", SCHOOL_1),
        acct("se1@d.org", "Site ELPAC Coordinator", SCHOOL_1),
        acct("sc2@d.org", "Site CAASPP Coordinator", SCHOOL_2),
        acct("ets1@d.org", "Educator—Test Site", SCHOOL_1),
        acct("ta1@d.org", "CAASPP Test Administrator", SCHOOL_1),
        acct("ta2@d.org", "CAASPP Test Administrator", SCHOOL_2),
        acct("te1@d.org", "CAASPP Test Examiner", SCHOOL_1, credentialed=True),
        acct("tate1@d.org", "Test Administrator & Test Examiner", SCHOOL_1, credentialed=True),
        acct("ia1@d.org", "IA Administrator Only", SCHOOL_1),
        acct("ete1@d.org", "ELPAC Test Examiner", SCHOOL_1),
        acct("lsd1@d.org", "LS Data Entry", SCHOOL_1),
        acct("er1@d.org", "Educator—Roster", SCHOOL_1),
        acct("tft@d.org", "Tools for Teachers Only", LEA),
        acct("olc@o.org", "LEA CAASPP Coordinator", OTHER_LEA, primary=True),
        acct("osc@o.org", "Site CAASPP Coordinator", OTHER_SCHOOL),
    ]


IN_GROUP, NOT_IN_GROUP, AT_SCHOOL_2, ELSEWHERE = (
    "1000000001",
    "1000000002",
    "2000000001",
    "3000000001",
)
GROUP_USERS = ("ta1@d.org", "ta2@d.org", "te1@d.org", "tate1@d.org", "ia1@d.org", "ete1@d.org")
GROUP_USERS_MORE = ("lsd1@d.org", "er1@d.org", "tft@d.org")


def district(*extra: dict[str, Any], rule_set: str | None = None) -> Directory:
    """:func:`staff` and ``extra`` accounts, four students and the group `Period 1` at School 1.

    `Period 1` holds only :data:`IN_GROUP` and is assigned to the group-path users, to a test
    administrator of School 2 and to a Tools for Teachers Only user (V1: membership alone
    opens nothing). ``ta1@d.org`` owns the custom group `Readers`.
    """
    return build(
        *staff(),
        *extra,
        students=[
            *students(SCHOOL_1, [IN_GROUP, NOT_IN_GROUP]),
            *students(SCHOOL_2, [AT_SCHOOL_2]),
            *students(OTHER_SCHOOL, [ELSEWHERE]),
        ],
        groups=[group("Period 1", SCHOOL_1, [IN_GROUP], [*GROUP_USERS, *GROUP_USERS_MORE])],
        custom_groups=[{"owner": "ta1@d.org", "name": "Readers", "students": [IN_GROUP]}],
        rule_set=rule_set,
    )
