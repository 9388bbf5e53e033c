"""Grants and whole accounts: who governs an assignment (G6), who covers one (G8), and the
checks of ``add_role``, ``remove_role`` and the account actions (G1–G11, R5, R7, E2–E5, E8).

:mod:`caaspp_authz.decision` puts these checks in its policy table and re-exports
:func:`governs` and :func:`covers`. Every rule about which role may grant which is a row of the
catalog's grant matrix; which roles are coordinators is its ``coordinator`` column.

A denial names another account's roles, organizations, superintendency or existence to the
principal only where the principal covers what it names (G8); otherwise that detail is the
audit text (``explain``), and the principal reads the same denial whatever the account holds.
"""

from __future__ import annotations

from collections.abc import Callable

from caaspp_authz._answer import Action, Decision
from caaspp_authz._answer import allow as _allow
from caaspp_authz._answer import deny as _deny
from caaspp_authz._answer import in_order as _in_order
from caaspp_authz.accounts import Account, Assignment, RuleSet
from caaspp_authz.catalog import SUPERINTENDENT, Role, RoleLevel, Where, by_name, highest
from caaspp_authz.directory import GrantPower, User
from caaspp_authz.orgs import Level
from caaspp_authz.resources import Grant

__all__ = ["account_action", "add_role", "covers", "governs", "not_acted_on", "remove_role"]


def _reaches(user: User, power: GrantPower, code: str) -> bool:
    """Whether a grant row reaches organization ``code`` from where it is held (G2, G3)."""
    where = power.rule.where
    tree = user.directory.tree
    if where is Where.HOLDER:
        return code == power.holder
    in_schools = power.holder_level is Level.LEA and tree.site_in(code, power.holder)
    if where is Where.SCHOOLS:
        return in_schools
    return code == power.holder or in_schools


def _site_grantor(power: GrantPower) -> bool:
    """G5: whether the grant row is held through a site-level role (also at a charter, O3)."""
    grantor = power.rule.grantor
    return grantor != SUPERINTENDENT and by_name(grantor).level is RoleLevel.SCHOOL


def _g5_conflict(account: Account, role: Role, code: str) -> Assignment | None:
    """G5: the actor's own assignment of ``role`` at an organization other than ``code``."""
    return next(
        (a for a in _in_order(account.assignments) if a.role == role and a.org != code), None
    )


def governs(user: User, role: Role, code: str, *, primary: bool = False) -> GrantPower | None:
    """The grant row by which the user may grant ``role`` at ``code`` (G6), or ``None``.

    G1/G3/G4: a row of the grant matrix for a role the user holds in force (or, G1, its
    superintendency, which needs no forms), reaching ``code``; R7: only a row that may grant
    primary grants a primary; G5: a site grant power does not grant a role the user holds at
    another organization.
    """
    account = user.account
    if account is None:
        return None
    primary = primary and role.has_primary
    for power in user.grant_powers:
        rule = power.rule
        if rule.grantee != role.name or not _reaches(user, power, code):
            continue
        if primary and not rule.may_grant_primary:
            continue
        if _site_grantor(power) and _g5_conflict(account, role, code) is not None:  # G5
            continue
        return power
    return None


def covers(user: User, assignment: Assignment) -> bool:
    """G8: whether the user covers an assignment (role R at organization O) of an account.

    (a) it governs R at O (G6); (b) it is the superintendent of the LEA that O is or lies in;
    (c) it holds an LEA coordinator role of either program at that LEA, and R is not an LEA
    coordinator role (those are governed under G1 only); (d) it holds a site coordinator role
    of either program at O (a school, or a direct-funded charter counted as one, T1) and R is
    not a coordinator role. The user's own role must be in force (G10: ``user.in_force``); the
    superintendent needs no forms (G1). Which roles are coordinators is catalog data. An
    upload asks the same through ``edit_account`` and ``reactivate_account`` (U7, G11).
    """
    role, code = assignment.role, assignment.org
    if governs(user, role, code, primary=assignment.primary) is not None:  # (a)
        return True
    account = user.account
    org = user.directory.organization(code)
    if account is None or org is None:
        return False
    lea = org.lea_code
    if account.superintendent_of == lea:  # (b)
        return True
    if role.lea_coordinator:
        return False
    for mine in user.in_force:
        held = mine.role
        if held.lea_coordinator and mine.org == lea:  # (c)
            return True
        if held.site_coordinator and mine.org == code and not role.coordinator:  # (d)
            return True
    return False


