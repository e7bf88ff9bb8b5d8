"""Template words weighed down in ranking, over real HTTP: a templated site crawled, then searched.

Pages are titled "Item N - Section - Acme Pictures", so "clipart" (a section's name)
is one of the site's template words (index/chrome.py). A query that pairs it with a
word of what a picture shows ("clipart lighthouse") must rank the picture that word
describes best (the lighthouse, whose alt text is that one word) first, not the anchor
"by a lighthouse" that the section's listing pages repeat under the template's words.
With the template word weighed as any other word (TEMPLATE_WEIGHT 1.0) the anchor
comes first here: its many "Clipart" titles outweigh the lighthouse's focus. The
pictures are real clip art (openclipart-png); the crawl is `pixsearch crawl`; semantic
matching is off (the test suite's default), so the order is BM25's with the template
word's weight.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import crawled_and_served
from tests.debian import apt_install

CLIPART = Path("/usr/share/openclipart/png")
LISTINGS = 4
TOWER = "A tall white tower on the rocks, with a red lamp room."
# (item number, section, alt text, file, text in the picture's own card). Pictures of
# the other sections are "by a lighthouse" too: the subject word is commoner than the
# section's name, as on a big site, so the template word's idf counts.
ITEMS = [
    (1, "Clipart", "lighthouse", "buildings/lighthouse_matthew_gates_.png", TOWER),
    (2, "Clipart", "anchor by a lighthouse", "transportation/anchor.png", ""),
    (3, "Clipart", "apple", "food/apple_bitten_dan_gerhard_01.png", ""),
    (4, "Clipart", "bison", "animals/bison_leif_lodahl_01.png", ""),
    (5, "Clipart", "bowl", "food/bowl_chaspo_.png", ""),
    (6, "Clipart", "bread", "food/bread_and_wine_mark_near_.png", ""),
    (7, "Stamps", "church by a lighthouse", "buildings/church_building_01_01.png", ""),
    (8, "Stamps", "burrito at the lighthouse", "food/burrito_ganson.png", ""),
    (9, "Stamps", "cake", "food/cake_and_candle_anton_fr_01.png", ""),
    (10, "Stamps", "library and lighthouse", "buildings/carnegie_library_building_01.png", ""),
    (11, "Stamps", "crawfish", "food/crawfish1_ganson.png", ""),
    (12, "Stamps", "soup", "food/bowl_of_steaming_soup_01.png", ""),
    (13, "Maps", "factory below a lighthouse", "buildings/factory_gabrielle_nowick_.png", ""),
    (14, "Maps", "school beside a lighthouse", "buildings/school_country__abiclipa_01.png", ""),
    (15, "Maps", "water tower", "buildings/water_tower_ganson.png", ""),
    (16, "Maps", "fire station", "buildings/firestation_mimooh_01.png", ""),
    (17, "Maps", "champignon", "food/champignon_01.png", ""),
    (18, "Maps", "chef at a lighthouse", "food/chef_jarno_vasamaa_.png", ""),
]


def _page(n: int, section: str, alt: str, card: str) -> bytes:
    text = f"<p>{card}</p>" if card else ""
    return (
        f"<!doctype html><html lang=en><head><title>Item {n} - {section} - Acme Pictures"
        f"</title></head><body><header><h2>Acme Pictures</h2></header><main>"
        f"<h1>Item {n} - {section}</h1><ul><li><img src=/img/{n}.png alt='{alt}'>{text}</li></ul>"
        f"<p>Item {n} of the {section} section.</p></main></body></html>"
    ).encode()


def _routes() -> dict[str, tuple[str, bytes]]:
    html = "text/html; charset=utf-8"
    listings = [f"/clipart/{k}.html" for k in range(1, LISTINGS + 1)]
    links = "".join(f'<a href="{url}">{url}</a> ' for url in listings)
    links += "".join(f'<a href="/item/{n}.html">{n}</a> ' for n, *_ in ITEMS)
    home = f"<!doctype html><title>Acme Pictures</title><h1>Acme Pictures</h1>{links}"
    routes = {"/": (html, home.encode())}
    # The section's own listings show the anchor again, without alt text: pages whose
    # every word is the template's ("Clipart, page 2 - Acme Pictures").
    for k, url in enumerate(listings, start=1):
        body = f"<h1>Clipart</h1><p>Clipart, page {k}.</p><img src=/img/2.png>"
        page = f"<!doctype html><title>Clipart, page {k} - Acme Pictures</title>{body}"
        routes[url] = (html, page.encode())
    for n, section, alt, file, card in ITEMS:
        routes[f"/img/{n}.png"] = ("image/png", (CLIPART / file).read_bytes())
        routes[f"/item/{n}.html"] = (html, _page(n, section, alt, card))
    return routes


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    reason = apt_install("openclipart-png")
    if reason:
        pytest.skip(reason)
    index_dir = tmp_path_factory.mktemp("template") / "index"
    with crawled_and_served(_routes(), index_dir) as client:
        yield client


def _items(api: httpx.Client, q: str) -> list[int]:
    answer = api.get("/v7.0/images/search", params={"q": q, "count": 10})
    assert answer.status_code == 200, answer.text
    return [int(v["contentUrl"].rsplit("/", 1)[1].split(".")[0]) for v in answer.json()["value"]]


def test_a_template_word_does_not_lift_the_page_repeating_it(api: httpx.Client) -> None:
    # Both pictures hold both words; the anchor's page repeats the template word.
    assert set(_items(api, "clipart lighthouse")) == {1, 2}
    assert _items(api, "clipart lighthouse")[0] == 1
    assert _items(api, "lighthouse clipart")[0] == 1


def test_template_words_alone_still_match_and_filter(api: httpx.Client) -> None:
    # Weighed down, not dropped: the section's word still narrows the matches.
    assert set(_items(api, "clipart")) == {1, 2, 3, 4, 5, 6}
    assert set(_items(api, "stamps cake")) == {9}
