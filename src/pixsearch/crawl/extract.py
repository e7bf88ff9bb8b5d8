"""HTML → image candidates with their own context, outgoing links and page facts (selectolax).

Every text field of an occurrence is kept apart (caption, name, context, page_title,
url_words) so ranking can weigh what describes the image above what surrounds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pixsearch.crawl.jsonld import parse_blocks
from pixsearch.crawl.licenses import license_key
from pixsearch.crawl.nearby import Region, SectionText, near_text, region_of
from pixsearch.crawl.urls import normalize

WINDOW = 240  # characters of nearby text kept on each side of an image
MAX_FIELD = 2000  # a field longer than this is noise, not description
LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy", "src")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset", "srcset")
SKIP_TEXT_IN = frozenset({"script", "style", "template", "head", "title"})
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SPACE = re.compile(r"\s+")


@dataclass(slots=True)
class ImageRef:
    """One image candidate on a page: the URL to fetch and the text that describes it here."""

    url: str
    alternates: list[str] = field(default_factory=list)  # other srcset sizes of the same picture
    caption: str = ""  # alt + figcaption
    name: str = ""  # title attribute
    near: str = ""  # the rest of its own figure, card, list item or table row (crawl/nearby.py)
    context: str = ""  # headings above, text of its section around it, wrapping link text
    license_url: str | None = None  # a licence given for this image alone (JSON-LD)
    link_text: str = ""  # text of an <a> wrapping the image


@dataclass(slots=True)
class PageFacts:
    title: str = ""
    h1: str = ""
    language: str | None = None
    license: str | None = None
    license_url: str | None = None
    date_published: datetime | None = None
    offers: list[dict[str, str]] = field(default_factory=list)
    recipe: dict[str, Any] | None = None


@dataclass(slots=True)
class Page:
    url: str
    images: list[ImageRef]
    links: list[str]
    facts: PageFacts
    noindex: bool = False
    nofollow: bool = False
    noimageindex: bool = False


def extract_page(
    html: str | bytes, url: str, headers: Mapping[str, str] | None = None, agent: str = ""
) -> Page:
    """Parse one page; never raises on bad markup (lexbor repairs it)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    tree = LexborHTMLParser(html if isinstance(html, str) else decode_html(html, headers))
    base = _base_url(tree, url)
    directives = _robots_directives(tree, headers.get("x-robots-tag", ""), agent)
    facts = _page_facts(tree, headers)
    ld = parse_blocks([n.text(deep=True) for n in tree.css('script[type="application/ld+json"]')])
    facts.offers, facts.recipe = ld.offers, ld.recipe
    if facts.license is None and ld.license_url:
        facts.license, facts.license_url = license_key(ld.license_url), ld.license_url
    if facts.date_published is None and ld.date_published:
        facts.date_published = parse_date(ld.date_published)
    images = _body_images(tree, base)
    images += _meta_images(tree, base, facts)
    for item in ld.images:
        image_url = normalize(item.url, base)
        if image_url:
            images.append(
                ImageRef(
                    image_url, caption=item.caption, name=item.name, license_url=item.license_url
                )
            )
    links = [] if "nofollow" in directives else _links(tree, base)
    return Page(
        url=url,
        images=_merge(images),
        links=links,
        facts=facts,
        noindex="noindex" in directives,
        nofollow="nofollow" in directives,
        noimageindex="noimageindex" in directives,
    )


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(body: bytes, headers: Mapping[str, str]) -> str:
    """Text of a page: the charset of Content-Type, else of a <meta> near the top, else UTF-8."""
    charset = ""
    for part in headers.get("content-type", "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if not charset:
        match = _CHARSET.search(body[:2048])
        charset = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return body.decode(charset, "replace")
    except LookupError:  # a charset name Python does not know
        return body.decode("utf-8", "replace")


def _base_url(tree: LexborHTMLParser, url: str) -> str:
    node = tree.css_first("base[href]")
    if node is not None:
        base = normalize(node.attributes.get("href") or "", url)
        if base:
            return base
    return url


def _robots_directives(tree: LexborHTMLParser, header: str, agent: str) -> set[str]:
    """noindex/nofollow/noimageindex from meta robots (generic or ours) and X-Robots-Tag."""
    names = {"robots", agent.lower()} - {""}
    values = [header]
    for node in tree.css("meta[name][content]"):
        if (node.attributes.get("name") or "").lower() in names:
            values.append(node.attributes.get("content") or "")
    found: set[str] = set()
    for value in values:
        for part in re.split(r"[,\s]+", value.lower()):
            found.add(part.split(":")[-1].strip())  # "bot: noindex" names a crawler
    if "none" in found:
        found |= {"noindex", "nofollow"}
    return found


def _page_facts(tree: LexborHTMLParser, headers: Mapping[str, str]) -> PageFacts:
    facts = PageFacts(title=_clean(_node_text(tree.css_first("title"))))
    facts.h1 = _clean(_node_text(tree.css_first("h1")))
    html = tree.css_first("html")
    lang = (html.attributes.get("lang") or "") if html is not None else ""
    lang = (
        lang or _meta(tree, "http-equiv", "content-language") or headers.get("content-language", "")
    )
    facts.language = lang.split(",")[0].split("-")[0].strip().lower() or None
    for node in tree.css('a[rel][href], link[rel][href], a[href*="creativecommons.org"]'):
        rel = (node.attributes.get("rel") or "").lower().split()
        href = node.attributes.get("href") or ""
        key = license_key(href)
        if key and (("license" in rel) or facts.license is None):
            facts.license, facts.license_url = key, href
            if "license" in rel:
                break
    published = _meta(tree, "property", "article:published_time") or _meta(
        tree, "itemprop", "datePublished"
    )
    facts.date_published = parse_date(published) if published else None
    if facts.date_published is None and headers.get("last-modified"):
        facts.date_published = parse_date(headers["last-modified"])
    return facts


def _meta(tree: LexborHTMLParser, attr: str, value: str) -> str:
    for node in tree.css(f"meta[{attr}]"):
        if (node.attributes.get(attr) or "").lower() == value:
            return (node.attributes.get("content") or "").strip()
    return ""


def parse_date(text: str) -> datetime | None:
    """ISO 8601 (schema.org, Open Graph) or HTTP date; UTC; None when unreadable."""
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _body_images(tree: LexborHTMLParser, base: str) -> list[ImageRef]:
    """One document-order walk: text by section, the headings in force, every <img>.

    An image's context is the text of its own section (crawl/nearby.py) within
    WINDOW characters, plus the headings above it: text of other sections, asides,
    headers and footers is not about it, however close in the source.
    """
    root = tree.body or tree.root
    if root is None:
        return []
    sections = SectionText()
    length = seen = 0  # characters of text so far; headings so far
    headings: dict[str, str] = {}
    pending: list[tuple[ImageRef, Region, int]] = []
    for node in root.traverse(include_text=True):
        tag = node.tag
        if tag == "-text":
            parent = node.parent
            if parent is not None and parent.tag not in SKIP_TEXT_IN:
                text = _clean(node.text_content or "")
                if text:
                    sections.add(region_of(node, seen), length, text)
                    length += len(text) + 1
        elif tag in HEADINGS:
            seen += 1
            level = HEADINGS.index(tag)
            headings = {h: t for h, t in headings.items() if HEADINGS.index(h) < level}
            headings[tag] = _clean(node.text(deep=True))
        elif tag == "img":
            ref = _img_ref(node, base)
            if ref is not None:
                ref.context = " ".join(headings.values())
                pending.append((ref, region_of(node, seen), length))
    for ref, region, at in pending:
        window = sections.window(region, at, WINDOW)
        ref.context = _clean(f"{ref.context} {window} {ref.link_text}")[:MAX_FIELD]
    return [ref for ref, _, _ in pending]


def _img_ref(node: LexborNode, base: str) -> ImageRef | None:
    candidates = _candidates(node, base)
    parent = node.parent
    if parent is not None and parent.tag == "picture":
        for source in parent.css("source"):
            candidates += _srcset(source.attributes.get("srcset") or "", base)
            candidates += _srcset(source.attributes.get("data-srcset") or "", base)
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[1], reverse=True)
    urls = list(dict.fromkeys(url for url, _ in candidates))
    attrs = node.attributes
    ref = ImageRef(urls[0], alternates=urls[1:], name=_clean(attrs.get("title") or ""))
    caption = [_clean(attrs.get("alt") or "")]
    figure = _ancestor(node, "figure")
    figcaption = _clean(_node_text(figure.css_first("figcaption"))) if figure is not None else ""
    caption.append(figcaption)
    ref.caption = " ".join(c for c in caption if c)[:MAX_FIELD]
    ref.near = near_text(node, figcaption)[:MAX_FIELD]
    anchor = _ancestor(node, "a")
    if anchor is not None:
        ref.link_text = _clean(anchor.text(deep=True))
    return ref


