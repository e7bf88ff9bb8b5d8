"""A real browser (Debian's chromium driven by Playwright) for the search page's tests.

Playwright's own browser download is not used: the system chromium is, installed with
apt-get when it is missing. Where neither works, the page's tests are skipped, saying why.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

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
_install_error: list[str] = []  # remembered, so a failed install is tried once per session


def ensure_chromium() -> str | None:
    """Why no browser can be had, or None once /usr/bin/chromium exists."""
    if CHROMIUM.exists():
        return None
    if _install_error:
        return _install_error[0]
    if shutil.which("apt-get") is None:
        _install_error.append("no /usr/bin/chromium and no apt-get to install it")
        return _install_error[0]
    try:
        done = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _install_error.append(f"apt-get install chromium failed: {exc}")
        return _install_error[0]
    if done.returncode != 0 or not CHROMIUM.exists():
        _install_error.append(f"apt-get install chromium failed: {done.stderr.strip()[-300:]}")
        return _install_error[0]
    return None


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
