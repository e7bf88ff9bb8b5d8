"""Suggestions, trending and insights hide what search hides, under a server's own adult policy.

One index, served with PIXSEARCH_ADULT_THRESHOLD=0.0 (every picture the nudity
model looked at counts as adult) and a hosts-file blocklist. Pictures ingested
with the nudenet analyzer are then hidden by Moderate and Strict, a picture on
the blocked host by Strict; the same index's other pictures stay visible. Each
hidden picture has a visible near-duplicate or a visible namesake, so a
suggestion probe, a trending tile or an insights module that built its filters
without the policy would reveal it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data

from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

FILLERS = (
    "apple orchard",
    "mountain trail",
    "city skyline",
    "desert dunes",
    "forest path",
    "river bend",
    "snow peak",
    "garden rose",
)
# Each picture's own word: the query that finds it alone, whatever its group.
WORDS = {
    "crossing": "zebra-crossing",
    "stripes": "zebra-stripes",
    "beacon": "lighthouse",
    "mirror": "lighthouse-copy",
    "quay": "harbour",
    "lights": "harbour-lights",
}
LISTS = ("queryExpansions", "similarTerms", "relatedSearches")


@dataclass(frozen=True)
class Policy:
    api: httpx.Client
    ids: dict[str, str]  # picture's own word -> imageId


def mosaic(seed: int) -> Image.Image:
    blocks = np.random.default_rng(seed).integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    return Image.fromarray(blocks).resize((320, 240), Image.Resampling.NEAREST)


def save(folder: Path, name: str, image: Image.Image, page: str, caption: str, **png: int) -> None:
    image.save(folder / f"{name}.png", **png)
    (folder / f"{name}.json").write_text(json.dumps({"page_url": page, "caption": caption}))


def write_pictures(plain: Path, analysed: Path) -> None:
    """`analysed` is ingested with the nudity model, so a 0.0 threshold hides all of it."""
    plain.mkdir()
    analysed.mkdir()
    lighthouse = Image.fromarray(data.coffee())
    harbour = Image.fromarray(data.rocket())
    save(plain, "zebra-crossing", mosaic(1), "http://fine.example/crossing", "zebra crossing")
    save(plain, "lighthouse", lighthouse, "http://fine.example/lighthouse", "lighthouse beacon")
    save(plain, "harbour", harbour, "http://fine.example/harbour", "harbour quay")
    # The same pixels (other bytes) on a blocklisted host: hidden by Strict only.
    blocked = "http://www.blocked.example/harbour"
    save(plain, "harbour-lights", harbour, blocked, "harbour lights", compress_level=1)
    for seed, words in enumerate(FILLERS, start=10):
        name = words.replace(" ", "-")
        save(plain, name, mosaic(seed), f"http://fine.example/{name}", words)
    save(analysed, "zebra-stripes", mosaic(2), "http://other.example/zebra", "zebra stripes")
    other = "http://other.example/lighthouse"
    save(analysed, "lighthouse-copy", lighthouse, other, "lighthouse mirror", compress_level=1)


def pixsearch(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pixsearch", *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def search(api: httpx.Client, q: str, safe: str, **params: str) -> dict:
    response = api.get("/v7.0/images/search", params={"q": q, "safeSearch": safe, **params})
    assert response.status_code == 200, response.text
    return response.json()


def found(api: httpx.Client, q: str, safe: str) -> set[str]:
    return {image["imageId"] for image in search(api, q, safe, count="50")["value"]}


def suggested(body: dict) -> set[str]:
    out = {q["text"] for name in LISTS for q in body.get(name, [])}
    return out | {q["text"] for p in body.get("pivotSuggestions", []) for q in p["suggestions"]}


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Policy]:
    root = tmp_path_factory.mktemp("policy")
    index = root / "index"
    write_pictures(root / "plain", root / "analysed")
    # Embeddings everywhere (similar images), nudity scores only for `analysed`.
    pixsearch("ingest", str(root / "plain"), "--index", str(index), "--analyzers", "visual")
    analysed = ("--analyzers", "nudenet,visual")
    pixsearch("ingest", str(root / "analysed"), "--index", str(index), *analysed)
    hosts = root / "hosts.txt"
    hosts.write_text("# a hosts-file blocklist\n0.0.0.0 blocked.example\n")
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("policy")
    env = {"PIXSEARCH_ADULT_THRESHOLD": "0.0", "PIXSEARCH_ADULT_HOSTS_FILE": str(hosts)}
    process, base = start_server(index, env=env)
    headers = {"Ocp-Apim-Subscription-Key": key}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as api:
            # First, searched without safe search, into the query log: popular queries
            # become relatedSearches candidates, each proven by a one-hit probe. One
            # market each, as a market's popular list is cached for a while.
            assert search(api, "zebra stripes", "Off", mkt="en-US")["value"]
            assert search(api, "harbour lights", "Off", mkt="en-GB")["value"]
            ids = {word: found(api, word, "Off").pop() for word in WORDS}
            yield Policy(api=api, ids=ids)
    finally:
        stop_server(process)


def hidden(policy: Policy, safe: str) -> set[str]:
    """Image ids the search itself does not show at this safeSearch level."""
    return {i for word, i in policy.ids.items() if i not in found(policy.api, word, safe)}


def test_the_policy_hides_analysed_pictures_and_the_blocked_host(policy: Policy) -> None:
    ids = policy.ids
    assert hidden(policy, "Off") == set()
    assert hidden(policy, "Moderate") == {ids["stripes"], ids["mirror"]}
    assert hidden(policy, "Strict") == {ids["stripes"], ids["mirror"], ids["lights"]}


def test_suggestions_are_never_proven_by_hidden_pictures(policy: Policy) -> None:
    api = policy.api
    assert "zebra stripes" in suggested(search(api, "zebra", "Off", mkt="en-US"))
    cases = (
        ("Moderate", "zebra", "en-US", "zebra stripes"),
        ("Strict", "harbour", "en-GB", "harbour lights"),
    )
    for safe, q, market, leak in cases:
        body = search(api, q, safe, mkt=market)
        assert body["value"], (safe, q)
        texts = suggested(body)
        assert leak not in texts, (safe, q)
        for text in texts:
            assert search(api, text, safe, mkt=market, count="1")["value"], (safe, text)


def test_trending_shows_only_what_strict_search_shows(policy: Policy) -> None:
    api = policy.api
    response = api.get("/v7.0/images/trending", params={"mkt": "en-US"})
    assert response.status_code == 200, response.text
    tiles = [t for c in response.json()["categories"] for t in c["tiles"]]
    assert tiles
    secret = hidden(policy, "Strict")
    for tile in tiles:
        assert tile["image"]["imageId"] not in secret, tile["query"]["text"]
        assert search(api, tile["query"]["text"], "Strict", count="1")["value"]


def details(api: httpx.Client, image_id: str, safe: str, modules: str = "All") -> dict:
    params = {"id": image_id, "safeSearch": safe, "modules": modules}
    response = api.get("/v7.0/images/details", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def pages(body: dict) -> set[str]:
    return {p["hostPageUrl"] for p in body.get("pagesIncluding", {}).get("value", [])}


def test_insights_pages_and_similar_images_hide_what_search_hides(policy: Policy) -> None:
    api, ids = policy.api, policy.ids
    lighthouse = {"http://fine.example/lighthouse", "http://other.example/lighthouse"}
    assert pages(details(api, ids["beacon"], "Off")) == lighthouse
    assert pages(details(api, ids["beacon"], "Moderate")) == {"http://fine.example/lighthouse"}
    harbour = {"http://fine.example/harbour", "http://www.blocked.example/harbour"}
    assert pages(details(api, ids["quay"], "Moderate")) == harbour
    assert pages(details(api, ids["quay"], "Strict")) == {"http://fine.example/harbour"}
    similar_off = set()
    for safe in ("Off", "Moderate", "Strict"):
        secret = hidden(policy, safe)
        for word in ("crossing", "beacon", "quay"):
            body = details(api, ids[word], safe)
            similar = {i["imageId"] for i in body.get("visuallySimilarImages", {}).get("value", [])}
            shown = similar | {
                p["imageId"] for p in body.get("pagesIncluding", {}).get("value", [])
            }
            assert not shown & secret, (safe, word)
            if safe == "Off":
                similar_off |= similar
    assert similar_off & hidden(policy, "Moderate")  # there was something to hide


def test_visual_search_pages_hide_what_search_hides(policy: Policy) -> None:
    api, ids = policy.api, policy.ids
    token = details(api, ids["beacon"], "Moderate", modules="BRQ")["imageInsightsToken"]
    knowledge = json.dumps({"imageInfo": {"imageInsightsToken": token}})
    response = api.post(
        "/v7.0/images/visualsearch",
        params={"safeSearch": "Moderate"},
        files={"knowledgeRequest": (None, knowledge)},
    )
    assert response.status_code == 200, response.text
    actions = response.json()["tags"][0]["actions"]
    shown = {
        image.get("hostPageUrl")
        for action in actions
        for image in action.get("data", {}).get("value", [])
        if isinstance(image, dict)
    }
    assert "http://fine.example/lighthouse" in shown
    assert "http://other.example/lighthouse" not in shown
