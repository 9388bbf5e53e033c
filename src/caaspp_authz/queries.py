"""Queries beyond yes or no: what a user may see, who may act, what a user may do or grant.

Each query gives exactly the answer of asking :func:`~caaspp_authz.decision.can` about every
candidate, but reads the directory's indexes instead:

- :func:`visible`: the resources a user may act on, from a list or from the directory itself;
- :func:`who_can`: every account allowed to act on one resource (the reverse query);
- :func:`allowed_actions`: every action a user may take on one resource;
- :func:`grantable`: every role and organization a user may grant (G1–G6);
- :func:`can_many`: many ``can`` questions at once.

The common actions (student results, groups, the actions over an organization, Tools for
Teachers) are answered from the indexes built once by
:meth:`Directory.build <caaspp_authz.directory.Directory.build>`: a user's scopes, the students
of each school, the groups of each user and of each student, and the holders of each
permission by organization. The rarer actions fall back to deciding each candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeVar, overload

from caaspp_authz.catalog import AT_TEST_SITES, ROLES, Permission, Role, Where, by_name
from caaspp_authz.decision import POLICY, Action, can, governs, organization_need, sees_student
from caaspp_authz.directory import Directory, GrantPower, User
from caaspp_authz.errors import RequestError
from caaspp_authz.errors import kinds as a_kind
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree, is_lea_code
from caaspp_authz.resources import (
    CustomGroup,
    GroupKey,
    ResourceLink,
    Student,
    ToolsForTeachers,
)

__all__ = ["allowed_actions", "can_many", "grantable", "visible", "who_can"]

R = TypeVar("R")

_PII = Permission.PII.value
_PII_GROUP = Permission.PII_GROUP.value
_GROUP_ADMIN = Permission.GROUP_ADMIN.value
_DL_END_USER = Permission.DL_END_USER.value
_EMPTY: frozenset[Any] = frozenset()

_OVER_ORGANIZATION: frozenset[Action] = frozenset(
    a for a, rule in POLICY.items() if Organization in rule.kinds
)
"""The actions decided by a permission or capability over an organization (O4, T1–T3, G9,
U5); :func:`~caaspp_authz.decision.organization_need` says which, for each resource."""

_SITE_ONLY = frozenset(Action(c.value) for c in AT_TEST_SITES)
"""T1: the actions asked only at a test site."""

_GROUP_ACTIONS = (
    Action.VIEW_GROUP,
    Action.CREATE_GROUP,
    Action.EDIT_GROUP,
    Action.DELETE_GROUP,
)


def _acts(user: User) -> bool:
    """E1, G11: only a known, active account may do anything, and only the directory's own
    user object (as ``can`` checks it)."""
    return id(user) in user.directory._active


def _covered(user: User, name: str) -> frozenset[CDSCode]:
    """Every organization over which the user holds ``name`` (O4), precomputed per user."""
    return user.reach.get(name, _EMPTY)


def _sees(user: User, student: Student) -> bool:
    """V1, V2: PII over the student's school, or PII_GROUP there and an assigned group; a
    student of another directory than the user's is denied (as ``can`` denies it)."""
    home = student._home
    if home is not None and home is not user.directory.students:
        return False
    return sees_student(user, student)


# --- visible ---------------------------------------------------------------------------------


def _filter_students(user: User, action: Action, items: Sequence[Any]) -> list[Any]:
    """V1, V2: PII over the student's school or LEA, or the PII_GROUP path (G11 checked).

    The fast path reads ``school`` and ``ssid`` without a type test; ``can`` denies anything
    but a :class:`Student`, so only what it keeps needs one, and anything without those
    attributes sends the whole list to the exact path.
    """
    pii = user.reach.get(_PII, _EMPTY)
    mine = user.group_students
    group = user.reach.get(_PII_GROUP, _EMPTY) if mine else _EMPTY
    if not pii and not group:
        return []
    try:
        if not group:
            found = [s for s in items if s.school in pii]
        elif not pii:
            found = [s for s in items if s.ssid in mine and s.school in group]
        else:
            found = [s for s in items if s.school in pii or (s.ssid in mine and s.school in group)]
    except (AttributeError, TypeError):  # not all students: decide each
        found = None
    if found is None:
        return [s for s in items if isinstance(s, Student) and _sees(user, s)]
    held = user.directory.students  # only the directory's own students are decided (V1)
    try:
        owned = [s for s in found if s._home is held]
    except AttributeError:
        owned = None
    if owned is not None and len(owned) == len(found):
        return owned
    return [s for s in found if isinstance(s, Student) and _sees(user, s)]


