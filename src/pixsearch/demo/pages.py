"""The HTML of the demo website: home, section listings and one page per picture.

Pages carry what a crawler reads on real sites: a title and h1, alt text and
figcaptions, surrounding paragraphs, a publication date, ``rel="license"``
links and schema.org ImageObject JSON-LD naming each picture's licence.

A crawler applies a page's licence link to every picture on the page that names
no licence it knows, so a page with a ``rel="license"`` link shows pictures of
that licence only (the caller picks related pictures so); listings, which mix
licences, have no licence link and let each picture's JSON-LD speak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from pixsearch.demo.pictures import CC0, Picture

SITE_NAME = "Open Picture Library"
LOGO_PATH = "/static/logo.png"
STYLE = (
    "body{font-family:sans-serif;margin:0 auto;max-width:60em;padding:0 1em}"
    "header{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ccc}"
    "figure{display:inline-block;margin:.5em;vertical-align:top;max-width:12em}"
    "figure.main{max-width:none}img{max-width:100%}"
)


@dataclass(frozen=True, slots=True)
class Shown:
    """One file of a picture as a page shows it."""

    url: str
    width: int
    height: int


@dataclass(slots=True)
class SitePicture:
    picture: Picture
    page: str  # path of its own page
    image: Shown  # the full-size file
    sizes: list[Shown] = field(default_factory=list)  # smaller copies, largest first
    published: datetime | None = None


def section_title(section: str) -> str:
    names = {"signs_and_symbols": "Signs and symbols", "naturalforces": "Natural forces"}
    return names.get(section, section.replace("_", " ").capitalize())


def section_path(section: str, number: int = 1) -> str:
    return f"/s/{section}/" + ("" if number == 1 else f"page-{number}.html")


def _image_ld(shown: Shown, picture: Picture, base: str) -> dict[str, object]:
    node: dict[str, object] = {
        "@type": "ImageObject",
        "contentUrl": base + shown.url,
        "name": picture.title,
        "caption": picture.caption,
        "width": shown.width,
        "height": shown.height,
    }
    if picture.licence is not None:
        node["license"] = picture.licence.url
    if picture.author:
        node["creator"] = {"@type": "Person", "name": picture.author}
    return node


def layout(
    title: str,
    body: str,
    *,
    base: str,
    images: list[dict[str, object]],
    published: datetime | None = None,
    description: str = "",
) -> bytes:
    head = [
        '<meta charset="utf-8">',
        f"<title>{escape(title)} - {SITE_NAME}</title>",
        f"<style>{STYLE}</style>",
    ]
    if description:
        head.append(f'<meta name="description" content="{escape(description)}">')
    if published is not None:
        head.append(f'<meta property="article:published_time" content="{published.isoformat()}">')
    # The logo states its own licence, or it would take the page's (the crawler's rule).
    logo = {"@type": "ImageObject", "contentUrl": base + LOGO_PATH, "license": CC0.url}
    ld = {"@context": "https://schema.org", "@graph": [*images, logo]}
    head.append(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    header = (
        f'<header><a href="/"><img src="{LOGO_PATH}" alt="{SITE_NAME} logo" '
        f'width="240" height="64"></a><nav><a href="/">Home</a> · '
        f'<a href="/sitemap.xml">All pages</a></nav></header>'
    )
    footer = (
        "<footer><p>Every picture here comes from a free software package and keeps its "
        "own licence, named beside it.</p></footer>"
    )
    html = (
        f'<!doctype html><html lang="en"><head>{"".join(head)}</head>'
        f"<body>{header}<main>{body}</main>{footer}</body></html>"
    )
    return html.encode()


def _credit(picture: Picture) -> str:
    parts = [f"From the {escape(picture.collection)} collection"]
    if picture.author:
        parts.append(f"by {escape(picture.author)}")
    text = " ".join(parts) + "."
    if picture.licence is not None:
        text += (
            f' Licence: <a rel="license" href="{escape(picture.licence.url)}">'
            f"{escape(picture.licence.name)}</a>."
        )
    return text


def _thumb(item: SitePicture) -> str:
    """A picture in a listing or a related strip: its full-size file, shown small."""
    p = item.picture
    return (
        f'<figure><a href="{item.page}"><img src="{item.image.url}" alt="{escape(p.title)}" '
        f'width="160"></a><figcaption>{escape(p.caption)}</figcaption></figure>'
    )


def picture_page(item: SitePicture, related: list[SitePicture], base: str) -> bytes:
    p = item.picture
    about = f"{escape(p.caption)}."
    if p.topic:
        about += f" Filed under {escape(section_title(p.section))}, {escape(p.topic)}."
    about += f" Shipped in the Debian package {escape(p.package)}."
    sizes = ""
    if item.sizes:
        shown = "".join(
            f'<figure><img src="{s.url}" alt="{escape(p.title)}, {s.width} pixels wide" '
            f'width="{s.width}" height="{s.height}"><figcaption>{s.width} × {s.height}'
            "</figcaption></figure>"
            for s in item.sizes
        )
        sizes = f"<h2>Other sizes</h2>{shown}"
    strip = "".join(_thumb(r) for r in related)
    body = (
        f'<p><a href="{section_path(p.section)}">{escape(section_title(p.section))}</a></p>'
        f"<h1>{escape(p.title)}</h1>"
        f'<figure class="main"><img src="{item.image.url}" alt="{escape(p.caption)}" '
        f'title="{escape(p.title)}" width="{item.image.width}" height="{item.image.height}">'
        f"<figcaption>{escape(p.caption)}</figcaption></figure>"
        f"<p>{about}</p><p>{_credit(p)}</p>{sizes}"
        f"<h2>More {escape(section_title(p.section).lower())}</h2>{strip}"
    )
    images = [_image_ld(item.image, p, base)]
    images += [_image_ld(s, p, base) for s in item.sizes]
    images += [_image_ld(r.image, r.picture, base) for r in related]
    return layout(
        p.title, body, base=base, images=images, published=item.published, description=p.caption
    )


def section_page(
    section: str, items: list[SitePicture], number: int, pages: int, base: str
) -> bytes:
    title = section_title(section)
    links = " ".join(
        f'<a href="{section_path(section, n)}">{n}</a>' for n in range(1, pages + 1) if n != number
    )
    body = (
        f"<h1>{escape(title)}</h1><p>{len(items)} pictures on this page "
        f"(page {number} of {pages}).</p>{''.join(_thumb(i) for i in items)}"
        f"<p>Pages: {links}</p>"
    )
    images = [_image_ld(i.image, i.picture, base) for i in items]
    return layout(f"{title}, page {number}", body, base=base, images=images)


def home_page(sections: dict[str, int], featured: list[SitePicture], base: str) -> bytes:
    listing = "".join(
        f'<li><a href="{section_path(s)}">{escape(section_title(s))}</a> ({n})</li>'
        for s, n in sorted(sections.items())
    )
    body = (
        f"<h1>{SITE_NAME}</h1><p>Drawings, stamps, wallpapers and photographs that free "
        f"software packages ship, each with its licence.</p><ul>{listing}</ul>"
        f"<h2>Featured</h2>{''.join(_thumb(i) for i in featured)}"
    )
    images = [_image_ld(i.image, i.picture, base) for i in featured]
    return layout(SITE_NAME, body, base=base, images=images)


def sitemap(paths: list[str], base: str) -> bytes:
    urls = "".join(f"<url><loc>{escape(base + p)}</loc></url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def robots(base: str) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode()
