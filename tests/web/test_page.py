"""The search page in a real browser against a real server over a real index.

No test types a key: the page searches with the key the server gave it.
"""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect

from pixsearch.tenancy.instances import SqliteInstanceStore, parse_instance
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import Server

TILES = "#results li"


def shown_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all(TILES, "els => els.map(e => e.dataset.id)")


def wait_for_tiles(page: Page, more_than: int = 0, fewer_than: int = 10**6) -> int:
    """Poll from Python: the page's CSP rightly forbids the eval wait_for_function needs."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        count = page.locator(TILES).count()
        if more_than < count < fewer_than:
            return count
        page.wait_for_timeout(50)
    raise AssertionError(f"{page.locator(TILES).count()} tiles, not in ({more_than}, {fewer_than})")


def search_page(page: Page, server: Server, query: str) -> None:
    page.goto(f"{server.base}/search?{query}")
    expect(page.locator(TILES).first).to_be_visible()


def test_search_box_justified_grid_hover_card_and_history(page: Page, server: Server) -> None:
    page.goto(server.base + "/")
    expect(page.locator("#landing")).to_be_visible()
    expect(page.locator("#trending h2").first).to_be_visible()  # trending tiles on landing
    page.fill("#q", "red")
    page.press("#q", "Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=red$"))
    expect(page.locator(TILES).first).to_be_visible()
    expect(page.locator("#status")).to_contain_text("result")
    geometry = page.eval_on_selector_all(
        TILES,
        "els => els.map(e => [e.offsetTop, e.getBoundingClientRect().width,"
        " e.getBoundingClientRect().height, Number(e.dataset.ratio)])",
    )
    first_row = [g for g in geometry if g[0] == geometry[0][0]]
    assert len({round(g[2], 1) for g in first_row}) == 1  # one height per row
    for _, width, height, ratio in geometry:
        assert abs(width / height - ratio) < 0.02  # each thumbnail keeps its shape
    tile = page.locator(TILES).first
    tile.hover()
    card = tile.locator(".card")
    expect(card).to_have_css("opacity", "1")
    facts = card.inner_text()
    assert "×" in facts and re.search(r"PNG|JPEG", facts) and "127.0.0.1" in facts
    assert page.locator(f"{TILES} .badge").count() > 0  # pagesIncludingCount and friends
    page.go_back()
    expect(page.locator("#landing")).to_be_visible()
    page.go_forward()
    expect(page.locator("#q")).to_have_value("red")
    expect(page.locator(TILES).first).to_be_visible()


def test_filters_go_into_the_url_and_change_the_results(page: Page, server: Server) -> None:
    search_page(page, server, "q=pattern")
    before = shown_ids(page)
    page.click("label.swatch-red")
    expect(page).to_have_url(re.compile(r"q=pattern&color=Red"))
    expect(page.locator(".swatch-red input")).to_be_checked()
    wait_for_tiles(page, fewer_than=len(before))
    red = shown_ids(page)
    assert 0 < len(red) < len(before)
    page.focus("#filter-size")
    page.keyboard.press("ArrowDown")  # from the keyboard: "Any size" to "Small"
    expect(page).to_have_url(re.compile(r"size=Small&color=Red"))
    expect(page.locator("#filter-size")).to_be_focused()  # focus survives the redraw
    # every filter of the API has its control
    for name in ("size", "imageType", "aspect", "imageContent", "freshness", "license"):
        expect(page.locator(f"#filter-{name}")).to_be_visible()
    expect(page.locator("#filter-safeSearch")).to_be_visible()
    assert page.locator(".swatch-coloronly input, .swatch-monochrome input").count() == 2
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=pattern&color=Red$"))
    expect(page.locator("#filter-size")).to_have_value("")
    page.fill("#q", "circle")  # a new search keeps the filters, which then apply to it
    page.press("#q", "Enter")
    expect(page).to_have_url(re.compile(r"q=circle&color=Red$"))
    page.click("label.swatch-any")
    expect(page).to_have_url(re.compile(r"q=circle$"))


def test_spelling_note_and_suggestion_chips(page: Page, server: Server) -> None:
    search_page(page, server, "q=sunsett")
    spelling = page.locator("#spelling")
    expect(spelling).to_contain_text("Showing results for sunset")
    expect(spelling.locator("a")).to_have_attribute("href", re.compile(r"q=%2Bsunsett"))
    chip = page.locator("#chips .chip").first  # expansions, similar terms, related searches
    expect(chip).to_be_visible()
    target = chip.get_attribute("href")
    chip.click()
    expect(page).to_have_url(re.compile(re.escape(target or "?")))
    expect(page.locator(TILES).first).to_be_visible()


def test_scrolling_loads_more_without_duplicates(page: Page, server: Server) -> None:
    search_page(page, server, "q=pattern")
    first_page = len(shown_ids(page))
    assert first_page <= 50
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    wait_for_tiles(page, more_than=first_page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    ids = shown_ids(page)
    assert len(ids) > 50 and len(ids) == len(set(ids))


def test_details_panel_keys_and_shareable_url(page: Page, server: Server) -> None:
    search_page(page, server, "q=pattern")
    ids = shown_ids(page)
    page.locator(f"{TILES} a").first.click()
    dialog = page.locator("#details")
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(f"id={ids[0]}"))
    expect(page.locator(".details-visit")).to_have_attribute("href", re.compile("/images/"))
    expect(page.locator(".details-meta")).to_contain_text("×")
    expect(page.locator(".details-insights")).to_contain_text("Pages including")
    view = page.locator(".details-view")  # the original: /files/<imageId> here
    expect(view).to_have_attribute("href", re.compile(ids[0]))
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(f"id={ids[1]}"))
    expect(view).to_have_attribute("href", re.compile(ids[1]))
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(f"id={ids[0]}"))
    shared = page.url
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).not_to_have_url(re.compile("id="))  # closing went back
    page.goto(shared)  # the URL opens the same image's panel
    expect(dialog).to_be_visible()
    expect(view).to_have_attribute("href", re.compile(ids[0]))


def test_web_search_urls_of_the_api_land_on_the_page(
    page: Page, server: Server, api: httpx.Client
) -> None:
    body = api.get("/v7.0/images/search", params={"q": "red circle"}).json()
    page.goto(body["webSearchUrl"])
    expect(page.locator("#q")).to_have_value("red circle")
    expect(page.locator(TILES).first).to_be_visible()
    image = body["value"][0]
    page.goto(image["webSearchUrl"])
    expect(page.locator("#details")).to_be_visible()
    expect(page.locator("#details-title")).to_have_text(image["name"])


def test_search_by_image_upload_and_crop(page: Page, server: Server) -> None:
    page.goto(server.base + "/")
    page.click("#open-by-image")
    expect(page).to_have_url(re.compile(r"view=image"))
    picture = server.samples / "shapes" / "red-circle-on-white.png"
    with page.expect_response(lambda r: "/images/details" in r.url) as answer:
        page.set_input_files("#file", str(picture))
    assert answer.value.request.method == "POST" and answer.value.ok
    insights = page.locator("#upload-insights")
    expect(insights).to_contain_text("Pages including")
    stage = page.locator("#crop-stage").bounding_box()
    assert stage is not None
    with page.expect_request(lambda r: "cal=" in r.url and r.method == "POST") as cropped:
        page.mouse.move(stage["x"] + 5, stage["y"] + 5)
        page.mouse.down()
        page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
        page.mouse.up()
    assert re.search(r"car=0\.[45]", cropped.value.url)
    expect(page.locator("#crop-rect")).to_be_visible()


def test_trending_view(page: Page, server: Server) -> None:
    page.goto(server.base + "/")
    page.click("#nav-trending")
    expect(page.locator("#trending h1")).to_have_text("Trending searches")
    tile = page.locator("#trending li a").first
    query = tile.locator(".tile-query").inner_text()
    tile.click()
    expect(page.locator("#q")).to_have_value(query)
    expect(page.locator(TILES).first).to_be_visible()


def test_demo_fragment_key_is_taken_and_used(page: Page, server: Server) -> None:
    with page.expect_request(lambda r: "/v7.0/images/search" in r.url) as searched:
        page.goto(f"{server.base}/search?q=red#key={server.key}")
    assert searched.value.headers["ocp-apim-subscription-key"] == server.key
    assert page.evaluate("location.hash") == ""  # the key leaves the address bar
    assert page.evaluate("localStorage.getItem('pixsearch-key')") == server.key


def test_phone_width_dark_mode_and_labels(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme="dark")
    page = context.new_page()
    try:
        search_page(page, server, "q=pattern")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 19, 20)"
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('input, select')]"
            ".filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id)"
        )
        assert unlabelled == []
        assert page.evaluate(f"[...document.querySelectorAll('{TILES} img')].every(i => i.alt)")
        page.focus("#q")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "open-by-image"
        page.locator(f"{TILES} a").first.click()
        box = page.locator("#details").bounding_box()
        assert box is not None and box["width"] <= 375
    finally:
        context.close()


def test_custom_instance_chosen_by_url(page: Page, server: Server) -> None:
    instance = parse_instance({"config_id": "web-only", "sites": ["nowhere.example"]})
    SqliteInstanceStore(ServiceDb(server.index_dir / "service.db")).put(instance)
    with page.expect_request(lambda r: "images/search" in r.url) as searched:
        page.goto(f"{server.base}/search?q=red&customconfig=web-only")
    assert "/v7.0/custom/images/search?" in searched.value.url
    assert "customConfig=web-only" in searched.value.url
    expect(page.locator("#status")).to_contain_text("No images match")  # local files only
    page.click("label.swatch-red")
    expect(page).to_have_url(re.compile(r"color=Red&customconfig=web-only"))
