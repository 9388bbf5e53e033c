"""Examples for the request format: every resource kind, malformed and unknown input."""

from __future__ import annotations

from typing import Any

import pytest

from caaspp_authz import (
    Account,
    Action,
    CustomGroup,
    Grant,
    GroupAssignment,
    GroupKey,
    Organization,
    ProgramScope,
    Report,
    Request,
    RequestError,
    ResourceLink,
    Student,
    ToolsForTeachers,
    Unknown,
    explain,
)
from tests.builders import IN_GROUP, LEA, SCHOOL_1, ask, district, grant, key

D = district()


def _request(action: str, resource: dict[str, Any], principal: str = "sc1@d.org") -> Request:
    return Request.from_json({"principal": principal, "action": action, "resource": resource}, D)


@pytest.mark.parametrize(
    ("action", "resource", "kind"),
    [
        ("view_student_results", {"student": IN_GROUP}, Student),
        ("view_group", {"group": key("Period 1")}, GroupKey),
        (
            "assign_group",
            {"group_assignment": {"group": key("Period 1"), "to": "te1@d.org"}},
            GroupAssignment,
        ),
        (
            "create_custom_group",
            {"custom_group": {"owner": "sc1@d.org", "name": "C", "students": []}},
            CustomGroup,
        ),
        ("view_custom_group", {"custom_group": {"owner": "sc1@d.org", "name": "C"}}, CustomGroup),
        ("create_aggregate_report", {"report": {"organizations": [SCHOOL_1]}}, Report),
        ("manage_resource_links", {"resource_link": {"organization": SCHOOL_1}}, ResourceLink),
        ("access_tools_for_teachers", {"tools_for_teachers": True}, ToolsForTeachers),
        ("administer_summative", {"organization": SCHOOL_1}, Organization),
        ("upload_users", {"organization": LEA}, Organization),
        ("reset_password", {"account": "TA1@d.org"}, Account),
        ("add_role", grant("n@d.org", "Educator - Roster", SCHOOL_1, credentialed=True), Grant),
    ],
)
def test_every_resource_kind_resolves(action: str, resource: dict[str, Any], kind: type) -> None:
    """Each resource kind of the request format resolves to its resource value."""
    request = _request(action, resource)
    assert isinstance(request.resource, kind)
    assert request.action is Action(action)
    assert request.user.email == "sc1@d.org"


def test_grant_reads_role_spelling_and_flags() -> None:
    """R3: a grant's role may use any spelling; `primary` and `credentialed` are read."""
    request = _request(
        "add_role", grant("N@d.org", "Test Administrator", SCHOOL_1, credentialed=True)
    )
    resource = request.resource
    assert isinstance(resource, Grant)
    assert (resource.to, resource.organization) == ("n@d.org", SCHOOL_1)
    assert resource.role.name == "CAASPP Test Administrator"
    assert (resource.primary, resource.credentialed) == (False, True)


@pytest.mark.parametrize(
    "request_json",
    [
        [],
        {"principal": "sc1@d.org", "action": "fly", "resource": {"tools_for_teachers": True}},
        {
            "principal": "sc1@d.org",
            "action": "view_group",
            "resource": {"tools_for_teachers": True},
        },
        {"principal": "sc1@d.org", "action": "view_group", "resource": {"planet": 1}},
        {"principal": "sc1@d.org", "action": "view_group", "resource": {}},
        {"principal": "sc1@d.org", "action": "view_group", "resource": []},
        {
            "principal": "sc1@d.org",
            "action": "view_group",
            "resource": {"group": {"school": SCHOOL_1, "school_year": "2026", "name": "P"}},
        },
        {
            "principal": "sc1@d.org",
            "action": "view_group",
            "resource": {"group": {"school": "1.9E+13", "school_year": 2026, "name": "P"}},
        },
        {
            "principal": "sc1@d.org",
            "action": "view_group",
            "resource": {"group": {"school": SCHOOL_1, "school_year": 2026, "name": 1}},
        },
        {"principal": "not-an-email", "action": "view_group", "resource": {"group": key("P")}},
        {"principal": 7, "action": "view_group", "resource": {"group": key("P")}},
        {
            "principal": "sc1@d.org",
            "action": "access_tools_for_teachers",
            "resource": {"tools_for_teachers": 1},
        },
        {
            "principal": "sc1@d.org",
            "action": "create_custom_group",
            "resource": {"custom_group": {"owner": "sc1@d.org", "name": "C", "students": "1"}},
        },
        {
            "principal": "sc1@d.org",
            "action": "create_aggregate_report",
            "resource": {"report": {"organizations": SCHOOL_1}},
        },
        {
            "principal": "sc1@d.org",
            "action": "add_role",
            "resource": grant("n@d.org", "Educator—Roster", SCHOOL_1, credentialed="no"),
        },
        {
            "principal": "sc1@d.org",
            "action": "view_group",
            "resource": {"group": key("P")},
            "extra": 1,
        },
    ],
)
def test_malformed_requests_raise(request_json: Any) -> None:
    """Malformed requests (shape, action, resource kind, field types) raise RequestError."""
    with pytest.raises(RequestError):
        Request.from_json(request_json, D)


