"""The role catalog as data: roles, permissions, test-administration capabilities, grants.

Every rule about *what a role is* lives in the frozen tables of this module (R1–R7, P1–P4,
T1–T3, G1, G3, G4, G10); the decision code reads them and names no role. Changing who may do
what is a change of one table row.

- :data:`ROLES`: one row a role, with its spellings (R3), level (R2), programs (R1), CERS
  permissions (P2), test-administration capabilities (T1–T3, G9), required security forms
  (G10), credential requirement (R5), whether it has a primary (R7), whether it is a
  coordinator role (G8) and the custom-group source limit (V4).
- :data:`PER_PROGRAM`: the capabilities a role holds for its own programs only (T2, T3);
  :func:`scope_key` names such a capability for one program.
- :data:`GRANTS`: the grant matrix (G1, G3, G4), one row a (grantor, grantee, where).
- :func:`resolve_role`: an exact spelling to its role (R3, R4), with the closest spelling as
  the fix for a near miss.
- :func:`at_least` / :func:`highest`: role dominance derived from the tables (E4).
"""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Iterable, Mapping

import attrs

from caaspp_authz.errors import UnknownRole, shown

__all__ = [
    "AT_TEST_SITES",
    "GRANTS",
    "PER_PROGRAM",
    "ROLES",
    "SUPERINTENDENT",
    "Capability",
    "Form",
    "GrantRule",
    "Permission",
    "Program",
    "Role",
    "RoleLevel",
    "RoleName",
    "Where",
    "at_least",
    "by_name",
    "closest_role",
    "highest",
    "resolve_role",
    "role",
    "scope_key",
    "spellings",
]


class Program(enum.Enum):
    """The two assessment programs (R1)."""

    CAASPP = "CAASPP"
    ELPAC = "ELPAC"


class Permission(enum.Enum):
    """The six CERS and Tools for Teachers permissions (P1)."""

    PII = "PII"
    PII_GROUP = "PII_GROUP"
    GROUP_ADMIN = "GROUP_ADMIN"
    CUSTOM_AGGREGATE_REPORTER = "CUSTOM_AGGREGATE_REPORTER"
    INSTRUCTIONAL_RESOURCE_ADMIN = "INSTRUCTIONAL_RESOURCE_ADMIN"
    DL_END_USER = "DL_END_USER"


class Capability(enum.Enum):
    """What a role may do in TOMS and the test delivery system, at the organizations it covers.

    T1 (administer), T2 (test settings), T3 (hand scoring, completion status), G9 (upload users).
    Each value but ``view_interim_completion_status`` is also the name of the action it opens;
    that one opens ``view_completion_status`` for ``"assessment": "interim"`` only (T3).
    """

    ADMINISTER_SUMMATIVE = "administer_summative"
    ADMINISTER_ALTERNATE = "administer_alternate"
    ADMINISTER_INTERIM = "administer_interim"
    ADMINISTER_PRACTICE = "administer_practice"
    ADMINISTER_ELPAC = "administer_elpac"
    MANAGE_TEST_SETTINGS = "manage_test_settings"
    HAND_SCORE_INTERIM = "hand_score_interim"
    VIEW_COMPLETION_STATUS = "view_completion_status"
    VIEW_INTERIM_COMPLETION_STATUS = "view_interim_completion_status"
    UPLOAD_USERS = "upload_users"


PER_PROGRAM: frozenset[Capability] = frozenset(
    {
        Capability.MANAGE_TEST_SETTINGS,
        Capability.VIEW_COMPLETION_STATUS,
        Capability.VIEW_INTERIM_COMPLETION_STATUS,
    }
)
"""T2, T3: capabilities held per program: a role holds them for its own programs only (a Site
ELPAC Coordinator manages ELPAC test settings, not CAASPP ones). Every other capability is
held whatever the program."""


AT_TEST_SITES: frozenset[Capability] = frozenset(
    {
        Capability.ADMINISTER_SUMMATIVE,
        Capability.ADMINISTER_ALTERNATE,
        Capability.ADMINISTER_INTERIM,
        Capability.ADMINISTER_PRACTICE,
        Capability.ADMINISTER_ELPAC,
    }
)
"""T1: capabilities used at a test site only: a test is given at a school or a direct-funded
charter, never at an LEA that is not a test site (a role held at the LEA reaches its sites)."""


