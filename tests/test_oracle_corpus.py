"""The conformance corpus, the shipped copy, and ``caaspp-authz conform`` against other programs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from io import StringIO
from pathlib import Path

import pytest

from caaspp_authz import GRANTS, Request, load_directory
from caaspp_authz.cli import main
from caaspp_authz.oracle import corpus
from caaspp_authz.oracle.conform import ConformError, run
from tests.golden import regenerate

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "caaspp_authz"
DECISION_SOURCES = [
    PACKAGE / name for name in ("decision.py", "_grants.py", "_access.py", "_answer.py")
]
HOW = "if the change is intended, run `caaspp-authz corpus --out src/caaspp_authz/oracle/builtin_corpus`"


@pytest.fixture(scope="module")
def built() -> list[corpus.CorpusDirectory]:
    """The corpus as the library decides it now."""
    return corpus.build()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus of three directories: an LEA coordinator's, a test administrator's, edge cases."""
    chosen = [
        d
        for d in corpus.build()
        if d.name.endswith(
            ("lea-caaspp-coordinator-primary", "caaspp-test-administrator", "edge-cases")
        )
        and d.rule_set == "one-role-per-email"
    ]
    assert len(chosen) == 3
    return corpus.write(tmp_path_factory.mktemp("corpus"), chosen)


def _cli(*argv: str) -> tuple[int, str]:
    out = StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_shipped_corpus_is_current(built: list[corpus.CorpusDirectory]) -> None:
    """The built-in corpus holds exactly what the library decides now, file for file."""
    files = corpus.render(built)
    on_disk = {
        p.relative_to(corpus.BUILTIN).as_posix(): p
        for p in corpus.BUILTIN.rglob("*")
        if p.is_file()
    }
    assert sorted(on_disk) == sorted(files), HOW
    stale = [rel for rel, text in files.items() if on_disk[rel].read_text("utf-8") != text]
    assert not stale, f"{len(stale)} corpus files changed, first {stale[0]}; {HOW}"


def test_corpus_covers_every_cell_of_the_decision_table(
    built: list[corpus.CorpusDirectory],
) -> None:
    """Every (rule set, role, action, relation, variant) of the golden table is a case (E7)."""
    cells = {
        (d.rule_set, d.actor, c["request"]["action"], c["cell"][0], c["cell"][1])
        for d in built
        for c in d.cases
    }
    golden = {tuple(r[:5]) for r in regenerate.TABLE.read_text("utf-8").splitlines()[1:]}
    assert golden <= cells


def test_corpus_covers_every_rule_a_decision_names(built: list[corpus.CorpusDirectory]) -> None:
    """Every rule ID the decision code or the grant matrix can name is named by some case."""
    assert DECISION_SOURCES, "the decision code is neither decision.py nor a decision package"
    text = "".join(p.read_text("utf-8") for p in DECISION_SOURCES)
    named = set(re.findall(r'"([A-Z][0-9]{1,2})"', text))
    named |= {g.rule for g in GRANTS}
    covered = {r for d in built for c in d.cases for r in c["rules"]}
    assert named - covered == set(), f"no corpus case names {sorted(named - covered)}"


def test_corpus_requests_read_back_to_the_expected_decision(small: Path) -> None:
    """Each case's request, read with Request.from_json in its directory, decides as recorded."""
    for d in corpus.read(small):
        directory = load_directory(d.directory)
        for case in d.cases:
            decision = Request.from_json(case["request"], directory).decide()
            assert (decision.allowed, list(decision.rules)) == (case["allowed"], case["rules"])


def test_corpus_command_writes_a_readable_corpus(tmp_path: Path) -> None:
    """`caaspp-authz corpus --out` writes the manifest, directories and cases; diff finds 0."""
    status, out = _cli("corpus", "--out", str(tmp_path / "c"))
    assert status == 0
    assert out.startswith("wrote 40 directories, ")
    manifest = json.loads((tmp_path / "c" / "corpus.json").read_text("utf-8"))
    assert manifest["format"] == corpus.FORMAT
    assert manifest["requests"] == sum(e["requests"] for e in manifest["directories"])
    status, out = _cli("diff", "--old", str(tmp_path / "c"))
    assert (status, out) == (0, f"0 decisions change from {tmp_path / 'c'} to this library\n")