@pytest.mark.parametrize(
    ("principal", "action", "resource", "reason"),
    [
        ("nobody@d.org", "view_group", {"group": key("Period 1")}, "no account"),
        (
            "sc1@d.org",
            "administer_summative",
            {"organization": "19647339999999"},
            "unknown organization",
        ),
        ("sc1@d.org", "view_student_results", {"student": "9999999999"}, "unknown student"),
        ("sc1@d.org", "view_group", {"group": key("Nope")}, "no group"),
        ("sc1@d.org", "reset_password", {"account": "nobody@d.org"}, "unknown account"),
        ("sc1@d.org", "add_role", grant("n@d.org", "Principal", SCHOOL_1), "unknown role"),
        ("sc1@d.org", "create_group", {"group": key("Period 1")}, "already exists"),
        (
            "ta1@d.org",
            "create_custom_group",
            {"custom_group": {"owner": "ta1@d.org", "name": "Readers", "students": []}},
            "already exists",
        ),
    ],
)
def test_unknown_names_are_denied_with_a_reason(
    principal: str, action: str, resource: dict[str, Any], reason: str
) -> None:
    """Unknown principal, organization, student, group, account or role is denied, not raised;
    `explain` names what was unknown."""
    request = Request.from_json(
        {"principal": principal, "action": action, "resource": resource}, D
    )
    decision = explain(request.user, request.action, request.resource)
    assert not decision.allowed
    assert reason in decision.reason
    assert ask(D, principal, action, resource).rules == decision.rules


def test_unknown_resource_value_is_denied() -> None:
    """V1: an unknown SSID is denied as a student the principal may not view (the same rules
    and text); `explain` names it as unknown."""
    request = _request("view_student_results", {"student": "9999999999"})
    assert request.resource == Unknown("student", "9999999999")
    assert (
        request.decide().reason == "`sc1@d.org` may not view the results of student `9999999999`"
    )
    assert request.decide().rules == ("V1", "V2")
    explained = explain(request.user, request.action, request.resource)
    assert explained.reason == "unknown student `9999999999`"


def test_non_text_extra_keys_are_a_request_error() -> None:
    """INTERFACES: extra fields of any key type are a RequestError, never a TypeError."""
    directory = district()
    with pytest.raises(RequestError, match="unknown request field"):
        Request.from_json(
            {"principal": "ta1@d.org", "action": "view_group", "resource": {}, 1: 2, "x": 3},  # type: ignore[dict-item]
            directory,
        )


@pytest.mark.parametrize(
    ("action", "resource", "program", "assessment"),
    [
        ("manage_test_settings", {"organization": SCHOOL_1, "program": "ELPAC"}, "ELPAC", "all"),
        (
            "view_completion_status",
            {"organization": SCHOOL_1, "assessment": "interim"},
            "CAASPP",
            "interim",
        ),
        (
            "view_completion_status",
            {"organization": SCHOOL_1, "program": "ELPAC", "assessment": "all"},
            "ELPAC",
            "all",
        ),
    ],
)
def test_program_and_assessment_keys_read_as_a_program_scope(
    action: str, resource: dict[str, Any], program: str, assessment: str
) -> None:
    """T2, T3: `program` (default CAASPP) and `assessment` (default all) read as a ProgramScope."""
    read = _request(action, resource).resource
    assert isinstance(read, ProgramScope)
    assert read.cds == SCHOOL_1
    assert read.program.value == program
    assert read.assessment.value == assessment


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("manage_test_settings", {"organization": SCHOOL_1, "assessment": "interim"}),
        ("manage_test_settings", {"organization": SCHOOL_1, "assessment": "all"}),
        ("administer_summative", {"organization": SCHOOL_1, "program": "CAASPP"}),
        ("view_completion_status", {"organization": SCHOOL_1, "program": "STAR"}),
        ("view_completion_status", {"organization": SCHOOL_1, "assessment": "summative"}),
        ("view_completion_status", {"organization": SCHOOL_1, "program": 1}),
        ("view_completion_status", {"organization": SCHOOL_1, "program": "ELPAC", "x": 1}),
    ],
)
def test_malformed_program_scopes_raise(action: str, resource: dict[str, Any]) -> None:
    """T2, T3: `assessment` on manage_test_settings, a key on another action, or an unknown
    program or assessment is a malformed request."""
    with pytest.raises(RequestError):
        _request(action, resource)