def _uncovered(user: User, account: Account) -> str | None:
    """G8: what of ``account`` the user does not cover, as text, or ``None`` when it covers all.

    R6: the superintendency counts as something the account holds, and no one but the
    superintendent itself covers it (no role of the catalog designates a superintendent).
    """
    if account.superintendent_of is not None:
        return f"`{account.email}` is the superintendent of `{account.superintendent_of}`"
    for a in _in_order(account.assignments):
        if not covers(user, a):
            return (
                f"`{user.email}` does not cover `{a.role}` at `{a.org}` held by `{account.email}`"
            )
    return None


_WHO_COVERS = (
    "an account is acted on by whoever covers every role it holds: the superintendent or an "
    "LEA coordinator of its LEA, a site coordinator for the school's staff, or whoever may "
    "grant the role there (G8)"
)
_RESET_FIX = (
    "a password reset needs covering one of the account's roles, or every one of them when "
    "the account is inactive (G7, G8)"
)


def _account_rules(action: Action) -> tuple[str, ...]:
    return ("G7", "G8") if action is Action.RESET_PASSWORD else ("G8",)


def not_acted_on(
    user: User,
    action: Action,
    email: str,
    audit: tuple[str, str | None],
    *,
    inactive: bool = False,
) -> Decision:
    """G7, G8: the principal's denial of an account action it may not take, one text whether
    the account exists, holds no role, is a superintendent's (R6) or holds roles the principal
    does not cover; ``audit`` says which. G11 is named where the account is inactive."""
    rules = _account_rules(action)
    return _deny(
        (*rules, "G11") if inactive else rules,
        f"`{user.email}` may not `{action.value}` the account `{email}`",
        _RESET_FIX if action is Action.RESET_PASSWORD else _WHO_COVERS,
        audit=audit,
    )


def account_action(action: Action) -> Callable[[User, Account], Decision]:
    reset = action is Action.RESET_PASSWORD
    own = action in (Action.RESET_PASSWORD, Action.EDIT_ACCOUNT)
    rules = _account_rules(action)

    def check(user: User, target: Account) -> Decision:
        """G7, G8: act on a whole account when covering every role it holds.

        Every active user edits its own demographics and resets its own password (G7, G8).
        G7 (decision): resetting the password of an active account only sends its owner a
        link, so covering one of its roles is enough; an inactive one needs G8 in full.
        """
        current = user.directory.account(target.email)
        if current is None:
            return not_acted_on(
                user, action, target.email, (f"unknown account `{target.email}`", None)
            )
        email = current.email
        if own and email == user.email:
            what = "reset its own password" if reset else "edit its own demographics"
            return _allow(rules, f"every active user may {what}")
        if current.superintendent_of is not None:
            text = (
                f"`{email}` is the superintendent of `{current.superintendent_of}`, "
                "whose account no one else acts on"
            )
            if email == user.email:  # R6: its own superintendency, named to itself
                return _deny((*rules, "R6"), text)
            return not_acted_on(user, action, email, (text, None), inactive=not current.active)
        if not current.assignments:
            return not_acted_on(
                user,
                action,
                email,
                (
                    f"`{email}` holds no role, so no one but its owner acts on it",
                    "grant the account a role (G11: as if the account were new)",
                ),
                inactive=not current.active,
            )
        if reset and current.active:
            if any(covers(user, a) for a in current.assignments):
                return _allow(rules, "covers a role of the active account; the owner gets a link")
            return not_acted_on(
                user,
                action,
                email,
                (
                    f"`{user.email}` covers no role held by `{email}`",
                    "a password reset of an active account needs covering one of its roles "
                    "(G7, G8)",
                ),
            )
        missing = _uncovered(user, current)
        if missing is not None:
            return not_acted_on(
                user, action, email, (missing, _WHO_COVERS), inactive=not current.active
            )
        return _allow(rules, "covers every role the account holds")

    return check


