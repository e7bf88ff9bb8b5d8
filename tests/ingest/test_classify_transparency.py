"""imageType=Transparent on the ways a file can say "transparent" (issue 16).

The 16-bit PNG colour keys (tRNS on 16-bit gray or RGB) were called opaque: Pillow
reads the pixels at 8 bits (or as "I;16", which the decoder stretched to RGB and
forgot the key) but keeps the key at 16. The other cases pin what already worked.
Every file goes through process_file, as ingestion runs it.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file


def png(kit, pixels: np.ndarray, colour_type: int, depth: int, trns: bytes | None) -> bytes:
    """A PNG written byte by byte: Pillow cannot write 16-bit colour keys."""
    height, width = pixels.shape[:2]
    sample = ">u2" if depth == 16 else "u1"
    raw = b"".join(b"\x00" + pixels[y].astype(sample).tobytes() for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    chunks = kit.png_chunk(b"IHDR", ihdr)
    if trns is not None:
        chunks += kit.png_chunk(b"tRNS", trns)
    chunks += kit.png_chunk(b"IDAT", zlib.compress(raw)) + kit.png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def types_of(path: Path) -> tuple[str, ...]:
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed), result
    return result.facts.image_types


def gray16(key_used: bool) -> np.ndarray:
    pixels = np.full((60, 90), 40_000, dtype=np.uint16)
    pixels[20:40, 30:60] = 1234 if key_used else 1235
    return pixels


def rgb16() -> np.ndarray:
    pixels = np.full((60, 90, 3), 50_000, dtype=np.uint16)
    pixels[:, :30] = (300, 40_000, 9_000)
    return pixels


@pytest.mark.parametrize("key_used", [True, False])
def test_16_bit_gray_colour_key(kit, write, key_used: bool) -> None:
    data = png(kit, gray16(key_used), 0, 16, struct.pack(">H", 1234))
    assert ("transparent" in types_of(write("gray16.png", data))) == key_used


def test_16_bit_rgb_colour_key(kit, write) -> None:
    data = png(kit, rgb16(), 2, 16, struct.pack(">HHH", 300, 40_000, 9_000))
    assert "transparent" in types_of(write("rgb16.png", data))


def test_16_bit_rgb_key_that_no_pixel_has_is_opaque(kit, write) -> None:
    data = png(kit, rgb16(), 2, 16, struct.pack(">HHH", 7, 7, 7))
    assert "transparent" not in types_of(write("rgb16-opaque.png", data))


def cut_out(mode: str) -> Image.Image:
    """A picture with its top-left square cleared: by alpha, or (P, 1) by index / value 0."""
    if mode in ("RGBA", "LA"):
        rgba = Image.new("RGBA", (90, 60), (200, 40, 40, 255))
        rgba.paste((0, 0, 0, 0), (0, 0, 30, 30))
        return rgba.convert(mode)
    image = Image.new(mode, (90, 60), 1)
    if mode == "P":
        image.putpalette([0, 0, 0, 200, 40, 40])
    image.paste(0, (0, 0, 30, 30))
    return image


@pytest.mark.parametrize(
    ("name", "mode", "options"),
    [
        ("alpha.png", "RGBA", {}),
        ("gray-alpha.png", "LA", {}),
        ("one-bit-key.png", "1", {"transparency": 0}),
        ("palette-trns.png", "P", {"transparency": 0}),
        ("index.gif", "P", {"transparency": 0}),
        ("alpha.webp", "RGBA", {"lossless": True}),
    ],
)
def test_transparency_declared_and_used(write, name: str, mode: str, options: dict) -> None:
    assert "transparent" in types_of(write(name, cut_out(mode), **options))


def test_gif_transparency_index_no_pixel_uses_is_opaque(write) -> None:
    image = Image.new("P", (60, 40), 1)
    image.putpalette([0, 0, 0, 200, 40, 40])
    assert "transparent" not in types_of(write("unused.gif", image, transparency=0))
