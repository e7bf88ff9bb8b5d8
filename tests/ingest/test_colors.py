from __future__ import annotations

import numpy as np
import pytest

from pixsearch.ingest.colors import accent_color, analyze_colors, color_name, is_monochrome
from pixsearch.records import COLOR_NAMES


def solid(rgb: tuple[int, int, int], size: int = 64) -> np.ndarray:
    return np.full((size, size, 3), rgb, dtype=np.uint8)


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((255, 0, 0), "Red"),
        ((0, 0, 255), "Blue"),
        ((0, 160, 0), "Green"),
        ((255, 230, 0), "Yellow"),
        ((255, 140, 0), "Orange"),
        ((120, 70, 20), "Brown"),
        ((255, 105, 180), "Pink"),
        ((110, 20, 160), "Purple"),
        ((0, 128, 128), "Teal"),
        ((128, 128, 128), "Gray"),
        ((5, 5, 5), "Black"),
        ((250, 250, 250), "White"),
    ],
)
def test_solid_colour_names(rgb: tuple[int, int, int], name: str) -> None:
    facts = analyze_colors(solid(rgb))
    assert facts.color_name == name
    assert facts.color_name in COLOR_NAMES


def test_accent_is_the_dominant_colour_in_upper_hex() -> None:
    rgb = solid((255, 0, 0))
    rgb[:16] = (0, 0, 255)  # a quarter blue
    assert analyze_colors(rgb).accent_color == "FF0000"
    assert accent_color(np.array([[18, 52, 86]], dtype=np.uint8)) == "123456"


def test_red_is_not_monochrome() -> None:
    assert not analyze_colors(solid((255, 0, 0))).monochrome


def test_grayscale_photo_is_monochrome(kit) -> None:
    gray = np.asarray(kit.gray_photo(1).resize((64, 64)))
    assert analyze_colors(gray).monochrome


def test_colour_photo_is_not_monochrome(kit) -> None:
    colour = np.asarray(kit.photo(1).resize((64, 64)))
    assert not analyze_colors(colour).monochrome


def test_sepia_and_near_gray_photos_are_monochrome(kit) -> None:
    gray = np.asarray(kit.gray_photo(2).resize((64, 64))).astype(np.float32)
    classic = np.clip(gray * np.array([1.351, 1.203, 0.937]), 0, 255)  # the usual sepia matrix
    strong = np.clip(gray * np.array([1.07, 0.74, 0.43]) + 20, 0, 255)  # an old brown print
    for sepia in (classic, strong):
        assert analyze_colors(sepia.astype(np.uint8)).monochrome
    rng = np.random.default_rng(0)
    near_gray = np.clip(gray + rng.normal(0, 3, gray.shape), 0, 255).astype(np.uint8)
    assert analyze_colors(near_gray).monochrome


def test_flat_pastel_is_not_monochrome() -> None:
    assert not is_monochrome(solid((135, 206, 235)).reshape(-1, 3))


def test_transparent_background_does_not_decide() -> None:
    # A gray logo on a transparent canvas whose hidden pixels are bright green.
    rgb = solid((0, 255, 0))
    alpha = np.zeros((64, 64), dtype=np.uint8)
    rgb[16:48, 16:48] = (90, 90, 90)
    alpha[16:48, 16:48] = 255
    facts = analyze_colors(rgb, alpha)
    assert facts.monochrome
    assert facts.color_name == "Gray"
    assert facts.accent_color == "5A5A5A"
    # ... and the same canvas with a red logo is red, not monochrome.
    rgb[16:48, 16:48] = (220, 20, 30)
    facts = analyze_colors(rgb, alpha)
    assert facts.color_name == "Red"
    assert not facts.monochrome


def test_fully_transparent_image_still_gets_answers() -> None:
    facts = analyze_colors(solid((0, 0, 0)), np.zeros((64, 64), dtype=np.uint8))
    assert facts.color_name == "Black"
    assert len(facts.accent_color) == 6


def test_chromatic_subject_beats_neutral_background() -> None:
    rgb = solid((245, 245, 245))
    rgb[:, :24] = (30, 60, 220)  # ~38% blue, rest white paper
    assert color_name(rgb.reshape(-1, 3)) == "Blue"


def test_dark_photo_with_colour_in_its_light_is_not_monochrome() -> None:
    # A night scene: mostly near-black, where no chroma can show, and a few lit
    # coloured lights. The dark does not make it black-and-white.
    rgb = solid((8, 10, 9))
    rgb[0, :] = (230, 160, 40)  # 2.3 % lit (under the 3 % chroma allowance): orange ...
    rgb[1, :32] = (40, 90, 220)  # ... and blue
    assert not is_monochrome(rgb.reshape(-1, 3))
    # The same scene with gray lights is monochrome.
    rgb[:2, :] = (200, 200, 200)
    assert is_monochrome(rgb.reshape(-1, 3))


def test_sepia_matrix_toning_is_monochrome_but_a_single_hued_colour_photo_is_not(kit) -> None:
    gray = np.asarray(kit.gray_photo(5), dtype=np.float32)[..., 0]
    sepia = np.clip(gray[..., None] * np.array([1.07, 0.74, 0.43]), 0, 255).astype(np.uint8)
    assert is_monochrome(sepia.reshape(-1, 3))
    # Autumn leaves: one hue family, but hue varies and saturation runs high.
    rng = np.random.default_rng(2)
    hue_shift = rng.uniform(0.0, 0.35, gray.shape)[..., None]
    leaves = gray[..., None] * np.concatenate(
        [np.ones_like(hue_shift), 0.35 + hue_shift, 0.05 + 0 * hue_shift], axis=2
    )
    assert not is_monochrome(np.clip(leaves, 0, 255).astype(np.uint8).reshape(-1, 3))


def test_pipeline_colour_of_a_transparent_png_ignores_hidden_pixels(write) -> None:
    from PIL import Image, ImageDraw

    from pixsearch.ingest.config import PipelineConfig
    from pixsearch.ingest.pipeline import Processed, process_file

    # Hidden pixels are opaque-looking black with alpha 0: composited or not,
    # they must not make the picture Black or monochrome.
    canvas = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).ellipse((120, 70, 280, 230), fill=(210, 30, 40, 255))
    result = process_file(write("red-dot.png", canvas), PipelineConfig())
    assert isinstance(result, Processed)
    assert result.facts.color_name == "Red"
    assert not result.facts.monochrome
    assert "transparent" in result.facts.image_types
