"""The TOMS user upload: validated and applied by deciding the requests each row implies.

A row names a person (e-mail, names, phone) and a role at an organization (U1). It implies
requests, each decided by :func:`~caaspp_authz.decision.decide` itself, so that an upload never
does what a request through another door would be denied:

- ``upload_users`` on the row's organization (G9);
- ``add_role``: the row's role there for its e-mail, credentialed when the role needs it (U6,
  R5); for an existing account, decided as the account stands once the file's replacements (U4)
  are made;
- ``remove_role`` for each role the row replaces at its organization (U4, G6). Under
  ``one-role-per-email`` a role the uploader may not remove is an error (rule G6); under
  ``multi-role`` the row replaces only the roles the uploader may remove and the others stay;
- ``reactivate_account`` for an inactive account that already holds a role (U7, G11): denied,
  it is an error (rule G11). An inactive account with no role is reactivated by the grant;
- ``edit_account`` when the row changes an existing account's names or phone (U7): denied, it is
  no error; the account keeps its own and the row gets a warning (rule U7).

What is about the file itself stays here: the header and every field (U1), the record's shape
(U3), CDS codes (O5, O4), role spellings (R3, R4), e-mail addresses (E1, E6), two roles for one
e-mail within the file or against the account's roles elsewhere (E5), and an exact repeat of a
row (U2, a warning).

Decisions are memoized: per distinct CDS code and role text (``upload_users`` and ``add_role``
for an e-mail with no account), per existing account (the rest). A row of a clean pair with
plain names, phone and a plain ASCII address for an e-mail with no account takes a fast path.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import cast

import attrs

from caaspp_authz._csvread import _FORMULA_STARTS, Record, _record, looks_like_formula
from caaspp_authz.accounts import Account, Assignment, Email, RuleSet, canonical_email
from caaspp_authz.catalog import ROLES, Role, highest, resolve_role
from caaspp_authz.decision import Action, Decision, decide
from caaspp_authz.directory import Directory, User
from caaspp_authz.errors import (
    DirectoryError,
    InvalidCDSCode,
    InvalidEmail,
    Problem,
    Severity,
    UnknownRole,
)
from caaspp_authz.orgs import CDSCode, parse_cds
from caaspp_authz.resources import Grant
from caaspp_authz.uploads._common import (
    Source,
    _at,
    _cds_fix,
    _changed,
    _drain,
    _formula_warning,
    _header_problems,
    _open_parts,
    _problem,
    _shown,
    _sorted,
    _Template,
    _width_problem,
    csv_safe,
    kept_text,
)
from caaspp_authz.uploads.report import (
    AssignmentChange,
    ChangeReport,
    UploadError,
    UploadResult,
    Validation,
)

__all__ = [
    "USER_HEADER",
    "UserRow",
    "apply_users",
    "iter_user_problems",
    "users_csv",
    "validate_users",
]

USER_HEADER = (
    "First Name",
    "Last Name",
    "CDS Code",
    "E-mail Address",
    "Telephone Number",
    "Role in Organization",
)
"""The TOMS user upload header, in order (U1); names match case-insensitively."""

_FIRST, _LAST, _CDS, _EMAIL, _PHONE, _ROLE = USER_HEADER
_ROLE_INDEX: Mapping[str, int] = {r.name: i for i, r in enumerate(ROLES)}
_PLAIN_EMAIL = re.compile(r"[^@\s.]+(?:\.[^@\s.]+)*@[^@\s.]+(?:\.[^@\s.]+)*\.[^@\s.]{1,10}")
"""E1, E6 in one pattern: ``canonical_email``'s pattern with the domain's last label (the part
after its last dot) at most 10 long."""

_MASK = 0xFFFFFFFF
_PAIR = (1 << 37) - 1
"""A new e-mail's packed entry (E5, U2): its role's index in bits 0–4, its organization's index
in bits 5–36 (all ones when its row had no usable organization), its first row above."""

_DOMAINS = 4096
"""How many plain e-mail domains a user-upload validation remembers."""

_NEW = Email("new.account@upload.invalid")
"""The e-mail of the account-to-be that ``add_role`` is decided for when a row's e-mail has no
account: the decision depends only on the role and organization then (G1–G5)."""

_lower = cast("Callable[[str], Email]", str.lower)
"""``str.lower``, typed as giving the canonical e-mail it gives once an address is checked."""

_UNUSUAL_START = frozenset(_FORMULA_STARTS | {c for c in map(chr, range(0x3001)) if c.isspace()})
"""First characters that send a name or phone to the full checks: a formula start (U3) or a
character ``str.strip`` removes (U1); every such character is below U+3001."""


def _plainly_valid(email: str) -> bool:
    """Whether ``canonical_email`` accepts this trimmed, lower-cased address (E1, E6)."""
    return _PLAIN_EMAIL.fullmatch(email) is not None


@attrs.frozen
class UserRow:
    """One valid row of a user upload: a role at an organization for an e-mail (U1)."""

    row: int
    first_name: str
    last_name: str
    cds: CDSCode
    email: Email
    phone: str
    role: Role


def _denied(row: int, decision: Decision, column: str, value: str | None) -> Problem:
    """An error for a denied request a row implies, under the rule that decided it."""
    rule = decision.rules[0] if decision.rules else "G3"
    return _problem(
        rule,
        decision.reason.replace(_NEW, "the new account"),
        row=row,
        column=column,
        value=value,
        fix=None if decision.fix is None else decision.fix.replace(_NEW, "the new account"),
    )


@attrs.define
class _Pair:
    """What a row's CDS code and role text decide, computed once per distinct pair."""

    cds: CDSCode | None
    role: Role | None
    problems: tuple[_Template, ...]
    ok: tuple[CDSCode, Role, int] | None = None
    """For a pair with no problem: its code, its role, and its organization's index << 5 |
    its role's index (E5)."""
    granted: bool = False
    """Whether ``upload_users`` and ``add_role`` for a new account are allowed (G9, G1–G5)."""