def _grant_checks(user: User, grant: Grant) -> Decision | None:
    directory = user.directory
    org = directory.organization(grant.organization)
    if org is None:
        return _deny(("G2",), f"unknown organization `{grant.organization}`")
    role = grant.role
    if not role.may_be_held_at(
        lea=org.level is Level.LEA, test_site=directory.tree.is_test_site(org.cds)
    ):
        return _deny(
            ("R2",), f"`{role}` is not held at `{org.cds}`: it is a {role.level.value} role"
        )
    return None


def _not_governed(user: User, role: Role, code: str, *, primary: bool) -> Decision:
    """Why the user may not grant ``role`` at ``code``; G5 names the actor's own role and site."""
    account = user.account
    assert account is not None  # decide() denies an unknown principal first
    conflict = _g5_conflict(account, role, code)
    if conflict is not None and any(
        p.rule.grantee == role.name and _site_grantor(p) and _reaches(user, p, code)
        for p in user.grant_powers
    ):
        return _deny(
            ("G5",),
            f"`{user.email}` holds `{role}` at `{conflict.org}`: a site coordinator may not "
            "grant a role its own account holds at a different site",
            "ask the LEA coordinator to grant it",
        )
    return _deny(
        ("G3", "G1", "G2", "G5", "G6"),
        f"`{user.email}` may not grant `{role}`{' as primary' if primary else ''} at `{code}`",
        "ask a coordinator who may grant it there (see the grant matrix, G3)",
    )


def _e4_fix(user: User, role: Role, code: str, held: list[Assignment]) -> str:
    """E4: a fix that works: the highest role, granted after the lower one goes (or by upload,
    which replaces a role at the organization, U4), or a different e-mail."""
    top = highest([role, *(a.role for a in held)])
    if top is None:
        return "no role among them is the highest: use a different e-mail address for one"
    if top != role:
        return f"nothing to grant: `{top}`, held there, is the highest"
    old = ", ".join(f"`{a.role}`" for a in held)
    if all(governs(user, a.role, a.org, primary=a.primary) is not None for a in held):
        return (
            f"remove {old} at `{code}` first, then grant `{role}`, the highest; or upload the "
            "row, which replaces it there (U4)"
        )
    return f"ask whoever may grant {old} at `{code}` to remove it first, then grant `{role}`"


def _e_rule(
    rule: str, user: User, role: Role, target: Account, held: list[Assignment], code: str
) -> Decision:
    """E3, E4 (E8 across programs): the account already holds another role (at ``code``).

    The held role is named, and E8 cited when its program differs, only to a principal that
    covers every one of ``held`` (G8) or that holds them itself (its own roles are no secret to
    it); to any other, the denial says a role is held and no more, and ``explain`` names it.
    """
    first = held[0].role
    # E8: the e-mail rules hold across programs: one TOMS login for both.
    crosses = any(role.programs.isdisjoint(a.role.programs) for a in held)
    if rule == "E4":
        full = (
            f"`{target.email}` already holds `{first}` at `{code}`",
            _e4_fix(user, role, code, held),
        )
        hidden = (
            f"`{target.email}` already holds another role at `{code}`",
            f"ask whoever may grant the role held there to remove it first; or use a different "
            f"e-mail address for `{role}`",
        )
    else:
        full = (
            f"`{target.email}` holds `{first}`; one account holds one role",
            "use a different e-mail address for this role",
        )
        hidden = (
            f"`{target.email}` already holds another role; one account holds one role",
            "use a different e-mail address for this role",
        )
    if target.email == user.email or all(covers(user, a) for a in held):
        return _deny((rule, "E8") if crosses else (rule,), *full)
    return _deny((rule,), *hidden, audit=full)


