"""The Cedar export, in cedarpy (the Rust Cedar engine): the policies validate against the
schema, and ``is_authorized_batch`` equals ``can`` on every request (V1, V3, V5–V7, T1–T3, G9,
U5, O4, G10, G11)."""

from __future__ import annotations

import json

import cedarpy
from hypothesis import HealthCheck, given, settings

from caaspp_authz.directory import Directory
from caaspp_authz.export import cedar
from caaspp_authz.export._model import Verdict
from caaspp_authz.strategies import directories
from tests.export.conftest import record
from tests.export.differential import Tally, cases, compare

WORLDS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compare_cedar(directory: Directory) -> Tally:
    """Every request of the world, in one is_authorized_batch call, against ``can``."""
    all_cases = list(cases(directory))
    keys = sorted(
        {
            (str(c.user.email), check)
            for c in all_cases
            if c.plan.verdict is Verdict.ENGINE
            for check in c.plan.checks
        },
        key=str,
    )
    requests = [cedar.request_for(user, check) for user, check in keys]
    results = cedarpy.is_authorized_batch(
        requests, cedar.policies(), json.dumps(cedar.entities(directory))
    )
    answers = {k: r.allowed for k, r in zip(keys, results, strict=True)}
    return compare(all_cases, answers, lambda u: str(u.email))


def test_policies_validate_against_the_schema() -> None:
    """The generated policies pass Cedar's validator against the generated schema."""
    result = cedarpy.validate_policies(cedar.policies(), json.dumps(cedar.schema()))
    assert result.validation_passed, [str(e) for e in result.errors]


def test_example_entities_validate_against_the_schema(example: Directory) -> None:
    """The example directory's entities are accepted with the schema (types checked)."""
    result = cedarpy.is_authorized(
        {
            "principal": 'User::"x"',
            "action": 'Action::"access_tools_for_teachers"',
            "resource": 'Platform::"ca"',
            "context": {},
        },
        cedar.policies(),
        json.dumps(cedar.entities(example)),
        schema=json.dumps(cedar.schema()),
    )
    assert not result.allowed
    assert list(result.diagnostics.errors) == []  # a non-conforming entity is an error


def test_example_directory_equals_can(example: Directory) -> None:
    """V1, V3, V5–V7, T1–T3, G9, U5: the shipped example, every request, Cedar equals can."""
    tally = compare_cedar(example)
    record("cedar is_authorized_batch (example directory)", tally)
    assert tally.disagreements == ()
    assert tally.allowed > 0


@WORLDS
@given(directories(max_accounts=14, max_students=24, max_groups=5))
def test_is_authorized_batch_equals_can(directory: Directory) -> None:
    """V1, V3, V5–V7, T1–T3, G9, U5, O4, G10, G11: on generated worlds, Cedar equals can."""
    tally = compare_cedar(directory)
    record("cedar is_authorized_batch", tally)
    assert tally.disagreements == ()