def test_program_scope_of_an_unknown_organization_is_denied() -> None:
    """T2: a program scope naming an organization the directory does not hold is denied."""
    decision = ask(
        D,
        "sc1@d.org",
        "manage_test_settings",
        {"organization": "01234560000000", "program": "ELPAC"},
    )
    assert not decision.allowed
    assert "unknown organization" in decision.reason


def test_near_miss_role_reads_as_unknown_with_the_closest_role() -> None:
    """R4: a request's role name that is no exact spelling reads as unknown, naming R4 and the
    closest role."""
    read = _request("add_role", grant("n@d.org", "Educator-Roster", SCHOOL_1)).resource
    assert isinstance(read, Unknown)
    assert read.rules == ("R4",)
    assert read.fix is not None
    assert "`Educator—Roster`" in read.fix


# --- strict reading and bounds (docs/security.md: fail closed, bounded messages) ----------------


def test_parse_request_refuses_duplicate_keys_naming_the_key() -> None:
    """A key twice in one request object is a RequestError naming it, not last-one-wins."""
    from caaspp_authz.request import parse_request

    text = '{"principal": "ta1@d.org", "action": "view_group", "action": "add_role"}'
    with pytest.raises(RequestError, match="has key `action` twice"):
        parse_request(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"resource": {"group": {"school_year": ' + "9" * 4301 + "}}}", "4301 characters"),
        ('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"x": NaN}', "`NaN`"),
        ('{"x": ', "is not JSON"),
    ],
)
def test_parse_request_errors_are_request_errors(text: str, message: str) -> None:
    """Huge numbers, deep nesting, NaN and bad JSON are a RequestError, never a bare error."""
    from caaspp_authz.request import parse_request

    with pytest.raises(RequestError, match=message) as info:
        parse_request(text)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ({"student": "1" * 50_000}, "`student`"),
        ({"account": "a" * 5_000 + "@d.org"}, "`account`"),
        ({"group": {"school": SCHOOL_1, "school_year": 2026, "name": "n" * 5_000}}, "`name`"),
        ({"grant": {"to": "x@d.org", "role": "r" * 5_000, "organization": LEA}}, "`role`"),
    ],
)
def test_request_fields_are_bounded(resource: dict[str, Any], field: str) -> None:
    """An over-long request field is a RequestError naming the field, echoing a bounded part."""
    action = next(iter(resource))
    actions = {
        "student": "view_student_results",
        "account": "edit_account",
        "group": "view_group",
        "grant": "add_role",
    }
    with pytest.raises(RequestError, match=field) as info:
        Request.from_json(
            {"principal": "ta1@d.org", "action": actions[action], "resource": resource}, D
        )
    assert len(str(info.value)) < 300


def test_principal_is_bounded() -> None:
    """An over-long principal is a RequestError (an e-mail is at most 254 characters)."""
    with pytest.raises(RequestError, match="more than 254") as info:
        Request.from_json(
            {"principal": "p" * 1_000_000, "action": "view_group", "resource": {}}, D
        )
    assert len(str(info.value)) < 300


def test_deeply_nested_or_huge_values_in_a_mapping_are_request_errors() -> None:
    """A parsed request holding a 4,301-digit number or deep nesting is a RequestError."""
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    for value in (10**4300, deep):
        with pytest.raises(RequestError) as info:
            Request.from_json(
                {"principal": value, "action": "view_group", "resource": {}},
                D,
            )
        assert len(str(info.value)) < 300
