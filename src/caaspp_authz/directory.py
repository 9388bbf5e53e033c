"""The directory: organizations, accounts, students and groups, validated and indexed once.

:meth:`Directory.build` checks the whole directory against the rulebook and raises
:class:`~caaspp_authz.errors.DirectoryError` with every problem found; nothing is loaded in
part. Warnings (R5, R7, E7) are kept on :attr:`Directory.warnings`.

Every index a decision needs is built here, once: accounts by e-mail, students by SSID and by
school, groups by key and by assignee, and for every account a :class:`User`, whose scopes
(which organizations each permission and capability is held at, G10 applied) make a decision
a few set lookups.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping
from typing import Any

import attrs

from caaspp_authz._access import may_be_assigned, student_check
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet, email_rule_problems
from caaspp_authz.catalog import GRANTS, SUPERINTENDENT, GrantRule
from caaspp_authz.errors import DirectoryError, Problem, Severity, shown
from caaspp_authz.orgs import CDSCode, Level, Organization, OrgTree
from caaspp_authz.resources import SUBJECTS, CustomGroup, Group, GroupKey, Student

__all__ = ["Directory", "GrantPower", "User"]

_EMPTY: frozenset[CDSCode] = frozenset()


@attrs.frozen
class GrantPower:
    """A grant row in force for a user: ``rule`` applies from the organization ``holder``."""

    rule: GrantRule
    holder: CDSCode
    holder_level: Level


@attrs.frozen(eq=False, init=False)
class User:
    """An account as the decision sees it: its in-force scopes, precomputed (O4, P4, G10, G11).

    ``scopes`` maps a permission's or capability's value to the organizations where the user
    holds it through an in-force assignment; ``reach`` maps it to every organization that
    holding covers (O4: an LEA and each of its schools). Decisions read ``reach``, so a scope
    check is one set lookup and trusts nothing a caller put on a resource. Equal sets are
    shared between users. A user the directory does not know has no account and may do nothing.

    Fail closed: a ``User`` is made by its directory only (:meth:`Directory.user`). Calling
    ``User(...)`` or ``attrs.evolve(user, ...)`` raises ``TypeError``, so no caller can make
    up scopes or reach; and a decision allows only the very object its directory holds for
    that e-mail (a copy is denied).
    """

    email: Email
    account: Account | None
    directory: Directory
    active: bool
    scopes: Mapping[str, frozenset[CDSCode]]
    reach: Mapping[str, frozenset[CDSCode]]
    in_force: tuple[Assignment, ...]
    grant_powers: tuple[GrantPower, ...]
    groups: frozenset[GroupKey]
    group_students: frozenset[str]
    custom_sources: frozenset[str]

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "a User is made by its directory: take it from `Directory.user(email)`; it cannot "
            "be built or evolved"
        )

    @classmethod
    def _made(
        cls,
        email: Email,
        account: Account | None,
        directory: Directory,
        *,
        scopes: Mapping[str, frozenset[CDSCode]],
        reach: Mapping[str, frozenset[CDSCode]],
        in_force: tuple[Assignment, ...],
        grant_powers: tuple[GrantPower, ...],
        groups: frozenset[GroupKey],
        group_students: frozenset[str],
        custom_sources: frozenset[str],
    ) -> User:
        """The directory's own constructor (see the class docstring)."""
        self = object.__new__(cls)
        self.__attrs_init__(
            email=email,
            account=account,
            directory=directory,
            active=account is not None and account.active,
            scopes=scopes,
            reach=reach,
            in_force=in_force,
            grant_powers=grant_powers,
            groups=groups,
            group_students=group_students,
            custom_sources=custom_sources,
        )
        return self

    def scope(self, name: str) -> frozenset[CDSCode]:
        """Where the user holds a permission or capability, by its value (``"PII"``)."""
        return self.scopes.get(name, _EMPTY)

    def covers(self, name: str, code: str) -> bool:
        """Whether the user holds ``name`` at an organization covering ``code`` (O4)."""
        return code in self.reach.get(name, _EMPTY)

    def __repr__(self) -> str:
        # No personal data: not even the e-mail (a repr ends up in logs and tracebacks).
        known = "an account" if self.account is not None else "no account"
        state = "active" if self.active else "inactive"
        return f"<User: {known}, {state}, {len(self.in_force)} role(s) in force>"


