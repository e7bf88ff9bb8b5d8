"""The HTML of the held-out site (bench/quality_site_gen.py explains the design).

Every page records in the truth which image files it shows, its licence and date.
"""

from __future__ import annotations

import random
from datetime import timedelta

from quality_site_gen import (
    DISTANCES,
    FILLER,
    GALLERY_SHOWS,
    LOGO,
    PER_GALLERY,
    SITE_NAME,
    FileTruth,
    PageTruth,
    PictureTruth,
    Routes,
    Truth,
    esc,
    page_licence,
    published,
    stable_hash,
)

PER_SECTION_LIST = 60
HTML = "text/html; charset=utf-8"


def _section_name(section: str) -> str:
    return section.replace("_", " ").capitalize()


def _layout(truth: Truth, title: str, body: str, page: PageTruth) -> bytes:
    nav = " ".join(
        f'<a href="/section/{s}/1.html">{esc(_section_name(s))}</a>' for s in truth.sections
    )
    licence = (
        f'<p class="rights">Pictures on this page: <a rel="license" href="{page.license}">'
        f"{'CC0 1.0' if 'zero' in page.license else 'CC BY 4.0'}</a></p>"
        if page.license
        else "<p class=rights>All rights reserved by their authors.</p>"
    )
    page.files.insert(0, LOGO)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)}</title>"
        f'<meta property="article:published_time" content="{page.published.isoformat()}">'
        "</head><body>"
        f'<header><a href="/"><img src="{LOGO}" alt="{SITE_NAME}" width=220 height=60></a>'
        f"<nav>{nav}</nav></header><main>{body}</main>"
        f"<footer>{licence}<p>{SITE_NAME} · pictures from Debian packages</p></footer>"
        "</body></html>"
    ).encode()


def _files_of(truth: Truth, index: int) -> list[FileTruth]:
    return [f for f in truth.files.values() if f.picture == index]


def _img(item: PictureTruth, shown: FileTruth) -> str:
    if item.opaque:
        return f'<img src="{shown.url}" alt="" width={shown.width} height={shown.height}>'
    return (
        f'<img src="{shown.url}" alt="{esc(item.picture.title)}" '
        f'title="{esc(item.picture.title)}" width={shown.width} height={shown.height}>'
    )


def _filler(key: str) -> str:
    return FILLER[stable_hash(key) % len(FILLER)]


def item_page(truth: Truth, index: int, number: int, popular: list[int]) -> tuple[str, bytes]:
    item = truth.pictures[index]
    url = f"/item/{number}.html"
    page = PageTruth(url, page_licence(item, url), published(url, truth.now))
    full = max(_files_of(truth, index), key=lambda f: f.width * f.height)
    page.files.append(full.url)
    distance = "figcaption"
    if item.opaque:
        distance = DISTANCES[stable_hash(url) % len(DISTANCES)]
    said = esc(item.description)
    caption = said if distance == "figcaption" else ""  # always, for pictures with alt text
    section = esc(_section_name(item.picture.section))
    names = ", ".join(esc(truth.pictures[i].picture.title) for i in popular)
    notes = f"<div class=notes><h3>Notes</h3><p>{said}</p></div>" if distance == "elsewhere" else ""
    body = (
        f"<section class=entry><h2>{section}</h2>"
        f"<p>{said if distance == 'section' else _filler(url)}</p>"
        "<p>Every item of the gallery comes in the sizes listed beside it.</p>"
        f"<div class=card><figure>{_img(item, full)}"
        + (f"<figcaption>{caption}</figcaption>" if caption else "")
        + "</figure>"
        f"<p class=card-text>{said if distance == 'card' else _filler('card' + url)}</p></div>"
        f"<p>Added {page.published.date().isoformat()}.</p></section>"
        f"<aside><h3>Popular right now</h3><p>{names}</p></aside>{notes}"
    )
    title = f"Item {number} – {_section_name(item.picture.section)} – {SITE_NAME}"
    return url, _layout(truth, title, body, page_with(truth, page))


def page_with(truth: Truth, page: PageTruth) -> PageTruth:
    truth.pages[page.url] = page
    return page