@attrs.define
class _Seen:
    """What the file gives an existing account: its first row and role, and per organization
    the row where it first appears and the roles (E5, U4)."""

    row: int
    role: Role
    conflicted: bool = False
    orgs: dict[CDSCode, tuple[int, dict[str, tuple[Role, int, bool]]]] = attrs.Factory(dict)
    """Organization → (first row, role name → (role, first row, whether its pair is granted))."""


class _UserCheck:
    """The user-upload checks, fed one record at a time (U1, U3, U4, U6, U7, R3–R5, O5, E1–E7,
    and through ``decide``: G1–G11, R2, R5, R7)."""

    def __init__(self, directory: Directory, uploader: str, *, keep: bool) -> None:
        self.directory = directory
        self.user: User = directory.user(uploader)
        self.one_role = directory.rule_set is RuleSet.ONE_ROLE_PER_EMAIL
        self.accounts = directory.accounts
        self.pairs: dict[tuple[str, str], _Pair] = {}
        # the pairs with no problem, by role text, then CDS code text: ``_Pair.ok``
        self.fast: dict[str, dict[str, tuple[CDSCode, Role, int]]] = {}
        self.domains: set[str] = set()  # E1, E6: domains of plain addresses, see _plain_domain
        # E5: a new e-mail's first row, organization and role, packed in one int
        self.new: dict[Email, int] = {}
        self.org_index = {code: i for i, code in enumerate(directory.tree.organizations)}
        self.existing: dict[Email, _Seen] = {}
        self.kept: list[UserRow] | None = [] if keep else None
        self.rows = 0
        # what finish() decided, for apply: per existing account, the assignments the file
        # replaces (U4) and whether its names and phone are replaced (U7)
        self.removed: dict[Email, list[Assignment]] = {}
        self.renamed: dict[Email, bool] = {}
        self._edit: dict[object, bool] = {}
        """``edit_account`` by the state of the account it acts on (G8 reads its roles, where it
        holds them, and whether it is a superintendent), so that it is decided once a state."""
        self._granted: set[object] = set()
        """``add_role`` allowed for a role, organization and the state of an existing account
        (all it holds once replaced roles are gone, active, credentialed, superintendent, forms):
        the same request for another account in that state is allowed too."""

    # per distinct (CDS code, role) pair: O5, O4, R3, R4, R5, U6, and G9, G1–G5, R2 by decide

    def _pair(self, cds_text: str, role_text: str) -> _Pair:
        key = (cds_text, role_text)
        found = self.pairs.get(key)
        if found is None:
            found = self.pairs[key] = self._decide_pair(cds_text, role_text)
            if found.ok is not None:
                self.fast.setdefault(role_text, {})[cds_text] = found.ok
        return found

    def _decide_pair(self, cds_text: str, role_text: str) -> _Pair:
        out: list[_Template] = []
        err, warn = Severity.ERROR, Severity.WARNING
        cds: CDSCode | None = None
        if cds_text.strip():
            try:
                cds = parse_cds(cds_text)
            except InvalidCDSCode as exc:
                out.append(("O5", str(exc.args[0]), err, _CDS, _shown(cds_text), _cds_fix(exc)))
            else:
                if self.directory.organization(cds) is None:
                    message = f"organization `{cds}` is not in the directory"
                    out.append(("O4", message, err, _CDS, cds_text, None))
                    cds = None
        role: Role | None = None
        if role_text.strip():  # U1: a blank role is only empty
            try:
                role, legacy = resolve_role(role_text)
            except UnknownRole as exc:
                fix = f"write `{exc.suggestion}`" if exc.suggestion else None
                out.append(("R4", str(exc), err, _ROLE, _shown(role_text), fix))
            else:
                if legacy:
                    message = f"`{role_text}` is a legacy name of `{role}`"
                    out.append(("R3", message, warn, _ROLE, role_text, f"write `{role}`"))
        granted = False
        if cds is not None:
            org = self.directory.tree.organizations[cds]
            decided = decide(self.user, Action.UPLOAD_USERS, org)  # G9
            if not decided.allowed:
                message = f"`{self.user.email}` may not upload users for `{cds}`: {decided.reason}"
                out.append(("G9", message, err, _CDS, cds, decided.fix))
            elif role is not None:
                # G1–G5, R2 (and R7, E3–E5, G11 for an account that exists: see finish)
                grant = Grant(_NEW, role, cds, credentialed=role.needs_credential)
                decided = decide(self.user, Action.ADD_ROLE, grant)
                if decided.allowed:
                    granted = True
                else:
                    p = _denied(0, decided, _ROLE, _shown(role_text))
                    out.append((p.rule, p.message, err, _ROLE, p.value, p.fix))
        if role is not None and role.needs_credential:
            out.append(
                (
                    "R5",
                    f"`{role}` must be held by a licensed or credentialed employee: uploading "
                    "this row attests the credential, and the account is recorded credentialed",
                    warn,
                    _ROLE,
                    role_text,
                    None,
                )
            )
        ok = None
        if not out and cds is not None and role is not None:
            ok = (cds, role, (self.org_index[cds] << 5) | _ROLE_INDEX[role.name])
        return _Pair(cds, role, tuple(out), ok, granted)

    def feed(self, record: Record) -> Sequence[Problem]:
        """The problems of one record: one with a U3 problem takes the full checks, any other
        the loop of :meth:`feed_batch`."""
        if not record.fields:  # a blank record wider than the header, skipped (U3)
            return list(record.problems)
        if record.problems:
            self.rows += 1
            return self._feed(record)
        return self.feed_batch(record.row, (record.fields,))

    def feed_batch(self, first_row: int, batch: Sequence[Sequence[str]]) -> list[Problem]:
        """The problems of records with no U3 problem, on consecutive rows from ``first_row``.

        A row of an already seen CDS code and role with no problem in them, names and phone
        that are neither blank nor a formula (U1, U3) and start with no space, and an e-mail
        ``canonical_email`` accepts (E1, E6) that has no account takes a fast path: it is kept
        for E5 without the full checks of :meth:`_feed`, which every other row takes and which
        find the same outcome for a row of the fast path.
        """
        self.rows += len(batch)
        problems: list[Problem] = []
        fast = self.fast
        domains = self.domains
        unusual = _UNUSUAL_START
        accounts = self.accounts
        one_role = self.one_role
        new = self.new
        kept = self.kept
        full = self._feed
        for row, fields in enumerate(batch, first_row):
            try:
                first, last, cds_text, email_text, phone, role_text = fields
                cds, role, packed_pair = fast[role_text][cds_text]
                # U1, U3: names and phone neither blank (IndexError) nor a formula, and
                # starting with no space; E1, E6: a plain ASCII address of a domain already
                # found plain (or found so now)
                usual = (
                    first[0] not in unusual
                    and last[0] not in unusual
                    and phone[0] not in unusual
                    and email_text.isascii()
                )
            except (ValueError, KeyError, IndexError):
                # not 6 fields, a pair not yet decided clean, or an empty name or phone
                problems.extend(full(_record(row, tuple(fields), ())))
                continue
            if usual:
                local, _, domain = email_text.partition("@")
                if (
                    local
                    and (domain in domains or self._plain_domain(domain))
                    and local.isprintable()
                    and " " not in local
                    and ".." not in local  # E1: dots only between non-empty parts
                    and local[0] != "."
                    and local[-1] != "."
                ):
                    email = _lower(email_text)
                    first, last, phone = first.strip(), last.strip(), phone.strip()
                    if kept is not None:
                        kept.append(UserRow(row, first, last, cds, email, phone, role))
                    if email in accounts:  # kept for the end (U4, U7, G11, E5)
                        names = (first, last, phone)
                        problems.extend(self._email_rules(row, email, role, cds, names=names))
                        continue
                    if not one_role:  # E7: under multi-role nothing is kept for a new e-mail
                        pass
                    elif email not in new:  # E5, inline: a new e-mail's first row, org and role
                        new[email] = (row << 37) | packed_pair
                    else:
                        packed = new[email]
                        if (packed ^ packed_pair) & 31:  # E5: another role
                            problems.extend(self._email_rules(row, email, role, cds))
                        elif not (packed ^ packed_pair) & _PAIR:  # U2: the same grant again
                            problems.append(self._repeat(row, email, packed >> 37))
                    continue
            problems.extend(full(_record(row, tuple(fields), ())))
        return problems

    def _repeat(self, row: int, email: Email, first: int) -> Problem:
        """U2 (decision): a row giving an e-mail the role at the organization an earlier row gave
        it (an exact repeat among them) grants nothing more: a warning, not an error."""
        return _problem(
            "U2",
            f"the row gives `{email}` the role and organization row {first} gives it: it adds "
            "nothing, and of the two rows' names and phone the last are taken",
            row=row,
            fix="remove the repeated row",
            severity=Severity.WARNING,
        )

    def _plain_domain(self, domain: str) -> bool:
        """Whether ``domain``, the part of an ASCII address after its first ``@``, is one that
        ``canonical_email`` accepts after a plain local part (E1, E6); a plain one is kept, up
        to :data:`_DOMAINS` of them, so that the next address at it is checked at once."""
        if not _plainly_valid("x@" + domain):  # a plain local part, so this is the domain's
            return False
        if len(self.domains) < _DOMAINS:
            self.domains.add(domain)
        return True

    def _feed(self, record: Record) -> list[Problem]:
        row = record.row
        problems = list(record.problems)
        width = _width_problem(record, 6)
        if width is not None:
            problems.append(width)
            return problems
        first, last, cds_text, email_text, phone, role_text = record.fields
        # U1: every field is required.
        for column, value in (
            (_FIRST, first),
            (_LAST, last),
            (_CDS, cds_text),
            (_EMAIL, email_text),
            (_PHONE, phone),
            (_ROLE, role_text),
        ):
            if not value.strip():
                problems.append(_problem("U1", f"`{column}` is empty", row=row, column=column))
        for column, value in ((_FIRST, first), (_LAST, last), (_PHONE, phone)):
            if looks_like_formula(value):
                problems.append(_formula_warning(row, column, value))
        pair = self._pair(cds_text, role_text)
        problems.extend(_at(row, t) for t in pair.problems)
        email: Email | None = None
        if email_text.strip():
            try:
                email = canonical_email(email_text)
            except InvalidEmail as exc:
                fix = (
                    "use an address whose part after the last dot has at most 10 characters"
                    if exc.rule == "E6"
                    else None
                )
                problems.append(
                    _problem(
                        exc.rule,
                        str(exc.args[0]),
                        row=row,
                        column=_EMAIL,
                        value=email_text,
                        fix=fix,
                    )
                )
        if email is None or pair.role is None:
            return problems
        names = (kept_text(first), kept_text(last), kept_text(phone))
        if pair.cds is None:
            # U2: a row without a usable code is still held against the e-mail rules, as far
            # as they can be decided without the organization
            problems.extend(self._without_org(row, email, pair.role))
            return problems
        if self.kept is not None:
            self.kept.append(UserRow(row, *names[:2], pair.cds, email, names[2], pair.role))
        problems.extend(
            self._email_rules(row, email, pair.role, pair.cds, names=names, granted=pair.granted)
        )
        return problems

    def _without_org(self, row: int, email: Email, role: Role) -> list[Problem]:
        """U2, E5: a row whose organization is unknown: two roles for one e-mail are still a
        conflict where no replacement at any organization (U4) could explain them."""
        if not self.one_role:
            return []
        account = self.accounts.get(email)
        if account is not None:
            # a conflict with the account's roles might be a U4 replacement at the unknown
            # organization only if it holds a single role there; another role at two or more
            # organizations cannot all be replaced by one row
            others = {a.org for a in account.assignments if a.role != role}
            if len(others) > 1:
                return [self._e5_existing(row, email, account, role)]
            return []
        packed = self.new.get(email)
        if packed is None:  # kept with no organization, for the e-mail's later rows (E5)
            self.new[email] = (row << 37) | (0xFFFFFFFF << 5) | _ROLE_INDEX[role.name]
        elif ROLES[packed & 31] != role:
            return [self._two_roles(row, email, packed >> 37, ROLES[packed & 31], role)]
        return []

    def _email_rules(
        self,
        row: int,
        email: Email,
        role: Role,
        cds: CDSCode,
        *,
        names: tuple[str, str, str] | None = None,
        granted: bool = True,
    ) -> Sequence[Problem]:
        """E5 within the file (one-role-per-email); for an existing account, what the file gives
        it is kept, and U4, U7, G11 and E5 against its roles are decided at the end."""
        account = self.accounts.get(email)
        if account is not None:
            problems: list[Problem] = []
            seen = self.existing.get(email)
            if seen is None:
                seen = self.existing[email] = _Seen(row, role)
            at = seen.orgs.get(cds)
            if at is None:
                seen.orgs[cds] = (row, {role.name: (role, row, granted)})
            elif role.name not in at[1]:
                at[1][role.name] = (role, row, granted)
            elif names is not None:  # U2: the same grant again
                problems.append(self._repeat(row, email, at[1][role.name][1]))
            if names is not None and names != (
                account.first_name,
                account.last_name,
                account.phone,
            ):
                problems.extend(self._names(row, account, names))
            if self.one_role and seen.role.name != role.name:
                seen.conflicted = True
                problems.append(
                    self._two_roles(row, email, seen.row, seen.role, role, same_org=at is not None)
                )
            return problems
        if not self.one_role:
            return []
        packed = self.new.get(email)
        index = _ROLE_INDEX[role.name]
        org_index = self.org_index[cds]
        if packed is None:
            self.new[email] = (row << 37) | (org_index << 5) | index
            return []
        if packed & 31 == index:
            if names is not None and (packed >> 5) & _MASK == org_index:  # U2: the same grant
                return [self._repeat(row, email, packed >> 37)]
            return []
        first_row, first_role = packed >> 37, ROLES[packed & 31]
        same_org = (packed >> 5) & 0xFFFFFFFF == org_index
        return [self._two_roles(row, email, first_row, first_role, role, same_org=same_org)]

    def _names(self, row: int, account: Account, names: tuple[str, str, str]) -> list[Problem]:
        """U7: a row changing an existing account's names or phone implies ``edit_account``;
        denied, the account keeps its own and the row gets a warning naming what is kept."""
        state = (
            account.superintendent_of,
            account.active,
            tuple((a.role.name, a.org, a.primary) for a in account.assignments),
            account.email == self.user.email,  # its own account: G8 lets it edit itself
        )
        allowed = self._edit.get(state)
        if allowed is None:
            allowed = decide(self.user, Action.EDIT_ACCOUNT, account).allowed
            self._edit[state] = allowed
        if allowed:
            self.renamed[account.email] = True
            return []
        self.renamed.setdefault(account.email, False)
        kept = [
            label
            for label, new, old in zip(
                ("first name", "last name", "phone"),
                names,
                (account.first_name, account.last_name, account.phone),
                strict=True,
            )
            if new != old
        ]
        return [
            _problem(
                "U7",
                f"`{account.email}` keeps its own {', '.join(kept)}: `{self.user.email}` may "
                "not edit the account, so this row changes only its roles",
                row=row,
                column=_FIRST
                if kept[0] == "first name"
                else _LAST
                if kept[0] == "last name"
                else _PHONE,
                severity=Severity.WARNING,
                fix="ask whoever covers every role the account holds to change them (G8)",
            )
        ]

    def _two_roles(
        self,
        row: int,
        email: Email,
        first_row: int,
        first: Role,
        role: Role,
        *,
        same_org: bool = False,
    ) -> Problem:
        """E5 (E3, E4): two rows of the file give one e-mail two different roles."""
        top = highest([first, role])
        fix = (
            f"keep only `{top}`, the highest of them (E4)"
            if same_org and top is not None
            else "use a different e-mail address for each role (E3)"
        )
        return _problem(
            "E5",
            f"`{email}` is given `{role}` here and `{first}` on row {first_row}; one e-mail "
            "holds one role",
            row=row,
            column=_ROLE,
            value=role.name,
            fix=fix,
        )

    def _e5_existing(
        self, row: int, email: Email, account: Account, role: Role, held: Assignment | None = None
    ) -> Problem:
        """E5 against the directory: the account holds another role elsewhere. The role and
        organization are named only to an uploader who may remove that role (G6); to anyone
        else the message says only that the e-mail holds another role."""
        if held is None:
            held = next(a for a in account.assignments if a.role != role)
        if self._may_remove(account.email, held).allowed:
            what = f"`{held.role}` at `{held.org}`"
        else:
            what = "another role"
        return _problem(
            "E5",
            f"`{email}` already holds {what}; one e-mail holds one role, so it cannot also "
            f"hold `{role}`",
            row=row,
            column=_EMAIL,
            value=email,
            fix="use a different e-mail address for this role (E3)",
        )

    def _may_remove(self, email: Email, a: Assignment) -> Decision:
        return decide(
            self.user, Action.REMOVE_ROLE, Grant(email, a.role, a.org, primary=a.primary)
        )

    def finish(self) -> list[Problem]:
        """The requests of the rows for existing accounts, decided once the file's rows for an
        e-mail are all known: ``remove_role`` for what a row replaces (U4, G6),
        ``reactivate_account`` (G11), ``add_role`` as the account stands after the
        replacements, and E5 against the roles it keeps elsewhere."""
        problems: list[Problem] = []
        for email, seen in self.existing.items():
            problems.extend(self._finish_account(self.accounts[email], seen))
        if self.rows == 0:
            problems.append(
                _problem(
                    "U1",
                    "the file has a header and no rows",
                    row=1,
                    severity=Severity.WARNING,
                )
            )
        return problems

    def _finish_account(self, account: Account, seen: _Seen) -> list[Problem]:
        email = account.email
        problems: list[Problem] = []
        removed: list[Assignment] = []
        errors_on: set[tuple[int, str]] = set()
        # U4: a row replaces, at its organization, the roles the file does not give there
        for a in account.assignments:
            at = seen.orgs.get(a.org)
            if at is None or a.role.name in at[1]:
                continue
            row = at[0]
            new = sorted(at[1])
            decided = self._may_remove(email, a)
            if decided.allowed:
                removed.append(a)
                problems.append(
                    _problem(
                        "U4",
                        f"`{email}` holds `{a.role}` at `{a.org}`; this row replaces it "
                        f"with `{', '.join(new)}`",
                        row=row,
                        column=_ROLE,
                        value=new[0],
                        severity=Severity.WARNING,
                    )
                )
            elif self.one_role:  # U4, G6: one-role-per-email replaces every role there
                errors_on.add((row, "G6"))
                problems.append(
                    _problem(
                        "G6",
                        f"`{email}` holds a role at `{a.org}` that `{self.user.email}` may not "
                        "remove, and this row would replace it",
                        row=row,
                        column=_ROLE,
                        value=new[0],
                        fix="a coordinator who governs that role there uploads this row, or "
                        "removes the role first",
                    )
                )
            # multi-role (U4 decision): a role the uploader may not remove stays
        self.removed[email] = removed
        gone = {id(a) for a in removed}
        kept = [a for a in account.assignments if id(a) not in gone]
        # E5: the roles the account keeps at organizations the file does not name
        if self.one_role and not seen.conflicted:
            clash = next(
                (a for a in kept if a.org not in seen.orgs and a.role.name != seen.role.name), None
            )
            if clash is not None:
                errors_on.add((seen.row, "E5"))
                problems.append(self._e5_existing(seen.row, email, account, seen.role, clash))
        # U7, G11: reactivating an inactive account that holds roles needs reactivate_account
        if not account.active and account.assignments:
            decided = decide(self.user, Action.REACTIVATE_ACCOUNT, account)
            if not decided.allowed:
                errors_on.add((seen.row, "G11"))
                problems.append(
                    _problem(
                        "G11",
                        f"this row would reactivate the inactive account `{email}`, and "
                        f"`{self.user.email}` may not reactivate it: that needs authority over "
                        "every role the account holds",
                        row=seen.row,
                        column=_EMAIL,
                        value=email,
                        fix="whoever covers every role the account holds uploads this row (G8), "
                        "or use a different e-mail address",
                    )
                )
        # add_role, as the account stands after the replacements
        forms = sorted(account.forms.items(), key=lambda item: item[0].value)
        after: Directory | None = None
        for org, (_, roles) in seen.orgs.items():
            for role, row, granted in roles.values():
                if not granted:
                    continue  # the pair's own decision is already reported on the row
                state = (
                    role.name,
                    org,
                    account.active,
                    account.credentialed,
                    account.superintendent_of,
                    tuple((p.value, tuple(sorted(f.value for f in fs))) for p, fs in forms),
                    tuple((a.role.name, a.org, a.primary) for a in kept),
                )
                own = email == self.user.email  # replacing its own roles changes its powers
                if not own and state in self._granted:
                    continue  # allowed for an account in the same state (memoized)
                grant = Grant(email, role, org, credentialed=role.needs_credential)
                decided = decide(self.user, Action.ADD_ROLE, grant)
                # removing roles from another account only takes conflicts away (E3, E4, G11),
                # so a grant allowed before the replacements is allowed after them
                if removed and (own or not decided.allowed):
                    after = after or self._after(account, kept)
                    if after is not None:
                        decided = decide(after.user(self.user.email), Action.ADD_ROLE, grant)
                if decided.allowed:
                    if not own:
                        self._granted.add(state)
                    continue
                rules = set(decided.rules)
                if rules & {"E3", "E4"} and (
                    (seen.row, "E5") in errors_on or (row, "G6") in errors_on or seen.conflicted
                ):
                    continue  # the same conflict, already reported as E5 or G6
                if "G11" in rules and (seen.row, "G11") in errors_on:
                    continue  # the same reactivation, already reported
                if rules & {"E3", "E4"}:  # E5: say no more than that it holds another role
                    problems.append(self._e5_existing(row, email, account, role))
                else:
                    problems.append(_denied(row, decided, _ROLE, role.name))
        return problems

    def _after(self, account: Account, kept: list[Assignment]) -> Directory | None:
        """The uploader and the account as it stands once the file's replacements are made,
        with the organizations: where ``add_role`` is decided for a row that replaces roles."""
        changed = attrs.evolve(account, assignments=kept)
        uploader = self.user.account
        accounts = [changed]
        if uploader is not None and uploader.email != account.email:
            accounts.append(uploader)
        try:
            return Directory.build(
                organizations=self.directory.tree,
                accounts=accounts,
                rule_set=self.directory.rule_set,
            )
        except DirectoryError:
            return None


