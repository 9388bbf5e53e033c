"""Examples for accounts and the e-mail rule sets (E1–E4, E6, E7)."""

from __future__ import annotations

import pytest

from caaspp_authz import Account, Assignment, InvalidEmail, RuleSet, Severity, canonical_email
from caaspp_authz.accounts import Email, email_rule_problems
from caaspp_authz.catalog import by_name
from caaspp_authz.errors import Problem
from caaspp_authz.orgs import CDSCode
from tests.builders import SCHOOL_1, SCHOOL_2

S1, S2 = CDSCode(SCHOOL_1), CDSCode(SCHOOL_2)
WHERE = "account `jane@example.org`"


def _account(*held: tuple[str, CDSCode]) -> Account:
    return Account(
        Email("jane@example.org"), assignments=[Assignment(by_name(r), o) for r, o in held]
    )


def test_e1_canonical_email_is_trimmed_and_lower_case() -> None:
    """E1: e-mails compare case-insensitively, so the canonical form is lower-cased."""
    assert canonical_email("  Jane.Alder@Example.ORG ") == "jane.alder@example.org"


@pytest.mark.parametrize(
    "text",
    [
        "jane",
        "jane@",
        "jane@example",
        "a b@example.org",
        "@x.org",
        "a..b@example.org",
        ".a@example.org",
        "a.@example.org",
        "a@.example.org",
        "a@example..org",
        "a@example.org.",
        "a@b@example.org",
    ],
)
def test_e1_refuses_what_is_not_an_email(text: str) -> None:
    """E1: a text that is not an address is refused, naming it in backticks: no dot at the
    start or end of the local part or the domain, and no two dots together."""
    with pytest.raises(InvalidEmail, match="is not an e-mail address") as info:
        canonical_email(text)
    assert (info.value.rule, info.value.value) == ("E1", text)


def test_e1_refuses_non_text() -> None:
    """E1: a number handed over as an e-mail is refused, not crashed on."""
    with pytest.raises(InvalidEmail, match="must be text") as info:
        canonical_email(42)  # type: ignore[arg-type]
    assert info.value.value == "42"  # the value named, as text


def test_e6_ten_character_extension_is_accepted() -> None:
    """E6: the part after the last dot may have 10 characters."""
    assert canonical_email("a@b.abcdefghij") == "a@b.abcdefghij"


def test_e6_eleven_character_extension_is_refused() -> None:
    """E6: an extension of 11 characters is refused under rule E6."""
    with pytest.raises(InvalidEmail, match="11 characters") as info:
        canonical_email("a@b.abcdefghijk")
    assert (info.value.rule, info.value.value) == ("E6", "a@b.abcdefghijk")


def test_g10_in_force_needs_forms_of_every_program() -> None:
    """G10: an assignment is in force only with its forms on file for each of its programs."""
    from caaspp_authz import Form, Program

    ia = Assignment(by_name("IA Administrator Only"), S1)
    caaspp_only = Account(
        Email("x@example.org"), forms={Program.CAASPP: [Form.AFFIDAVIT]}, assignments=[ia]
    )
    both = Account(
        Email("x@example.org"),
        forms={Program.CAASPP: [Form.AFFIDAVIT], Program.ELPAC: [Form.AFFIDAVIT]},
        assignments=[ia],
    )
    assert not caaspp_only.in_force(ia)
    assert both.in_force(ia)
    assert both.roles == {by_name("IA Administrator Only")}
    assert hash(both) == hash(caaspp_only)


def test_e2_one_role_at_several_sites_is_fine() -> None:
    """E2: one account may hold the same role at several sites."""
    account = _account(("CAASPP Test Examiner", S1), ("CAASPP Test Examiner", S2))
    assert email_rule_problems(account, RuleSet.ONE_ROLE_PER_EMAIL) == []


