"""Property-test another implementation against this library: the oracle for test suites.

:func:`assert_agrees_with_oracle` draws directories and requests with
:mod:`caaspp_authz.strategies`, asks the candidate and the library, and on the first
disagreement fails with a minimal counterexample: the directory (shrunk by Hypothesis, then
pruned of every account, group, student and role the disagreement does not need), the
request, both answers, and the library's rule IDs and reason. The pytest plugin
(``caaspp_authz_pytest``) offers it as the ``caaspp_oracle`` fixture.

A candidate sees only the interchange formats of INTERFACES.md, so it may load them into any
store (an ORM, SQL tables, another service):

- a **decision** function ``candidate(directory, request) -> bool``: ``directory`` is a
  mapping in the directory format, ``request`` one in the request format;
- a **list filter** ``candidate(directory, principal, action) -> iterable``: what
  ``principal`` may ``action``, compared as a set with :func:`caaspp_authz.queries.visible`
  over the directory's students (their SSIDs), groups (``(school, school_year, name)``
  tuples or ``{"school", "school_year", "name"}`` mappings) or organizations (CDS codes).

This module imports Hypothesis (the ``hypothesis`` extra); the core never imports it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from caaspp_authz.accounts import Email, RuleSet
from caaspp_authz.decision import POLICY, Action, Decision
from caaspp_authz.directory import Directory
from caaspp_authz.errors import CaasppAuthzError
from caaspp_authz.oracle.corpus import request_json
from caaspp_authz.orgs import Organization
from caaspp_authz.queries import visible
from caaspp_authz.request import Request
from caaspp_authz.resources import GroupKey, Student
from caaspp_authz.serialize import dump_directory, load_directory
from caaspp_authz.strategies import _pick, _resource, directories

__all__ = ["Disagreement", "Oracle", "assert_agrees_with_oracle"]

Kind = Literal["decision", "filter"]
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
_LISTED: Mapping[type, str] = {
    Student: "students",
    GroupKey: "groups",
    Organization: "organizations",
}


@attrs.frozen
class Disagreement:
    """A counterexample: the directory and request where the candidate and the library differ.

    ``request`` is a request-format mapping for a decision, or ``{"principal", "action"}``
    for a list filter, with ``item`` the first resource on which the lists differ.
    """

    directory: Mapping[str, Any]
    request: Mapping[str, Any]
    candidate: str
    oracle: Decision
    item: object = None

    def __str__(self) -> str:
        verdict = "allow" if self.oracle.allowed else "deny"
        rules = ", ".join(self.oracle.rules) or "no rule"
        lines = ["the candidate disagrees with caaspp_authz (minimal counterexample):"]
        lines.append(f"  request:      {json.dumps(self.request, ensure_ascii=False)}")
        if self.item is not None:
            lines.append(f"  on:           {json.dumps(self.item, ensure_ascii=False)}")
        lines.append(f"  candidate:    {self.candidate}")
        lines.append(f"  caaspp_authz: {verdict} (rules {rules}): {self.oracle.reason}")
        if self.oracle.fix:
            lines.append(f"  fix:          {self.oracle.fix}")
        lines.append("  directory:")
        lines.extend(
            f"    {line}"
            for line in json.dumps(self.directory, ensure_ascii=False, indent=1).splitlines()
        )
        return "\n".join(lines)


# --- the two kinds of candidate ----------------------------------------------------------------


ListedId = str | tuple[str, int, str]
"""How a list filter names what it lists: an SSID, a CDS code, or a group's key."""


def _listed_id(item: object) -> ListedId:
    if isinstance(item, Student):
        return item.ssid
    if isinstance(item, GroupKey):
        return (item.school, item.school_year, item.name)
    assert isinstance(item, Organization)
    return item.cds


def _as_id(value: object) -> object:
    if isinstance(value, Mapping):
        return (value.get("school"), value.get("school_year"), value.get("name"))
    if isinstance(value, list):
        return tuple(value)
    return value


def _shown_id(value: object) -> object:
    if isinstance(value, tuple):
        return {"school": value[0], "school_year": value[1], "name": value[2]}
    return value


def _collection(directory: Directory, kind: type) -> list[Any]:
    if kind is Student:
        return list(directory.students.values())
    if kind is GroupKey:
        return list(directory.groups)
    return list(directory.tree)


def _filter_kind(action: Action) -> type:
    for kind in (Student, GroupKey, Organization):
        if kind in POLICY[action].kinds:
            return kind
    raise InvalidArgument(
        f"`{action.value}` acts on no listed kind (students, groups or organizations): "
        "test it as a decision"
    )