def iter_user_problems(
    source: Source, directory: Directory, *, uploader: str
) -> Iterator[Problem]:
    """Every problem of a TOMS user upload, as the file is read (U1–U4, U6, U7, R3–R5, O5,
    E1–E7, G1–G11). Problems found only once the whole file is read (the requests of rows for
    existing accounts: U4, G6, G11, E5 against the directory) come last; :func:`validate_users`
    sorts them by row."""
    yield from _user_run(source, directory, uploader=uploader, keep=False)[0]


def _user_run(
    source: Source, directory: Directory, *, uploader: str, keep: bool
) -> tuple[Iterator[Problem], _UserCheck]:
    check = _UserCheck(directory, uploader, keep=keep)

    def run() -> Iterator[Problem]:
        header, parts = _open_parts(source)
        head = _header_problems(header, USER_HEADER, "U1")
        yield from head
        if any(p.is_error for p in head):
            _drain(parts)
            return
        feed, feed_batch = check.feed, check.feed_batch
        for part in parts:
            found = feed(part) if isinstance(part, Record) else feed_batch(*part)
            if found:
                yield from found
        yield from check.finish()

    return run(), check


def validate_users(source: Source, directory: Directory, *, uploader: str) -> Validation:
    """Validate a TOMS user upload as ``uploader`` against ``directory``; every problem, in row
    order (U2)."""
    problems, check = _user_run(source, directory, uploader=uploader, keep=False)
    found = _sorted(problems)
    return Validation("users", found, check.rows)


