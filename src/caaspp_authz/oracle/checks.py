"""Static checks of the role catalog, and diffs between sets of decisions.

:func:`check_catalog` proves properties of a catalog (its roles and grant matrix) by
enumerating every grant row from every place its grantor may hold it, over a model hierarchy
with every kind of organization (an LEA with two schools, another LEA with a school, a
direct-funded charter, O3):

- ``escalation`` (G3, G6, P2, O4): no role may grant a role that carries a CERS permission it
  lacks, nor place it where it reaches an organization the grantor's own holding does not.
  The superintendent (R6), whose purpose is to designate the LEA coordinators (G1) and who
  holds no permission of its own, is held to reach only.
- ``school reach`` (O4, G2): a school-level role is held only at a test site, covers only that
  site, and grants nothing anywhere else.
- ``grantable`` (G1, G3): every role can be granted by someone: by a chain of grant rows that
  starts at the superintendent and places the role where it may be held (R2).
- ``carries`` (P2, T1–T3): every role carries a permission or a capability.

:func:`check_decisions` checks the decisions themselves, over the exhaustive decision table:
no school-level role is allowed anything on another school's or an LEA's resources, except
what the rulebook allows whatever the organization (:data:`ANYWHERE`).

:func:`diff` lists every cell whose decision differs between two sets of decisions: the two
rule sets (E7), or two versions of the library (two corpora, or two decision tables).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from caaspp_authz.catalog import GRANTS, ROLES, SUPERINTENDENT, GrantRule, Role, RoleLevel, Where
from caaspp_authz.oracle import corpus as corpus_module
from caaspp_authz.oracle import table
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree

__all__ = [
    "ANYWHERE",
    "Change",
    "Counterexample",
    "DecisionKey",
    "Verdict",
    "check_catalog",
    "check_decisions",
    "decisions",
    "diff",
    "diff_rule_sets",
    "read_decisions",
]


@attrs.frozen
class Counterexample:
    """One failed check: which check, the rule IDs it rests on, and the concrete case."""

    check: str
    rules: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.check} [{', '.join(self.rules)}]: {self.message}"


# --- the model hierarchy ---------------------------------------------------------------------

_L, _S1, _S2 = CDSCode("01000010000000"), CDSCode("01000010000001"), CDSCode("01000010000002")
_M, _T = CDSCode("01000020000000"), CDSCode("01000020000001")
_C = CDSCode("01000030000001")  # a direct-funded charter: an LEA with a school code (O3)
_MODEL = OrgTree.build(
    [
        Organization(_L, "LEA L", Level.LEA),
        Organization(_S1, "School S1", Level.SCHOOL, _L),
        Organization(_S2, "School S2", Level.SCHOOL, _L),
        Organization(_M, "LEA M", Level.LEA),
        Organization(_T, "School T", Level.SCHOOL, _M),
        Organization(_C, "Charter C", Level.LEA),
    ]
)


def _describe(code: str) -> str:
    org = _MODEL.get(code)
    assert org is not None
    return f"{org.name.lower()} `{code}`"


def _holdable(role: Role, code: str) -> bool:
    org = _MODEL.get(code)
    assert org is not None
    return role.may_be_held_at(lea=org.level is Level.LEA, test_site=_MODEL.is_test_site(code))


def _places(row: GrantRule, holder: CDSCode, holder_level: Level) -> Iterator[CDSCode]:
    """Where a grant row held at ``holder`` places its grantee (G2, G3), as ``decide`` reads it."""
    for org in _MODEL:
        code = org.cds
        if row.where is Where.HOLDER:
            reached = code == holder
        else:
            in_schools = holder_level is Level.LEA and _MODEL.site_in(code, holder)
            reached = in_schools if row.where is Where.SCHOOLS else code == holder or in_schools
        if reached:
            yield code


def _holders(grantor: str, roles: Mapping[str, Role]) -> list[tuple[CDSCode, Level]]:
    """Every model organization where ``grantor`` may hold its grant rows, with its level."""
    if grantor == SUPERINTENDENT:  # R6: of an LEA or a direct-funded charter
        return [(o.cds, Level.LEA) for o in _MODEL if o.level is Level.LEA]
    role = roles.get(grantor)
    if role is None:
        return []
    return [(o.cds, o.level) for o in _MODEL if _holdable(role, o.cds)]


def _escalation(roles: Mapping[str, Role], grants: Sequence[GrantRule]) -> list[Counterexample]:
    found: dict[str, Counterexample] = {}
    for row in grants:
        grantee = roles.get(row.grantee)
        if grantee is None:
            continue
        grantor = roles.get(row.grantor)
        if grantor is not None:
            extra = grantee.permissions - grantor.permissions
            if extra:
                names = ", ".join(sorted(p.value for p in extra))
                message = (
                    f"`{grantor.name}` may grant `{grantee.name}` ({row.rule}), which carries "
                    f"{names}; `{grantor.name}` does not"
                )
                found.setdefault(message, Counterexample("escalation", ("G3", "P2"), message))
        for holder, level in _holders(row.grantor, roles):
            own = set(_MODEL.covered_by(holder))
            for place in _places(row, holder, level):
                if not _holdable(grantee, place):
                    continue
                beyond = [c for c in _MODEL.covered_by(place) if c not in own]
                if beyond:
                    message = (
                        f"`{row.grantor}` held at {_describe(holder)} may grant `{grantee.name}` "
                        f"at {_describe(place)} ({row.rule}), which reaches "
                        f"{', '.join(_describe(c) for c in beyond)}, beyond its own reach"
                    )
                    found.setdefault(message, Counterexample("escalation", ("G2", "O4"), message))
    return list(found.values())


def _school_reach(roles: Mapping[str, Role], grants: Sequence[GrantRule]) -> list[Counterexample]:
    out: list[Counterexample] = []
    for role in roles.values():
        if role.level is not RoleLevel.SCHOOL:
            continue
        for org in _MODEL:
            if not _holdable(role, org.cds):
                continue
            if not _MODEL.is_test_site(org.cds):
                out.append(
                    Counterexample(
                        "school reach",
                        ("R2", "O4"),
                        f"school-level `{role.name}` may be held at {_describe(org.cds)}, "
                        "which is not a test site",
                    )
                )
            elif len(_MODEL.covered_by(org.cds)) > 1:
                out.append(
                    Counterexample(
                        "school reach",
                        ("O4",),
                        f"school-level `{role.name}` held at {_describe(org.cds)} covers "
                        f"{len(_MODEL.covered_by(org.cds))} organizations",
                    )
                )
    for row in grants:
        grantor = roles.get(row.grantor)
        if grantor is None or grantor.level is not RoleLevel.SCHOOL:
            continue
        for holder, level in _holders(row.grantor, roles):
            for place in _places(row, holder, level):
                if place != holder:
                    out.append(
                        Counterexample(
                            "school reach",
                            ("G2", "G3"),
                            f"school-level `{grantor.name}` held at {_describe(holder)} may "
                            f"grant `{row.grantee}` at {_describe(place)} ({row.rule})",
                        )
                    )
    return out


def _grantable(roles: Mapping[str, Role], grants: Sequence[GrantRule]) -> list[Counterexample]:
    granted: set[str] = set()
    grew = True
    while grew:
        grew = False
        for row in grants:
            grantee = roles.get(row.grantee)
            if grantee is None or row.grantee in granted:
                continue
            if row.grantor != SUPERINTENDENT and row.grantor not in granted:
                continue
            if any(
                _holdable(grantee, place)
                for holder, level in _holders(row.grantor, roles)
                for place in _places(row, holder, level)
            ):
                granted.add(row.grantee)
                grew = True
    out: list[Counterexample] = []
    for role in roles.values():
        if role.name in granted:
            continue
        by = sorted({r.grantor for r in grants if r.grantee == role.name})
        why = (
            f"only by {', '.join(f'`{b}`' for b in by)}, which no one can grant or which "
            "cannot place it where it may be held"
            if by
            else "no grant row names it"
        )
        out.append(
            Counterexample(
                "grantable", ("G1", "G3"), f"`{role.name}` can be granted by no one: {why}"
            )
        )
    for row in grants:
        for name in (row.grantor, row.grantee):
            if name not in roles and name != SUPERINTENDENT:
                out.append(
                    Counterexample(
                        "grantable", ("G3",), f"a grant row names `{name}`, which is not a role"
                    )
                )
    return out


def _carries(roles: Mapping[str, Role]) -> list[Counterexample]:
    return [
        Counterexample(
            "carries",
            ("P2", "T1"),
            f"`{role.name}` carries no permission and no capability: it opens nothing",
        )
        for role in roles.values()
        if not role.permissions and not role.capabilities
    ]


def check_catalog(
    roles: Iterable[Role] = ROLES, grants: Iterable[GrantRule] = GRANTS
) -> list[Counterexample]:
    """Every counterexample to the catalog checks (escalation, school reach, grantable,
    carries) for ``roles`` and ``grants``, by default the library's own; empty when all hold."""
    by_name = {r.name: r for r in roles}
    rows = list(grants)
    return [
        *_escalation(by_name, rows),
        *_school_reach(by_name, rows),
        *_grantable(by_name, rows),
        *_carries(by_name),
    ]


