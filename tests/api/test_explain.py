"""debug=explain over real HTTP: only the admin key gets explanations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pixsearch.api.wire import EXPLAIN_FIELD
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

ADMIN_KEY = "explain-admin-secret"


@pytest.fixture(scope="module")
def admin_api(corpus: tuple[Path, Path]) -> Iterator[httpx.Client]:
    _, index_dir = corpus
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("explain-tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIXSEARCH_ADMIN_KEY", ADMIN_KEY)
        process, base = start_server(index_dir)
    try:
        with httpx.Client(
            base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=30
        ) as client:
            yield client
    finally:
        stop_server(process)


def search(client: httpx.Client, headers: dict[str, str] | None = None, **params: str) -> dict:
    response = client.get("/v7.0/images/search", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_no_explanation_without_asking(admin_api: httpx.Client) -> None:
    body = search(admin_api, {"X-Admin-Key": ADMIN_KEY}, q="circle")
    assert body["value"]
    assert all(EXPLAIN_FIELD not in image for image in body["value"])


def test_no_explanation_without_the_admin_key(admin_api: httpx.Client) -> None:
    for headers in ({}, {"X-Admin-Key": "wrong"}):
        body = search(admin_api, headers, q="circle", debug="explain")
        assert body["value"]
        assert all(EXPLAIN_FIELD not in image for image in body["value"])


def test_explanation_with_the_admin_key(admin_api: httpx.Client) -> None:
    body = search(admin_api, {"X-Admin-Key": ADMIN_KEY}, q="red circle", debug="Explain")
    first = body["value"][0]
    explain = first[EXPLAIN_FIELD]
    assert explain["position"] == 1
    assert explain["bm25_score"] > 0
    assert explain["bm25_rank"] >= 1
    assert explain["final_rank"] >= 1
    assert explain["prior_multiplier"] > 1.0
    matched = {word for words in explain["matched_fields"].values() for word in words}
    assert matched & {"red", "circle"}
    assert all(EXPLAIN_FIELD in image for image in body["value"])


def test_explanations_follow_the_page_offset(admin_api: httpx.Client) -> None:
    headers = {"X-Admin-Key": ADMIN_KEY}
    body = search(admin_api, headers, q="pattern", debug="explain", count="5", offset="5")
    assert [v[EXPLAIN_FIELD]["position"] for v in body["value"]] == [6, 7, 8, 9, 10]


def test_the_public_server_ignores_debug(api: httpx.Client) -> None:
    # The shared server has no admin key configured: debug is accepted and ignored.
    body = search(api, q="circle", debug="explain")
    assert all(EXPLAIN_FIELD not in image for image in body["value"])


def test_an_unknown_debug_value_is_a_documented_error(api: httpx.Client) -> None:
    response = api.get("/v7.0/images/search", params={"q": "circle", "debug": "everything"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "debug"


def test_the_market_language_reaches_the_stemmer(api: httpx.Client) -> None:
    # The demo's circle pictures say "circle"; the plural finds them through the English
    # stemmed field, which the en-US market (the default) selects.
    body = search(api, q="circles", mkt="en-US")
    assert any("circle" in image["name"].lower() for image in body["value"])
    assert "alteredQuery" not in body["queryContext"]  # found as typed, not by a respelling