NODE_DENY_ALL = """
const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(l => l.trim());
for (const l of lines) { JSON.parse(l); console.log(JSON.stringify({allowed: false})); }
"""

PY_NO_GROUP_PATH = """
import json, sys
from caaspp_authz import Request, load_directory
directory = load_directory(sys.argv[1])
for line in sys.stdin:
    request = json.loads(line)
    decision = Request.from_json(request, directory).decide()
    allowed = decision.allowed and "V2" not in decision.rules  # forgets V1's group path
    print(json.dumps({"allowed": allowed}))
"""


def _expected(folder: Path, *, allowed: bool, rule: str | None = None) -> int:
    return sum(
        1
        for d in corpus.read(folder)
        for c in d.cases
        if c["allowed"] is allowed and (rule is None or rule in c["rules"])
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node on the PATH")
def test_conform_catches_a_wrong_program_in_another_language(small: Path, tmp_path: Path) -> None:
    """A Node.js program that denies everything disagrees on every allowed case; exit 1."""
    script = tmp_path / "deny_all.js"
    script.write_text(NODE_DENY_ALL, encoding="utf-8")
    status, out = _cli("conform", "--command", f"node {script}", "--corpus", str(small))
    lines = out.splitlines()
    allowed, total = _expected(small, allowed=True), _expected(small, allowed=False)
    assert status == 1
    assert lines[-1] == f"{allowed + total} requests, {allowed} disagreements"
    assert "expected allow (" in lines[0]
    assert lines[0].endswith("got deny")


def test_conform_catches_a_program_that_forgets_the_group_path(
    small: Path, tmp_path: Path
) -> None:
    """A separate Python process that drops V1's group path disagrees on exactly those cases."""
    script = tmp_path / "no_group_path.py"
    script.write_text(PY_NO_GROUP_PATH, encoding="utf-8")
    command = f"{shlex.quote(sys.executable)} {script}"
    status, out = _cli("conform", "--command", command, "--corpus", str(small))
    wrong = _expected(small, allowed=True, rule="V2")
    assert wrong > 0
    assert status == 1
    assert out.splitlines()[-1].endswith(f"requests, {wrong} disagreements")
    assert "view_student_results" in out
    assert "expected allow (V1, V2" in out


def test_conform_agrees_with_the_library_command_line(small: Path) -> None:
    """`caaspp-authz decide --requests -` as the program under test: no disagreement."""
    command = f"{shlex.quote(sys.executable)} -m caaspp_authz decide --requests - --directory"
    status, out = _cli("conform", "--command", command, "--corpus", str(small))
    assert status == 0, out
    assert out.splitlines()[-1].endswith(" requests, 0 disagreements")


def test_conform_reports_a_program_that_cannot_run(small: Path) -> None:
    """A program that does not exist is exit status 2, not a run of disagreements."""
    assert _cli("conform", "--command", "no-such-program-here", "--corpus", str(small))[0] == 2
    with pytest.raises(ConformError, match="empty"):
        run("", corpus.read(small))


def test_conform_counts_missing_and_malformed_lines(small: Path, tmp_path: Path) -> None:
    """Lines that are not JSON, lack `allowed`, or are missing are disagreements, not crashes."""
    script = tmp_path / "bad.py"
    script.write_text("print('not json')\nprint('{}')\n", encoding="utf-8")
    outcome = run(f"{shlex.quote(sys.executable)} {script}", corpus.read(small))
    assert outcome.requests == len(outcome.disagreements)
    got = [d.got for d in outcome.disagreements[:3]]
    assert got[0].startswith("a line that is not JSON")
    assert got[1].startswith("a line without `allowed`")
    assert got[2].startswith("no answer")


def test_read_refuses_a_folder_that_is_not_a_corpus(tmp_path: Path) -> None:
    """A folder without a corpus manifest is a clear error (exit 2 from the command)."""
    with pytest.raises(corpus.CorpusError, match=r"corpus\.json"):
        corpus.read(tmp_path)
    assert _cli("conform", "--command", "true", "--corpus", str(tmp_path))[0] == 2
