"""Synthetic documents for index tests (the index does not care where facts came from)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pixsearch.records import ImageDocument, ImageFacts, Occurrence


def make_doc(
    n: int,
    text: str,
    *,
    phash: int | None = None,
    width: int = 400,
    height: int = 300,
    license: str | None = None,
    page: str | None = None,
) -> ImageDocument:
    sha = hashlib.sha256(f"image-{n}".encode()).hexdigest()
    facts = ImageFacts(
        sha256=sha,
        width=width,
        height=height,
        content_size=1000 + n,
        encoding_format="jpeg",
        frame_count=1,
        animated=False,
        transparent=False,
        accent_color="112233",
        color_name="Blue",
        monochrome=False,
        phash=phash
        if phash is not None
        else int(hashlib.sha256(sha.encode()).hexdigest()[:16], 16),
        image_types=("photo",),
        thumb_width=200,
        thumb_height=150,
    )
    occurrence = Occurrence(
        source=f"/pics/{n}.jpg",
        local_path=f"/pics/{n}.jpg",
        title=text,
        text={"caption": text},
        license=license,
        host_page_url=page,
    )
    return ImageDocument(facts=facts, occurrences=[occurrence], first_seen=datetime.now(UTC))
