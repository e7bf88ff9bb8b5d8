"""GET /v7.0/images/trending over real HTTP, and the official client's trending()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from msrest.authentication import CognitiveServicesCredentials

from pixsearch.search.querylog import QueryLog
from tests.conftest import Server


def trending(api: httpx.Client, **params: str) -> dict:
    response = api.get("/v7.0/images/trending", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def tiles_of(body: dict, title: str) -> list[dict]:
    return next((c["tiles"] for c in body["categories"] if c["title"] == title), [])


def test_trending_follows_what_people_search(api: httpx.Client) -> None:
    body = trending(api, mkt="en-AU")  # a market nobody has searched in yet
    assert body["_type"] == "TrendingImages"
    assert not tiles_of(body, "Popular searches")
    collection = tiles_of(body, "From the collection")
    assert collection, "an index with images never answers with nothing"
    for query in ("checkerboard", "sunset", "ball", "logo", "coffee OR cat OR rocket"):
        for _ in range(3 if query == "checkerboard" else 1):
            api.get("/v7.0/images/search", params={"q": query, "mkt": "en-AU"})
    api.get("/v7.0/images/search", params={"q": "zzzznothing", "mkt": "en-AU"})
    body = trending(api, mkt="en-AU")
    popular = tiles_of(body, "Popular searches")
    texts = [t["query"]["text"] for t in popular]
    assert texts[0] == "checkerboard"  # searched most
    assert "zzzznothing" not in texts  # a query without results never trends
    ids = [t["image"]["imageId"] for c in body["categories"] for t in c["tiles"]]
    assert len(ids) == len(set(ids))  # no picture twice
    tile = popular[0]
    assert set(tile["image"]) == {
        "thumbnailUrl",
        "contentUrl",
        "width",
        "height",
        "thumbnail",
        "imageId",
    }
    assert tile["query"]["webSearchUrl"].endswith("q=checkerboard")
    searched = api.get(
        "/v7.0/images/search", params={"q": tile["query"]["text"], "id": tile["image"]["imageId"]}
    ).json()
    assert searched["value"][0]["imageId"] == tile["image"]["imageId"]


def test_query_log_decays_and_keeps_no_client_data(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "log.db", retention_days=30)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for _ in range(4):
        log.record("Old  Favourite", market="en-US", now=now - timedelta(days=14))
    for _ in range(2):
        log.record("new thing", market="en-US", now=now)
    ranked = log.popular(market="en-US", now=now)
    assert [q for q, _ in ranked] == ["new thing", "old favourite"]  # 2 today > 4 × 1/4
    log.record("x", market="en-US", now=now + timedelta(days=40))  # purges past retention
    assert "old favourite" not in dict(log.popular(market="en-US", now=now))
    columns = [r[1] for r in log.conn.execute("PRAGMA table_info(query_log)")]
    assert columns == ["day", "market", "scope", "query", "count"]


def test_official_client_trending(server: Server) -> None:
    client = ImageSearchClient(
        endpoint=server.base, credentials=CognitiveServicesCredentials(server.key)
    )
    result = client.images.trending()
    assert result.categories and result.categories[0].tiles
    tile = result.categories[0].tiles[0]
    assert tile.query.text and tile.image.thumbnail_url and tile.image.image_id


def test_trending_errors(server: Server, api: httpx.Client) -> None:
    assert httpx.get(server.base + "/v7.0/images/trending").status_code == 401
    bad = api.get("/v7.0/images/trending", params={"safeSearch": "sometimes"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameter"] == "safeSearch"
    unknown = api.get("/v7.0/images/trending", params={"customConfig": "nope"})
    assert unknown.status_code in (400, 403)
