"""HTML extraction: candidates, per-field context, page facts, robots directives."""

from __future__ import annotations

from datetime import UTC, datetime

from pixsearch.crawl.extract import extract_page
from pixsearch.crawl.occurrences import occurrence_for

PAGE = """<!doctype html><html lang="de-AT"><head>
<title>Wild animals</title><base href="https://ex.com/media/">
<meta property="article:published_time" content="2021-05-04T10:00:00Z">
<meta property="og:image" content="/og/cover.jpg"><meta property="og:image:alt" content="cover art">
<link rel="license" href="https://creativecommons.org/licenses/by-nc-sa/4.0/">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"Product","name":"Fox toy","image":["https://ex.com/p/toy.jpg"],
  "offers":{"@type":"Offer","price":"19.99","priceCurrency":"EUR",
  "availability":"https://schema.org/InStock","seller":{"@type":"Organization","name":"Shop"}}},
 {"@type":"Recipe","name":"Fox stew","recipeYield":"4","recipeIngredient":["carrot","leek"],
  "image":{"@type":"ImageObject","url":"https://ex.com/r/stew.jpg","caption":"a stew"}}]}
</script></head><body>
<h1>Animals of the forest</h1>
<h2>Foxes</h2>
<p>Before the picture there is text about the red fox.</p>
<figure><a href="/fox"><img src="fox-small.jpg" srcset="fox-small.jpg 300w, fox-big.jpg 1200w"
 sizes="50vw" alt="A red fox" title="Fox portrait"></a>
<figcaption>Fox in the snow</figcaption></figure>
<p>After the picture, more about its den.</p>
<h2>Owls</h2>
<img src="data:image/gif;base64,R0lGOD" data-src="lazy-owl.jpg" alt="owl">
<noscript><img src="owl-fallback.jpg" alt="owl fallback"></noscript>
<picture><source srcset="cat.webp 1x, cat@2x.webp 2x"><img src="cat.jpg" alt="cat"></picture>
<a href="/next" rel="nofollow">hidden</a><a href="/other">other</a>
<script>var img = "<img src=script.jpg>";</script>
</body></html>"""


def test_candidates_base_srcset_lazy_noscript_picture_meta_jsonld() -> None:
    page = extract_page(PAGE, "https://ex.com/animals")
    urls = [ref.url for ref in page.images]
    assert urls[0] == "https://ex.com/media/fox-big.jpg"  # largest srcset candidate
    assert page.images[0].alternates == ["https://ex.com/media/fox-small.jpg"]
    assert "https://ex.com/media/lazy-owl.jpg" in urls  # data-src beats the placeholder
    assert "https://ex.com/media/owl-fallback.jpg" in urls  # noscript fallback
    assert "https://ex.com/media/cat@2x.webp" in urls  # picture/source, densest
    assert "https://ex.com/og/cover.jpg" in urls
    assert {"https://ex.com/p/toy.jpg", "https://ex.com/r/stew.jpg"} <= set(urls)
    assert not any("script.jpg" in u or u.startswith("data:") for u in urls)


def test_context_fields_are_kept_apart() -> None:
    page = extract_page(PAGE, "https://ex.com/animals")
    fox = occurrence_for(page.images[0], page)
    assert fox.text["caption"] == "A red fox Fox in the snow"
    assert fox.text["name"] == "Fox portrait"
    assert "Foxes" in fox.text["context"] and "Animals of the forest" in fox.text["context"]
    assert "red fox" in fox.text["context"] and "its den" in fox.text["context"]
    assert fox.text["page_title"] == "Wild animals Animals of the forest"
    assert fox.text["url_words"] == "fox big"
    owl = next(r for r in page.images if r.url.endswith("lazy-owl.jpg"))
    assert owl.context.startswith("Animals of the forest Owls ")  # headings in force: h1, h2


def test_page_facts_licence_date_language_offers_recipe() -> None:
    page = extract_page(PAGE, "https://ex.com/animals")
    facts = page.facts
    assert facts.license == "cc-by-nc-sa"
    assert facts.language == "de"
    assert facts.date_published == datetime(2021, 5, 4, 10, tzinfo=UTC)
    assert facts.offers == [
        {"price": "19.99", "currency": "EUR", "seller": "Shop", "availability": "InStock"}
    ]
    assert facts.recipe is not None and facts.recipe["ingredients"] == ["carrot", "leek"]
    stew = occurrence_for(next(r for r in page.images if r.url.endswith("stew.jpg")), page)
    assert stew.text["caption"] == "a stew" and stew.recipe == facts.recipe


def test_links_skip_nofollow_and_meta_robots() -> None:
    page = extract_page(PAGE, "https://ex.com/animals")
    assert "https://ex.com/other" in page.links and "https://ex.com/next" not in page.links
    meta = '<meta name="robots" content="noindex, nofollow">'
    blocked = extract_page(
        f"<html><head>{meta}</head><body><a href=/x>x</a></body></html>", "http://h/"
    )
    assert blocked.noindex and blocked.nofollow and blocked.links == []
    header = extract_page("<img src=a.jpg>", "http://h/", {"X-Robots-Tag": "noimageindex"})
    assert header.noimageindex and not header.noindex


def test_jsonld_licence_cc0_and_last_modified() -> None:
    doc = (
        '<script type="application/ld+json">{"@type":"Article","license":'
        '"https://creativecommons.org/publicdomain/zero/1.0/","image":"/a.jpg"}</script>'
    )
    page = extract_page(doc, "http://h/p", {"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert page.facts.license == "cc0"
    assert page.facts.date_published == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert [r.url for r in page.images] == ["http://h/a.jpg"]


def test_broken_markup_and_json_do_not_raise() -> None:
    page = extract_page(
        b"<html><body><img src='x.jpg' alt='a<b'><script type='application/ld+json'>{bad",
        "http://h/",
    )
    assert [r.url for r in page.images] == ["http://h/x.jpg"]


def test_charset_from_header_or_meta() -> None:
    body = '<meta charset="iso-8859-1"><img src="a.jpg" alt="café">'.encode("latin-1")
    assert extract_page(body, "http://h/").images[0].caption == "café"
    cyrillic = '<img src="a.jpg" alt="кот">'.encode("cp1251")
    headers = {"Content-Type": "text/html; charset=windows-1251"}
    assert extract_page(cyrillic, "http://h/", headers).images[0].caption == "кот"
    assert extract_page(
        b"<img src=a.jpg alt=x>", "http://h/", {"Content-Type": "text/html; charset=nope"}
    )