def scope_key(capability: Capability, program: Program | None = None) -> str:
    """The name under which a user's scopes hold ``capability`` (for ``program``, T2, T3).

    A capability of :data:`PER_PROGRAM` is named with its program
    (``"manage_test_settings:ELPAC"``); any other by its value alone.
    """
    if capability in PER_PROGRAM:
        assert program is not None, capability
        return f"{capability.value}:{program.value}"
    return capability.value


class Form(enum.Enum):
    """Security forms kept on file per program (G10)."""

    AGREEMENT = "agreement"
    AFFIDAVIT = "affidavit"


class RoleLevel(enum.Enum):
    """Where a role may be held (R2): at an LEA, at a school, or at either."""

    LEA = "lea"
    SCHOOL = "school"
    ANY = "any"


class Where(enum.Enum):
    """Where, relative to the grantor's own organization, a grant row reaches (G3)."""

    HOLDER = "the grantor's own organization"
    SCHOOLS = "any school in the grantor's LEA"
    HOLDER_OR_SCHOOLS = "the grantor's LEA or any school in it"


RoleName = str
"""The key of a role: its current name, spelled as in R2 (em dashes)."""

SUPERINTENDENT: RoleName = "Superintendent"
"""The grantor name of the superintendent in :data:`GRANTS` (R6): a principal, not a TOMS role."""


@attrs.frozen
class Role:
    """One row of the role catalog."""

    name: RoleName
    level: RoleLevel
    programs: frozenset[Program]
    permissions: frozenset[Permission]
    capabilities: frozenset[Capability] = frozenset()
    forms: frozenset[Form] = frozenset({Form.AFFIDAVIT})
    spellings: tuple[str, ...] = ()
    legacy_names: tuple[str, ...] = ()
    needs_credential: bool = False
    has_primary: bool = False
    custom_group_source_limit: int | None = None
    coordinator: bool = False
    scope_keys: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    """Every name under which the role opens something: its permissions' values and its
    capabilities' scope keys, per program where :data:`PER_PROGRAM` says so (P2, T1–T3)."""

    @scope_keys.default
    def _scope_keys(self) -> frozenset[str]:
        keys = {p.value for p in self.permissions}
        for c in self.capabilities:
            if c in PER_PROGRAM:
                keys.update(scope_key(c, p) for p in self.programs)
            else:
                keys.add(c.value)
        return frozenset(keys)

    @property
    def lea_coordinator(self) -> bool:
        """Whether this is an LEA coordinator role (G1, G8): a coordinator held at the LEA."""
        return self.coordinator and self.level is RoleLevel.LEA

    @property
    def site_coordinator(self) -> bool:
        """Whether this is a site coordinator role (G5, G8): a coordinator held at a school."""
        return self.coordinator and self.level is RoleLevel.SCHOOL

    def __str__(self) -> str:
        return self.name

    def may_be_held_at(self, *, lea: bool, test_site: bool) -> bool:
        """Whether the role may be held at an organization that is an LEA and/or a test site (R2).

        A direct-funded charter is both (O3): LEA roles and school roles may be held there.
        """
        if self.level is RoleLevel.ANY:
            return True
        return lea if self.level is RoleLevel.LEA else test_site


_ALL_SIX = frozenset(Permission)
_GROUP_ONLY = frozenset({Permission.PII_GROUP, Permission.DL_END_USER})
_COORDINATOR_FORMS = frozenset({Form.AGREEMENT, Form.AFFIDAVIT})
_CAASPP = frozenset({Program.CAASPP})
_ELPAC = frozenset({Program.ELPAC})
_BOTH = frozenset(Program)

_C = Capability
_CAASPP_COORDINATOR_CAPS = frozenset(
    {
        _C.ADMINISTER_SUMMATIVE,
        _C.ADMINISTER_ALTERNATE,
        _C.ADMINISTER_INTERIM,
        _C.ADMINISTER_PRACTICE,
        _C.MANAGE_TEST_SETTINGS,
        _C.HAND_SCORE_INTERIM,
        _C.VIEW_COMPLETION_STATUS,
        _C.VIEW_INTERIM_COMPLETION_STATUS,
        _C.UPLOAD_USERS,
    }
)
_ELPAC_COORDINATOR_CAPS = frozenset(
    {
        _C.ADMINISTER_ELPAC,
        _C.MANAGE_TEST_SETTINGS,
        _C.VIEW_COMPLETION_STATUS,
        _C.VIEW_INTERIM_COMPLETION_STATUS,
        _C.UPLOAD_USERS,
    }
)
_STATUS = frozenset({_C.VIEW_COMPLETION_STATUS, _C.VIEW_INTERIM_COMPLETION_STATUS})
_SCORING = frozenset({_C.HAND_SCORE_INTERIM}) | _STATUS