ANYWHERE: Mapping[str, str] = {
    "access_tools_for_teachers": "V7",
    "delete_custom_group": "V4",
}
"""Actions the rulebook allows whatever the organization: Tools for Teachers (V7), and
deleting one's own custom group, which reveals nothing and needs ownership only (V4)."""


def check_decisions() -> list[Counterexample]:
    """Counterexamples, over the exhaustive decision table, to: a school-level role is allowed
    nothing on another school's or an LEA's resources (O4, G2), save :data:`ANYWHERE`."""
    school_actors = {
        r.name if r.level is RoleLevel.SCHOOL else f"{r.name} (at school)"
        for r in ROLES
        if r.level is not RoleLevel.LEA
    }
    out: list[Counterexample] = []
    for row in table.rows():
        rule_set, actor, action, relation, variant, verdict, rules = row
        if (
            actor in school_actors
            and verdict == "allow"
            and relation != "school:same_school"
            and action not in ANYWHERE
        ):
            out.append(
                Counterexample(
                    "school reach",
                    ("O4", "G2"),
                    f"`{actor}` held at a school is allowed `{action}` on the {relation} "
                    f"resource ({variant}) under {rule_set}, by {rules or 'no rule'}",
                )
            )
    return out


# --- decision diffs --------------------------------------------------------------------------

