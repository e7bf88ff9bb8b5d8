"""Similar images obey the place rule, over real HTTP: the page shown and the counts.

Real photos (scikit-image's cat) embedded by the real "visual" analyzer. The
query picture is on cats.example. A reframed cat (a different picture, similar)
is on two pets.example pages, one of which hotlinks it from cats.example's image
host; a smaller copy of it (its near-duplicate) is on a cats.example page: one
group, three pages, two sizes. A grey crop of the cat, also hotlinked from
cats.example, is shown only on a pets.example page. So a slice or site: of
cats.example matches the reframed original and the grey crop by their image URLs
alone: neither has a page to show there, and the reframed cat must be shown
through its copy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageOps

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.models.analyzer import AnalyzerUnavailable, load_analyzer
from pixsearch.records import Occurrence
from pixsearch.tenancy.instances import SqliteInstanceStore, parse_instance
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.api.conftest import photo, variant
from tests.conftest import start_server, stop_server

HOME = "http://cats.example/home"  # the query picture
PETS = "http://pets.example/kitten"  # the reframed cat
MIRROR = "http://pets.example/mirror"  # the reframed cat again, its file on cats.example
SMALL = "http://cats.example/small"  # the reframed cat's smaller copy
GREY = "http://pets.example/grey"  # the grey crop's page; its file is on cats.example
CDN = "http://cats.example/cdn"


@dataclass(frozen=True)
class Site:
    base: str
    key: str
    ids: dict[str, str]  # name -> imageId


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def place(page: str, words: str, image: str | None = None) -> Occurrence:
    return Occurrence(
        source=f"{page}#img",
        content_url=image or f"{page}.jpg",
        host_page_url=page,
        title=f"{words} picture",
        text={"caption": f"a {words}"},
    )


def build(index_dir: Path) -> dict[str, str]:
    cat = photo("chelsea")
    reframed = variant(cat)
    w, h = cat.size
    grey = ImageOps.grayscale(cat.crop((0, 0, w * 3 // 4, h))).convert("RGB")
    items = [
        ("cat", jpeg(cat), place(HOME, "cat")),
        ("reframed", jpeg(reframed), place(PETS, "kitten")),
        ("reframed", jpeg(reframed), place(MIRROR, "kitten", image=f"{CDN}/reframed.jpg")),
        ("small", jpeg(reframed.resize((w * 2 // 5, h * 2 // 5))), place(SMALL, "kitten")),
        ("grey", jpeg(grey), place(GREY, "grey cat", image=f"{CDN}/grey.jpg")),
    ]
    store = EmbeddedStore(index_dir, writable=True)
    indexer = Indexer(store)
    ids = {}
    for name, raw, occurrence in items:
        item = process_bytes(raw, occurrence, PipelineConfig(analyzers=("visual",)))
        assert isinstance(item, Processed), item
        indexer.handle(item)
        ids[name] = item.facts.image_id
    indexer.commit()
    found = {name: store.get_by_image_id(i) for name, i in ids.items()}
    docs = {name: doc for name, doc in found.items() if doc is not None}
    groups = {name: doc.group_id for name, doc in docs.items()}
    assert groups["reframed"] == groups["small"]  # the copy is the reframed cat's duplicate
    assert len({groups["cat"], groups["reframed"], groups["grey"]}) == 3
    # The store matches the reframed cat's group on cats.example by the original (its
    # image URL), not by the copy: what the page shown must be chosen from.
    vector = store.vector(docs["cat"].doc_id)
    assert vector is not None
    on_cats = Filters(sites=("cats.example",))
    hits = store.similar(vector, k=10, filters=on_cats, exclude_group=groups["cat"])
    assert [h.group_id for h in hits if h.doc_id == docs["reframed"].doc_id] == [groups["small"]]
    store.close()
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    try:
        load_analyzer("visual")
    except AnalyzerUnavailable as exc:
        pytest.skip(f"image models not installed: {exc}")
    index_dir = tmp_path_factory.mktemp("similar-place") / "index"
    ids = build(index_dir)
    service = ServiceDb(index_dir / "service.db")
    SqliteInstanceStore(service).put(
        parse_instance({"config_id": "cats", "sites": ["cats.example"]})
    )
    key = SqliteKeyStore(service).create("similar-place-tests")
    process, base = start_server(index_dir)
    try:
        yield Site(base, key, ids)
    finally:
        stop_server(process)


def call(
    site: Site, method: str, path: str, *, params: dict | None = None, files: dict | None = None
) -> dict:
    headers = {"Ocp-Apim-Subscription-Key": site.key}
    response = httpx.request(
        method, site.base + path, headers=headers, params=params, files=files, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


Shown = dict[str, tuple[str, int, int]]


def shown(values: list[dict]) -> Shown:
    """imageId -> (hostPageUrl, pagesIncludingCount, availableSizesCount)."""
    return {
        v["imageId"]: (
            v["hostPageUrl"],
            v["insightsMetadata"]["pagesIncludingCount"],
            v["insightsMetadata"]["availableSizesCount"],
        )
        for v in values
    }


def details_similar(site: Site, **params: str) -> Shown:
    body = call(site, "GET", "/v7.0/images/details", params={"modules": "SimilarImages", **params})
    return shown(body.get("visuallySimilarImages", {}).get("value", []))


def reframed(site: Site, similar: Shown) -> tuple[str, str, int, int]:
    """The reframed cat's group as shown: (which member, hostPageUrl, pages, sizes)."""
    [found] = [(n, *similar[site.ids[n]]) for n in ("reframed", "small") if site.ids[n] in similar]
    return found