def apply_users(source: Source, directory: Directory, *, uploader: str) -> UploadResult:
    """Apply a TOMS user upload: a new directory and the change report (U2, U4, U6, U7, G11).

    Raises :class:`UploadError` carrying every problem when the file has any error; nothing is
    applied. Each row gives its e-mail its role at its organization: a new e-mail is a new,
    active account; an inactive account is reactivated (G11); the rows of the file for one
    e-mail and organization replace the roles the account held there that the uploader may
    remove (U4); a role that needs a credential records the account credentialed (U6). Names
    and phone are taken from the file's last row for the e-mail, for an existing account only
    when the uploader may edit it (U7).
    """
    problems_iter, check = _user_run(source, directory, uploader=uploader, keep=True)
    problems = _sorted(problems_iter)
    if any(p.is_error for p in problems):
        raise UploadError(problems)
    assert check.kept is not None
    by_email: dict[Email, list[UserRow]] = {}
    for r in check.kept:
        by_email.setdefault(r.email, []).append(r)
    added: list[AssignmentChange] = []
    overridden: list[AssignmentChange] = []
    created: list[Email] = []
    reactivated: list[Email] = []
    credentialed: list[Email] = []
    accounts: dict[Email, Account] = {}  # the changed accounts only: the rest is shared
    for email, rows in by_email.items():
        old = directory.accounts.get(email)
        if old is None and len(rows) == 1:  # the common case of a big upload: one new role
            r = rows[0]
            created.append(email)
            added.append(AssignmentChange(email, r.role.name, r.cds))
            needs_credential = r.role.needs_credential
            if needs_credential:
                credentialed.append(email)
            accounts[email] = Account(
                email=email,
                first_name=r.first_name,
                last_name=r.last_name,
                phone=r.phone,
                credentialed=needs_credential,
                assignments=(Assignment(r.role, r.cds),),
            )
            continue
        wanted: dict[CDSCode, list[Role]] = {}
        for r in rows:
            roles = wanted.setdefault(r.cds, [])
            if r.role not in roles:
                roles.append(r.role)
        last = rows[-1]
        removed = check.removed.get(email, [])
        gone_ids = {id(a) for a in removed}
        new_assignments = [a for a in old.assignments if id(a) not in gone_ids] if old else []
        for org, roles in wanted.items():
            # U4: every role replaced there is reported once, against the file's first role
            gone = [a.role.name for a in removed if a.org == org]
            overridden.extend(AssignmentChange(email, roles[0].name, org, p) for p in gone)
            for role in roles:
                if any(a.role == role and a.org == org for a in new_assignments):
                    continue
                new_assignments.append(Assignment(role, org))
                if not gone:
                    added.append(AssignmentChange(email, role.name, org))
        needs_credential = any(r.role.needs_credential for r in rows)
        if old is None:
            created.append(email)
            account = Account(
                email=email,
                first_name=last.first_name,
                last_name=last.last_name,
                phone=last.phone,
                credentialed=needs_credential,
                assignments=new_assignments,
            )
            if needs_credential:
                credentialed.append(email)
        else:
            if not old.active:
                reactivated.append(email)  # G11: an upload reactivates the account
            if needs_credential and not old.credentialed:
                credentialed.append(email)
            rename = check.renamed.get(email, False)  # U7
            account = attrs.evolve(
                old,
                first_name=last.first_name if rename else old.first_name,
                last_name=last.last_name if rename else old.last_name,
                phone=last.phone if rename else old.phone,
                active=True,
                credentialed=old.credentialed or needs_credential,
                assignments=new_assignments,
            )
        accounts[email] = account
    new_directory = _changed(directory, accounts=accounts.values())
    changes = ChangeReport(
        assignments_added=added,
        assignments_overridden=overridden,
        accounts_created=created,
        accounts_reactivated=reactivated,
        accounts_credentialed=credentialed,
    )
    return UploadResult(new_directory, changes, tuple(p for p in problems if not p.is_error))


def users_csv(directory: Directory, *, exclude: Iterable[str] = ()) -> str:
    """The directory's role assignments written as a TOMS user upload (U1), one row each.

    Accounts whose e-mail is in ``exclude`` are left out; roles are written by current name.
    A value a spreadsheet would run as a formula is written after a `'` (U3).
    """
    skip = {e.strip().lower() for e in exclude}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(USER_HEADER)
    for account in directory.accounts.values():
        if account.email in skip:
            continue
        for a in account.assignments:
            writer.writerow(
                (
                    csv_safe(account.first_name),
                    csv_safe(account.last_name),
                    a.org,
                    csv_safe(account.email),
                    csv_safe(account.phone),
                    a.role.name,
                )
            )
    return out.getvalue()