def _candidates(node: LexborNode, base: str) -> list[tuple[str, float]]:
    """(url, size score) for src-like and srcset-like attributes; placeholders drop out."""
    attrs = node.attributes
    found: list[tuple[str, float]] = []
    for name in LAZY_SRC:
        url = normalize(attrs.get(name) or "", base)
        if url:
            found.append((url, 0.0))
    for name in LAZY_SRCSET:
        found += _srcset(attrs.get(name) or "", base)
    return found


def _srcset(value: str, base: str) -> list[tuple[str, float]]:
    """srcset candidates scored by width (w) or density (x × 1000, below any real width)."""
    out: list[tuple[str, float]] = []
    for part in re.split(r",\s+|,(?=\S+\s)", value.strip()):
        bits = part.strip().split()
        if not bits:
            continue
        url = normalize(bits[0].rstrip(","), base)
        if url is None:
            continue
        score = 1.0
        descriptor = bits[1].lower() if len(bits) > 1 else "1x"
        try:
            if descriptor.endswith("w"):
                score = float(descriptor[:-1]) * 1000
            elif descriptor.endswith("x"):
                score = float(descriptor[:-1])
        except ValueError:
            pass
        out.append((url, score))
    return out


def _ancestor(node: LexborNode, tag: str, depth: int = 6) -> LexborNode | None:
    current = node.parent
    while current is not None and depth > 0:
        if current.tag == tag:
            return current
        current, depth = current.parent, depth - 1
    return None