def test_unscoped_similar_images_count_every_page_and_size(site: Site) -> None:
    similar = details_similar(site, id=site.ids["cat"])
    assert reframed(site, similar)[2:] == (3, 2)
    assert similar[site.ids["grey"]] == (GREY, 1, 1)


def test_a_custom_slice_shows_and_counts_only_its_pages(site: Site) -> None:
    body = call(
        site,
        "GET",
        "/bingcustomsearch/v7.0/images/search",
        params={"q": "cat", "customConfig": "cats", "count": 10},
    )
    [cat] = [v for v in body["value"] if v["imageId"] == site.ids["cat"]]
    similar = details_similar(site, insightsToken=cat["imageInsightsToken"])
    assert reframed(site, similar) == ("small", SMALL, 1, 1)
    assert site.ids["grey"] not in similar  # matched by its image URL, no page inside
    assert all(url.startswith("http://cats.example/") for url, _, _ in similar.values())


def visual_similar(site: Site, token: str, domain: str) -> Shown:
    knowledge = {
        "imageInfo": {"imageInsightsToken": token},
        "knowledgeRequest": {"invokedSkills": ["SimilarImages"], "filters": {"site": domain}},
    }
    files = {"knowledgeRequest": (None, json.dumps(knowledge))}
    body = call(site, "POST", "/v7.0/images/visualsearch", files=files)
    actions = [a for tag in body["tags"] for a in tag["actions"]]
    found = [a for a in actions if a["actionType"] == "VisualSearch"]
    return shown(found[0]["data"]["value"]) if found else {}


def test_visual_search_site_shows_and_counts_only_pages_on_it(site: Site) -> None:
    params = {"id": site.ids["cat"], "modules": "Caption"}
    token = call(site, "GET", "/v7.0/images/details", params=params)["imageInsightsToken"]
    pets = visual_similar(site, token, "pets.example")
    assert reframed(site, pets) == ("reframed", PETS, 2, 1)
    assert pets[site.ids["grey"]] == (GREY, 1, 1)
    cats = visual_similar(site, token, "cats.example")
    assert reframed(site, cats) == ("small", SMALL, 1, 1)
    assert site.ids["grey"] not in cats
