"""The distribution: what the wheel and the sdist carry, and the typed public API's completeness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist, built from the working tree."""
    folder = tmp_path_factory.mktemp("dist")
    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(folder)))))
    sdist = Path(next(iter(SdistBuilder(str(ROOT)).build(directory=str(folder)))))
    return wheel, sdist


def test_wheel_carries_license_schemas_and_markers(built: tuple[Path, Path]) -> None:
    """The wheel holds the MIT LICENSE, the JSON Schemas and py.typed."""
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for name in ("schemas/directory.schema.json", "schemas/request.schema.json", "py.typed"):
        assert f"caaspp_authz/{name}" in names


def test_wheel_metadata(built: tuple[Path, Path]) -> None:
    """The metadata names the licence, authors, project URLs and the expected classifiers."""
    with zipfile.ZipFile(built[0]) as archive:
        text = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
    meta = Parser().parsestr(text)
    assert meta["License-Expression"] == "MIT"
    assert meta["Author"]
    urls = {u.split(",")[0] for u in meta.get_all("Project-URL") or []}
    assert {"Homepage", "Documentation", "Source", "Changelog"} <= urls
    classifiers = set(meta.get_all("Classifier") or [])
    assert {
        "Operating System :: OS Independent",
        "Typing :: Typed",
        "Programming Language :: Python :: 3.11",
        "Topic :: Education",
    } <= classifiers
    assert "Requires-Dist: shtab" in text  # the `cli` extra


def test_sdist_leaves_out_ci_and_editor_files(built: tuple[Path, Path]) -> None:
    """The sdist carries the sources, tests, docs and LICENSE, but not .ci/ nor editor files."""
    with tarfile.open(built[1]) as archive:
        names = [n.split("/", 1)[1] for n in archive.getnames() if "/" in n]
    assert "LICENSE" in names
    assert "src/caaspp_authz/cli.py" in names
    assert not [n for n in names if n.startswith((".ci", ".vscode", ".idea", ".venv"))]
    assert not [n for n in names if n.endswith((".swp", "~"))]


def test_public_api_is_completely_typed() -> None:
    """`pyright --verifytypes caaspp_authz --ignoreexternal` scores 100 %."""
    bin_dir = Path(sys.executable).parent
    # pyright asks the `python` on PATH where packages are: the project's own environment.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            str(bin_dir / "pyright"),
            "--verifytypes",
            "caaspp_authz",
            "--ignoreexternal",
            "--outputjson",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    report = json.loads(done.stdout)
    completeness = report["typeCompleteness"]
    assert completeness["exportedSymbolCounts"]["withKnownType"] > 500  # it found the package
    problems = [
        f"{s['name']}: {d['message']}"
        for s in completeness["symbols"]
        for d in s["diagnostics"]
        if d["severity"] == "error"
    ]
    assert completeness["completenessScore"] == 1.0, "\n".join(problems[:20])
