"""The shipped example loads and answers its requests."""

from __future__ import annotations

import json

from caaspp_authz import Action, Directory, Request, can
from tests.conftest import EXAMPLES


def test_example_requests_all_decide(example: Directory) -> None:
    """Every shipped example request is well formed and gets a decision."""
    lines = (EXAMPLES / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    decisions = [Request.from_json(json.loads(line), example).decide() for line in lines]
    assert len(decisions) == len(lines)
    assert any(d.allowed for d in decisions)
    assert any(not d.allowed for d in decisions)


def test_group_path_opens_results(example: Directory) -> None:
    """V1, V2: a test administrator sees a student of its assigned group, no other."""
    teacher = example.user("teacher@example.org")
    inside, outside = example.student("1000000001"), example.student("1000000003")
    assert inside is not None
    assert outside is not None
    assert can(teacher, Action.VIEW_STUDENT_RESULTS, inside)
    assert not can(teacher, Action.VIEW_STUDENT_RESULTS, outside)
