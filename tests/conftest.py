"""Shared fixtures and the Hypothesis profiles.

Profiles: ``default`` (sized so the whole suite runs in a few minutes on two cores;
derandomized when the ``CI`` variable is set) and ``thorough`` (many more examples):
``HYPOTHESIS_PROFILE=thorough pytest``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from caaspp_authz import Directory, load_directory

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # In CI (`CI` set) the examples are the same on every run, so a result can be reproduced;
    # fresh examples come from every local run and from the thorough profile.
    derandomize=bool(os.environ.get("CI")),
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def example() -> Directory:
    """The shipped example directory."""
    return load_directory(EXAMPLES / "directory.json")
