"""A filter holds for what a result shows, over real HTTP: its page, its copy, its counts.

One real photo (scikit-image's astronaut) is on page A (CC0) and page B (no
licence) of two sites; a smaller re-encoded copy of it, a near-duplicate, is on
page C (CC BY) of B's site, published this week where A and B are a year old.
The store matches the picture by the union of its pages, so what is shown must
be chosen: a page holding every page-level filter at once, from a copy that
passes the file-level ones, and counts of only what the request may see.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import Occurrence
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.insights import InsightsService
from pixsearch.search.uploads import UploadCache
from pixsearch.search.visual import PictureInsights
from pixsearch.tenancy.instances import SqliteInstanceStore, parse_instance
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

A = "http://a.example/space/astronaut.html"  # CC0, a year old
B = "http://b.example/gallery/astronaut.html"  # no licence, a year old
C = "http://b.example/news/astronaut.html"  # the smaller copy, CC BY, this week
D = "http://a.example/kitchen/coffee.html"  # another picture, CC0
Q = "astronaut orbit photo"  # B's words: B ranks and is chosen first when nothing filters
BOTH = "astronaut orbit"  # the words of every page, the copy's included
OLD = datetime.now(UTC) - timedelta(days=400)
NEW = datetime.now(UTC) - timedelta(days=2)


@dataclass(frozen=True)
class Site:
    base: str
    key: str
    index_dir: Path
    big: str  # imageId of the 512x512 original (pages A and B)
    small: str  # imageId of its 320x320 copy (page C)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def page(url: str, words: str, license: str | None, published: datetime) -> Occurrence:
    return Occurrence(
        source=f"{url}#img",
        content_url=url.replace(".html", ".jpg"),
        host_page_url=url,
        title=words,
        text={"caption": words},
        license=license,
        date_published=published,
    )


def build(index_dir: Path) -> tuple[str, str]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut()).convert("RGB")
    coffee = Image.fromarray(data.coffee()).convert("RGB")
    big, small = jpeg(astronaut), jpeg(astronaut.resize((320, 320), Image.LANCZOS))
    items = [
        (big, page(A, "astronaut in orbit", "cc0", OLD)),
        # B's words match the query best: unfiltered, B is the page shown
        (big, page(B, "astronaut orbit photo astronaut photo", None, OLD)),
        (small, page(C, "astronaut orbit", "cc-by", NEW)),
        (jpeg(coffee), page(D, "coffee cup photo", "cc0", OLD)),
    ]
    store = EmbeddedStore(index_dir, writable=True)
    indexer = Indexer(store)
    ids = []
    for raw, occurrence in items:
        item = process_bytes(raw, occurrence, PipelineConfig())
        assert isinstance(item, Processed), item
        indexer.handle(item)
        ids.append(item.facts.image_id)
    indexer.commit()
    store.close()
    return ids[0], ids[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    index_dir = tmp_path_factory.mktemp("shown") / "index"
    big, small = build(index_dir)
    service = ServiceDb(index_dir / "service.db")
    SqliteInstanceStore(service).put(parse_instance({"config_id": "bonly", "sites": ["b.example"]}))
    key = SqliteKeyStore(service).create("shown-tests")
    process, base = start_server(index_dir)
    try:
        yield Site(base, key, index_dir, big, small)
    finally:
        stop_server(process)


def get(site: Site, path: str, **params: object) -> dict:
    response = httpx.get(
        site.base + path, params=params, headers={"Ocp-Apim-Subscription-Key": site.key}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def astronauts(site: Site, q: str = Q, path: str = "/v7.0/images/search", **params: object) -> list:
    body = get(site, path, q=q, count=50, **params)
    return [v for v in body["value"] if v["imageId"] in (site.big, site.small)]


def counts(value: dict) -> tuple[int, int]:
    meta = value["insightsMetadata"]
    return meta["pagesIncludingCount"], meta["availableSizesCount"]


def test_the_copies_are_one_picture_on_three_pages(site: Site) -> None:
    [shown] = astronauts(site)
    assert shown["hostPageUrl"] == B  # the best words, no filter to hold
    assert counts(shown) == (3, 2)


def test_public_shows_the_cc0_page_and_counts_only_it(site: Site) -> None:
    [shown] = astronauts(site, license="Public")
    assert (shown["imageId"], shown["hostPageUrl"]) == (site.big, A)
    assert shown["name"] == "astronaut in orbit"
    assert counts(shown) == (1, 1)


def test_any_licence_never_shows_the_unlicensed_page(site: Site) -> None:
    for q in (Q, BOTH, "astronaut"):
        [shown] = astronauts(site, q=q, license="Any")
        assert shown["hostPageUrl"] in (A, C)
        assert counts(shown) == (2, 2)  # A and C, each copy's size


def test_site_shows_only_pages_inside(site: Site) -> None:
    [inside] = astronauts(site, q=f"{Q} site:b.example")
    assert inside["hostPageUrl"] in (B, C) and counts(inside) == (2, 2)
    [other] = astronauts(site, q=f"{Q} site:a.example")
    assert (other["hostPageUrl"], counts(other)) == (A, (1, 1))


def test_a_copy_holding_site_and_licence_together_is_shown(site: Site) -> None:
    """The original matches site:b.example by B and a licence by A, but no page holds
    both: its near-duplicate on C does, so the picture shows through that copy."""
    [shown] = astronauts(site, q=f"{BOTH} site:b.example", license="Any")
    assert (shown["imageId"], shown["hostPageUrl"]) == (site.small, C)
    assert counts(shown) == (1, 1)
    assert astronauts(site, q=f"{BOTH} site:b.example", license="Public") == []


def test_a_size_shows_the_copy_that_has_it_and_counts_it_alone(site: Site) -> None:
    [large] = astronauts(site, q=BOTH, size="Large")
    assert large["imageId"] == site.big and large["hostPageUrl"] in (A, B)
    assert counts(large) == (2, 1)  # the original's pages; the copy is not Large
    [medium] = astronauts(site, q=BOTH, size="Medium")
    assert (medium["imageId"], medium["hostPageUrl"], counts(medium)) == (site.small, C, (1, 1))
    [both] = astronauts(site, q=BOTH, size="Large", license="Any")
    assert (both["hostPageUrl"], counts(both)) == (A, (1, 1))


def test_freshness_shows_only_a_page_published_in_range(site: Site) -> None:
    [shown] = astronauts(site, q=BOTH, freshness="Week")
    assert (shown["imageId"], shown["hostPageUrl"], counts(shown)) == (site.small, C, (1, 1))


def test_custom_slice_shows_and_counts_only_its_pages(site: Site) -> None:
    path = "/bingcustomsearch/v7.0/images/search"
    [shown] = astronauts(site, path=path, customConfig="bonly")
    assert shown["hostPageUrl"] in (B, C) and counts(shown) == (2, 2)
    [licensed] = astronauts(site, q=BOTH, path=path, customConfig="bonly", license="Any")
    assert (licensed["hostPageUrl"], counts(licensed)) == (C, (1, 1))
    details = get(site, "/v7.0/images/details", insightsToken=shown["imageInsightsToken"])
    pages = details["pagesIncluding"]["value"]
    assert sorted(p["hostPageUrl"] for p in pages) == [B, C]
    assert all(counts(p) == (2, 2) for p in pages)


def test_details_list_and_count_every_page_as_search_does(site: Site) -> None:
    [shown] = astronauts(site)
    details = get(site, "/v7.0/images/details", insightsToken=shown["imageInsightsToken"])
    pages = details["pagesIncluding"]["value"]
    assert sorted(p["hostPageUrl"] for p in pages) == [A, B, C]
    assert all(counts(p) == counts(shown) == (3, 2) for p in pages)


@pytest.mark.parametrize(
    ("filters", "listed", "sizes"),
    [
        (Filters(license="public"), [A], 1),
        (Filters(license="any"), [A, C], 2),
        (Filters(published_since=datetime.now(UTC) - timedelta(days=7)), [C], 1),
        (Filters(scope_sites=("b.example",), license="any"), [C], 1),
    ],
)
def test_details_pages_under_a_licence_or_slice(
    site: Site, tmp_path: Path, filters: Filters, listed: list[str], sizes: int
) -> None:
    store = EmbeddedStore(site.index_dir)
    try:
        pictures = PictureInsights(
            store, InsightsService(store), UploadCache(tmp_path), AdultPolicy()
        )
        insights = pictures.visible(pictures.of_image(site.big), filters)
        assert sorted(p.occurrence.host_page_url or "" for p in insights.pages) == listed
        assert (insights.page_count, insights.sizes) == (len(listed), sizes)
    finally:
        store.close()
