"""The mutants of one module: mutmut's operators, applied to the whole source.

mutmut 3 finds the mutations with a libcst visitor (``MutationVisitor`` and the operators of
``mutmut.mutation.mutators``) and then writes them into trampolines, one per top-level function;
a mutation inside a closure made by a factory, or in a module-level table, never runs there. This
module keeps mutmut's visitor and operators and drops the trampolines: each mutant is the whole
module's source with exactly one node replaced, so a mutation anywhere (a closure, a table built
at import, a method, a decorated function) is a real change to the code that runs.

Each mutant has a stable key, ``function | original -> mutated [#n]``: the qualified name of the
function holding it (``<module>`` for code run at import), the normalized text of the node before
and after, and an occurrence number when the same change appears more than once in the same
function. Line numbers are not part of the key, so a change elsewhere in the file does not
rename the mutants of other functions.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, WhitespaceInclusivePositionProvider
from mutmut.mutation.file_mutation import MutationVisitor
from mutmut.mutation.mutators import mutation_operators
from mutmut.mutation.pragma_handling import get_ignored_lines

# A description longer than this is cut and ends in a hash of the whole text.
_DESCRIPTION_LIMIT = 120
_SPACE = re.compile(r"\s+")
# Calls that exist for the type checker alone (see _ScopedVisitor).
_TYPING_ONLY = frozenset({"TypeVar", "NewType"})


@dataclass(frozen=True)
class Mutant:
    """One mutation of a module: where it is, what it changes, and the mutated source."""

    module: str
    function: str
    original: str
    mutated: str
    occurrence: int
    line: int
    source: str

    @property
    def key(self) -> str:
        """The stable name of the mutant within its module (no line number)."""
        key = f"{self.function} | {self.original} -> {self.mutated}"
        return key if self.occurrence == 1 else f"{key} #{self.occurrence}"


def _normalize(code: str) -> str:
    text = _SPACE.sub(" ", code).strip()
    if len(text) <= _DESCRIPTION_LIMIT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{text[:_DESCRIPTION_LIMIT]}…{digest}"


class _ScopedVisitor(MutationVisitor):
    """mutmut's visitor, which also records the qualified name of the scope of each mutation.

    It reaches what the trampolines leave out: decorated functions (a ``@property``, a cached
    function) are mutated like any other, since no copy of them is made. Decorators themselves,
    annotations, docstrings, default values that are not literals, ``len``/``isinstance`` calls
    and enum creation hooks are skipped as mutmut skips them. So are, for the same reason as
    annotations, the statements that only declare types (``T = TypeVar("T")``,
    ``Email = NewType("Email", str)``: a mutant of one only renames or unbinds a type), and
    ``__all__``, the list of a module's public names, which the package's own tests check.
    """

    def __init__(self, ignored: object) -> None:
        super().__init__(mutation_operators, ignored)  # type: ignore[arg-type]
        self._scope: list[str] = []
        self.scope_of: dict[int, str] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            parent = self._scope[-1] if self._scope else ""
            if isinstance(node, cst.FunctionDef) and parent and not parent.endswith("@class"):
                name = f"{parent}.<locals>.{node.name.value}"
            else:
                name = f"{parent.removesuffix('@class')}.{node.name.value}".lstrip(".")
            self._scope.append(name + ("@class" if isinstance(node, cst.ClassDef) else ""))
        before = len(self.mutations)
        visit = super().on_visit(node)
        scope = (self._scope[-1].removesuffix("@class") if self._scope else "") or "<module>"
        for mutation in self.mutations[before:]:
            self.scope_of[id(mutation)] = scope
        return visit

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.FunctionDef | cst.ClassDef):
            self._scope.pop()

    def _skip_node_and_children(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            # mutmut skips decorated functions and a few dunder methods because of its
            # trampolines; a whole-source mutant has none, so only the decorators are skipped.
            return False
        if isinstance(node, cst.Assign) and any(
            isinstance(target.target, cst.Name) and target.target.value == "__all__"
            for target in node.targets
        ):
            return True
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in _TYPING_ONLY
        ):
            return True
        if (
            isinstance(node, cst.Assign)
            and isinstance(node.value, cst.Call)
            and isinstance(node.value.func, cst.Name)
            and node.value.func.value in _TYPING_ONLY
        ):
            return True
        return bool(super()._skip_node_and_children(node))


def module_path(module: str, root: Path) -> Path:
    """The source file of a module of the package, under ``root/src``."""
    relative = Path(*module.split("."))
    package = root / "src" / relative / "__init__.py"
    return package if package.is_file() else root / "src" / relative.with_suffix(".py")


def mutants_of(module: str, source: str) -> list[Mutant]:
    """Every mutant of ``source`` (the text of ``module``), in source order."""
    tree = cst.parse_module(source)
    wrapper = MetadataWrapper(tree)
    ignored = get_ignored_lines(module, source, wrapper)
    visitor = _ScopedVisitor(ignored)
    # The wrapper visits its own copy of the tree: its nodes are the ones the positions know.
    visited = wrapper.visit(visitor)
    positions = wrapper.resolve(PositionProvider)
    spans = wrapper.resolve(WhitespaceInclusivePositionProvider)
    offsets = _line_offsets(source)
    seen: Counter[str] = Counter()
    found: list[Mutant] = []
    for mutation in visitor.mutations:
        node = mutation.original_node
        function = visitor.scope_of[id(mutation)]
        original = _normalize(visited.code_for_node(node))
        mutated = _normalize(visited.code_for_node(mutation.mutated_node))
        seen[f"{function} | {original} -> {mutated}"] += 1
        position = positions.get(node)
        # The node's text, with the whitespace it owns, is replaced in the source text: the
        # same text as rendering the mutated tree, without rendering it once a mutant.
        span = spans[node]
        start = offsets[span.start.line - 1] + span.start.column
        end = offsets[span.end.line - 1] + span.end.column
        mutated_source = (
            source[:start] + visited.code_for_node(mutation.mutated_node) + source[end:]
        )
        found.append(
            Mutant(
                module=module,
                function=function,
                original=original,
                mutated=mutated,
                occurrence=seen[f"{function} | {original} -> {mutated}"],
                line=position.start.line if position is not None else 0,
                source=mutated_source,
            )
        )
    return found


def _line_offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def count(modules: Sequence[str], root: Path) -> dict[str, int]:
    """How many mutants each module has."""
    return {
        module: len(mutants_of(module, module_path(module, root).read_text("utf-8")))
        for module in modules
    }