def _filter_groups(user: User, action: Action, items: Sequence[Any]) -> list[Any]:
    """V3: who sees, creates, edits and deletes assigned groups, by the group's school."""
    groups = user.directory.groups
    admin = _covered(user, _GROUP_ADMIN)
    if action is Action.VIEW_GROUP:
        opened = admin | _covered(user, _PII)
        assigned, group = user.groups, _covered(user, _PII_GROUP)
        return [
            k
            for k in items
            if isinstance(k, GroupKey)
            and k in groups
            and (k.school in opened or (k in assigned and k.school in group))
        ]
    if not admin:
        return []
    exists = action is not Action.CREATE_GROUP
    site = user.directory.tree.is_test_site  # V3: a group belongs to a school
    return [
        k
        for k in items
        if isinstance(k, GroupKey)
        and (k in groups) is exists
        and k.school in admin
        and site(k.school)
    ]


def _filter_organizations(user: User, action: Action, items: Sequence[Any]) -> list[Any]:
    """T1–T3, G9, U5: a capability or permission over the organization (O4); T1: at a test
    site; T2, T3: for the program (and assessment) the resource names."""
    site = user.directory.tree.is_test_site if action in _SITE_ONLY else None
    reach = user.reach
    kinds = POLICY[action].kinds  # a ProgramScope only where the action takes one (T2, T3)
    found = []
    for o in items:
        if not isinstance(o, kinds):
            continue
        need = organization_need(action, o)
        if need is None:
            continue
        covered = reach.get(need[0])
        if covered and need[1] in covered and (site is None or site(need[1])):
            found.append(o)
    return found


def _filter_links(user: User, action: Action, items: Sequence[Any]) -> list[Any]:
    """V6: INSTRUCTIONAL_RESOURCE_ADMIN over the organization the link is published to."""
    covered = _covered(user, Permission.INSTRUCTIONAL_RESOURCE_ADMIN.value)
    return [r for r in items if isinstance(r, ResourceLink) and r.organization in covered]


def _filter_tools(user: User, action: Action, items: Sequence[Any]) -> list[Any]:
    """V7: DL_END_USER anywhere opens Tools for Teachers."""
    if not user.scopes.get(_DL_END_USER):
        return []
    return [r for r in items if isinstance(r, ToolsForTeachers)]


_FILTERS: Mapping[Action, Callable[[User, Action, Sequence[Any]], list[Any]]] = {
    Action.VIEW_STUDENT_RESULTS: _filter_students,
    **dict.fromkeys(_GROUP_ACTIONS, _filter_groups),
    **dict.fromkeys(_OVER_ORGANIZATION, _filter_organizations),
    Action.MANAGE_RESOURCE_LINKS: _filter_links,
    Action.ACCESS_TOOLS_FOR_TEACHERS: _filter_tools,
}


def _in_order(
    blocks: list[tuple[Student, ...]], extra: list[Student], position: Mapping[str, int]
) -> list[Student]:
    """Students of several schools and a few more, in directory order."""

    def at(s: Student) -> int:
        return position[s.ssid]

    blocks.sort(key=lambda b: at(b[0]))
    found = [s for block in blocks for s in block]
    if any(at(a[-1]) > at(b[0]) for a, b in pairwise(blocks)):
        found.sort(key=at)  # the directory lists the schools' students interleaved
    if extra:
        found.extend(extra)
        found.sort(key=at)
    return found


def _directory_students(user: User) -> list[Student]:
    """V1, V2: the students of every school PII covers, and those of assigned groups whose
    school PII_GROUP covers; in directory order."""
    directory = user.directory
    by_school = directory.students_by_school
    opened = _covered(user, _PII)
    blocks = [block for school in opened if (block := by_school.get(school))]
    group = user.reach.get(_PII_GROUP)
    extra: list[Student] = []
    if group:
        for ssid in user.group_students:
            s = directory.students.get(ssid)
            if s is not None and s.school not in opened and s.school in group:
                extra.append(s)
    return _in_order(blocks, extra, directory.student_positions)


