"""The pixel check's decoded thumbnails, kept between checks: the same answers, bounded."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from skimage import data

from pixsearch.index.alignment import ThumbCache, aligner


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def thumbnails() -> dict[int, bytes]:
    astronaut = Image.fromarray(data.astronaut()).resize((474, 474))
    return {
        1: jpeg(astronaut.crop((10, 10, 464, 464))),  # a crop: windows decide it
        2: jpeg(Image.fromarray(data.coffee()).resize((474, 356))),
        3: jpeg(Image.fromarray(data.rocket()).resize((474, 316))),
        4: b"not a picture",
    }


def test_a_cached_check_answers_as_a_fresh_one(thumbnails: dict[int, bytes]) -> None:
    new = jpeg(Image.fromarray(data.astronaut()).resize((474, 474)))
    cache = ThumbCache(2)
    for _ in range(2):  # the second pass meets the cached thumbnails (and evictions)
        for doc_id in (1, 2, 3, 4):
            fresh = aligner(new, thumbnails.get)(doc_id)()
            kept = aligner(new, thumbnails.get, cache)(doc_id)()
            if doc_id == 4:
                assert fresh is None and kept is None
                continue
            assert fresh is not None and kept is not None
            assert kept.mismatch() == fresh.mismatch()
            assert kept.fine_mismatch() == fresh.fine_mismatch()
    assert aligner(new, thumbnails.get, cache)(1)().mismatch() < 0.03  # the crop matches


def test_thumbnails_are_kept_by_their_bytes_and_bounded(thumbnails: dict[int, bytes]) -> None:
    cache = ThumbCache(2)
    first = cache.get(thumbnails[1])
    assert first is not None
    assert cache.get(bytes(thumbnails[1])) is first  # equal bytes, another object
    cache.get(thumbnails[2])
    cache.get(thumbnails[3])  # the third one pushes out the least recent
    assert cache.get(thumbnails[1]) is not first
    assert cache.get(thumbnails[4]) is None and cache.get(None) is None
