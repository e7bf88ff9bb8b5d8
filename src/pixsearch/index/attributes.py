"""Derived, filterable attributes of an image: the keyword values the index stores.

The search filters of the reference are answered by exact keyword matches on
these values, so their definitions live here, once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from pixsearch.index.words import is_adult_text
from pixsearch.records import ImageDocument, ImageFacts

# Which licence filter values each licence key satisfies, following the
# reference's definitions (Public ⊂ ModifyCommercially ⊂ ... ⊂ Share ⊂ Any).
_ALL = ("any", "share", "sharecommercially", "modify", "modifycommercially")
LICENSE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "cc0": ("public", *_ALL),
    "pdm": ("public", *_ALL),
    "cc-by": _ALL,
    "cc-by-sa": _ALL,
    "cc-by-nd": ("any", "share", "sharecommercially"),
    "cc-by-nc": ("any", "share", "modify"),
    "cc-by-nc-sa": ("any", "share", "modify"),
    "cc-by-nc-nd": ("any", "share"),
}

# Aspect ratio bands (width / height). "Square" is the standard ratio band.
SQUARE_LOW, SQUARE_HIGH = 0.9, 1.12

# Size classes of the reference ("Small: less than 200x200"): Small when both sides
# are under SMALL_LIMIT, Large when both are at least LARGE_LIMIT, Medium otherwise
# (so a 451x150 banner is Medium: it is not under 200x200, nor 500x500). Wallpaper
# (not defined by the reference) is a Large landscape picture at least a 1024x768 screen.
SMALL_LIMIT, LARGE_LIMIT = 200, 500
WALLPAPER_MIN = (1024, 768)


def aspect_of(width: int, height: int) -> str:
    ratio = width / max(height, 1)
    if ratio < SQUARE_LOW:
        return "tall"
    if ratio > SQUARE_HIGH:
        return "wide"
    return "square"


def sizes_of(width: int, height: int) -> tuple[str, ...]:
    """The size keywords of a width x height picture: exactly one of small / medium /
    large, plus wallpaper for a large landscape picture of at least WALLPAPER_MIN.

    Stored as keywords when the image is written: a change here reaches an existing
    index only through `pixsearch reindex --index DIR`.
    """
    if width >= LARGE_LIMIT and height >= LARGE_LIMIT:
        if width >= WALLPAPER_MIN[0] and height >= WALLPAPER_MIN[1] and width >= height:
            return ("large", "wallpaper")
        return ("large",)
    if width < SMALL_LIMIT and height < SMALL_LIMIT:
        return ("small",)
    return ("medium",)


def colors_of(facts: ImageFacts) -> tuple[str, ...]:
    kind = "monochrome" if facts.monochrome else "coloronly"
    return (facts.color_name.lower(), kind)


def licenses_of(doc: ImageDocument) -> tuple[str, ...]:
    """Union of what any occurrence's licence allows; unknown licences allow nothing."""
    allowed: set[str] = set()
    for occurrence in doc.occurrences:
        allowed.update(LICENSE_PERMISSIONS.get(occurrence.license or "", ()))
    return tuple(sorted(allowed))


def host_suffixes(host: str) -> list[str]:
    """www.a.example.com → [www.a.example.com, a.example.com, example.com]."""
    return list(_suffixes(host))


def url_prefixes(url: str) -> list[str]:
    """http://h/a/b/c.jpg → [h/, h/a/, h/a/b/, h/a/b/c.jpg]: scheme-less, lower-cased host."""
    return list(_parsed(url)[1])


# Every image written parses its page and image URLs for three fields (hosts, URL
# prefixes, site key), and a page's URL comes back for each picture on it: each URL
# is split once and remembered while recent, and so is each host's suffix list.
URL_CACHE = 8192


@lru_cache(maxsize=URL_CACHE)
def _suffixes(host: str) -> tuple[str, ...]:
    parts = host.lower().rstrip(".").split(".")
    return tuple(".".join(parts[i:]) for i in range(max(len(parts) - 1, 1)))