def gallery_page(truth: Truth, number: int, members: list[int]) -> tuple[str, bytes]:
    url = f"/gallery/{number}.html"
    page = PageTruth(url, None, published(url, truth.now))
    cards = []
    for index in members:
        item = truth.pictures[index]
        files = sorted(_files_of(truth, index), key=lambda f: f.width * f.height)
        shown = files[0] if stable_hash(f"{url} {index}") % 3 else files[-1]
        png = [f for f in files if f.url.endswith(".png")]
        if png and not item.picture.photo:
            shown = png[0] if stable_hash(f"{url} {index}") % 3 else png[-1]
        page.files.append(shown.url)
        text = esc(item.description) if item.opaque else _filler(f"{url}{index}")
        cards.append(f"<li>{_img(item, shown)}<p>{text}</p></li>")
    body = f"<section><h2>Collection {number}</h2><ul class=grid>{''.join(cards)}</ul></section>"
    title = f"Page {number} – Collections – {SITE_NAME}"
    return url, _layout(truth, title, body, page_with(truth, page))


def note_page(truth: Truth, number: int, index: int, other: int) -> tuple[str, bytes]:
    item, away = truth.pictures[index], truth.pictures[other]
    url = f"/journal/{number}.html"
    page = PageTruth(url, page_licence(item, url), published(url, truth.now))
    files = _files_of(truth, index)
    jpegs = [f for f in files if f.url.endswith(".jpg")]
    shown = jpegs[0] if jpegs else max(files, key=lambda f: f.width)
    page.files.append(shown.url)
    body = (
        "<article><section><h2>From the journal</h2>"
        f"<p>{_filler(url)} Today's pick: {esc(item.description)}</p>"
        f"<p>{_img(item, shown)}</p></section>"
        "<section><h2>Coming next week</h2>"
        f"<p>Next week we look at another one: {esc(away.description)}</p></section></article>"
    )
    title = f"Note {number} – Journal – {SITE_NAME}"
    return url, _layout(truth, title, body, page_with(truth, page))


def build_pages(truth: Truth, base: str, seed: int) -> Routes:
    """Every HTML route: items, galleries, notes, section listings, home, robots, sitemap."""
    rng = random.Random(seed)
    n = len(truth.pictures)
    routes: Routes = {}
    items: dict[str, list[str]] = {}
    for index in range(n):
        popular = rng.sample([i for i in range(n) if i != index], 3)
        url, body = item_page(truth, index, index + 1, popular)
        routes[url] = (HTML, body)
        items.setdefault(truth.pictures[index].picture.section, []).append(url)
    slots = [i for _ in range(GALLERY_SHOWS) for i in rng.sample(range(n), n)]
    galleries = []
    for number, start in enumerate(range(0, len(slots), PER_GALLERY), start=1):
        members = list(dict.fromkeys(slots[start : start + PER_GALLERY]))
        url, body = gallery_page(truth, number, members)
        routes[url] = (HTML, body)
        galleries.append(url)
    notes = []
    for number, index in enumerate(rng.sample(range(n), n // 3), start=1):
        url, body = note_page(truth, number, index, rng.choice([i for i in range(n) if i != index]))
        routes[url] = (HTML, body)
        notes.append(url)
    listed = _listings(truth, items, routes)
    links = "".join(f'<li><a href="{u}">{u}</a></li>' for u in [*listed, *galleries, *notes])
    home = PageTruth("/", None, truth.now - _days(1))
    routes["/"] = (HTML, _layout(truth, SITE_NAME, f"<ul>{links}</ul>", page_with(truth, home)))
    every = sorted(truth.pages)
    routes["/sitemap.xml"] = (
        "application/xml",
        (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{base}{u}</loc></url>" for u in every)
            + "</urlset>"
        ).encode(),
    )
    routes["/robots.txt"] = ("text/plain", f"User-agent: *\nSitemap: {base}/sitemap.xml\n".encode())
    return routes


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _listings(truth: Truth, items: dict[str, list[str]], routes: Routes) -> list[str]:
    listed = []
    for section, urls in items.items():
        chunks = [urls[i : i + PER_SECTION_LIST] for i in range(0, len(urls), PER_SECTION_LIST)]
        for number, chunk in enumerate(chunks, start=1):
            url = f"/section/{section}/{number}.html"
            page = PageTruth(url, None, truth.now - _days(2))
            links = "".join(f'<li><a href="{u}">{u.rsplit("/", 1)[1]}</a></li>' for u in chunk)
            more = (
                f'<a href="/section/{section}/{number + 1}.html">next</a>'
                if number < len(chunks)
                else ""
            )
            title = f"{_section_name(section)} – {SITE_NAME}"
            routes[url] = (
                HTML,
                _layout(truth, title, f"<ul>{links}</ul>{more}", page_with(truth, page)),
            )
            listed.append(url)
    return listed
