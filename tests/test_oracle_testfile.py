"""`caaspp-authz test FILE.toml`: a district's own assertions, each failure said and explained."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest

from caaspp_authz.cli import main
from caaspp_authz.oracle import testfile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "district_tests.toml"

INLINE = """
[directory]
format = 1
organizations = [
  { cds = "19647330000000", name = "Example Unified" },
  { cds = "19647331111111", name = "Example Elementary" },
  { cds = "19647332222222", name = "Example Middle" },
]
students = [
  { ssid = "1000000001", school = "19647331111111" },
  { ssid = "1000000004", school = "19647332222222" },
]

[[directory.groups]]
name = "Period 1"
school = "19647331111111"
school_year = 2026
subject = "All"
students = ["1000000001"]
users = ["roster@example.org"]

[[directory.accounts]]
email = "roster@example.org"
first_name = "Rae"
last_name = "Ortiz"
phone = "213-555-0101"
forms = { CAASPP = ["affidavit"] }
roles = [{ role = "Educator—Roster", org = "19647331111111" }]
"""


def _cli(*argv: str) -> tuple[int, str]:
    out = StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "expectations.toml"
    path.write_text(INLINE + body, encoding="utf-8")
    return path


def test_the_shipped_example_passes() -> None:
    """examples/district_tests.toml holds for the example directory: exit 0 (V1, G11, U5)."""
    assert _cli("test", str(EXAMPLE)) == (0, f"{EXAMPLE}: 6 assertions, 0 failed\n")


def test_a_failing_assertion_exits_1_and_says_which_and_why(tmp_path: Path) -> None:
    """A wrong `allow` is reported by section, number and name, with the decision's rules (V1)."""
    path = _file(
        tmp_path,
        """
[[allow]]
name = "rosters see the whole school"
principal = "roster@example.org"
action = "view_student_results"
resource = { student = "1000000004" }

[[allow]]
principal = "roster@example.org"
action = "view_student_results"
resource = { student = "1000000001" }
""",
    )
    status, out = _cli("test", str(path))
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        f"{path}: FAILED [[allow]] #1 (rosters see the whole school): `roster@example.org` "
        "view_student_results student 1000000004: expected allow, got deny (V1, V2): "
    )
    assert lines[1] == f"{path}: 2 assertions, 1 failed"


def test_lists_compare_exactly_or_by_inclusion(tmp_path: Path) -> None:
    """`visible` and `who_can` report what is missing and what is there besides (V1, V3)."""
    path = _file(
        tmp_path,
        """
[[visible]]
principal = "roster@example.org"
action = "view_student_results"
expect = ["1000000004"]

[[who_can]]
action = "view_student_results"
resource = { student = "1000000001" }
includes = ["roster@example.org"]
excludes = ["nobody@example.org"]

[[visible]]
principal = "roster@example.org"
action = "view_group"
includes = [{ school = "19647331111111", school_year = 2026, name = "Period 1" }]
""",
    )
    report = testfile.run(path)
    assert report.assertions == 3
    assert [str(f) for f in report.failures] == [
        "[[visible]] #1: `roster@example.org` may view_student_results students: "
        "missing `1000000004`; also `1000000001`"
    ]


def test_upload_expectations_match_every_problem(tmp_path: Path) -> None:
    """An expected problem not found, and a problem found but not expected, both fail (U2)."""
    path = _file(
        tmp_path,
        '''
[[upload]]
kind = "groups"
as = "roster@example.org"
content = """group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login
Period 2,19647331111111,2026,All,1000000001,roster@example.org
"""
problems = [{ row = 2, rule = "E6" }]
''',
    )
    (failure,) = testfile.run(path).failures
    assert failure.section == "upload"
    assert "no problem with row 2, rule 'E6'" in failure.why
    assert "unexpected error on row 2 [U5]" in failure.why


def test_malformed_assertions_fail_with_the_reason(tmp_path: Path) -> None:
    """An assertion that cannot be read is a failure naming what is wrong, never a pass."""
    path = _file(
        tmp_path,
        """
[[deny]]
principal = "roster@example.org"
action = "fly"
resource = { student = "1000000001" }

[[visible]]
principal = "roster@example.org"
action = "view_student_results"

[[upload]]
kind = "users"
as = "roster@example.org"
file = "missing.csv"
""",
    )
    whys = [f.why for f in testfile.run(path).failures]
    assert whys[0] == "the request cannot be read: `fly` is not an action"
    assert whys[1] == "give `expect`, `includes` or `excludes`"
    assert whys[2].startswith("no file ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not = [toml", "is not TOML"),
        ('directory = "nowhere.json"', "cannot read"),
        ("[[allow]]\n", "names no `directory`"),
        ('directory = "x.json"\n[[assert]]\n', "unknown key(s) assert"),
        ("[directory]\nformat = 1\norganizations = 3\n", "the directory is refused"),
    ],
)
def test_an_unusable_file_exits_2(tmp_path: Path, text: str, message: str) -> None:
    """A file that is not TOML, names no usable directory or has unknown keys: exit status 2."""
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        testfile.TestFileError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        testfile.run(path)
    assert _cli("test", str(path))[0] == 2
