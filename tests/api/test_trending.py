"""GET /v7.0/images/trending over real HTTP, and the official client's trending()."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from azure.cognitiveservices.search.imagesearch import ImageSearchClient
from msrest.authentication import CognitiveServicesCredentials

from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import Server, start_server, stop_server


def trending(api: httpx.Client, **params: str) -> dict:
    response = api.get("/v7.0/images/trending", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def tiles_of(body: dict, title: str) -> list[dict]:
    return next((c["tiles"] for c in body["categories"] if c["title"] == title), [])


def popular_tiles(body: dict) -> list[dict]:
    """Tiles of every category made from the log ("Popular searches", "Popular X searches")."""
    return [t for c in body["categories"] if c["title"].startswith("Popular") for t in c["tiles"]]


def test_trending_follows_what_people_search(api: httpx.Client) -> None:
    body = trending(api, mkt="en-AU")  # a market nobody has searched in yet
    assert body["_type"] == "TrendingImages"
    assert not popular_tiles(body)
    collection = [t for c in body["categories"] for t in c["tiles"]]
    assert collection, "an index with images never answers with nothing"
    for query in ("checkerboard", "sunset", "ball", "logo", "coffee OR cat OR rocket"):
        for _ in range(3 if query == "checkerboard" else 1):
            api.get("/v7.0/images/search", params={"q": query, "mkt": "en-AU"})
    api.get("/v7.0/images/search", params={"q": "zzzznothing", "mkt": "en-AU"})
    body = trending(api, mkt="en-AU")
    popular = popular_tiles(body)
    texts = [t["query"]["text"] for t in popular]
    assert {"checkerboard", "sunset", "ball", "logo"} <= set(texts)
    first = body["categories"][0]["tiles"][0]["query"]["text"]
    ranked = [t["query"]["text"] for c in body["categories"] for t in c["tiles"]]
    assert ranked.index("checkerboard") == 0 or first != "checkerboard"  # most searched leads
    popular = [t for t in popular if t["query"]["text"] == "checkerboard"] + popular
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


def test_trending_groups_by_topic_and_shows_curated_categories(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, index_dir = corpus
    curated = tmp_path / "trending.yaml"
    curated.write_text(
        "- title: Editors' picks\n  queries: [coffee, rocket, zzzznothing]\n"
        "- title: Only in Canada\n  queries: [cat]\n  markets: [en-CA]\n"
    )
    monkeypatch.setenv("PIXSEARCH_TRENDING_FILE", str(curated))
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("curated")
    process, base = start_server(index_dir)
    try:
        headers = {"Ocp-Apim-Subscription-Key": key}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for query in ("red circle", "blue square", "yellow star", "green triangle"):
                client.get("/v7.0/images/search", params={"q": query, "mkt": "en-IN"})
            body = client.get("/v7.0/images/trending", params={"mkt": "en-IN"}).json()
            canada = client.get("/v7.0/images/trending", params={"mkt": "en-CA"}).json()
    finally:
        stop_server(process)
    titles = [c["title"] for c in body["categories"]]
    assert titles[0] == "Editors' picks"
    assert [t["query"]["text"] for t in body["categories"][0]["tiles"]] == ["coffee", "rocket"]
    assert "Only in Canada" not in titles and "Only in Canada" in [
        c["title"] for c in canada["categories"]
    ]
    grouped = [c for c in body["categories"] if c["title"].startswith("Popular ")]
    assert any(c["title"] != "Popular searches" and len(c["tiles"]) >= 2 for c in grouped)