@attrs.frozen(eq=False)
class Directory:
    """A validated, indexed directory. Build it with :meth:`build` or ``load_directory``."""

    tree: OrgTree
    rule_set: RuleSet
    accounts: Mapping[Email, Account]
    students: Mapping[str, Student]
    groups: Mapping[GroupKey, Group]
    custom_groups: Mapping[tuple[Email, str], CustomGroup]
    warnings: tuple[Problem, ...]
    students_by_school: Mapping[CDSCode, tuple[Student, ...]]
    groups_by_user: Mapping[Email, tuple[Group, ...]]
    primaries: Mapping[tuple[CDSCode, str], Email]
    # Every constructor (`build`, a changed or a stored directory) gives the fields below but
    # the two caches; `__repr__` (below) shows counts only, so no field has a repr option.
    _users: Mapping[Email, User]
    _active: Container[int]
    """The identities (``id``) of the directory's own living users of active accounts: ``can``
    and ``decide`` allow no other user (G11; a copy, or a user of another directory, is not in
    it). Identities, not the users, so that a directory may let a user no caller holds go
    (a stored directory does): an identity leaves the set before its user's memory is freed,
    so it is never another object's."""
    # Reverse indexes for the queries (caaspp_authz.queries), filled once by build.
    holders: Mapping[str, Mapping[CDSCode, tuple[Email, ...]]]
    """Permission or capability value → holder organization → accounts holding it there in
    force (G10 applied, active or not), in directory order."""
    groups_by_student: Mapping[str, tuple[Group, ...]]
    """SSID → the assigned groups holding the student, in directory order."""
    student_positions: Mapping[str, int]
    """SSID → its position in :attr:`students` (directory order)."""
    account_positions: Mapping[Email, int]
    """E-mail → its position in :attr:`accounts` (directory order)."""
    group_positions: Mapping[GroupKey, int]
    """Group key → its position in :attr:`groups` (directory order)."""
    _sets: dict[frozenset[CDSCode], frozenset[CDSCode]] = attrs.field(factory=dict)
    _reaches: dict[frozenset[CDSCode], frozenset[CDSCode]] = attrs.field(factory=dict)

    @classmethod
    def build(
        cls,
        *,
        organizations: Iterable[Organization],
        accounts: Iterable[Account] = (),
        students: Iterable[Student] = (),
        groups: Iterable[Group] = (),
        custom_groups: Iterable[CustomGroup] = (),
        rule_set: RuleSet = RuleSet.ONE_ROLE_PER_EMAIL,
    ) -> Directory:
        """Validate and index a directory; raise ``DirectoryError`` listing every problem."""
        tree = OrgTree.build(organizations)
        problems: list[Problem] = []
        account_map = _accounts(tree, accounts, rule_set, problems)
        primaries = _primaries(account_map, problems)
        student_map = _students(tree, students, problems)
        group_map = _groups(tree, groups, account_map, problems)
        custom_map = _custom_groups(custom_groups, account_map, student_map, problems)
        errors = [p for p in problems if p.is_error]
        if errors:
            raise DirectoryError(problems)
        by_school: dict[CDSCode, list[Student]] = {}
        for s in student_map.values():
            by_school.setdefault(s.school, []).append(s)
        by_user: dict[Email, list[Group]] = {}
        by_student: dict[str, list[Group]] = {}
        for g in group_map.values():
            for u in g.users:
                by_user.setdefault(u, []).append(g)
            for ssid in g.students:
                by_student.setdefault(ssid, []).append(g)
        holders: dict[str, dict[CDSCode, tuple[Email, ...]]] = {}
        users: dict[Email, User] = {}
        active: set[int] = set()
        directory = cls(
            tree=tree,
            rule_set=rule_set,
            accounts=account_map,
            students=student_map,
            groups=group_map,
            custom_groups=custom_map,
            warnings=tuple(problems),
            students_by_school={k: tuple(v) for k, v in by_school.items()},
            groups_by_user={k: tuple(v) for k, v in by_user.items()},
            primaries=primaries,
            holders=holders,
            groups_by_student={k: tuple(v) for k, v in by_student.items()},
            student_positions={ssid: i for i, ssid in enumerate(student_map)},
            account_positions={email: i for i, email in enumerate(account_map)},
            group_positions={key: i for i, key in enumerate(group_map)},
            users=users,
            active=active,
        )
        held: dict[str, dict[CDSCode, list[Email]]] = {}
        for email in account_map:
            user = users[email] = directory._make_user(email)
            if user.active:
                active.add(id(user))  # held by `users` as long as the directory lives
            for name, codes in user.scopes.items():
                by_org = held.setdefault(name, {})
                for code in codes:
                    by_org.setdefault(code, []).append(email)
        for name, lists in held.items():  # the directory's holders index, filled once
            holders[name] = {code: tuple(emails) for code, emails in lists.items()}
        stale = _stale_custom_groups(directory)
        if stale:
            directory = attrs.evolve(directory, warnings=(*directory.warnings, *stale))
        return directory

    def with_changes(
        self, *, accounts: Iterable[Account] = (), groups: Iterable[Group] = ()
    ) -> Directory:
        """This directory with ``accounts`` and ``groups`` added, or put in place of those of
        the same e-mail or key; this directory is not changed and stays valid.

        The new directory is checked as :meth:`build` checks a whole directory, on what the
        change touches and what it can affect (the changed accounts, R7 primaries against
        every account, the groups of the changed accounts and the changed groups, the custom
        groups of their users), and raises ``DirectoryError`` listing every problem. It is
        made without a rebuild: it holds the changes over this directory's mappings, sharing
        what did not change (its students, which a change never touches, among them). Its
        users are its own: a user of this directory is denied by the new one (G11).
        """
        from caaspp_authz._layered import changed

        return changed(self, accounts=accounts, groups=groups)

    # Lookups: each returns None for what the directory does not hold.

    def account(self, email: str) -> Account | None:
        """The account with this e-mail, compared case-insensitively (E1)."""
        return self.accounts.get(Email(email.strip().lower()))

    def organization(self, code: str) -> Organization | None:
        """The organization with this CDS code."""
        return self.tree.get(code)

    def student(self, ssid: str) -> Student | None:
        """The student with this SSID."""
        return self.students.get(ssid)

    def group(self, key: GroupKey) -> Group | None:
        """The assigned student group with this key."""
        return self.groups.get(key)

    def custom_group(self, owner: str, name: str) -> CustomGroup | None:
        """The custom group ``name`` of ``owner``."""
        return self.custom_groups.get((Email(owner.strip().lower()), name))

    def user(self, email: str) -> User:
        """The :class:`User` for an e-mail; one the directory does not know may do nothing.

        A decision is taken on one directory: take users from the directory whose students,
        groups and accounts you ask about, again after each reload. The object returned for
        an account is the directory's own; ``can`` and ``decide`` deny any other.
        """
        key = Email(email.strip().lower())
        found = self._users.get(key)
        if found is not None:
            return found
        return User._made(
            key,
            None,
            self,
            scopes={},
            reach={},
            in_force=(),
            grant_powers=(),
            groups=frozenset(),
            group_students=frozenset(),
            custom_sources=frozenset(),
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle everything but :attr:`_active`: identities are this process's only."""
        return {
            a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.name != "_active"
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, then know this process's identities of the directory's own active users."""
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_active", {id(u) for u in self._users.values() if u.active})

    def owns(self, user: User) -> bool:
        """Whether ``user`` is this directory's own :class:`User` (the very object, not a copy)."""
        return self._users.get(user.email) is user

    def __repr__(self) -> str:
        # Counts, never contents: a repr ends up in logs and tracebacks (no personal data).
        return (
            f"<Directory: {len(self.tree.organizations)} organization(s), "
            f"{len(self.accounts)} account(s), {len(self.students)} student(s), "
            f"{len(self.groups)} group(s), {len(self.custom_groups)} custom group(s), "
            f"{len(self.warnings)} warning(s), rule set {self.rule_set.value}>"
        )

    def users(self) -> Iterator[User]:
        """Every account's :class:`User`, in directory order."""
        return iter(self._users.values())

    def _shared(self, codes: frozenset[CDSCode]) -> frozenset[CDSCode]:
        """One frozenset object for each distinct set of codes, shared between users."""
        return self._sets.setdefault(codes, codes)

    def _reach_of(self, held: frozenset[CDSCode]) -> frozenset[CDSCode]:
        """Every organization a holding at ``held`` covers (O4), computed once per distinct set."""
        found = self._reaches.get(held)
        if found is None:
            found = self._shared(frozenset(c for code in held for c in self.tree.covered_by(code)))
            self._reaches[held] = found
        return found

    def _make_user(self, email: Email, account: Account | None = None) -> User:
        """The user of ``email``; with ``account``, of that account in its place (the decision
        asks, for G10, what a user could do with its forms on file)."""
        if account is None:
            account = self.accounts[email]
        in_force = tuple(a for a in account.assignments if account.in_force(a))  # G10
        scopes: dict[str, set[CDSCode]] = {}
        for a in in_force:
            for name in a.role.scope_keys:  # P2, T1–T3: per program where the catalog says
                scopes.setdefault(name, set()).add(a.org)
        held = {name: self._shared(frozenset(codes)) for name, codes in scopes.items()}
        powers: list[GrantPower] = []
        for a in in_force:
            org = self.tree.organizations[a.org]
            for g in GRANTS:
                if g.grantor == a.role.name and (a.primary or not g.grantor_primary_only):
                    powers.append(GrantPower(g, a.org, org.level))
        if account.superintendent_of is not None:  # R6, G1
            for g in GRANTS:
                if g.grantor == SUPERINTENDENT:
                    powers.append(GrantPower(g, account.superintendent_of, Level.LEA))
        assigned = self.groups_by_user.get(email, ())
        group_students: frozenset[str] = frozenset()
        sources: frozenset[str] = frozenset()
        for group in assigned:
            # Unions of frozensets: a user of one group shares that group's own set (no copy per
            # user, which is what a statewide directory's memory would be made of).
            group_students = group_students | group.students if group_students else group.students
            covering = self.tree.covering(group.key.school)
            for a in in_force:  # V4: the source limit of the role that opens the group
                limit = a.role.custom_group_source_limit
                if (
                    a.org in covering
                    and any(p.value == "PII_GROUP" for p in a.role.permissions)
                    and (limit is None or len(group.students) <= limit)
                ):
                    sources = sources | group.students if sources else group.students
                    break
        return User._made(
            email,
            account,
            self,
            scopes=held,
            reach={name: self._reach_of(codes) for name, codes in held.items()},
            in_force=in_force,
            grant_powers=tuple(powers),
            groups=frozenset(g.key for g in assigned),
            group_students=group_students,
            custom_sources=group_students if sources == group_students else sources,
        )


def _accounts(
    tree: OrgTree, accounts: Iterable[Account], rule_set: RuleSet, problems: list[Problem]
) -> dict[Email, Account]:
    found: dict[Email, Account] = {}
    for account in accounts:
        where = f"account `{account.email}`"
        if account.email in found:
            problems.append(
                Problem("E1", f"e-mail `{account.email}` is listed twice", where=where)
            )
            continue
        found[account.email] = account
        sup = account.superintendent_of
        if sup is not None:
            org = tree.get(sup)
            if org is None or org.level is not Level.LEA:
                problems.append(
                    Problem(
                        "R6",
                        f"is superintendent of `{sup}`, which is not an LEA in the directory",
                        where=where,
                        value=sup,
                    )
                )
        seen: set[tuple[str, CDSCode]] = set()
        for a in account.assignments:
            if (a.role.name, a.org) in seen:
                problems.append(
                    Problem(
                        "E4",
                        f"holds `{a.role}` at `{a.org}` twice",
                        severity=Severity.WARNING,
                        where=where,
                        value=a.org,
                    )
                )
            seen.add((a.role.name, a.org))
            org = tree.get(a.org)
            if org is None:
                problems.append(
                    Problem(
                        "O4",
                        f"holds `{a.role}` at `{a.org}`, which is not in the directory",
                        where=where,
                        value=a.org,
                    )
                )
                continue
            if not a.role.may_be_held_at(
                lea=org.level is Level.LEA, test_site=tree.is_test_site(a.org)
            ):
                problems.append(
                    Problem(
                        "R2",
                        f"`{a.role}` is held at the {a.role.level.value.upper()} level, "
                        f"but `{a.org}` is {'an LEA' if org.level is Level.LEA else 'a school'}",
                        where=where,
                        value=a.org,
                    )
                )
            if a.primary and not a.role.has_primary:
                problems.append(
                    Problem(
                        "R7",
                        f"`primary` means nothing on `{a.role}`",
                        severity=Severity.WARNING,
                        where=where,
                    )
                )
            if a.role.needs_credential and not account.credentialed:
                problems.append(
                    Problem(
                        "R5",
                        f"holds `{a.role}`, which needs a credential, but is not marked "
                        "credentialed: confirm the credential",
                        severity=Severity.WARNING,
                        where=where,
                    )
                )
        problems.extend(email_rule_problems(account, rule_set))
    return found


def _primaries(
    accounts: Mapping[Email, Account], problems: list[Problem]
) -> dict[tuple[CDSCode, str], Email]:
    """R7: at most one primary per LEA and coordinator role."""
    primaries: dict[tuple[CDSCode, str], Email] = {}
    for account in accounts.values():
        for a in account.assignments:
            if not (a.primary and a.role.has_primary):
                continue
            key = (a.org, a.role.name)
            other = primaries.get(key)
            if other is not None and other != account.email:
                problems.append(
                    Problem(
                        "R7",
                        f"`{account.email}` and `{other}` are both primary `{a.role}` at `{a.org}`",
                        where=f"account `{account.email}`",
                        value=a.org,
                    )
                )
            else:
                primaries[key] = account.email
    return primaries


def _students(
    tree: OrgTree, students: Iterable[Student], problems: list[Problem]
) -> dict[str, Student]:
    found: dict[str, Student] = {}
    orgs = tree.organizations
    for s in students:
        ssid = s.ssid
        if ssid in found:
            where = f"student `{shown(ssid)}`"
            problems.append(Problem("V1", f"SSID `{shown(ssid)}` is listed twice", where=where))
            continue
        if not (len(ssid) == 10 and ssid.isdigit() and ssid.isascii()):
            where = f"student `{shown(ssid)}`"
            problems.append(
                Problem("U5", f"SSID `{shown(ssid)}` is not 10 digits", where=where, value=ssid)
            )
        if s.school not in orgs:
            where = f"student `{shown(ssid)}`"
            problems.append(
                Problem(
                    "V1",
                    f"school `{s.school}` is not in the directory",
                    where=where,
                    value=s.school,
                )
            )
            continue
        if s._home is not None:  # another directory's value: this directory keeps its own
            s = Student(s.ssid, s.school)
        found[ssid] = s
        # Student._home: the directory's own students are known by identity, and a student of
        # another directory (yesterday's, say) is told apart from one of this directory.
        object.__setattr__(s, "_home", found)
    return found


def _groups(
    tree: OrgTree,
    groups: Iterable[Group],
    accounts: Mapping[Email, Account],
    problems: list[Problem],
) -> dict[GroupKey, Group]:
    found: dict[GroupKey, Group] = {}
    for g in groups:
        where = f"group {g.key}"
        if g.key in found:
            problems.append(Problem("V3", "the group is listed twice", where=where))
            continue
        found[g.key] = g
        school = tree.get(g.key.school)
        if school is None:
            problems.append(
                Problem(
                    "V3",
                    f"school `{g.key.school}` is not in the directory",
                    where=where,
                    value=g.key.school,
                )
            )
            continue
        if not tree.is_test_site(g.key.school):
            problems.append(
                Problem(
                    "V3",
                    f"`{g.key.school}` is an LEA, not a school: a group belongs to a school",
                    where=where,
                    value=g.key.school,
                )
            )
        if g.subject not in SUBJECTS:
            problems.append(
                Problem(
                    "U5",
                    f"subject `{g.subject}` is none of {', '.join(SUBJECTS)}",
                    where=where,
                    value=g.subject,
                )
            )
        # U5 (revised): a group may list an SSID the directory's students lack; that member
        # opens nothing (V1 takes the directory's own student), so the directory loads
        for email in sorted(g.users):
            account = accounts.get(email)
            if account is None:
                problems.append(
                    Problem("V3", f"user `{email}` has no account", where=where, value=email)
                )
            elif not may_be_assigned(tree, account, g.key.school):
                # V3 (revised): an assignment that stopped qualifying stays and opens nothing.
                problems.append(
                    Problem(
                        "V3",
                        f"user `{email}` holds no role carrying PII_GROUP or PII over the "
                        "group's school: the assignment opens nothing",
                        severity=Severity.WARNING,
                        where=where,
                        value=email,
                    )
                )
    return found


def _every(user: User, student: Student) -> bool:
    return True


_sees = student_check(True, True, _every)
"""V1: whether a user views a student's results (the decision's own check)."""


def _stale_custom_groups(
    directory: Directory, customs: Iterable[CustomGroup] | None = None
) -> list[Problem]:
    """V4: custom groups holding students their owner may no longer take from its groups.

    A warning, not a refusal: an assigned group or a role can go after the custom group was
    made. Viewing such a group is denied until it is edited back within the owner's sources.
    ``customs``: only these custom groups of the directory (all of them when not given).
    """
    problems: list[Problem] = []
    for c in directory.custom_groups.values() if customs is None else customs:
        owner = directory.user(c.owner)
        outside = sorted(
            ssid
            for ssid in c.students
            if ssid not in owner.custom_sources or not _sees(owner, directory.students[ssid])
        )
        if outside:
            problems.append(
                Problem(
                    "V4",
                    f"holds {len(outside)} student(s) its owner may not take from its assigned "
                    f"groups, such as `{outside[0]}`; viewing it is denied",
                    severity=Severity.WARNING,
                    where=f"custom group `{shown(c.name)}` of `{c.owner}`",
                    fix="edit the custom group to the students of the owner's assigned groups",
                )
            )
    return problems


def _custom_groups(
    custom_groups: Iterable[CustomGroup],
    accounts: Mapping[Email, Account],
    students: Mapping[str, Student],
    problems: list[Problem],
) -> dict[tuple[Email, str], CustomGroup]:
    found: dict[tuple[Email, str], CustomGroup] = {}
    for c in custom_groups:
        where = f"custom group `{shown(c.name)}` of `{c.owner}`"
        if (c.owner, c.name) in found:
            problems.append(Problem("V4", "the custom group is listed twice", where=where))
            continue
        found[(c.owner, c.name)] = c
        if c.owner not in accounts:
            problems.append(Problem("V4", f"owner `{c.owner}` has no account", where=where))
        for ssid in sorted(c.students):
            if ssid not in students:
                problems.append(
                    Problem("V4", f"student `{shown(ssid)}` is not in the directory", where=where)
                )
    return found
