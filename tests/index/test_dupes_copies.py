"""Copies a web site serves of real clip art (openclipart-png) are near-duplicates; a
series of look-alike drawings is not (issue 16). Measured over hundreds of files by
bench/quality_file_facts.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pixsearch.index.alignment import FINE_MAX_MISMATCH, MAX_MISMATCH, Alignment, Thumb
from pixsearch.index.dupes import hamming, is_near_duplicate
from pixsearch.index.dupes import parse_layout as layout_of
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import ImageFacts, Occurrence
from tests.conftest import OPENCLIPART

FLAGS = OPENCLIPART / "signs_and_symbols/flags/oceania/australia"


def seen(data: bytes) -> tuple[ImageFacts, Thumb]:
    """The facts and stored thumbnail the ingest keeps of an encoded picture."""
    result = process_bytes(data, Occurrence(source="test"), PipelineConfig())
    assert isinstance(result, Processed), result
    return result.facts, Thumb(result.thumbnail)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def scaled(image: Image.Image, share: float) -> Image.Image:
    size = (round(image.width * share), round(image.height * share))
    return image.resize(size, Image.Resampling.LANCZOS)


def duplicates(a: tuple[ImageFacts, Thumb], b: tuple[ImageFacts, Thumb], cosine: float) -> bool:
    return is_near_duplicate(
        a[0].phash,
        layout_of(a[0].color_layout),
        b[0].phash,
        layout_of(b[0].color_layout),
        6,
        similarity=cosine,
        pixels=lambda: Alignment(a[1], b[1]),
    )


def test_a_tiny_copy_is_compared_at_its_own_resolution(openclipart: Path) -> None:
    # A 12x14 pear: enlarged to the 32-pixel sample it is a blur the sharp original
    # never matched (mismatch 0.06); at the copy's resolution the two agree.
    pear = Path("/usr/share/tuxpaint/stamps/food/fruit/pear.png")
    if not pear.exists():
        pytest.skip("tuxpaint-stamps-default is not installed")
    with Image.open(pear) as im:
        original = im.convert("RGBA")
    tiny = seen(encode(scaled(original, 0.25), "PNG"))
    assert max(tiny[1].image.size) < 32
    assert Alignment(seen(pear.read_bytes())[1], tiny[1]).mismatch() <= MAX_MISMATCH


def test_a_flag_thumbnail_far_in_hash_is_found_through_its_embedding(openclipart: Path) -> None:
    # A symmetric flag: most of its DCT coefficients sit near the median, so a 150 px
    # JPEG thumbnail lands 18 bits away. Its embedding (cosine 0.7, under the former
    # 0.8 floor) brings it to the pixel check, which it passes.
    path = openclipart / "signs_and_symbols/flags/america/national_flag_of_canada1.png"
    with Image.open(path) as im:
        flat = Image.new("RGB", im.size, (255, 255, 255))
        rgba = im.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    flat.thumbnail((150, 150), Image.Resampling.LANCZOS)
    original, thumb = seen(path.read_bytes()), seen(encode(flat, "JPEG", quality=80))
    assert hamming(original[0].phash, thumb[0].phash) > 6
    assert duplicates(original, thumb, cosine=0.7)


def test_look_alike_flags_of_one_series_stay_apart(openclipart: Path) -> None:
    # Australian state flags: one blue ensign with the Southern Cross, differing by
    # the badge. Even with embeddings as close as copies, the pixels keep them apart.
    names = ("australia_victoria", "australia_queensland", "australia_northern_territory")
    flags = [seen((FLAGS / f"{name}.png").read_bytes()) for name in names]
    for i, a in enumerate(flags):
        for b in flags[i + 1 :]:
            assert not duplicates(a, b, cosine=0.95)


def test_small_copies_of_a_line_drawing_meet_where_their_lines_survive(
    openclipart: Path,
) -> None:
    # A dog drawn in thin straight lines: a half-size JPEG over white and a 75 % PNG.
    # At 32 px their lines are a faint grey whose filtering differs (0.035, refused);
    # at 128 px, blurred by 1.5 px, the same lines lie in the same places.
    with Image.open(openclipart / "animals/mammals/dog_03_drawn_with_strai_02.png") as im:
        rgba = im.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    half = seen(encode(scaled(white, 0.5), "JPEG", quality=60))
    three_quarters = seen(encode(scaled(rgba, 0.75), "PNG"))
    pixels = Alignment(half[1], three_quarters[1])
    assert hamming(half[0].phash, three_quarters[0].phash) <= 6
    assert pixels.mismatch() > MAX_MISMATCH
    assert pixels.fine_mismatch() <= FINE_MAX_MISMATCH
    assert duplicates(half, three_quarters, cosine=0.0)


def test_a_tree_and_the_same_tree_decorated_stay_apart(openclipart: Path) -> None:
    # One Christmas tree drawn twice, bare and with baubles and a star: hashes 4 bits
    # apart, refused at 32 px and by the finer look too (about 0.036).
    folder = openclipart / "recreation/holiday/christmas"
    bare, decorated = (
        seen((folder / "tree.png").read_bytes()),
        seen((folder / "xmas.png").read_bytes()),
    )
    assert hamming(bare[0].phash, decorated[0].phash) <= 6
    assert Alignment(bare[1], decorated[1]).fine_mismatch() > FINE_MAX_MISMATCH
    assert not duplicates(bare, decorated, cosine=0.95)
