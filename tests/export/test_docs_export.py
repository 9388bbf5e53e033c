"""The export's reference page names every public name of the export modules."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import ROOT

PAGE = ROOT / "docs" / "reference" / "export.md"


@pytest.mark.parametrize("module", ["spicedb", "cedar", "delta"])
def test_reference_page_names_every_public_name(module: str) -> None:
    """docs/reference/export.md names every name of the module's __all__ in backticks."""
    page = PAGE.read_text(encoding="utf-8")
    names: list[str] = importlib.import_module(f"caaspp_authz.export.{module}").__all__
    missing = [n for n in names if f"`{n}`" not in page and f"`{n}(" not in page]
    assert not missing, f"reference/export.md does not name: {', '.join(missing)}"


def test_the_core_never_imports_an_engine() -> None:
    """The engines are an extra: no module of the package imports one at its top."""
    src = ROOT / "src" / "caaspp_authz"
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for engine in ("cedarpy", "spicedb_embedded", "authzed", "grpc"):
            assert f"import {engine}" not in text, f"{path.name} imports {engine}"
            assert f"from {engine}" not in text, f"{path.name} imports {engine}"
