"""The organization hierarchy: the State, LEAs and schools (O1–O5).

A :class:`CDSCode` is a checked 14-digit text; :func:`parse_cds` is the one place a code is
checked. An :class:`OrgTree` is built once from :class:`Organization` values, validated as a
whole (every problem reported at once), and precomputes for every organization the set of
organizations that *cover* it (itself and its LEA, O4), so that scope checks are set lookups.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import NewType

import attrs

from caaspp_authz.errors import DirectoryError, InvalidCDSCode, Problem, shown

__all__ = [
    "CDSCode",
    "Level",
    "OrgTree",
    "Organization",
    "is_lea_code",
    "parse_cds",
]

CDSCode = NewType("CDSCode", str)
"""A 14-digit County-District-School code, checked by :func:`parse_cds` (O2, O5)."""

_DIGITS14 = re.compile(r"[0-9]{14}")
_SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]*")
_LEA_SUFFIX = "0000000"


def parse_cds(text: object) -> CDSCode:
    """Check a CDS code and return it as a :class:`CDSCode` (O2, O5).

    Raises :class:`~caaspp_authz.errors.InvalidCDSCode` with a message naming the likely cause:
    a spreadsheet's scientific notation, a decimal point, or lost leading zeros. The message
    echoes at most 80 characters of the text (:func:`~caaspp_authz.errors.shown`).
    """
    if not isinstance(text, str):  # JSON may hand over a number: say so, do not crash
        raise InvalidCDSCode(shown(text), f"a CDS code must be text, not `{shown(text)}`")
    value = text.strip()
    if _DIGITS14.fullmatch(value) and value.isascii():
        return CDSCode(value)
    if _SCIENTIFIC.fullmatch(value):
        raise InvalidCDSCode(
            text,
            f"CDS code `{shown(text)}` is in scientific notation: a spreadsheet turned it into a number "
            "and its last digits are lost; re-enter the 14 digits with the column formatted as text",
        )
    if _DECIMAL.fullmatch(value):
        raise InvalidCDSCode(
            text,
            f"CDS code `{shown(text)}` has a decimal point: a spreadsheet formatted it as a number; "
            "re-enter the 14 digits with the column formatted as text",
        )
    if value.isdigit() and value.isascii() and len(value) < 14:
        missing = 14 - len(value)
        raise InvalidCDSCode(
            text,
            f"CDS code `{shown(text)}` has {len(value)} digits, not 14: {missing} leading zero(s) were "
            f"probably lost; did you mean `{value.zfill(14)}`?",
        )
    if value.isdigit() and value.isascii():
        raise InvalidCDSCode(text, f"CDS code `{shown(text)}` has {len(value)} digits, not 14")
    if not value:
        raise InvalidCDSCode(text, "the CDS code is empty")
    raise InvalidCDSCode(text, f"CDS code `{shown(text)}` is not 14 digits")


def is_lea_code(code: str) -> bool:
    """Whether a code names an LEA by its digits: the last seven are zeros (O2)."""
    return code.endswith(_LEA_SUFFIX)


class Level(enum.Enum):
    """The three levels of the hierarchy (O1)."""

    STATE = "state"
    LEA = "lea"
    SCHOOL = "school"


@attrs.frozen
class Organization:
    """An LEA or a school. ``lea`` is the parent LEA's code for a school, ``None`` for an LEA."""

    cds: CDSCode
    name: str
    level: Level
    lea: CDSCode | None = None

    @property
    def lea_code(self) -> CDSCode:
        """The code of the LEA this organization is or belongs to."""
        return self.cds if self.lea is None else self.lea


def _expand(orgs: Mapping[CDSCode, Organization]) -> dict[CDSCode, frozenset[CDSCode]]:
    covering: dict[CDSCode, frozenset[CDSCode]] = {}
    for code, org in orgs.items():
        covering[code] = frozenset({code}) if org.lea is None else frozenset({code, org.lea})
    return covering