def _meta_images(tree: LexborHTMLParser, base: str, facts: PageFacts) -> list[ImageRef]:
    refs: list[ImageRef] = []
    for attr, key in (
        ("property", "og:image"),
        ("property", "og:image:url"),
        ("name", "twitter:image"),
    ):
        value = _meta(tree, attr, key) or (_meta(tree, "name", key) if attr == "property" else "")
        url = normalize(value, base) if value else None
        if url:
            caption = _meta(tree, "property", "og:image:alt") or _meta(
                tree, "name", "twitter:image:alt"
            )
            description = _meta(tree, "property", "og:description") or _meta(
                tree, "name", "description"
            )
            refs.append(ImageRef(url, caption=caption, context=description[:MAX_FIELD]))
    return refs


def _links(tree: LexborHTMLParser, base: str) -> list[str]:
    links: list[str] = []
    for node in tree.css("a[href], area[href]"):
        if "nofollow" in (node.attributes.get("rel") or "").lower().split():
            continue
        url = normalize(node.attributes.get("href") or "", base)
        if url:
            links.append(url)
    return list(dict.fromkeys(links))


def _merge(refs: list[ImageRef]) -> list[ImageRef]:
    """One ref per URL: the first (in-body) one wins, later ones add missing text."""
    merged: dict[str, ImageRef] = {}
    for ref in refs:
        seen = merged.get(ref.url)
        if seen is None:
            merged[ref.url] = ref
            continue
        seen.caption = seen.caption or ref.caption
        seen.name = seen.name or ref.name
        seen.license_url = seen.license_url or ref.license_url
        seen.alternates = list(dict.fromkeys(seen.alternates + ref.alternates))
    return list(merged.values())


def _node_text(node: LexborNode | None) -> str:
    return node.text(deep=True) if node is not None else ""


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
