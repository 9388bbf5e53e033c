"""The package's public face: ``__all__`` is sorted and equals the real exports."""

from __future__ import annotations

import types

import caaspp_authz


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def test_all_is_sorted() -> None:
    """`__all__` is sorted (constants, classes, functions) and has no duplicates."""
    names = list(caaspp_authz.__all__)
    assert names == sorted(names, key=_isort_key)
    assert len(set(names)) == len(names)


def test_all_equals_the_public_exports() -> None:
    """`__all__` names exactly the public, non-module names the package binds."""
    public = {
        name
        for name, value in vars(caaspp_authz).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(caaspp_authz.__all__) == public
