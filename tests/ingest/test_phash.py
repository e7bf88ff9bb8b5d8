from __future__ import annotations

from io import BytesIO

import numpy as np
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.phash import _DCT, hamming, phash_gray, phash_rgb
from pixsearch.ingest.pipeline import Processed, process_file


def sample_hash(image: Image.Image) -> int:
    return phash_rgb(np.asarray(image.convert("RGB").resize((64, 64), Image.Resampling.BOX)))


def recompress(image: Image.Image, size: tuple[int, int], quality: int) -> Image.Image:
    buffer = BytesIO()
    image.resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=quality)
    return Image.open(BytesIO(buffer.getvalue()))


def test_dct_matrix_is_orthonormal() -> None:
    assert np.allclose(_DCT @ _DCT.T, np.eye(32), atol=1e-9)


def test_hash_is_a_64_bit_unsigned_int(kit) -> None:
    value = sample_hash(kit.photo(1))
    assert isinstance(value, int)
    assert 0 <= value < 2**64
    assert 16 < value.bit_count() < 48  # median threshold: about half the bits set


def test_flat_picture_hashes_to_zero() -> None:
    assert phash_gray(np.full((32, 32), 77.0)) == 0


def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(2**64 - 1, 0) == 64


def test_stable_under_resize_and_recompression(kit) -> None:
    for seed in range(4):
        original = kit.photo(seed, 640, 400)
        copy = recompress(original, (320, 200), quality=70)
        assert hamming(sample_hash(original), sample_hash(copy)) <= 6, seed


def test_far_for_unrelated_pictures(kit) -> None:
    hashes = [sample_hash(kit.photo(seed, 320, 200)) for seed in range(6)]
    distances = [hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert min(distances) >= 16


def test_pipeline_hash_matches_across_draft_scales(kit, write) -> None:
    # The big JPEG is decoded at 1/2 scale, the small copy at full scale.
    original = kit.photo(7, 1280, 800)
    big = write("big.jpg", original, quality=90)
    small = write("small.jpg", original.resize((600, 375), Image.Resampling.LANCZOS), quality=75)
    other = write("other.jpg", kit.photo(8, 1280, 800), quality=90)
    config = PipelineConfig()
    a, b, c = (process_file(p, config) for p in (big, small, other))
    assert isinstance(a, Processed) and isinstance(b, Processed) and isinstance(c, Processed)
    assert hamming(a.facts.phash, b.facts.phash) <= 6
    assert hamming(a.facts.phash, c.facts.phash) >= 16
