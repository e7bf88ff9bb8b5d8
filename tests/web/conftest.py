"""A real browser (Debian's chromium driven by Playwright) for the search page's tests.

Playwright's own browser download is not used: the system chromium is, installed with
apt-get when it is missing. Where neither works, the page's tests are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.debian import apt_install

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> str | None:
    """Why no browser can be had, or None once /usr/bin/chromium exists."""
    if CHROMIUM.exists():
        return None
    reason = apt_install("chromium", timeout=300)
    if reason is None and not CHROMIUM.exists():
        reason = "apt-get installed chromium but /usr/bin/chromium is missing"
    return reason


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    problem = ensure_chromium()
    if problem:
        pytest.skip(f"search page tests need chromium: {problem}")
    with sync_api.sync_playwright() as playwright:
        # launch() runs the browser on a fresh temporary profile of its own
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A desktop-sized page in a fresh context; script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
