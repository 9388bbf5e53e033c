"""The pytest plugin of caaspp-authz (entry point ``pytest11``): the ``caaspp_oracle`` fixture.

Active where the ``hypothesis`` extra is installed: without Hypothesis it registers nothing.
It is a module of its own, outside the ``caaspp_authz`` package, and imports the library only
when a test asks for the fixture: a test run that does not use it pays nothing for it, and a
coverage run measures the library from its first import.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from caaspp_authz.testing import Oracle

__all__ = ["caaspp_oracle"]

if importlib.util.find_spec("hypothesis") is not None:

    @pytest.fixture
    def caaspp_oracle() -> Oracle:
        """The library as an oracle: ``decide``, ``can``, ``visible`` and ``assert_agrees``."""
        from caaspp_authz.testing import Oracle

        return Oracle()