def add_role(user: User, grant: Grant) -> Decision:
    """G1–G6, R5, R7, E2–E5, E8, G11: whether the user may grant this role here to this account."""
    problem = _grant_checks(user, grant)
    if problem is not None:
        return problem
    role, code = grant.role, grant.organization
    primary = grant.primary and role.has_primary
    power = governs(user, role, code, primary=primary)
    if power is None:
        return _not_governed(user, role, code, primary=primary)
    directory = user.directory
    target = directory.account(grant.to)
    promoted = False
    if primary:
        # R7: "held" is any assignment marked primary, in force or not, active or not.
        holder = directory.primaries.get((code, role.name))
        if holder is not None and holder != grant.to:
            return _deny(
                ("R7",),
                f"the primary `{role}` at `{code}` is already held",
                "remove the current primary first, or grant a secondary",
            )
        promoted = target is not None and any(
            a.role == role and a.org == code and not a.primary for a in target.assignments
        )
    if target is not None and not target.active and target.assignments:
        # G11: the grant reactivates the account, so it needs covering every role it holds;
        # the principal's text does not name the roles it does not cover.
        missing = _uncovered(user, target)
        if missing is not None:
            return _deny(
                ("G11", "G8"),
                f"the grant would reactivate `{target.email}`, which holds what "
                f"`{user.email}` does not cover",
                _WHO_COVERS,
                audit=(f"the grant would reactivate `{target.email}`, and {missing}", _WHO_COVERS),
            )
    if target is not None and directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL:
        others = [a for a in _in_order(target.assignments) if a.role != role]
        same_site = [a for a in others if a.org == code]
        if same_site:
            return _e_rule("E4", user, role, target, same_site, code)
        if others:
            return _e_rule("E3", user, role, target, others, code)
    if role.needs_credential and not grant.credentialed and not (target and target.credentialed):
        return _deny(
            ("R5",),
            f"`{role}` must be held by a licensed or credentialed employee",
            "attest the credential with `credentialed: true`",
        )
    rules: tuple[str, ...] = (power.rule.rule, "G6")
    if promoted:
        rules = (*rules, "R7")
    if target is not None and not target.active:
        return _allow(
            (*rules, "G11"), "may grant the role here; the grant reactivates the account"
        )
    if promoted:
        return _allow(rules, f"makes the secondary `{role}` at `{code}` the primary")
    return _allow(rules, f"may grant `{role}` at `{code}`")


def remove_role(user: User, grant: Grant) -> Decision:
    """G6: removing a role needs exactly the power to grant it there.

    G8: removing an account's last role is allowed, and the reason says that the account is
    left without roles (no one but its owner acts on it then).
    """
    problem = _grant_checks(user, grant)
    if problem is not None:
        return problem
    role, code = grant.role, grant.organization
    if governs(user, role, code) is None:
        # Checked before the account is looked at, so the denial tells nothing of it.
        return _deny(
            ("G6",),
            f"`{user.email}` does not govern `{role}` at `{code}`",
            "ask whoever may grant that role there",
        )
    target = user.directory.account(grant.to)
    held = (
        None
        if target is None
        else next((a for a in target.assignments if a.role == role and a.org == code), None)
    )
    if target is None or held is None:
        # The principal governs the role there, so it may know who holds it there; whether
        # the e-mail is an account is told by `explain` only.
        text = f"`{grant.to}` holds no `{role}` at `{code}`"
        audit = f"unknown account `{grant.to}`" if target is None else text
        return _deny(("G6",), text, audit=(audit, None))
    if governs(user, held.role, held.org, primary=held.primary) is None:
        return _deny(
            ("G6",),
            f"`{user.email}` does not govern `{held.role}` at `{held.org}`",
            "ask whoever may grant that role there",
        )
    if all(a == held for a in target.assignments):
        return _allow(
            ("G6", "G8"),
            f"governs `{held.role}` at `{held.org}`; it is the account's last role, so the "
            "account is left without roles, and no one but its owner acts on it (to remove "
            "the account, delete it instead while it holds this role)",
        )
    return _allow(("G6",), f"governs `{held.role}` at `{held.org}`")
