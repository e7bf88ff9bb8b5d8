"""Sitemaps and sitemap indexes (XML, optionally gzip) → page URLs and nested sitemaps."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed
_LOC = re.compile(r"<(sitemap|url)\b[^>]*>.*?<loc>\s*(.*?)\s*</loc>", re.DOTALL | re.IGNORECASE)


@dataclass(slots=True)
class Sitemap:
    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def parse_sitemap(data: bytes) -> Sitemap:
    """Locations from a sitemap or index. A regex, not an XML parser: no entity expansion
    (billion laughs) and broken sitemaps still yield what they hold."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    text = data.decode("utf-8", "replace")
    found = Sitemap()
    for kind, loc in _LOC.findall(text):
        loc = _unescape(loc.strip())
        if kind.lower() == "sitemap":
            found.sitemaps.append(loc)
        else:
            found.pages.append(loc)
    if not found.pages and not found.sitemaps and "<" not in text[:200]:
        found.pages = [line.strip() for line in text.splitlines() if line.strip()]  # text sitemap
    return found


def _gunzip(data: bytes) -> bytes:
    """Decompress at most MAX_SITEMAP_BYTES: a gzip bomb stops there."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(data, MAX_SITEMAP_BYTES)
    except (zlib.error, gzip.BadGzipFile):
        return b""


def _unescape(text: str) -> str:
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")
