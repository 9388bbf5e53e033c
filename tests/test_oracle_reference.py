"""The reference pages of the oracle kit name every public name of its modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"
PAGES = {
    "testing": "testing.md",
    "oracle.table": "oracle.md",
    "oracle.corpus": "oracle.md",
    "oracle.conform": "oracle.md",
    "oracle.checks": "oracle.md",
    "oracle.testfile": "oracle.md",
}


@pytest.mark.parametrize("module", sorted(PAGES))
def test_reference_page_names_every_public_name(module: str) -> None:
    """The module's reference page names every name of its __all__ in backticks."""
    page = (REFERENCE / PAGES[module]).read_text(encoding="utf-8")
    names: list[str] = importlib.import_module(f"caaspp_authz.{module}").__all__
    missing = [n for n in names if f"`{n}`" not in page and f"`{n}(" not in page]
    assert not missing, f"reference/{PAGES[module]} does not name: {', '.join(missing)}"
