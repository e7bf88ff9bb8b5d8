"""Image factories for the ingest tests: real files written with Pillow and numpy.

Helpers reach the tests through the ``kit`` fixture rather than ``from conftest
import``: the tests folder has no __init__.py, and "conftest" is not a unique
module name once other test folders have one too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from pixsearch.ingest.config import PipelineConfig


def photo_array(seed: int = 0, width: int = 480, height: int = 320) -> np.ndarray:
    """Photo-like RGB pixels: smooth multi-scale texture, soft shapes, sensor noise."""
    rng = np.random.default_rng(seed)
    total = np.zeros((height, width, 3), dtype=np.float32)
    for cells, weight in ((3, 60.0), (12, 30.0), (48, 12.0)):
        field = rng.normal(0, 1, (max(2, cells * height // width), cells, 3)).astype(np.float32)
        layers = [
            np.asarray(Image.fromarray(field[..., c]).resize((width, height), Image.BICUBIC))
            for c in range(3)
        ]
        total += np.stack(layers, axis=2) * weight
    image = Image.fromarray(np.clip(total + rng.uniform(60, 190, 3), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x, y, x + width // 5, y + height // 5), fill=fill)
    image = image.filter(ImageFilter.GaussianBlur(1.5))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 4.0, (height, width, 1))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def photo(seed: int = 0, width: int = 480, height: int = 320) -> Image.Image:
    return Image.fromarray(photo_array(seed, width, height))


def gray_photo(seed: int = 0, width: int = 480, height: int = 320) -> Image.Image:
    return photo(seed, width, height).convert("L").convert("RGB")


def clipart(seed: int = 0, width: int = 600, height: int = 400) -> Image.Image:
    """Flat shapes in a five-colour palette with black outlines, on white."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    palette = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(5)]
    for i in range(8):
        x, y = int(rng.integers(0, width - 100)), int(rng.integers(0, height - 100))
        side = int(rng.integers(60, 200))
        shape = draw.ellipse if i % 2 else draw.rectangle
        shape((x, y, x + side, y + side * 0.8), fill=palette[i % 5], outline="black", width=3)
    return image


def line_drawing(seed: int = 0, width: int = 600, height: int = 400) -> Image.Image:
    """Thin black strokes on white paper."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        points = [tuple(int(v) for v in rng.integers(0, [width, height])) for _ in range(3)]
        draw.line(points, fill="black", width=2)
    for _ in range(5):
        x, y = int(rng.integers(0, width - 100)), int(rng.integers(0, height - 100))
        draw.ellipse((x, y, x + 80, y + 60), outline="black", width=2)
    return image


def chart(seed: int = 0, width: int = 600, height: int = 400) -> Image.Image:
    """A bar chart on a gently shaded background with captions: computer graphics."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    top = rng.uniform(60, 200, 3)
    bottom = top + rng.uniform(-40, 40, 3)  # a UI-style shade, not a full-range sweep
    shade = top * (1 - y) + bottom * y + x * 10
    image = Image.fromarray(np.clip(shade, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        bar = int(rng.integers(50, 300))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.rectangle((40 + i * 90, height - 40 - bar, 100 + i * 90, height - 40), fill=fill)
    for j in range(8):
        draw.text((20, 10 + j * 14), "Quarterly revenue by region 2024", fill="white")
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose IHDR declares a huge RGB image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def iptc_app13(records: list[tuple[int, int, bytes]]) -> bytes:
    """A JPEG APP13 segment holding IPTC-IIM datasets (record, dataset, value)."""
    iim = b"".join(
        b"\x1c" + bytes([rec, ds]) + struct.pack(">H", len(value)) + value
        for rec, ds, value in records
    )
    if len(iim) % 2:
        iim += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    payload = b"Photoshop 3.0\x00" + resource + iim
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def splice_after_soi(jpeg: bytes, segment: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + segment + jpeg[2:]


class ImageKit:
    """Namespace of the factories above, handed to tests by the ``kit`` fixture."""

    photo_array = staticmethod(photo_array)
    photo = staticmethod(photo)
    gray_photo = staticmethod(gray_photo)
    clipart = staticmethod(clipart)
    line_drawing = staticmethod(line_drawing)
    chart = staticmethod(chart)
    encode = staticmethod(encode)
    png_chunk = staticmethod(png_chunk)
    bomb_png = staticmethod(bomb_png)
    iptc_app13 = staticmethod(iptc_app13)
    splice_after_soi = staticmethod(splice_after_soi)


@pytest.fixture
def kit() -> type[ImageKit]:
    return ImageKit


@pytest.fixture
def config() -> PipelineConfig:
    return PipelineConfig()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, data_or_image, fmt=None, **save_params) -> path under tmp_path."""

    def _write(name: str, content: bytes | Image.Image, fmt: str | None = None, **params):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Image.Image):
            content = encode(content, fmt or _format_of(name), **params)
        path.write_bytes(content)
        return path

    return _write


def _format_of(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {"jpg": "JPEG", "jpeg": "JPEG", "tif": "TIFF"}.get(ext, ext.upper())
