"""Documentation that cannot drift: every setting in docs/settings.md, one place for variables."""

from __future__ import annotations

import re
from pathlib import Path

from pixsearch.config import ENV_PREFIX, Settings, settings_markdown

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "pixsearch"
VARIABLE = re.compile(rf"{ENV_PREFIX}[A-Z0-9_]+")


def test_every_setting_is_documented_and_the_page_is_current() -> None:
    page = (ROOT / "docs" / "settings.md").read_text()
    for spec in Settings.specs():
        assert f"| `{spec.name}` | `{spec.env}` |" in page, f"{spec.name} missing: regenerate"
    assert page == settings_markdown(), (
        "docs/settings.md is stale: python -m pixsearch.config > docs/settings.md"
    )


def test_only_config_spells_an_environment_variable() -> None:
    spelled = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix != ".pyc" and path.name != "config.py"
        for name in VARIABLE.findall(path.read_text(errors="ignore"))
    }
    assert not spelled, "read settings through pixsearch.config.Settings instead"


def test_documented_variables_exist() -> None:
    known = {spec.env for spec in Settings.specs()}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    unknown = {
        f"{page.name}: {name}"
        for page in pages
        for name in VARIABLE.findall(page.read_text())
        if name not in known
    }
    assert not unknown