def _educator(name: str) -> tuple[str, ...]:
    """R3: the em dash, hyphen and en dash spellings of an Educator role."""
    return (f"Educator—{name}", f"Educator - {name}", f"Educator – {name}")


ROLES: tuple[Role, ...] = (
    # R2, P2, T1–T3, G9, G10, R7
    Role(
        "LEA CAASPP Coordinator",
        RoleLevel.LEA,
        _CAASPP,
        _ALL_SIX,
        _CAASPP_COORDINATOR_CAPS,
        forms=_COORDINATOR_FORMS,
        has_primary=True,
        coordinator=True,
    ),
    Role(
        "LEA ELPAC Coordinator",
        RoleLevel.LEA,
        _ELPAC,
        _ALL_SIX,
        _ELPAC_COORDINATOR_CAPS,
        forms=_COORDINATOR_FORMS,
        has_primary=True,
        coordinator=True,
    ),
    Role("Educator—District", RoleLevel.LEA, _CAASPP, _ALL_SIX, spellings=_educator("District")),
    Role(
        "LS Correspondence Administrator",
        RoleLevel.LEA,
        _ELPAC,
        _GROUP_ONLY,
        spellings=("LST Correspondence Administrator",),
    ),
    Role(
        "Site CAASPP Coordinator",
        RoleLevel.SCHOOL,
        _CAASPP,
        _ALL_SIX,
        _CAASPP_COORDINATOR_CAPS,
        forms=_COORDINATOR_FORMS,
        legacy_names=("Test Site Coordinator",),
        coordinator=True,
    ),
    Role(
        "Site ELPAC Coordinator",
        RoleLevel.SCHOOL,
        _ELPAC,
        _ALL_SIX,
        _ELPAC_COORDINATOR_CAPS,
        forms=_COORDINATOR_FORMS,
        coordinator=True,
    ),
    Role(
        "Educator—Test Site", RoleLevel.SCHOOL, _CAASPP, _ALL_SIX, spellings=_educator("Test Site")
    ),
    Role(
        "CAASPP Test Administrator",
        RoleLevel.SCHOOL,
        _CAASPP,
        _GROUP_ONLY,
        frozenset({_C.ADMINISTER_SUMMATIVE, _C.ADMINISTER_INTERIM, _C.ADMINISTER_PRACTICE})
        | _SCORING,
        legacy_names=("Test Administrator",),
        custom_group_source_limit=200,
    ),
    Role(
        "CAASPP Test Examiner",
        RoleLevel.SCHOOL,
        _CAASPP,
        _GROUP_ONLY,
        frozenset({_C.ADMINISTER_ALTERNATE, _C.ADMINISTER_INTERIM, _C.ADMINISTER_PRACTICE})
        | _SCORING,
        legacy_names=("Test Examiner",),
        needs_credential=True,
    ),
    Role(
        "Test Administrator & Test Examiner",
        RoleLevel.SCHOOL,
        _CAASPP,
        _GROUP_ONLY,
        frozenset(
            {
                _C.ADMINISTER_SUMMATIVE,
                _C.ADMINISTER_ALTERNATE,
                _C.ADMINISTER_INTERIM,
                _C.ADMINISTER_PRACTICE,
            }
        )
        | _SCORING,
        needs_credential=True,
    ),
    # V8: IA Administrator Only holds PII_GROUP in CERS, as [001] gives it (P2).
    # T3: it sees interim completion status only, of both programs (the role is of both).
    Role(
        "IA Administrator Only",
        RoleLevel.SCHOOL,
        _BOTH,
        _GROUP_ONLY,
        frozenset(
            {_C.ADMINISTER_INTERIM, _C.HAND_SCORE_INTERIM, _C.VIEW_INTERIM_COMPLETION_STATUS}
        ),
        spellings=("CAASPP IA Administrator Only",),
    ),
    Role(
        "ELPAC Test Examiner",
        RoleLevel.SCHOOL,
        _ELPAC,
        _GROUP_ONLY,
        frozenset({_C.ADMINISTER_ELPAC}) | _STATUS,
    ),
    Role("LS Data Entry", RoleLevel.SCHOOL, _ELPAC, _GROUP_ONLY, spellings=("LST Data Entry",)),
    Role("Educator—Roster", RoleLevel.SCHOOL, _CAASPP, _GROUP_ONLY, spellings=_educator("Roster")),
    Role(
        "Tools for Teachers Only",
        RoleLevel.ANY,
        _BOTH,
        frozenset({Permission.DL_END_USER}),
        forms=frozenset(),
        spellings=("Tools for Teachers User",),
    ),
)

