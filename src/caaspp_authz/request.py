"""The request format (JSON): ``{"principal": EMAIL, "action": ACTION, "resource": RESOURCE}``.

:meth:`Request.from_json` resolves a request against a directory into the ``(user, action,
resource)`` that :func:`~caaspp_authz.decision.decide` takes. A malformed request (not of the
format, an action that does not exist) raises :class:`~caaspp_authz.errors.RequestError`; a
well-formed request that names something the directory does not hold resolves to an
:class:`~caaspp_authz.resources.Unknown` resource (or an unknown user) and is denied.

:func:`parse_request` reads a request's JSON text strictly: a key twice in one object, a number
longer than 64 characters, ``NaN`` and nesting too deep are a ``RequestError``, never a bare
``ValueError`` or ``RecursionError``. Every text field of a request is at most
:data:`MAX_FIELD` characters (an e-mail at most 254), and no message echoes more than a
bounded part of a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from caaspp_authz._json import JsonProblem
from caaspp_authz._json import loads as _loads
from caaspp_authz.accounts import Account, Email, canonical_email
from caaspp_authz.catalog import Program, resolve_role
from caaspp_authz.decision import POLICY, Action, Decision, decide
from caaspp_authz.directory import Directory, User
from caaspp_authz.errors import InvalidCDSCode, InvalidEmail, RequestError, UnknownRole, shown
from caaspp_authz.orgs import CDSCode, Organization, parse_cds
from caaspp_authz.resources import (
    Assessment,
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
    ProgramScope,
    Report,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
)

__all__ = ["MAX_EMAIL", "MAX_FIELD", "Request", "parse_request", "read_resource"]

MAX_FIELD = 256
"""The longest text field of a request (a name, an SSID, a role), in characters."""
MAX_EMAIL = 254
"""The longest e-mail address of a request: the limit of an address in SMTP (RFC 5321)."""


def parse_request(text: str | bytes, *, name: str = "the request") -> Any:
    """The JSON value of a request's text, read strictly; ``RequestError`` says what is wrong.

    The message begins with ``name`` (``line 3 is not JSON: ...``, ``the request has key
    `action` twice in one object``).
    """
    try:
        return _loads(text)
    except JsonProblem as exc:
        raise RequestError(f"{name} {exc}") from None


def _text(value: object, what: str, limit: int = MAX_FIELD) -> str:
    if not isinstance(value, str):
        raise RequestError(f"{what} must be text, not `{shown(value)}`")
    if len(value) > limit:
        raise RequestError(
            f"{what} is {len(value)} characters long, more than {limit}: `{shown(value)}`"
        )
    return value


def _email(value: object, what: str) -> Email:
    try:
        return canonical_email(_text(value, what, MAX_EMAIL))
    except InvalidEmail as exc:
        raise RequestError(f"{what}: {shown(str(exc), 300)}") from None


def _cds(value: object, what: str) -> CDSCode:
    try:
        return parse_cds(_text(value, what))
    except InvalidCDSCode as exc:
        raise RequestError(f"{what}: {shown(str(exc), 300)}") from None


def _obj(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RequestError(f"{what} must be an object, not `{shown(value)}`")
    return value


def _group_key(value: object) -> GroupKey:
    g = _obj(value, "`group`")
    year = g.get("school_year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise RequestError(f"`school_year` must be a whole number, not `{shown(year)}`")
    return GroupKey(_cds(g.get("school"), "`school`"), year, _text(g.get("name"), "`name`"))


def _ssids(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequestError("`students` must be a list of SSIDs")
    for ssid in value:
        _text(ssid, "a student of `students`")
    return frozenset(value)


def _student(value: object, d: Directory) -> object:
    ssid = _text(value, "`student`")
    return d.student(ssid) or Unknown("student", ssid)


def _organization(value: object, d: Directory) -> object:
    code = _cds(value, "`organization`")
    return d.organization(code) or Unknown("organization", code)


def _account(value: object, d: Directory) -> object:
    email = _email(value, "`account`")
    return d.account(email) or Unknown("account", email)


def _assignment(value: object, d: Directory) -> object:
    a = _obj(value, "`group_assignment`")
    return GroupAssignment(_group_key(a.get("group")), _email(a.get("to"), "`to`"))


def _custom(value: object, d: Directory) -> object:
    c = _obj(value, "`custom_group`")
    return CustomGroup(
        _email(c.get("owner"), "`owner`"),
        _text(c.get("name"), "`name`"),
        _ssids(c.get("students", [])),
    )


def _report(value: object, d: Directory) -> object:
    r = _obj(value, "`report`")
    orgs = r.get("organizations")
    if not isinstance(orgs, list):
        raise RequestError("`organizations` must be a list of CDS codes")
    return Report(tuple(_cds(o, "`organizations`") for o in orgs))


def _link(value: object, d: Directory) -> object:
    link = _obj(value, "`resource_link`")
    return ResourceLink(_cds(link.get("organization"), "`organization`"))


def _tft(value: object, d: Directory) -> object:
    if value is not True:
        raise RequestError("`tools_for_teachers` must be true")
    return ToolsForTeachers()


def _grant(value: object, d: Directory) -> object:
    g = _obj(value, "`grant`")
    role_text = _text(g.get("role"), "`role`")
    try:
        role, _legacy = resolve_role(role_text)
    except UnknownRole as exc:  # R4: the closest role, as an upload row gets it
        fix = (
            f"did you mean `{exc.suggestion}`? a role is named exactly as the catalog spells it"
            if exc.suggestion
            else "name a role of the catalog, spelled exactly"
        )
        return Unknown("role", role_text, ("R4",), fix)
    primary = g.get("primary", False)
    credentialed = g.get("credentialed", False)
    if not isinstance(primary, bool) or not isinstance(credentialed, bool):
        raise RequestError("`primary` and `credentialed` must be true or false")
    return Grant(
        _email(g.get("to"), "`to`"),
        role,
        _cds(g.get("organization"), "`organization`"),
        primary,
        credentialed,
    )


_READERS: Mapping[str, Callable[[object, Directory], object]] = {
    "student": _student,
    "group": lambda v, d: _group_key(v),
    "group_assignment": _assignment,
    "custom_group": _custom,
    "report": _report,
    "resource_link": _link,
    "tools_for_teachers": _tft,
    "organization": _organization,
    "account": _account,
    "grant": _grant,
}


_KINDS: Mapping[str, type] = {
    "student": Student,
    "group": GroupKey,
    "group_assignment": GroupAssignment,
    "custom_group": CustomGroup,
    "report": Report,
    "resource_link": ResourceLink,
    "tools_for_teachers": ToolsForTeachers,
    "organization": Organization,
    "account": Account,
    "grant": Grant,
}
"""The value each kind of resource reads as: an action takes the kinds of its POLICY row."""


_PROGRAM_ACTIONS = frozenset({Action.MANAGE_TEST_SETTINGS, Action.VIEW_COMPLETION_STATUS})
"""T2, T3: the actions whose organization resource may name a program."""


def _program_scope(action: Action, res: Mapping[str, Any], directory: Directory) -> object:
    """T2, T3: ``{"organization": CDS, "program": ..., "assessment": ...}``."""
    extra = set(res) - {"organization", "program", "assessment"}
    if extra:
        raise RequestError("`resource` must have exactly one kind, such as `student`")
    if action not in _PROGRAM_ACTIONS:
        raise RequestError(
            f"`program` and `assessment` apply to `manage_test_settings` and "
            f"`view_completion_status` only, not to `{action.value}`"
        )
    if "assessment" in res and action is Action.MANAGE_TEST_SETTINGS:
        raise RequestError("`assessment` applies to `view_completion_status` only (T3)")
    program_text = _text(res.get("program", Program.CAASPP.value), "`program`")
    assessment_text = _text(res.get("assessment", Assessment.ALL.value), "`assessment`")
    try:
        program = Program(program_text)
    except ValueError:
        raise RequestError(
            f"`program` must be `CAASPP` or `ELPAC`, not `{program_text}`"
        ) from None
    try:
        assessment = Assessment(assessment_text)
    except ValueError:
        raise RequestError(
            f"`assessment` must be `interim` or `all`, not `{assessment_text}`"
        ) from None
    org = _organization(res.get("organization"), directory)
    if isinstance(org, Unknown):
        return org
    assert isinstance(org, Organization)
    return ProgramScope(org, program, assessment)


def read_resource(action: Action, value: object, directory: Directory) -> object:
    """Read a RESOURCE of the request format for ``action``, resolved in ``directory``.

    Raises :class:`~caaspp_authz.errors.RequestError` when it is malformed or of a kind the
    action does not take; something the directory does not hold reads as ``Unknown``.
    """
    res = _obj(value, "`resource`")
    if "organization" in res and ("program" in res or "assessment" in res):
        return _program_scope(action, res, directory)
    if len(res) != 1:
        raise RequestError("`resource` must have exactly one kind, such as `student`")
    ((kind, inner),) = res.items()
    reader = _READERS.get(kind)
    if reader is None:
        raise RequestError(f"`{shown(kind)}` is not a kind of resource")
    # Checked before the directory is asked, so that a malformed request never tells whether
    # a student or an account exists (FERPA: the same error for a known and an unknown SSID).
    if _KINDS[kind] not in POLICY[action].kinds:
        raise RequestError(f"`{action.value}` does not act on a `{kind}`")
    return reader(inner, directory)


@attrs.frozen
class Request:
    """A resolved request: the ``(user, action, resource)`` that ``decide`` takes."""

    user: User
    action: Action
    resource: object

    @classmethod
    def from_json(cls, mapping: Mapping[str, Any], directory: Directory) -> Request:
        """Build a request from the request format (INTERFACES.md), resolved in ``directory``."""
        m = _obj(mapping, "a request")
        unknown = set(m) - {"principal", "action", "resource"}
        if unknown:
            names = ", ".join(sorted(f"`{shown(name)}`" for name in unknown)[:5])
            raise RequestError(f"unknown request field(s): {names}")
        principal = _email(m.get("principal"), "`principal`")
        action_text = _text(m.get("action"), "`action`")
        try:
            action = Action(action_text)
        except ValueError:
            raise RequestError(f"`{shown(action_text)}` is not an action") from None
        resource = read_resource(action, m.get("resource"), directory)
        return cls(directory.user(principal), action, resource)

    def decide(self) -> Decision:
        """Decide this request."""
        return decide(self.user, self.action, self.resource)