def test_e3_two_roles_at_two_sites_is_an_error() -> None:
    """E3: under one-role-per-email an account holding two different roles is an error."""
    account = _account(("Site CAASPP Coordinator", S1), ("CAASPP Test Examiner", S2))
    (problem,) = email_rule_problems(account, RuleSet.ONE_ROLE_PER_EMAIL)
    assert problem.rule == "E3"
    assert problem.is_error
    assert problem == Problem(
        "E3",
        "holds different roles (`Site CAASPP Coordinator`, `CAASPP Test Examiner`); one account "
        "holds one role",
        where=WHERE,
        fix="use a different e-mail address for each role",
    )


def test_e4_two_roles_at_one_site_names_the_highest() -> None:
    """E4: two roles at one site are an error whose fix keeps the highest of them."""
    account = _account(("CAASPP Test Examiner", S1), ("Site CAASPP Coordinator", S1))
    (problem,) = email_rule_problems(account, RuleSet.ONE_ROLE_PER_EMAIL)
    assert (problem.rule, problem.value) == ("E4", SCHOOL_1)
    assert problem == Problem(
        "E4",
        f"holds `CAASPP Test Examiner`, `Site CAASPP Coordinator` at `{SCHOOL_1}`",
        where=WHERE,
        value=SCHOOL_1,
        fix="keep only `Site CAASPP Coordinator`, the highest of them",
    )


def test_e4_incomparable_roles_at_one_site_say_there_is_no_highest() -> None:
    """E4: where no role is the highest, the fix says so and asks for another e-mail."""
    account = _account(("Site CAASPP Coordinator", S1), ("Site ELPAC Coordinator", S1))
    (problem,) = email_rule_problems(account, RuleSet.ONE_ROLE_PER_EMAIL)
    assert problem.rule == "E4"
    assert problem.fix == "no role among them is the highest: use a different e-mail for one"


def test_e7_multi_role_allows_different_roles() -> None:
    """E7: under multi-role, different roles at different sites raise nothing."""
    account = _account(("Site CAASPP Coordinator", S1), ("CAASPP Test Examiner", S2))
    assert email_rule_problems(account, RuleSet.MULTI_ROLE) == []


def test_e7_multi_role_warns_of_a_role_that_adds_nothing() -> None:
    """E7: under multi-role a role adding nothing to another at one site is a warning."""
    account = _account(("Site CAASPP Coordinator", S1), ("CAASPP Test Examiner", S1))
    (problem,) = email_rule_problems(account, RuleSet.MULTI_ROLE)
    assert problem.rule == "E7"
    assert problem.severity is Severity.WARNING
    assert problem == Problem(
        "E7",
        f"`CAASPP Test Examiner` at `{SCHOOL_1}` adds nothing to `Site CAASPP Coordinator` held "
        "there",
        severity=Severity.WARNING,
        where=WHERE,
        value=SCHOOL_1,
        fix=f"remove `CAASPP Test Examiner` at `{SCHOOL_1}`",
    )


def test_e7_multi_role_incomparable_roles_at_one_site_are_silent() -> None:
    """E7: the CAASPP and ELPAC coordinator of one school is common practice: no warning."""
    account = _account(("Site CAASPP Coordinator", S1), ("Site ELPAC Coordinator", S1))
    assert email_rule_problems(account, RuleSet.MULTI_ROLE) == []


def test_account_defaults_and_repr_carry_no_contact_data() -> None:
    """E1: an account is known by its e-mail; its names and phone default to empty and never
    appear in its repr (no contact data in a log line), its assignments are kept as a tuple,
    and it hashes as its e-mail."""
    bare = Account(Email("jane@example.org"))
    assert (bare.first_name, bare.last_name, bare.phone) == ("", "", "")
    assert (bare.active, bare.credentialed, bare.superintendent_of, bare.assignments) == (
        True,
        False,
        None,
        (),
    )
    full = Account(
        Email("jane@example.org"),
        first_name="Jane",
        last_name="Alder",
        phone="213-555-0100",
        assignments=[Assignment(by_name("CAASPP Test Examiner"), S1)],
    )
    assert isinstance(full.assignments, tuple)
    text = repr(full)
    assert "jane@example.org" in text
    assert not any(secret in text for secret in ("Jane", "Alder", "213-555-0100"))
    assert hash(full) == hash(Email("jane@example.org"))