@attrs.frozen(eq=False)
class OrgTree:
    """The validated organization hierarchy with its indexes, built once (O1–O4).

    Build it with :meth:`build`; the State is implicit (O3) and never listed.
    """

    organizations: Mapping[CDSCode, Organization]
    _covering: Mapping[CDSCode, frozenset[CDSCode]]
    _schools_of: Mapping[CDSCode, tuple[CDSCode, ...]]
    _positions: Mapping[CDSCode, int]

    @classmethod
    def build(cls, organizations: Iterable[Organization]) -> OrgTree:
        """Validate and index a hierarchy; raise :class:`DirectoryError` listing every problem.

        O3: no code twice, every school's parent is an LEA present in the tree (which also
        rules out cycles: a parent is always an LEA, and an LEA has no parent).
        """
        problems: list[Problem] = []
        orgs: dict[CDSCode, Organization] = {}
        for org in organizations:
            if org.cds in orgs:
                problems.append(
                    Problem("O3", f"CDS code `{org.cds}` is listed twice", where=org.cds)
                )
                continue
            orgs[org.cds] = org
        for org in orgs.values():
            if org.level is Level.LEA and org.lea is not None:
                problems.append(
                    Problem("O3", f"LEA `{org.cds}` cannot have a parent LEA", where=org.cds)
                )
            if org.level is Level.SCHOOL:
                if org.lea is None:
                    problems.append(Problem("O1", f"school `{org.cds}` has no LEA", where=org.cds))
                    continue
                parent = orgs.get(org.lea)
                if parent is None:
                    problems.append(
                        Problem(
                            "O3",
                            f"school `{org.cds}` belongs to LEA `{org.lea}`, which is not in "
                            "the directory",
                            where=org.cds,
                            value=org.lea,
                        )
                    )
                elif parent.level is not Level.LEA:
                    problems.append(
                        Problem(
                            "O3",
                            f"school `{org.cds}` is placed under `{org.lea}`, which is a school, "
                            "not an LEA",
                            where=org.cds,
                            value=org.lea,
                        )
                    )
            if org.level is Level.STATE:
                problems.append(
                    Problem("O3", "the State is implicit and is not listed", where=org.cds)
                )
        if problems:
            raise DirectoryError(problems)
        schools: dict[CDSCode, list[CDSCode]] = {}
        for org in orgs.values():
            if org.lea is not None:
                schools.setdefault(org.lea, []).append(org.cds)
        return cls(
            organizations=orgs,
            covering=_expand(orgs),
            schools_of={lea: tuple(codes) for lea, codes in schools.items()},
            positions={code: i for i, code in enumerate(orgs)},
        )

    def __contains__(self, code: object) -> bool:
        return code in self.organizations

    def __iter__(self) -> Iterator[Organization]:
        return iter(self.organizations.values())

    def __len__(self) -> int:
        return len(self.organizations)

    def get(self, code: str) -> Organization | None:
        """The organization with this code, or ``None``."""
        return self.organizations.get(CDSCode(code))

    def covering(self, code: str) -> frozenset[CDSCode]:
        """The organizations whose roles cover ``code``: itself and its LEA (O4). Empty if unknown."""
        return self._covering.get(CDSCode(code), frozenset())

    def covered_by(self, code: str) -> tuple[CDSCode, ...]:
        """Every organization a role held at ``code`` covers: itself, and its schools if an LEA."""
        if code not in self.organizations:
            return ()
        return (CDSCode(code), *self._schools_of.get(CDSCode(code), ()))

    def position(self, code: str) -> int:
        """Where ``code`` stands in directory order (for sorting answers), built once."""
        return self._positions[CDSCode(code)]

    def schools_of(self, lea: str) -> tuple[CDSCode, ...]:
        """The schools of an LEA, in directory order."""
        return self._schools_of.get(CDSCode(lea), ())

    def covers(self, holder: str, target: str) -> bool:
        """Whether a role held at ``holder`` covers ``target`` (O4)."""
        return holder in self.covering(target)

    def is_test_site(self, code: str) -> bool:
        """Whether school-level roles may be held at ``code``: a school, or a direct-funded
        charter acting as its own LEA, which is also its own single test site (O3, decision)."""
        org = self.get(code)
        if org is None:
            return False
        return org.level is Level.SCHOOL or not is_lea_code(org.cds)

    def site_in(self, code: str, lea: str) -> bool:
        """Whether ``code`` is a test site of LEA ``lea``: one of its schools, or ``lea`` itself
        when it is a direct-funded charter (G3's "any school in L")."""
        org = self.get(code)
        if org is None:
            return False
        if org.level is Level.SCHOOL:
            return org.lea == lea
        return org.cds == lea and not is_lea_code(org.cds)

    def same_lea(self, a: str, b: str) -> bool:
        """Whether two known organizations lie in the same LEA."""
        org_a, org_b = self.get(a), self.get(b)
        return org_a is not None and org_b is not None and org_a.lea_code == org_b.lea_code
