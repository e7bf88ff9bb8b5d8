from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.decode import Rejected, decode


def test_png_size_and_mode(kit, config) -> None:
    decoded = decode(kit.encode(Image.new("RGB", (300, 200), "red"), "PNG"), "png", config=config)
    assert (decoded.width, decoded.height) == (300, 200)
    assert decoded.image.mode == "RGB"
    assert decoded.frame_count == 1
    assert not decoded.animated
    assert not decoded.transparent


def test_jpeg_draft_decodes_at_reduced_scale_but_reports_original_size(kit, config) -> None:
    data = kit.encode(kit.photo(1, 1280, 800), "JPEG", quality=90)
    decoded = decode(data, "jpeg", config=config)
    assert (decoded.width, decoded.height) == (1280, 800)
    assert decoded.opened.size == (640, 400)  # libjpeg decoded at 1/2 scale
    assert max(decoded.image.size) >= config.thumb_size

    full = decode(data, "jpeg", config=PipelineConfig(draft=False))
    assert full.opened.size == (1280, 800)
    assert (full.width, full.height) == (1280, 800)


def test_draft_never_goes_below_thumbnail_size(kit, config) -> None:
    # 1000/474 > 2 but a 1/4 decode would give 250 px: only 1/2 is allowed.
    data = kit.encode(kit.photo(2, 1000, 300), "JPEG")
    decoded = decode(data, "jpeg", config=config)
    assert max(decoded.image.size) >= config.thumb_size
    assert (decoded.width, decoded.height) == (1000, 300)


