"""Context by proximity and structure: the image's own card, then its section, never elsewhere."""

from __future__ import annotations

from pixsearch.crawl.extract import extract_page
from pixsearch.crawl.nearby import NEAR_MAX
from pixsearch.crawl.occurrences import occurrence_for

ITEM = """<!doctype html><html><head><title>Item 12 – Coast – Harbour Gallery</title></head><body>
<header><a href="/"><img src="/brand.png" alt="Harbour Gallery"></a>
<nav><a href="/s/coast">Coast</a> <a href="/s/animals">Animals</a></nav></header>
<main><section class="entry"><h2>Coast</h2>
<p>Pictures of the shore, drawn by volunteers.</p>
<div class="card"><figure><img src="/m/9f2c.png" alt="">
<figcaption>A lighthouse at dusk</figcaption></figure>
<p class="card-text">Built in 1890 on the northern cliff.</p></div>
<p>Added 2024-05-01.</p></section>
<aside><h3>Popular right now</h3><p>Snowy owl, Emperor penguin, Sea otter</p></aside>
</main><footer><p>Harbour Gallery · pictures from Debian packages</p></footer></body></html>"""

GALLERY = """<html><body><section><h2>Collection 4</h2><ul class="grid">
<li><img src="/m/a.png" alt=""><p>A red apple on a plate.</p></li>
<li><img src="/m/b.png" alt=""><p>A green pear, half eaten.</p></li>
</ul></section></body></html>"""

TABLE = """<html><body><table>
<tr><td><img src="/t/1.png"></td><td>Steam locomotive, 1912</td></tr>
<tr><td><img src="/t/2.png"></td><td>Tram car, 1930</td></tr></table></body></html>"""


def _text(html: str, image: str) -> dict[str, str]:
    page = extract_page(html, "https://gallery.example/item/12.html")
    ref = next(r for r in page.images if r.url.endswith(image))
    return occurrence_for(ref, page).text


def test_card_text_is_near_and_the_aside_beside_it_is_not_context() -> None:
    text = _text(ITEM, "/m/9f2c.png")
    assert text["caption"] == "A lighthouse at dusk"
    assert text["near"] == "Built in 1890 on the northern cliff."  # the card, less its caption
    assert "shore" in text["context"] and "Coast" in text["context"]  # same section
    assert "Added 2024-05-01" in text["context"]
    for word in ("owl", "penguin", "otter", "Popular", "Debian", "Animals"):
        assert word not in text["context"]  # aside, footer, nav: elsewhere on the page
        assert word not in text["near"]


def test_header_logo_takes_no_text_from_the_content() -> None:
    text = _text(ITEM, "/brand.png")
    assert text["caption"] == "Harbour Gallery"
    assert "lighthouse" not in text.get("context", "") and "shore" not in text.get("context", "")
    assert "near" not in text  # the link holds only the logo, no text


def test_list_item_is_the_card_of_its_image() -> None:
    apple, pear = _text(GALLERY, "/m/a.png"), _text(GALLERY, "/m/b.png")
    assert apple["near"] == "A red apple on a plate."
    assert pear["near"] == "A green pear, half eaten."
    assert "pear" not in apple["near"] and "apple" not in pear["near"]


def test_table_row_holding_one_image_is_its_card() -> None:
    assert _text(TABLE, "/t/1.png")["near"] == "Steam locomotive, 1912"
    assert _text(TABLE, "/t/2.png")["near"] == "Tram car, 1930"


def test_a_long_block_is_a_region_not_a_card() -> None:
    long = "Harbours grew with the fishing fleet. " * 30  # over NEAR_MAX characters
    assert len(long) > NEAR_MAX
    html = (
        f"<html><body><div class=post><p>{long}</p><p><img src=/x.png> A breakwater.</p>"
        "</div></body></html>"
    )
    text = _text(html, "/x.png")
    assert text["near"] == "A breakwater."  # its own paragraph, not the whole post
    assert "fishing fleet" in text["context"]  # the post is its section


def test_text_under_a_later_heading_or_in_another_section_is_not_context() -> None:
    html = (
        "<html><body><article><section><h2>From the journal</h2><p>Today: a tugboat.</p>"
        "<p><img src=/j.png></p></section><section><h2>Next week</h2>"
        "<p>A hot air balloon.</p></section></article></body></html>"
    )
    text = _text(html, "/j.png")
    assert "tugboat" in text["context"] and "journal" in text["context"]
    assert "balloon" not in text["context"] and "Next week" not in text["context"]