@lru_cache(maxsize=URL_CACHE)
def _parsed(url: str) -> tuple[str | None, tuple[str, ...]]:
    """(hostname or None, url_prefixes) of a URL."""
    parts = urlsplit(url)
    host = parts.hostname  # a property that parses the netloc each time it is read
    if not host:
        return host, ()
    base = host.lower()
    prefixes = [base + "/"]
    path = parts.path.lstrip("/")
    segments = path.split("/") if path else []
    for i in range(len(segments)):
        tail = "/".join(segments[: i + 1])
        prefixes.append(f"{base}/{tail}" + ("/" if i < len(segments) - 1 else ""))
    return host, tuple(prefixes)


def normalize_prefix(prefix: str) -> str:
    """User-given site or URL prefix → the form url_prefixes() stores."""
    text = prefix.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    return f"{host}/{parts.path.lstrip('/')}"


def _urls(doc: ImageDocument) -> Iterator[str]:
    for occurrence in doc.occurrences:
        for url in (occurrence.host_page_url, occurrence.content_url):
            if url:
                yield url


def hosts_of(doc: ImageDocument) -> tuple[str, ...]:
    hosts: set[str] = set()
    for url in _urls(doc):
        host = _parsed(url)[0]
        if host:
            hosts.update(_suffixes(host))
    return tuple(sorted(hosts))


def site_key(doc: ImageDocument) -> int:
    """A non-zero 64-bit key of the first occurrence's host (without www.), 0 for local files."""
    for url in _urls(doc):
        host = _parsed(url)[0]
        if host:
            return _site_key(host)
    return 0


@lru_cache(maxsize=URL_CACHE)
def _site_key(host: str) -> int:
    digest = hashlib.blake2b(host.removeprefix("www.").encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") or 1


def prefixes_of(doc: ImageDocument) -> tuple[str, ...]:
    prefixes: set[str] = set()
    for url in _urls(doc):
        prefixes.update(_parsed(url)[1])
    return tuple(sorted(prefixes))


# The adult keyword field holds "score<NNN>", the nudity score in whole percent, so the
# server's threshold applies when the query runs (a term set over the buckets at or
# above it) and changing it needs no re-indexing or schema change. "image" marks scores
# at or above the default threshold (a fixed index-time view for vocabulary walks),
# "text" adult words in an occurrence (index/words.py).
ADULT_IMAGE_SCORE = 0.45
IMAGE_MARK, TEXT_MARK = "image", "text"  # an adult score at the threshold; adult words
ADULT_MARKS = (IMAGE_MARK, TEXT_MARK)  # either makes an image adult to vocabulary counts
NUDENET = "nudenet"  # the analyzer behind nudity scores and faces


def adult_score_term(percent: int) -> str:
    return f"score{percent:03d}"


def adult_score_terms(threshold: float) -> list[str]:
    """The bucket terms of every score at or above `threshold` (0..1, whole percents)."""
    low = max(0, min(101, math.ceil(round(threshold * 100, 6))))
    return [adult_score_term(p) for p in range(low, 101)]


def adult_of(doc: ImageDocument) -> tuple[str, ...]:
    kinds: list[str] = []
    facts = doc.facts
    if NUDENET in facts.analyzed:  # unanalysed pictures have no score at all
        kinds.append(adult_score_term(math.floor(min(max(facts.adult_score, 0.0), 1.0) * 100)))
        if facts.adult_score >= ADULT_IMAGE_SCORE:
            kinds.append(IMAGE_MARK)
    texts = [t for o in doc.occurrences for t in (o.title, *o.text.values())]
    if is_adult_text([*texts, facts.ocr_text, *(word for word, _ in facts.tags)]):
        kinds.append(TEXT_MARK)
    return tuple(kinds)


def image_content_of(facts: ImageFacts) -> tuple[str, ...]:
    """face / portrait from the detector; nonportrait for analysed pictures that are neither.

    Unanalysed pictures get nothing: no face filter value can be claimed for them.
    """
    if facts.image_content:
        return facts.image_content
    return ("nonportrait",) if NUDENET in facts.analyzed else ()


def image_types_of(doc: ImageDocument) -> tuple[str, ...]:
    """The pipeline's types, plus "shopping" when a page offers the pictured item for sale."""
    if any(o.offers for o in doc.occurrences):
        return (*doc.facts.image_types, "shopping")
    return doc.facts.image_types
