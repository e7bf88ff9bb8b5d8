"""The key the server gives its search page: real, stored hashed, limited, switchable off."""

from __future__ import annotations

import re
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pixsearch.api.routes_page import PAGE_KEY_NAME
from pixsearch.config import Settings
from pixsearch.tenancy.keys import SqliteKeyStore, hash_key
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import Server, start_server, stop_server

META = re.compile(r'<meta name="pixsearch-page-key" content="([^"]*)">')


def page_key(base: str) -> str:
    found = META.search(httpx.get(base + "/").text)
    assert found is not None
    return found.group(1)


def burst(base: str, key: str, calls: int) -> list[httpx.Response]:
    """Many searches at once: more than the key's calls per second reach the server."""
    with httpx.Client(base_url=base, headers={"Ocp-Apim-Subscription-Key": key}) as client:

        def one(_: int) -> httpx.Response:
            return client.get("/v7.0/images/search", params={"q": "tiny", "count": 1})

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(one, range(calls)))


def copy_index(server: Server, to: Path) -> Path:
    """The shared index with its keys (the page key among them), for a server of its own."""
    index = to / "index"
    shutil.copytree(server.index_dir, index, ignore=shutil.ignore_patterns("service.db*"))
    with (
        sqlite3.connect(server.index_dir / "service.db") as source,
        sqlite3.connect(index / "service.db") as copy,
    ):
        source.backup(copy)  # consistent while the shared server writes
        # Counters of its own: the shared server's page may have used this second's calls
        # (the browser tests search with the same key just before), and the burst below
        # can fall in that same second.
        copy.execute("DELETE FROM rate_window")
    return index


def test_page_key_is_a_hashed_key_limited_like_any_other(server: Server) -> None:
    key = page_key(server.base)
    assert key.startswith("psk_")
    info = SqliteKeyStore(ServiceDb(server.index_dir / "service.db")).get(PAGE_KEY_NAME)
    assert info is not None and info.enabled and info.qps == Settings().page_key_qps
    with sqlite3.connect(server.index_dir / "service.db") as db:
        stored = db.execute("SELECT key_hash FROM keys WHERE name=?", (PAGE_KEY_NAME,))
        assert stored.fetchone()[0] == hash_key(key)  # the database never holds it in clear


def test_page_key_limits_come_from_settings_and_it_can_be_switched_off(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = page_key(server.base)
    index = copy_index(server, tmp_path)
    # A low limit, so that even a slow machine goes over it.
    monkeypatch.setenv("PIXSEARCH_PAGE_KEY_QPS", "2")
    process, base = start_server(index)
    try:
        assert page_key(base) == key  # the same secret gives the same key
        answers = burst(base, key, 12)
    finally:
        stop_server(process)
    codes = [a.status_code for a in answers]
    assert 200 in codes and 429 in codes, [(a.status_code, a.text[:120]) for a in answers]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["errors"][0]["code"] == "RateLimitExceeded"
    assert int(refused.headers["Retry-After"]) >= 1
    monkeypatch.setenv("PIXSEARCH_PAGE_KEY", "0")
    process, base = start_server(index)
    try:
        assert page_key(base) == ""  # the page asks for the user's own key now

        def search(with_key: str) -> int:
            headers = {"Ocp-Apim-Subscription-Key": with_key}
            params = {"q": "red"}
            return httpx.get(
                base + "/v7.0/images/search", params=params, headers=headers
            ).status_code

        assert search(key) == 401  # the key handed out before stopped working
        assert search(server.key) == 200  # other keys are untouched
    finally:
        stop_server(process)