def _check_decision(
    candidate: Callable[..., Any], data: Mapping[str, Any], request: Mapping[str, Any]
) -> Disagreement | None:
    """The disagreement on one request, or ``None`` when the candidate agrees."""
    directory = load_directory(data)
    oracle = Request.from_json(request, directory).decide()
    answer = candidate(copy.deepcopy(dict(data)), copy.deepcopy(dict(request)))
    if not isinstance(answer, bool):
        raise TypeError(f"the candidate answered `{answer!r}`, not True or False")
    if answer is oracle.allowed:
        return None
    return Disagreement(data, request, "allow" if answer else "deny", oracle)


def _check_filter(
    candidate: Callable[..., Any], data: Mapping[str, Any], request: Mapping[str, Any]
) -> Disagreement | None:
    directory = load_directory(data)
    action = Action(request["action"])
    user = directory.user(request["principal"])
    items = _collection(directory, _filter_kind(action))
    expected = {_listed_id(x) for x in visible(user, action, items)}
    got = {_as_id(x) for x in candidate(copy.deepcopy(dict(data)), user.email, action.value)}
    if got == expected:
        return None
    by_id = {_listed_id(x): x for x in items}
    for key in [_listed_id(x) for x in items] + sorted(got - set(by_id), key=repr):
        if (key in got) == (key in expected):
            continue
        shown = _shown_id(key)
        if key not in by_id:
            oracle = Decision(False, (), f"the directory holds no such {_kind_name(action)}")
            return Disagreement(data, request, "lists it", oracle, shown)
        oracle = Request.from_json(
            request_json(user.email, action, by_id[key]), directory
        ).decide()
        said = "lists it" if key in got else "leaves it out"
        return Disagreement(data, request, said, oracle, shown)
    raise AssertionError("unreachable: the sets differ")  # pragma: no cover


def _kind_name(action: Action) -> str:
    """The word for what a list filter of ``action`` lists (``students``, ...), singular."""
    return _LISTED[_filter_kind(action)].rstrip("s")


# --- pruning: the smallest directory on which the disagreement stays --------------------------


