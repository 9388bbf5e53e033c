"""What the harnesses share: the example files, the oracles every reader answers to.

Nothing here needs atheris: each harness's ``check(data)`` is a plain function that raises
``AssertionError`` when an oracle fails and lets any other exception out, so the seed-replay
test (``tests/test_fuzz.py``) runs it as the fuzzer does.
"""

from __future__ import annotations

import contextlib
import functools
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from caaspp_authz import Action, CaasppAuthzError, Directory, DirectoryError, can, decide
from caaspp_authz.decision import POLICY
from caaspp_authz.errors import Problem
from caaspp_authz.request import _KINDS, Request

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEEDS = Path(__file__).resolve().parent / "seeds"

MAX_LINE = 2600
"""The longest line an error message may have: a problem keeps at most 2,000 characters of its
message and 200 of each of its place, column, value and fix (``caaspp_authz.errors``)."""

NOBODY = "nobody@example.org"
"""A principal that no directory of the seeds holds."""


@functools.cache
def scratch() -> Path:
    """A folder for the files a harness hands to a reader by path (one per process)."""
    shm = Path("/dev/shm")  # a file in memory: opening one on disk costs a millisecond here
    return Path(tempfile.mkdtemp(prefix="caaspp-fuzz-", dir=shm if shm.is_dir() else None))


def as_file(data: bytes, name: str) -> Path:
    """``data`` written to ``name`` in the scratch folder."""
    path = scratch() / name
    path.write_bytes(data)
    return path


@functools.cache
def example_directory() -> Directory:
    """``examples/directory.json``, loaded once."""
    from caaspp_authz import load_directory

    return load_directory(EXAMPLES / "directory.json")


def check_problem(problem: Problem) -> None:
    """A problem says something, in bounded length."""
    text = str(problem)
    assert problem.message.strip(), problem
    assert len(text) <= MAX_LINE, (len(text), text[:200])


def check_error(exc: BaseException) -> None:
    """A refusal is of the library's one family, with a clear message of bounded length."""
    assert isinstance(exc, CaasppAuthzError), repr(exc)[:500]
    text = str(exc)
    assert text.strip(), repr(exc)
    assert "Traceback" not in text
    for problem in getattr(exc, "problems", ()):
        check_problem(problem)
    if isinstance(exc, DirectoryError):
        assert any(p.is_error for p in exc.problems), exc.problems
    assert all(len(line) <= MAX_LINE for line in text.splitlines()), text[:500]


def _kinds(action: Action) -> list[str]:
    return [kind for kind, cls in _KINDS.items() if cls in POLICY[action].kinds]


def random_requests(d: Directory, rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    """``n`` requests of the request format against ``d``, mostly of the kinds their action
    takes, naming what ``d`` holds and now and then what it does not."""
    emails = [*sorted(d.accounts), NOBODY]
    orgs: list[str] = [*sorted(d.tree.organizations)] or ["19647330000000"]
    ssids = [*sorted(d.students), "1999999999"]
    groups = sorted(d.groups, key=lambda k: (k.school, k.name, k.school_year))
    actions = list(Action)
    for _ in range(n):
        action = rng.choice(actions)
        kinds = _kinds(action) if rng.random() < 0.9 else list(_KINDS)
        kind = rng.choice(kinds or list(_KINDS))
        if groups and rng.random() < 0.8:
            g = rng.choice(groups)
            group: dict[str, Any] = {"school": g.school, "school_year": g.school_year}
            group["name"] = g.name
        else:
            group = {"school": rng.choice(orgs), "school_year": 2026, "name": "New group"}
        value: Any = {
            "student": rng.choice(ssids),
            "group": group,
            "group_assignment": {"group": group, "to": rng.choice(emails)},
            "custom_group": {
                "owner": rng.choice(emails),
                "name": "Readers",
                "students": rng.sample(ssids, k=min(len(ssids), rng.randint(0, 2))),
            },
            "report": {"organizations": rng.sample(orgs, k=min(len(orgs), rng.randint(1, 2)))},
            "resource_link": {"organization": rng.choice(orgs)},
            "tools_for_teachers": True,
            "organization": rng.choice(orgs),
            "account": rng.choice(emails),
            "grant": {
                "to": rng.choice(emails),
                "role": rng.choice(["CAASPP Test Examiner", "LEA CAASPP Coordinator", "Nope"]),
                "organization": rng.choice(orgs),
                "primary": rng.random() < 0.2,
            },
        }[kind]
        resource = {kind: value}
        if kind == "organization" and rng.random() < 0.3:
            resource["program"] = rng.choice(["CAASPP", "ELPAC"])
        yield {"principal": rng.choice(emails), "action": action.value, "resource": resource}


def check_request(d: Directory, mapping: Any) -> dict[str, Any]:
    """Resolve and decide ``mapping`` in ``d``: a declared error or a decision on which ``can``
    agrees with ``decide``. Returns the decision line (or ``{"error": ...}``)."""
    try:
        request = Request.from_json(mapping, d)
    except CaasppAuthzError as exc:
        check_error(exc)
        return {"error": str(exc)}
    decision = decide(request.user, request.action, request.resource)
    assert can(request.user, request.action, request.resource) == decision.allowed, (
        mapping,
        decision,
    )
    assert decision.allowed or decision.reason.strip(), decision  # a denial says why
    line: dict[str, Any] = decision.to_json()
    return line


@functools.cache
def _parser() -> Any:
    from caaspp_authz.cli import build_parser

    return build_parser()


_LOADED: dict[tuple[str, int, int], Directory] = {}


def _load_once(source: Any) -> Directory:
    """``load_directory``, remembering the directory of a seed file that has not changed."""
    from caaspp_authz import load_directory

    if isinstance(source, str | Path):
        path = Path(source).resolve()
        if any(path.is_relative_to(p) for p in (EXAMPLES, SEEDS, scratch() / "inputs")):
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            if key not in _LOADED:
                _LOADED[key] = load_directory(path)
            return _LOADED[key]
    return load_directory(source)


@contextlib.contextmanager
def quiet_cli() -> Iterator[None]:
    """Run ``caaspp_authz.cli.main`` fast: its parser built once, and the shipped directory
    files loaded once, by the command line and by a test file that names one (argparse takes
    20 ms to build the parser, and loading ``examples/directory.json`` 4 ms: both would
    dominate each execution). Every other step of
    the command line runs as it is."""
    from caaspp_authz import cli
    from caaspp_authz.oracle import testfile

    _parser()
    patches: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (vars(cli), {"build_parser": _parser, "load_directory": _load_once}),
        (vars(testfile), {"load_directory": _load_once}),  # the directory a test file names
    ]
    saved = [(names, {name: names[name] for name in patched}) for names, patched in patches]
    for names, patched in patches:
        names.update(patched)
    try:
        yield
    finally:
        for names, old in saved:
            names.update(old)