@pytest.mark.parametrize("orientation", [6, 8, 5, 7])
def test_exif_rotation_swaps_width_and_height(kit, config, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = kit.encode(kit.photo(3, 300, 200), "JPEG", exif=exif)
    decoded = decode(data, "jpeg", config=config)
    assert (decoded.width, decoded.height) == (200, 300)
    assert decoded.image.size == (200, 300)


def test_exif_rotation_turns_the_pixels(kit, config) -> None:
    # Left half red, right half blue; orientation 6 means "rotate 90 clockwise to view".
    array = np.zeros((200, 300, 3), dtype=np.uint8)
    array[:, :150] = (255, 0, 0)
    array[:, 150:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = kit.encode(Image.fromarray(array), "JPEG", exif=exif, quality=95)
    pixels = np.asarray(decode(data, "jpeg", config=config).image)
    assert pixels[10, 100][0] > 200  # top is red
    assert pixels[290, 100][2] > 200  # bottom is blue


def test_orientation_1_and_garbage_keep_size(kit, config) -> None:
    for value in (1, 99):
        exif = Image.Exif()
        exif[0x0112] = value
        data = kit.encode(kit.photo(3, 300, 200), "JPEG", exif=exif)
        decoded = decode(data, "jpeg", config=config)
        assert (decoded.width, decoded.height) == (300, 200)


def _frames(colors: list[str], mode: str = "RGB") -> list[Image.Image]:
    return [Image.new(mode, (64, 48), c) for c in colors]


def test_animated_gif(kit, config) -> None:
    first, *rest = _frames(["red", "green", "blue"])
    data = kit.encode(first, "GIF", save_all=True, append_images=rest, duration=100, loop=0)
    decoded = decode(data, "gif", config=config)
    assert decoded.frame_count == 3
    assert decoded.animated
    assert (decoded.width, decoded.height) == (64, 48)


def test_single_frame_gif_is_not_animated(kit, config) -> None:
    decoded = decode(kit.encode(Image.new("RGB", (20, 20), "red"), "GIF"), "gif", config=config)
    assert decoded.frame_count == 1
    assert not decoded.animated


def test_apng_and_animated_webp(kit, config) -> None:
    for pil_format, fmt in (("PNG", "png"), ("WEBP", "webp")):
        first, *rest = _frames(["red", "green"])
        data = kit.encode(first, pil_format, save_all=True, append_images=rest, duration=100)
        decoded = decode(data, fmt, config=config)
        assert decoded.animated, fmt
        assert decoded.frame_count == 2, fmt


def test_multipage_tiff_is_not_an_animation(kit, config) -> None:
    first, *rest = _frames(["red", "green"])
    decoded = decode(
        kit.encode(first, "TIFF", save_all=True, append_images=rest), "tiff", config=config
    )
    assert decoded.frame_count == 2
    assert not decoded.animated


def test_opaque_alpha_is_not_transparent(kit, config) -> None:
    data = kit.encode(Image.new("RGBA", (40, 40), (10, 200, 30, 255)), "PNG")
    decoded = decode(data, "png", config=config)
    assert not decoded.transparent
    assert decoded.image.mode == "RGB"


def test_used_alpha_is_transparent(kit, config) -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((200, 10, 10, 255), (10, 10, 30, 30))
    decoded = decode(kit.encode(image, "PNG"), "png", config=config)
    assert decoded.transparent
    assert decoded.image.mode == "RGBA"


def test_gif_transparency_index(kit, config) -> None:
    image = Image.new("P", (30, 30), 0)
    image.putpalette([255, 255, 255, 255, 0, 0] + [0] * 762)
    image.paste(1, (5, 5, 25, 25))
    decoded = decode(kit.encode(image, "GIF", transparency=0), "gif", config=config)
    assert decoded.transparent


def test_sixteen_bit_grayscale_is_stretched(kit, config) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    data = kit.encode(Image.fromarray(ramp), "PNG")
    image = decode(data, "png", config=config).image
    pixels = np.asarray(image)
    assert image.mode == "RGB"
    assert pixels[..., 0].min() < 5 and pixels[..., 0].max() > 250


def test_cmyk_jpeg(kit, config) -> None:
    data = kit.encode(Image.new("CMYK", (50, 40), (0, 255, 255, 0)), "JPEG")
    image = decode(data, "jpeg", config=config).image
    assert image.mode == "RGB"
    r, g, b = np.asarray(image)[20, 25]
    assert r > 200 and g < 60 and b < 60


def test_large_png_is_reduced_for_work(kit, config) -> None:
    data = kit.encode(kit.photo(4, 1600, 1000), "PNG")
    decoded = decode(data, "png", config=config)
    assert (decoded.width, decoded.height) == (1600, 1000)
    assert config.thumb_size <= max(decoded.image.size) < 2 * config.thumb_size


@pytest.mark.parametrize(
    ("pil_format", "fmt"),
    [
        ("JPEG", "jpeg"),
        ("PNG", "png"),
        ("GIF", "gif"),
        ("WEBP", "webp"),
        ("BMP", "bmp"),
        ("TIFF", "tiff"),
    ],
)
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files_are_corrupt(kit, config, pil_format: str, fmt: str, keep: float) -> None:
    data = kit.encode(kit.photo(5, 300, 200), pil_format)
    with pytest.raises(Rejected) as caught:
        decode(data[: int(len(data) * keep)], fmt, config=config)
    assert caught.value.reason == "corrupt"


def test_declared_bomb_is_refused_before_decoding(kit, config) -> None:
    with pytest.raises(Rejected) as caught:
        decode(kit.bomb_png(), "png", config=config)
    assert caught.value.reason == "bomb"


def test_pixel_cap_is_configurable(kit) -> None:
    data = kit.encode(Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(Rejected) as caught:
        decode(data, "png", config=PipelineConfig(max_pixels=9_999))
    assert caught.value.reason == "bomb"


def test_a_cap_above_pillows_own_guard_takes_effect(kit) -> None:
    # 225 MP declared: over Pillow's built-in 179 MP refusal, under a 300 MP cap, so the
    # file gets as far as decoding (and fails there, its data being a stub).
    data = kit.bomb_png(15000, 15000)
    with pytest.raises(Rejected) as caught:
        decode(data, "png", config=PipelineConfig(max_pixels=300_000_000))
    assert caught.value.reason == "corrupt"
    with pytest.raises(Rejected) as caught:
        decode(data, "png", config=PipelineConfig(max_pixels=200_000_000))
    assert caught.value.reason == "bomb"


def test_garbage_after_valid_magic_is_corrupt(config) -> None:
    with pytest.raises(Rejected) as caught:
        decode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "png", config=config)
    assert caught.value.reason == "corrupt"
