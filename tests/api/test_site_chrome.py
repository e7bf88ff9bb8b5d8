"""Site chrome and template words over real HTTP: a templated site crawled, then searched.

The site is what the issue describes: a logo and a share button in every page, item
pages titled "Item N - Section - Acme Pictures" whose picture's alt text says what it
is, and section listings showing the same pictures as thumbnails without alt text.
Its pictures are real clip art (openclipart-png); the crawl is `pixsearch crawl`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import crawled_and_served
from tests.debian import apt_install

CLIPART = Path("/usr/share/openclipart/png")
LOGO = "buttons/shopping_cart_mimooh_01.png"  # an ordinary-sized picture: no small-size prior
SHARE = "buttons/rss_button_roman_bertle_01.png"
# (item number, section, alt text, file): the lighthouse is the "Item 12".
ITEMS = [
    (3, "Clipart", "apple", "food/apple_bitten_dan_gerhard_01.png"),
    (4, "Clipart", "bison", "animals/bison_leif_lodahl_01.png"),
    (5, "Clipart", "bowl", "food/bowl_chaspo_.png"),
    (6, "Clipart", "armadillo", "animals/armadillo_architetto_fra_01.png"),
    (7, "Clipart", "bat", "animals/bat_orlando_karam_.png"),
    (12, "Clipart", "lighthouse", "buildings/lighthouse_matthew_gates_.png"),
    (8, "Stamps", "church", "buildings/church_building_01_01.png"),
    (9, "Stamps", "burrito", "food/burrito_ganson.png"),
    (10, "Stamps", "cake", "food/cake_and_candle_anton_fr_01.png"),
    (11, "Stamps", "library", "buildings/carnegie_library_building_01.png"),
]
TEMPLATE = {"item", "clipart", "stamps", "acme", "pictures"}


def _layout(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html lang=en><head><title>{title} - Acme Pictures</title></head><body>"
        '<header><a href="/"><img src="/static/logo.png" alt="Acme Pictures"></a>'
        '<a href="/clipart/1.html">Clipart</a> <a href="/stamps/1.html">Stamps</a></header>'
        f"<main>{body}</main>"
        '<footer><a href="/feed"><img src="/static/share.png" alt="share"></a></footer>'
        "</body></html>"
    ).encode()


def _routes() -> dict[str, tuple[str, bytes]]:
    page = "text/html; charset=utf-8"
    routes = {
        "/static/logo.png": ("image/png", (CLIPART / LOGO).read_bytes()),
        "/static/share.png": ("image/png", (CLIPART / SHARE).read_bytes()),
        "/": (page, _layout("Home", "<h1>Acme Pictures</h1><p>Free clip art and stamps.</p>")),
    }
    for section in ("Clipart", "Stamps"):
        thumbs = "".join(
            f'<a href="/item/{n}.html"><img src="/img/{n}.png"></a>'
            for n, s, _, _ in ITEMS
            if s == section
        )
        body = f"<h1>{section}</h1>{thumbs}"
        routes[f"/{section.lower()}/1.html"] = (page, _layout(f"{section}, page 1", body))
    for n, section, alt, file in ITEMS:
        routes[f"/img/{n}.png"] = ("image/png", (CLIPART / file).read_bytes())
        body = (
            f"<h1>Item {n}</h1><figure><img src=/img/{n}.png alt={alt}></figure>"
            f"<p>Item {n} of the {section} section at Acme Pictures.</p>"
        )
        routes[f"/item/{n}.html"] = (page, _layout(f"Item {n} - {section}", body))
    return routes


@dataclass(frozen=True)
class Crawled:
    api: httpx.Client


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    reason = apt_install("openclipart-png")
    if reason:
        pytest.skip(reason)
    index_dir = tmp_path_factory.mktemp("chrome") / "index"
    with crawled_and_served(_routes(), index_dir) as client:
        yield Crawled(client)


def _search(api: httpx.Client, q: str) -> list[dict]:
    answer = api.get("/v7.0/images/search", params={"q": q, "count": 50})
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def _chrome(value: dict) -> bool:
    return "/static/" in value["contentUrl"]


def test_chrome_is_never_above_content(crawled: Crawled) -> None:
    # The logo's alt text is the site's name: unranked, it would lead this query.
    for q in ["acme pictures", "acme", "item clipart", *(alt for _, _, alt, _ in ITEMS)]:
        flags = [_chrome(v) for v in _search(crawled.api, q)]
        assert flags, q
        first_chrome = flags.index(True) if True in flags else len(flags)
        assert all(flags[first_chrome:]), (q, flags)
    site_name = _search(crawled.api, "acme pictures")
    assert not _chrome(site_name[0]) and any(_chrome(v) for v in site_name)  # demoted, not gone


def test_chrome_keeps_its_details(crawled: Crawled) -> None:
    logo = next(v for v in _search(crawled.api, "acme pictures") if "logo" in v["contentUrl"])
    answer = crawled.api.get(
        "/v7.0/images/details", params={"insightsToken": logo["imageInsightsToken"]}
    )
    assert answer.status_code == 200, answer.text
    pages = answer.json()["pagesIncluding"]["value"]
    assert len(pages) >= 5  # every page of the site shows it


def test_template_words_stay_out_of_best_query_and_tags(crawled: Crawled) -> None:
    lighthouse = next(v for v in _search(crawled.api, "lighthouse") if not _chrome(v))
    assert lighthouse["contentUrl"].endswith("/img/12.png")
    answer = crawled.api.get(
        "/v7.0/images/details", params={"insightsToken": lighthouse["imageInsightsToken"]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["bestRepresentativeQuery"]["text"] == "lighthouse"
    tags = {t["name"] for t in body["imageTags"]["value"]}
    assert "lighthouse" in tags and not tags & TEMPLATE, tags
