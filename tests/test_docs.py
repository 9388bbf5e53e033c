"""Every example in the docs runs, and every shown command prints exactly what the page says.

A page's ```python blocks run in order in one namespace, from the repository root. In a
```console block, each ``$ caaspp-authz ...`` line is run through ``caaspp_authz.cli.main`` and
the lines after it, up to the next ``$ `` line, must be its whole output: the lines that start
with ``caaspp-authz: `` its standard error, the others its standard output; ``$ `` lines of other
programs are shown, not run. A command line that ends with ``; echo $?`` also prints its exit
status, as a shell would.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import shlex
import types
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import attrs
import pytest

from caaspp_authz.cli import main
from caaspp_authz.rules import RULES
from tests import catalog_tables, diagrams

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PROMPT = "$ "
STDERR = "caaspp-authz: "
"""An output line that starts so is the command's standard error; the others its standard output."""
STATUS = "; echo $?"
"""A command line that ends so shows its exit status as the last line of its standard output."""
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")


@attrs.frozen
class Block:
    """One fenced block of a page: its language, first line number and text."""

    language: str
    line: int
    text: str


def blocks(markdown: str) -> Iterator[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i].strip())
        if m is None:
            i += 1
            continue
        fence, language, start = m.group(1), m.group(2), i + 1
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        yield Block(language, start + 1, "\n".join(body) + "\n")


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/, sorted."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def _runnable(path: Path) -> bool:
    return any(b.language in ("python", "console") for b in blocks(path.read_text("utf-8")))


def _sessions(text: str) -> Iterator[tuple[str, str]]:
    """(command line, expected output) of every ``$ `` line of a console block."""
    command: str | None = None
    output: list[str] = []
    for line in text.splitlines():
        if line.startswith(PROMPT):
            if command is not None:
                yield command, "".join(f"{x}\n" for x in output)
            command, output = line[len(PROMPT) :], []
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "".join(f"{x}\n" for x in output)


def _run_console(block: Block, where: str) -> None:
    for command, expected in _sessions(block.text):
        show_status = command.endswith(STATUS)
        argv = shlex.split(command.removesuffix(STATUS))
        if not argv or argv[0] != "caaspp-authz":
            continue  # another program's line, shown for the reader
        out, err = StringIO(), StringIO()
        with contextlib.redirect_stderr(err):
            status = main(argv[1:], out=out)
        if show_status:
            out.write(f"{status}\n")
        lines = expected.splitlines(keepends=True)
        shown_err = "".join(x for x in lines if x.startswith(STDERR))
        shown_out = "".join(x for x in lines if not x.startswith(STDERR))
        assert out.getvalue() == shown_out, f"{where}: `{command}` printed other output"
        assert err.getvalue() == shown_err, f"{where}: `{command}` printed other messages"


@pytest.mark.parametrize(
    "path",
    [p for p in pages() if _runnable(p)],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_page_examples_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's python blocks run in order in one namespace; its commands print what it shows."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    name = path.relative_to(ROOT).as_posix()
    for block in blocks(path.read_text(encoding="utf-8")):
        where = f"{name}:{block.line}"
        if block.language == "python":
            # Pad with blank lines so a traceback names the line of the page.
            source = "\n" * (block.line - 1) + block.text
            exec(compile(source, name, "exec"), namespace)
        elif block.language == "console":
            _run_console(block, where)


def _sh_blocks(path: Path) -> list[str]:
    return [b.text for b in blocks(path.read_text(encoding="utf-8")) if b.language == "sh"]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run's last command is the README's test command (its second sh block), verbatim."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    last = [line for line in ci if line.strip() and not line.lstrip().startswith("#")][-1]
    readme = _sh_blocks(README)
    assert len(readme) >= 2, "README.md needs its install and test commands as sh blocks"
    assert last.strip() == readme[1].strip()


REFERENCE = DOCS / "reference"
MODULES = (
    "orgs",
    "catalog",
    "accounts",
    "directory",
    "decision",
    "request",
    "serialize",
    "store",
    "errors",
    "resources",
    "cde",
    "cli",
    "queries",
    "strategies",
    "uploads",
)


@pytest.mark.parametrize("module", MODULES)
def test_reference_page_is_generated_from_the_docstrings(module: str) -> None:
    """The module's reference page renders its docstrings (mkdocstrings), and every public
    name of its __all__ has a docstring of its own to render."""
    page = (REFERENCE / f"{module}.md").read_text(encoding="utf-8")
    assert f"\n::: caaspp_authz.{module}\n" in page
    namespace = importlib.import_module(f"caaspp_authz.{module}")
    undocumented = []
    for name in namespace.__all__:
        value = getattr(namespace, name)
        if isinstance(value, types.FunctionType) and not value.__doc__:
            undocumented.append(name)
        if isinstance(value, type):
            if not vars(value).get("__doc__"):  # its own, not one inherited
                undocumented.append(name)
            if isinstance(value, type):
                undocumented += [
                    f"{name}.{member}"
                    for member, attribute in vars(value).items()
                    if not member.startswith("_")
                    and isinstance(attribute, types.FunctionType | property)
                    and not attribute.__doc__
                ]
    assert not undocumented, f"no docstring: {', '.join(undocumented)}"


def test_catalog_page_tables_are_current() -> None:
    """The ROLES and GRANTS tables on reference/catalog.md are those the catalog holds."""
    page = catalog_tables.PAGE.read_text(encoding="utf-8")
    if page != catalog_tables.render(page):
        pytest.fail(
            "docs/reference/catalog.md shows other tables than the catalog holds: "
            f"run `{catalog_tables.REGENERATE}` and commit the result"
        )


def test_pictures_are_current() -> None:
    """O1-O4, G1, G3, G4: the Mermaid pictures show the example directory and GRANTS as they are."""
    page = diagrams.PAGE.read_text(encoding="utf-8")
    if page != diagrams.render(page):
        pytest.fail(
            "docs/explanation/pictures.md shows other pictures than the data: "
            f"run `{diagrams.REGENERATE}` and commit the result"
        )


def test_grant_picture_has_an_arrow_per_grant_row() -> None:
    """G3: the grant picture has one arrow for each row of GRANTS, no more and no fewer."""
    from caaspp_authz.catalog import GRANTS

    assert diagrams.grants().count("-->|") == len(GRANTS)


def test_rulebook_page_gives_every_rule() -> None:
    """The readable rulebook page states every rule of the rule table, each once."""
    page = (DOCS / "rulebook.md").read_text(encoding="utf-8")
    stated = re.findall(r"^- \*\*([A-Z][0-9]+)\*\*", page, flags=re.MULTILINE)
    assert len(stated) == len(set(stated))
    assert not [r for r in RULES if r not in stated]