def _directory_collection(directory: Directory, action: Action) -> Sequence[object]:
    """The directory's own resources of the kind ``action`` takes."""
    kinds = POLICY[action].kinds
    if Student in kinds:
        return tuple(directory.students.values())
    if GroupKey in kinds:
        return tuple(directory.groups)
    if Organization in kinds:
        return tuple(directory.tree)
    if ResourceLink in kinds:
        return tuple(ResourceLink(o.cds) for o in directory.tree)
    if CustomGroup in kinds:
        return tuple(directory.custom_groups.values())
    if ToolsForTeachers in kinds:
        return (ToolsForTeachers(),)
    if any(k.__name__ == "Account" for k in kinds):
        return tuple(directory.accounts.values())
    raise RequestError(
        f"`{action.value}` acts on {a_kind(k.__name__ for k in kinds)}, which the directory does not list: "
        "pass the resources to filter"
    )


@overload
def visible(user: User, action: Action, resources: Iterable[R]) -> list[R]: ...
@overload
def visible(user: User, action: Action, resources: None = None) -> list[Any]: ...
def visible(user: User, action: Action, resources: Iterable[Any] | None = None) -> list[Any]:
    """The resources ``user`` may ``action``: ``[r for r in resources if can(user, action, r)]``.

    With ``resources`` left out, the directory's own resources of the kind the action takes, in
    directory order: its students for ``view_student_results``, its group keys for the group
    actions, its organizations for the actions over an organization (also its accounts, custom
    groups, and a resource link per organization). An action on resources the directory does
    not list (reports, grants, group assignments) raises ``RequestError`` without them.

    An inactive or unknown user sees nothing (G11, E1).
    """
    directory = user.directory
    if resources is None:
        if action is Action.VIEW_STUDENT_RESULTS:
            return _directory_students(user) if _acts(user) else []
        items: Sequence[Any] = _directory_collection(directory, action)
    else:
        items = resources if isinstance(resources, (list, tuple)) else list(resources)
    if not _acts(user) or action not in POLICY:
        return []
    fast = _FILTERS.get(action)
    if fast is not None:
        return fast(user, action, items)
    return [r for r in items if can(user, action, r)]


# --- who_can ---------------------------------------------------------------------------------


def _held(directory: Directory, name: str, codes: Iterable[str]) -> set[str]:
    """The accounts holding ``name`` at any of ``codes`` (the holders index)."""
    by_org = directory.holders.get(name)
    if by_org is None:
        return set()
    found: set[str] = set()
    for code in codes:
        found.update(by_org.get(CDSCode(code), ()))
    return found


def _who_student(directory: Directory, action: Action, resource: object) -> set[str]:
    """V1, V2: PII at the school or LEA, or assignees of a group holding the student who hold
    PII_GROUP at the school or LEA."""
    if not isinstance(resource, Student) or directory.students.get(resource.ssid) != resource:
        return set()
    if resource._home is not None and resource._home is not directory.students:
        return set()  # a student of another directory (as `can` denies it)
    where = directory.tree.covering(resource.school)
    found = _held(directory, _PII, where)
    groups = directory.groups_by_student.get(resource.ssid, ())
    if groups:
        group = _held(directory, _PII_GROUP, where)
        found.update(e for g in groups for e in g.users if e in group)
    return found


def _who_group(directory: Directory, action: Action, resource: object) -> set[str]:
    """V3: GROUP_ADMIN (or, to view, PII, or PII_GROUP and assigned) over the group's school."""
    if not isinstance(resource, GroupKey):
        return set()
    group = directory.groups.get(resource)
    if (group is None) is (action is not Action.CREATE_GROUP):
        return set()
    if not directory.tree.is_test_site(resource.school):  # V3: a group belongs to a school
        return set()
    covering = directory.tree.covering(resource.school)
    found = _held(directory, _GROUP_ADMIN, covering)
    if action is Action.VIEW_GROUP and group is not None:
        found |= _held(directory, _PII, covering)
        assigned = _held(directory, _PII_GROUP, covering)
        found.update(e for e in group.users if e in assigned)
    return found


def _who_organization(directory: Directory, action: Action, resource: object) -> set[str]:
    """T1–T3, G9, U5, V6: the holders over the organization (O4)."""
    if action is Action.MANAGE_RESOURCE_LINKS:
        if not isinstance(resource, ResourceLink):
            return set()
        code: str = resource.organization
        name = Permission.INSTRUCTIONAL_RESOURCE_ADMIN.value
    else:
        need = organization_need(action, resource)
        if need is None or not isinstance(resource, POLICY[action].kinds):
            return set()
        name, code = need
        if action in _SITE_ONLY and not directory.tree.is_test_site(code):
            return set()  # T1: tests are given at test sites
    if directory.tree.get(code) is None:
        return set()
    return _held(directory, name, directory.tree.covering(code))


