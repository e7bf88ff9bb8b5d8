"""Pinned decisions on a few real images (tests/data/quality, licences in tests/data/LICENSES.md).

A regression guard for the kind model fitted by bench/quality_heldout.py, not a
measurement: the measured precision and recall are in docs/quality.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"
COLOUR_PHOTOS = ("chelsea.jpg", "coffee.jpg", "astronaut.jpg")
KINDS = {
    **dict.fromkeys(COLOUR_PHOTOS, "photo"),
    "camera.jpg": "photo",
    "clipart-dinosaur.png": "clipart",
    "clipart-lemon-slice.png": "clipart",
    "line-flamingo.png": "line",
    "line-soft-drink.png": "line",
}


def facts_of(path: Path):
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed), result
    return result.facts


def test_the_sample_is_small_and_complete() -> None:
    files = sorted(p.name for p in DATA.iterdir())
    assert files == sorted(KINDS)
    assert sum(p.stat().st_size for p in DATA.iterdir()) <= 300_000


@pytest.mark.parametrize(("name", "kind"), KINDS.items())
def test_kind_of_real_pictures(name: str, kind: str) -> None:
    facts = facts_of(DATA / name)
    assert facts.image_types[0] == kind, facts.image_types
    # openclipart's drawings are PNGs on a transparent canvas; the photos are JPEGs.
    assert ("transparent" in facts.image_types) == name.endswith(".png")


@pytest.mark.parametrize("name", COLOUR_PHOTOS)
def test_colour_photos_are_not_monochrome(name: str) -> None:
    assert not facts_of(DATA / name).monochrome


def toned(rgb: np.ndarray, variant: str) -> np.ndarray:
    gray = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if variant == "gray":
        out = np.repeat(gray[..., None], 3, axis=2)
    elif variant == "sepia":
        out = gray[..., None] * np.array([1.07, 0.74, 0.43], dtype=np.float32)
    else:  # near-gray: 8 % of the colour left
        out = gray[..., None] + 0.08 * (rgb.astype(np.float32) - gray[..., None])
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("variant", ["gray", "sepia", "neargray"])
@pytest.mark.parametrize("name", COLOUR_PHOTOS)
def test_toned_versions_of_real_photos_are_monochrome(
    tmp_path: Path, name: str, variant: str
) -> None:
    with Image.open(DATA / name) as image:
        rgb = np.asarray(image.convert("RGB"))
    path = tmp_path / f"{variant}-{name}"
    Image.fromarray(toned(rgb, variant)).save(path, quality=88)
    facts = facts_of(path)
    assert facts.monochrome, (name, variant)
    assert facts.image_types[0] == "photo"


def test_gray_photo_and_line_drawings_are_monochrome() -> None:
    for name in ("camera.jpg", "line-flamingo.png", "line-soft-drink.png"):
        assert facts_of(DATA / name).monochrome, name
    for name in ("clipart-dinosaur.png", "clipart-lemon-slice.png"):
        assert not facts_of(DATA / name).monochrome, name
