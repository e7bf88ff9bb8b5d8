"""The records that flow between stages: pipeline → index → search → API.

These are pixsearch's own names. The Bing wire names live only in
``pixsearch.api.wire``; nothing here knows about JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Bing's twelve dominant-colour names, in the reference's order.
COLOR_NAMES: tuple[str, ...] = (
    "Black",
    "Blue",
    "Brown",
    "Gray",
    "Green",
    "Orange",
    "Pink",
    "Purple",
    "Red",
    "Teal",
    "White",
    "Yellow",
)

# Searchable text fields of an image and their weights. The order is the
# ranking intuition of the reference: what describes the image itself (alt,
# caption, title) above what merely surrounds it. Fields with a whole-number
# weight are folded into one BM25F "body" field, their text repeated `weight`
# times, so term frequencies and field lengths are weighted as BM25F does and a
# query word costs one posting list instead of one per field. Fractional
# weights mark sparse low-weight fields kept apart and boosted at query time.
TEXT_FIELDS: dict[str, float] = {
    "caption": 3,  # alt text, figcaption, embedded description, sidecar caption
    "name": 3,  # title of the image (title attribute, XMP title, sidecar title)
    "keywords": 2,  # embedded keywords / subjects, sidecar tags
    "near": 2,  # the rest of the image's own figure, card, list item (crawl/nearby.py)
    "context": 1,  # nearby text, headings above, link text
    "page_title": 1,  # title / h1 of the host page
    "url_words": 1,  # words of the file name, folders, URL path
    "tags": 0.6,  # visual classifier labels (later issue)
    "ocr": 0.4,  # text recognised in the image (later issue)
}
BODY_FIELDS: dict[str, int] = {k: int(w) for k, w in TEXT_FIELDS.items() if w == int(w)}
SIDE_FIELDS: dict[str, float] = {k: w for k, w in TEXT_FIELDS.items() if k not in BODY_FIELDS}


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What the pipeline measured about one distinct image (one sha256)."""

    sha256: str
    width: int
    height: int
    content_size: int  # bytes of the original
    encoding_format: str  # "jpeg", "png", "gif", "webp", "bmp", "tiff"
    frame_count: int
    animated: bool
    transparent: bool  # an alpha channel that is actually used
    accent_color: str  # six upper-case hex digits, no '#'
    color_name: str  # one of COLOR_NAMES
    monochrome: bool
    phash: int  # 64-bit perceptual hash as an unsigned int
    image_types: tuple[str, ...] = ()  # lower-case imageType values it has, e.g. ("photo",)
    captured_at: datetime | None = None  # embedded capture date (EXIF), UTC
    thumb_width: int = 0
    thumb_height: int = 0
    color_layout: str = ""  # mean RGB of the four quadrants, 24 hex digits (near-dup check)
    # What the analyzers (ingest/understand.py) found; defaults mean "not run".
    analyzed: tuple[str, ...] = ()  # names of the analyzers that ran, e.g. ("nudenet",)
    adult_score: float = 0.0  # 0..1 nudity score of the detector
    # Normalised (left, top, right, bottom) boxes of detected faces, largest first.
    faces: tuple[tuple[float, float, float, float], ...] = ()
    image_content: tuple[str, ...] = ()  # lower-case imageContent values: "face", "portrait"
    tags: tuple[tuple[str, float], ...] = ()  # visual classifier words with confidence
    ocr_text: str = ""  # words recognised in the image (opt-in)
    # A transparent picture's look over black (index/darklook.py), so that a copy a site
    # flattened over black still meets it; "" when opaque or blank over black.
    dark_look: str = ""

    @property
    def image_id(self) -> str:
        """Bing-shaped imageId: 40 upper-case hex digits, stable per content."""
        return self.sha256[:40].upper()


@dataclass(slots=True)
class Occurrence:
    """One place an image was found: a file on disk or an <img> on a page.

    ``text`` maps names of TEXT_FIELDS to the text this occurrence contributes.
    """

    source: str  # stable key of the place: absolute file path or page URL + image URL
    content_url: str | None = None  # original image URL; None for local files
    host_page_url: str | None = None  # page that shows it; None for local files
    local_path: str | None = None  # file on disk, served by this server
    title: str = ""  # display name for the result
    text: dict[str, str] = field(default_factory=dict)
    license: str | None = None  # licence key, e.g. "cc-by", "cc0"; None if unknown
    license_url: str | None = None
    date_published: datetime | None = None
    language: str | None = None
    # Web-page facts (crawler); defaults keep rows stored before them loadable.
    offers: list[dict[str, str]] = field(default_factory=list)  # schema.org Product offers
    recipe: dict[str, Any] | None = None  # schema.org Recipe facts
    alternates: list[str] = field(default_factory=list)  # other srcset sizes of this picture


@dataclass(slots=True)
class ImageDocument:
    """An image with all the places it occurs: the unit of the index."""

    facts: ImageFacts
    occurrences: list[Occurrence]
    first_seen: datetime  # when pixsearch first indexed these bytes (UTC)
    group_id: int = 0  # near-duplicate group; the doc_id of its first member
    doc_id: int = 0  # assigned by the store

    @property
    def image_id(self) -> str:
        return self.facts.image_id

    @property
    def date_published(self) -> datetime:
        """Discovery date as Bing reports it: capture date if known, else first seen."""
        dates = [o.date_published for o in self.occurrences if o.date_published]
        if self.facts.captured_at:
            dates.append(self.facts.captured_at)
        return min(dates) if dates else self.first_seen


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file the pipeline refused, with a short machine reason and a human detail."""

    source: str
    reason: str  # e.g. "empty", "too-large", "not-an-image", "corrupt", "bomb", "blank"
    detail: str = ""