DecisionKey = tuple[str, str, str, str, str]
"""A cell: rule set, actor, action, relation, variant."""


@attrs.frozen
class Verdict:
    """A decision as a corpus or a decision table records it."""

    allowed: bool
    rules: tuple[str, ...]

    def __str__(self) -> str:
        return f"{'allow' if self.allowed else 'deny'} ({', '.join(self.rules) or 'no rule'})"


@attrs.frozen
class Change:
    """A cell whose decision differs; ``None`` where one side has no such cell."""

    key: DecisionKey
    old: Verdict | None
    new: Verdict | None

    def __str__(self) -> str:
        rule_set, actor, action, relation, variant = self.key
        where = f"{actor} | {action} | {relation}" + (f" | {variant}" if variant != "-" else "")
        old = "absent" if self.old is None else str(self.old)
        new = "absent" if self.new is None else str(self.new)
        return f"{rule_set}: {where}: {old} -> {new}"


def _action(case: Mapping[str, object]) -> str:
    request = case["request"]
    assert isinstance(request, Mapping)
    return str(request["action"])


def decisions(
    directories: Iterable[corpus_module.CorpusDirectory] | None = None,
) -> dict[DecisionKey, Verdict]:
    """Every cell's decision in corpus directories (by default those decided now)."""
    out: dict[DecisionKey, Verdict] = {}
    for d in corpus_module.build() if directories is None else directories:
        for case in d.cases:
            cell = case.get("cell")
            relation, variant = (
                (str(cell[0]), str(cell[1])) if isinstance(cell, list) else ("", "")
            )
            rules = case.get("rules", ())
            assert isinstance(rules, (list, tuple))
            key = (d.rule_set, d.actor, _action(case), relation, variant)
            out[key] = Verdict(bool(case["allowed"]), tuple(str(r) for r in rules))
    return out


def read_decisions(path: str | Path) -> dict[DecisionKey, Verdict]:
    """The decisions of a corpus folder, or of a decision table file (tab-separated, with the
    header ``rule_set role action relation variant allowed rules``)."""
    source = Path(path)
    if source.is_dir():
        return decisions(corpus_module.read(source))
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise corpus_module.CorpusError(f"cannot read `{source}`: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise corpus_module.CorpusError(
            f"`{source}` is neither a corpus folder nor a decision table: it is not UTF-8 text "
            f"({exc.reason})"
        ) from None
    out: dict[DecisionKey, Verdict] = {}
    reader = csv.reader(text.splitlines(), delimiter="\t")
    header = next(reader, None)
    if header != list(table.HEADER):
        raise corpus_module.CorpusError(
            f"`{source}` is neither a corpus folder nor a decision table (its header must be "
            f"`{' '.join(table.HEADER)}`)"
        )
    for number, row in enumerate(reader, start=2):
        if len(row) != len(table.HEADER) or row[5] not in ("allow", "deny"):
            raise corpus_module.CorpusError(f"`{source}` line {number} is not a table line")
        key = (row[0], row[1], row[2], row[3], row[4])
        out[key] = Verdict(row[5] == "allow", tuple(r for r in row[6].split(",") if r))
    return out


def diff(old: Mapping[DecisionKey, Verdict], new: Mapping[DecisionKey, Verdict]) -> list[Change]:
    """Every cell whose decision (allowed, or the rule IDs) differs, sorted by cell.

    A cell on one side only is a change too (a role or an action added or removed), except
    the corpus's edge cases, which a decision table does not hold.
    """
    keys = sorted(set(old) | set(new))
    return [
        Change(k, old.get(k), new.get(k))
        for k in keys
        if old.get(k) != new.get(k)
        and (k[1] != corpus_module.EDGE_ACTOR or (k in old and k in new))
    ]


def diff_rule_sets(
    cells: Mapping[DecisionKey, Verdict] | None = None,
    *,
    old: str = "one-role-per-email",
    new: str = "multi-role",
) -> list[Change]:
    """Every cell decided differently under rule set ``new`` than under ``old`` (E7)."""
    found = decisions() if cells is None else cells
    before = {k[1:]: v for k, v in found.items() if k[0] == old}
    after = {k[1:]: v for k, v in found.items() if k[0] == new}
    label = f"{old} -> {new}"
    return [
        Change((label, *c.key[1:]), c.old, c.new)
        for c in diff(
            {("", *k): v for k, v in before.items()}, {("", *k): v for k, v in after.items()}
        )
    ]
