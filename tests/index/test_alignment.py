"""The pixel check's decoded thumbnails, kept between checks: the same answers, bounded."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from skimage import data

from pixsearch.index.alignment import Thumb, ThumbCache, aligner, decode_thumb


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def thumbnails() -> dict[str, bytes]:
    """Stored thumbnails by sha256 (here, by a name standing for one)."""
    astronaut = Image.fromarray(data.astronaut()).resize((474, 474))
    return {
        "1": jpeg(astronaut.crop((10, 10, 464, 464))),  # a crop: windows decide it
        "2": jpeg(Image.fromarray(data.coffee()).resize((474, 356))),
        "3": jpeg(Image.fromarray(data.rocket()).resize((474, 316))),
        "4": b"not a picture",
    }


def test_a_cached_check_answers_as_a_fresh_one(thumbnails: dict[str, bytes]) -> None:
    new = jpeg(Image.fromarray(data.astronaut()).resize((474, 474)))
    cache = ThumbCache(thumbnails.get, 2)

    def fresh_of(doc_id: int) -> Thumb | None:
        return decode_thumb(thumbnails.get(str(doc_id)))

    def kept_of(doc_id: int) -> Thumb | None:
        return cache.get(str(doc_id))

    for _ in range(2):  # the second pass meets the cached thumbnails (and evictions)
        for doc_id in (1, 2, 3, 4):
            fresh = aligner(new, fresh_of)(doc_id)()
            kept = aligner(new, kept_of)(doc_id)()
            if doc_id == 4:
                assert fresh is None and kept is None
                continue
            assert fresh is not None and kept is not None
            assert kept.mismatch() == fresh.mismatch()
            assert kept.fine_mismatch() == fresh.fine_mismatch()
    crop = aligner(new, kept_of)(1)()
    assert crop is not None and crop.mismatch() < 0.03  # the crop matches


def test_thumbnails_are_kept_and_bounded(thumbnails: dict[str, bytes]) -> None:
    reads: list[str] = []

    def read(sha256: str) -> bytes | None:
        reads.append(sha256)
        return thumbnails.get(sha256)

    cache = ThumbCache(read, 2)
    first = cache.get("1")
    assert first is not None and cache.get("1") is first and reads == ["1"]
    cache.get("2")
    cache.get("3")  # the third one pushes out the least recent
    assert cache.get("1") is not first and reads == ["1", "2", "3", "1"]
    assert cache.get("4") is None and cache.get("missing") is None