_BY_NAME: Mapping[RoleName, Role] = {r.name: r for r in ROLES}


@attrs.frozen
class GrantRule:
    """One row of the grant matrix: ``grantor`` may grant ``grantee`` at ``where`` (G1, G3, G4).

    ``grantor_primary_only`` limits the row to the primary holder of the grantor role (G1);
    ``may_grant_primary`` lets the row grant the primary designation (R7, G1). A grantor holding
    a TOMS role grants only while that role is in force (G10); the superintendent needs no
    forms of its own to designate (G1).
    """

    grantor: RoleName
    grantee: RoleName
    where: Where
    rule: str = "G3"
    grantor_primary_only: bool = False
    may_grant_primary: bool = False


def _rows(grantor: RoleName, grantees: Iterable[RoleName], where: Where) -> tuple[GrantRule, ...]:
    return tuple(GrantRule(grantor, g, where) for g in grantees)


_LC = "LEA CAASPP Coordinator"
_LE = "LEA ELPAC Coordinator"
_SC = "Site CAASPP Coordinator"
_SE = "Site ELPAC Coordinator"
_TFT = "Tools for Teachers Only"

GRANTS: tuple[GrantRule, ...] = (
    # G1: the superintendent designates LEA coordinators, primary and secondary, at its LEA,
    # with no forms of its own (the coordinator signs after being designated).
    GrantRule(SUPERINTENDENT, _LC, Where.HOLDER, "G1", may_grant_primary=True),
    GrantRule(SUPERINTENDENT, _LE, Where.HOLDER, "G1", may_grant_primary=True),
    # G1: the primary LEA coordinator adds secondary coordinators of its program.
    GrantRule(_LC, _LC, Where.HOLDER, "G1", grantor_primary_only=True),
    GrantRule(_LE, _LE, Where.HOLDER, "G1", grantor_primary_only=True),
    # G3, G4: the LEA CAASPP coordinator.
    GrantRule(_LC, "Educator—District", Where.HOLDER, "G4"),
    *_rows(
        _LC,
        (
            _SC,
            "CAASPP Test Administrator",
            "CAASPP Test Examiner",
            "Test Administrator & Test Examiner",
            "IA Administrator Only",
            "Educator—Test Site",
            "Educator—Roster",
        ),
        Where.SCHOOLS,
    ),
    GrantRule(_LC, _TFT, Where.HOLDER_OR_SCHOOLS),
    # G3: the LEA ELPAC coordinator.
    GrantRule(_LE, "LS Correspondence Administrator", Where.HOLDER),
    *_rows(
        _LE, (_SE, "ELPAC Test Examiner", "LS Data Entry", "IA Administrator Only"), Where.SCHOOLS
    ),
    GrantRule(_LE, _TFT, Where.HOLDER_OR_SCHOOLS),
    # G3: site coordinators, at their own school.
    *_rows(
        _SC,
        (
            "CAASPP Test Administrator",
            "CAASPP Test Examiner",
            "Test Administrator & Test Examiner",
            "IA Administrator Only",
            "Educator—Test Site",
            "Educator—Roster",
            _TFT,
        ),
        Where.HOLDER,
    ),
    *_rows(
        _SE, ("ELPAC Test Examiner", "LS Data Entry", "IA Administrator Only", _TFT), Where.HOLDER
    ),
)


def _spelling_index() -> dict[str, tuple[Role, bool]]:
    index: dict[str, tuple[Role, bool]] = {}
    for r in ROLES:
        for text in (r.name, *r.spellings):
            index[text] = (r, False)
        for text in r.legacy_names:
            index[text] = (r, True)
    return index