def _without(data: Mapping[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    container: Any = out
    for step in path[:-1]:
        container = container[step]
    del container[path[-1]]
    return out


def _removable(data: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    """Paths of list items to try removing, largest things first."""
    for section in ("custom_groups", "groups", "accounts", "students", "organizations"):
        for i in reversed(range(len(data.get(section, [])))):
            yield (section, i)
    for i, group in enumerate(data.get("groups", [])):
        for field in ("students", "users"):
            for j in reversed(range(len(group.get(field, [])))):
                yield ("groups", i, field, j)
    for i, custom in enumerate(data.get("custom_groups", [])):
        for j in reversed(range(len(custom.get("students", [])))):
            yield ("custom_groups", i, "students", j)
    for i, account in enumerate(data.get("accounts", [])):
        for j in reversed(range(len(account.get("roles", [])))):
            yield ("accounts", i, "roles", j)


def _prune(
    check: Callable[[Mapping[str, Any]], Disagreement | None], found: Disagreement
) -> Disagreement:
    """Remove whatever the disagreement does not need, one item at a time, until nothing goes."""
    best = found
    changed = True
    while changed:
        changed = False
        for path in _removable(best.directory):
            try:
                trial = _without(best.directory, path)
                smaller = check(trial)
            except (CaasppAuthzError, LookupError):  # no longer loads, or the request breaks
                continue
            if smaller is not None:
                best, changed = smaller, True
                break
    return best


# --- the property -------------------------------------------------------------------------------


def _actions(actions: Iterable[Action | str] | None, kind: Kind) -> list[Action]:
    if actions is None:
        return [Action.VIEW_STUDENT_RESULTS] if kind == "filter" else list(Action)
    chosen: list[Action] = []
    for a in actions:
        try:
            chosen.append(a if isinstance(a, Action) else Action(a))
        except ValueError:
            raise InvalidArgument(f"actions: `{a}` is not an action") from None
    if not chosen:
        raise InvalidArgument("actions must name at least one action")
    if kind == "filter":
        for a in chosen:
            _filter_kind(a)
    return chosen


def _rule_set(value: RuleSet | str | None) -> RuleSet | None:
    if value is None or isinstance(value, RuleSet):
        return value
    try:
        return RuleSet(value)
    except ValueError:
        raise InvalidArgument(f"rule_set=`{value}` is not a rule set") from None


@st.composite
def _cases(
    draw: st.DrawFn, worlds: st.SearchStrategy[Directory], actions: Sequence[Action], kind: Kind
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A directory and the requests to compare on it.

    A list filter is asked for every account (and one unknown principal, E1) and every action;
    a decision for up to eight requests, whose principals are often users assigned a group
    (V1, V3: the group path needs one).
    """
    directory = draw(worlds)
    emails = list(directory.accounts)
    nobody = Email("nobody@example.org")
    if kind == "filter":
        return dump_directory(directory), [
            {"principal": p, "action": a.value} for a in actions for p in [*emails, nobody]
        ]
    assignees = sorted({u for g in directory.groups.values() for u in g.users})
    codes = [o.cds for o in directory.tree]
    requests: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 8))):
        pick = draw(st.integers(0, 9))
        if assignees and pick < 4:
            principal = _pick(draw, assignees)
        elif emails and pick < 9:
            principal = _pick(draw, emails)
        else:
            principal = nobody
        action = _pick(draw, actions)
        user = directory.user(principal)
        resource = draw(_resource(directory, user, action, codes))
        requests.append(request_json(principal, action, resource))
    return dump_directory(directory), requests


def assert_agrees_with_oracle(
    candidate: Callable[..., Any],
    *,
    kind: Kind = "decision",
    actions: Iterable[Action | str] | None = None,
    rule_set: RuleSet | str | None = None,
    max_leas: int = 2,
    max_schools_per_lea: int = 2,
    max_accounts: int = 6,
    max_students: int = 8,
    max_groups: int = 3,
    max_examples: int = 100,
) -> None:
    """Property-test ``candidate`` against ``can`` (``kind="decision"``) or ``visible``
    (``kind="filter"``); raise ``AssertionError`` with a minimal counterexample if they differ.

    ``actions`` limits the actions drawn (default: every action for a decision,
    ``view_student_results`` for a filter); ``rule_set`` fixes the e-mail rule set (E7);
    the ``max_*`` arguments size the world (see :func:`caaspp_authz.strategies.directories`);
    ``max_examples`` is how many examples Hypothesis tries. Bad arguments raise
    :class:`hypothesis.errors.InvalidArgument`.
    """
    __tracebackhide__ = True  # pytest: the report is the message, not this function's frames
    if kind not in ("decision", "filter"):
        raise InvalidArgument(f"kind={kind!r} must be 'decision' or 'filter'")
    chosen = _actions(actions, kind)
    worlds = directories(
        rule_set=_rule_set(rule_set),
        max_leas=max_leas,
        max_schools_per_lea=max_schools_per_lea,
        max_accounts=max_accounts,
        max_students=max_students,
        max_groups=max_groups,
    )
    compare = _check_decision if kind == "decision" else _check_filter
    last: list[Disagreement] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_cases(worlds, chosen, kind))
    def agrees(case: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        data, requests = case
        for request in requests:
            found = compare(candidate, data, request)
            if found is not None:
                last.append(found)
                raise AssertionError(str(found))

    try:
        agrees()
    except AssertionError:
        if not last:
            raise
        found = last[-1]  # Hypothesis replays the shrunk example last
        pruned = _prune(lambda d: compare(candidate, d, found.request), found)
        raise AssertionError(str(pruned)) from None


class Oracle:
    """The library as an oracle, on the interchange formats: what the ``caaspp_oracle``
    fixture gives a test."""

    def decide(self, directory: Mapping[str, Any], request: Mapping[str, Any]) -> Decision:
        """The decision on a request-format mapping in a directory-format mapping."""
        return Request.from_json(request, load_directory(directory)).decide()

    def can(self, directory: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
        """Whether the request is allowed."""
        return self.decide(directory, request).allowed

    def visible(self, directory: Mapping[str, Any], principal: str, action: str) -> list[ListedId]:
        """What ``principal`` may ``action`` among the directory's students, groups or
        organizations, as a list filter returns it (SSIDs, group tuples, CDS codes)."""
        loaded = load_directory(directory)
        act = Action(action)
        items = _collection(loaded, _filter_kind(act))
        return [_listed_id(x) for x in visible(loaded.user(principal), act, items)]

    def assert_agrees(self, candidate: Callable[..., Any], **options: Any) -> None:
        """:func:`assert_agrees_with_oracle` with the same keyword arguments."""
        __tracebackhide__ = True
        assert_agrees_with_oracle(candidate, **options)
