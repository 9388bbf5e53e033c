"""The rule index: for every rule ID, where the source names it and which tests check it.

``python -m tests.rule_index --write`` regenerates ``docs/reference/rules.md``; without
``--write`` it prints the page. ``tests/test_rule_index.py`` fails when the committed page is
not what this generator produces.

Where a rule is enforced: every comment, docstring and string of ``src/caaspp_authz`` that
names the rule ID (``rules.py``, the table of IDs itself, excepted), located by the innermost
function or class around it (``decision:_add_role``), else the module-level name it is assigned
to (``catalog:GRANTS``), else the module docstring (``orgs``), else the line (``catalog:412``).
Which tests check it: every test function under ``tests/`` whose docstring names the rule ID
(``tests/test_cde.py::test_direct_funded_charter``). A range written the rulebook's way
(``E2–E5``, ``O1-O3``) names every rule in it.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from caaspp_authz.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "caaspp_authz"
TESTS = ROOT / "tests"
PAGE = ROOT / "docs" / "reference" / "rules.md"
REGENERATE = "python -m tests.rule_index --write"

_ID = re.compile(r"(?<![A-Za-z0-9])([A-Z])([0-9]{1,2})(?:\s*[–-]\s*\1?([0-9]{1,2}))?(?![0-9])")
_Location = tuple[str, str]  # (module, place) for sorting and rendering


def rule_ids(text: str) -> set[str]:
    """The rule IDs of :data:`RULES` named in ``text``, ranges (``E2–E5``) expanded."""
    found: set[str] = set()
    for m in _ID.finditer(text):
        letter, first, last = m.group(1), int(m.group(2)), m.group(3)
        numbers = range(first, int(last) + 1) if last is not None else range(first, first + 1)
        found.update(i for n in numbers if (i := f"{letter}{n}") in RULES)
    return found


def _scopes(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outermost first."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans.append((first, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _top_level_names(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of module-level assignments to a single name."""
    names: list[tuple[int, int, str]] = []
    body = tree.body
    for i, node in enumerate(body):
        target: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        if not isinstance(target, ast.Name):
            continue
        last = node.end_lineno or node.lineno
        after = body[i + 1] if i + 1 < len(body) else None
        if _is_docstring(after):  # an attribute docstring belongs to its name
            assert after is not None
            last = after.end_lineno or after.lineno
        names.append((node.lineno, last, target.id))
    return names


def _is_docstring(node: ast.stmt | None) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _texts(source: str, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and string constant of a module."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _place(line: int, tree: ast.Module, scopes: list[tuple[int, int, str]]) -> str:
    inner = [name for first, last, name in scopes if first <= line <= last]
    if inner:
        return inner[-1]
    for first, last, name in _top_level_names(tree):
        if first <= line <= last:
            return name
    doc = tree.body[0] if tree.body else None
    if doc is not None and _is_docstring(doc) and doc.lineno <= line <= (doc.end_lineno or 0):
        return ""
    return str(line)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "caaspp_authz"


def enforced(src: Path = SRC) -> dict[str, set[_Location]]:
    """For every rule ID, the places in the source that name it."""
    found: dict[str, set[_Location]] = {rule: set() for rule in RULES}
    for path in sorted(src.rglob("*.py")):
        if path == src / "rules.py":
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        scopes = _scopes(tree)
        module = _module_name(path)
        for line, text in _texts(source, tree):
            ids = rule_ids(text)
            if ids:
                place = _place(line, tree, scopes)
                for rule in ids:
                    found[rule].add((module, place))
    return found


def _tests_in(tree: ast.Module) -> Iterator[tuple[str, str | None]]:
    """(qualified name, docstring) of every test function, including methods of Test classes."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            yield node.name, ast.get_docstring(node)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name.startswith("test")
                ):
                    yield f"{node.name}::{item.name}", ast.get_docstring(item)


def naming_tests(root: Path = TESTS) -> dict[str, set[str]]:
    """For every rule ID, the tests whose docstring names it (``path::function``)."""
    found: dict[str, set[str]] = {rule: set() for rule in RULES}
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(root.parent).as_posix()
        for name, doc in _tests_in(tree):
            for rule in rule_ids(doc or ""):
                found[rule].add(f"{relative}::{name}")
    return found


def _cell(items: Iterable[str]) -> str:
    shown = [f"`{item}`" for item in items]
    return "<br>".join(shown) if shown else "—"


def _where(locations: set[_Location]) -> list[str]:
    modules = sorted({m for m, _ in locations})
    out: list[str] = []
    for module in modules:
        places = sorted(
            {p for m, p in locations if m == module},
            key=lambda p: (p.isdigit(), int(p) if p.isdigit() else 0, p),
        )
        out.extend(module if not p else f"{module}:{p}" for p in places)
    return out


_SECTIONS: Mapping[str, str] = {
    "O": "Organizations",
    "R": "Programs and roles",
    "P": "CERS permissions",
    "V": "What staff may do in CERS and Tools for Teachers",
    "T": "Test administration",
    "G": "Who may create whom, where",
    "E": "One e-mail, one account",
    "U": "Upload files",
}


def render() -> str:
    """The rule index page, as committed in ``docs/reference/rules.md``."""
    where, by = enforced(), naming_tests()
    lines = [
        "# Rule index",
        "",
        "Every rule of the rulebook, where the source names it and which tests check it. "
        "This page is generated from the code; do not edit it by hand. Regenerate it with "
        f"`{REGENERATE}`; the test suite fails while it is out of date.",
        "",
        "The IDs and their titles are the table `caaspp_authz.rules.RULES`. "
        "*Named in* lists each place in `src/caaspp_authz` whose comment, docstring or string "
        "names the rule: `module:function` (or `module:Class.method`), `module:NAME` for a "
        "module-level table, `module` for the module's docstring, `module:line` otherwise. "
        "*Tested by* lists the tests whose docstring names the rule. A range such as `E2–E5` "
        "names every rule in it.",
        "",
    ]
    for letter, title in _SECTIONS.items():
        ids = [rule for rule in RULES if rule[0] == letter]
        if not ids:
            continue
        lines += [
            f"## {title}",
            "",
            "| Rule | Title | Named in | Tested by |",
            "|---|---|---|---|",
        ]
        for rule in sorted(ids, key=lambda r: int(r[1:])):
            lines.append(
                f"| {rule} | {RULES[rule]} | {_cell(_where(where[rule]))} "
                f"| {_cell(sorted(by[rule]))} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the page, or with ``--write`` write it to ``docs/reference/rules.md``."""
    parser = argparse.ArgumentParser(prog="python -m tests.rule_index", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {PAGE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    page = render()
    if args.write:
        PAGE.parent.mkdir(parents=True, exist_ok=True)
        PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