_SPELLINGS: Mapping[str, tuple[Role, bool]] = _spelling_index()


def spellings() -> tuple[str, ...]:
    """Every exact spelling the catalog accepts, current and legacy (R3)."""
    return tuple(_SPELLINGS)


def resolve_role(text: str) -> tuple[Role, bool]:
    """The role an exact spelling names, and whether the spelling is a legacy name (R3, R4).

    Raises :class:`~caaspp_authz.errors.UnknownRole` for anything else, with the closest
    spelling as a suggestion.
    """
    found = _SPELLINGS.get(text)
    if found is not None:
        return found
    # Bounded: a name far longer than any spelling gets no search (difflib's cost grows with
    # the square of the length), and the message echoes only a bounded part of it.
    suggestion = closest_role(text) if len(text) <= _LONGEST_SPELLING * 2 else None
    hint = f"; did you mean `{suggestion}`?" if suggestion else ""
    raise UnknownRole(shown(text), f"`{shown(text)}` is not a role{hint}", suggestion=suggestion)


_LONGEST_SPELLING = max(len(spelling) for spelling in _SPELLINGS)


def role(text: str) -> Role:
    """The role an exact spelling (current or legacy) names (R3); raises ``UnknownRole``."""
    return resolve_role(text)[0]


def _fold(text: str) -> str:
    return " ".join(text.replace("—", "-").replace("–", "-").lower().split())


_FOLDED: Mapping[str, str] = {_fold(s): s for s in _SPELLINGS}


@functools.lru_cache(maxsize=1024)
def closest_role(text: str) -> str | None:
    """The current name of the role closest to ``text``, for a fix; ``None`` if none is close.

    R4: the fix names the role as R2 spells it, never a legacy name (which would load only
    with a warning) nor one of several spellings that fold alike.

    Remembered for the last 1,024 texts: the search compares ``text`` with every spelling
    (about 2 ms), and a file that misspells a role usually does so on many rows.
    """
    folded = _fold(text)
    if folded not in _FOLDED:
        match = difflib.get_close_matches(folded, list(_FOLDED), n=1, cutoff=0.6)
        if not match:
            return None
        folded = match[0]
    return _SPELLINGS[_FOLDED[folded]][0].name


# E4: dominance, derived from the tables.

_LEVEL_RANK = {RoleLevel.SCHOOL: 1, RoleLevel.ANY: 1, RoleLevel.LEA: 2}


def _reach(grantor_level: RoleLevel, where: Where) -> frozenset[RoleLevel]:
    if where is Where.SCHOOLS:
        return frozenset({RoleLevel.SCHOOL})
    if where is Where.HOLDER:
        return frozenset({grantor_level})
    return frozenset({grantor_level, RoleLevel.SCHOOL})


def _grant_powers(r: Role) -> dict[RoleName, frozenset[RoleLevel]]:
    """E4: the levels at which ``r`` grants each of its grantees, from its rows of the grant
    matrix, which holds one row a grantor and grantee (G3)."""
    return {g.grantee: _reach(r.level, g.where) for g in GRANTS if g.grantor == r.name}


_POWERS: Mapping[RoleName, Mapping[RoleName, frozenset[RoleLevel]]] = {
    r.name: _grant_powers(r) for r in ROLES
}


def at_least(a: Role, b: Role) -> bool:
    """Whether role ``a`` is at least role ``b`` (E4).

    True when ``a``'s scope level, CERS permissions, test-administration capabilities (per
    program where :data:`PER_PROGRAM` says so, T2, T3) and grant powers each contain ``b``'s. A
    role held "at any level" ranks as a school role here: at one site it reaches that site only.
    """
    if _LEVEL_RANK[a.level] < _LEVEL_RANK[b.level]:
        return False
    if not a.scope_keys >= b.scope_keys:
        return False
    mine = _POWERS[a.name]
    return all(
        grantee in mine and mine[grantee] >= reach for grantee, reach in _POWERS[b.name].items()
    )


def highest(roles: Iterable[Role]) -> Role | None:
    """The role that is at least every other one (E4), or ``None`` where two are incomparable."""
    pool = list(dict.fromkeys(roles))
    for candidate in pool:
        if all(at_least(candidate, other) for other in pool):
            return candidate
    return None


def by_name(name: RoleName) -> Role:
    """The role whose current name is ``name`` (no other spelling)."""
    return _BY_NAME[name]