def _who_tools(directory: Directory, action: Action, resource: object) -> set[str]:
    """V7: every holder of DL_END_USER."""
    if not isinstance(resource, ToolsForTeachers):
        return set()
    by_org = directory.holders.get(_DL_END_USER, {})
    return {e for emails in by_org.values() for e in emails}


_WHO: Mapping[Action, Callable[[Directory, Action, object], set[str]]] = {
    Action.VIEW_STUDENT_RESULTS: _who_student,
    **dict.fromkeys(_GROUP_ACTIONS, _who_group),
    **dict.fromkeys(_OVER_ORGANIZATION, _who_organization),
    Action.MANAGE_RESOURCE_LINKS: _who_organization,
    Action.ACCESS_TOOLS_FOR_TEACHERS: _who_tools,
}


def who_can(action: Action, resource: object, directory: Directory) -> list[User]:
    """Every account allowed ``action`` on ``resource``, in directory order (the reverse query).

    ``[u for u in directory.users() if can(u, action, resource)]``, answered for the common
    actions from the holders index; inactive accounts are never listed (G11).
    """
    find = _WHO.get(action)
    if find is None:
        return [u for u in directory.users() if can(u, action, resource)]
    users = (directory.user(e) for e in find(directory, action, resource))
    position = directory.account_positions
    return sorted((u for u in users if u.active), key=lambda u: position[u.email])


# --- allowed_actions, grantable, can_many ----------------------------------------------------


def allowed_actions(user: User, resource: object) -> list[Action]:
    """Every action ``user`` may take on ``resource``, in the order of :class:`Action`."""
    if not _acts(user):
        return []
    return [a for a in Action if isinstance(resource, POLICY[a].kinds) and can(user, a, resource)]


def _reach(tree: OrgTree, power: GrantPower) -> tuple[CDSCode, ...]:
    """G2, G3: the organizations a grant row reaches from where it is held."""
    holder = power.holder
    where = power.rule.where
    if where is Where.HOLDER or power.holder_level is not Level.LEA:
        return (holder,) if where is not Where.SCHOOLS else ()
    sites = tree.schools_of(holder)
    if not is_lea_code(holder):  # a direct-funded charter is its own test site (O3)
        sites = (holder, *sites)
    return (holder, *sites) if where is Where.HOLDER_OR_SCHOOLS else sites


_ROLE_ORDER = {r.name: i for i, r in enumerate(ROLES)}
"""Catalog order of the roles, for sorting grantable pairs."""


def grantable(user: User, directory: Directory) -> list[tuple[Role, CDSCode]]:
    """Every ``(role, organization)`` the user may grant (G1–G6, R2), organizations in
    directory order and roles in catalog order within each.

    This is where ``add_role`` of the role there, not as primary, to an e-mail that has no
    account yet, is allowed (the grantor attesting the credential where R5 asks for one).
    """
    if user.directory is not directory:
        user = directory.user(user.email)
    if not _acts(user):
        return []
    tree = directory.tree
    found: set[tuple[str, CDSCode]] = set()
    for power in user.grant_powers:
        role = by_name(power.rule.grantee)
        for code in _reach(tree, power):
            org = tree.get(code)
            if org is None or (role.name, code) in found:
                continue
            if not role.may_be_held_at(  # R2
                lea=org.level is Level.LEA, test_site=tree.is_test_site(code)
            ):
                continue
            if governs(user, role, code) is not None:  # G6
                found.add((role.name, code))
    ordered = sorted(found, key=lambda pair: (tree.position(pair[1]), _ROLE_ORDER[pair[0]]))
    return [(by_name(name), code) for name, code in ordered]


def can_many(requests: Iterable[tuple[User, Action, object]]) -> list[bool]:
    """``[can(user, action, resource) for user, action, resource in requests]``, faster."""
    out: list[bool] = []
    append = out.append
    for user, action, resource in requests:
        if action is Action.VIEW_STUDENT_RESULTS and type(resource) is Student:
            append(_acts(user) and _sees(user, resource))  # the boolean check, no Decision
        else:
            append(can(user, action, resource))
    return out
