"""Thumbnail resizing with the reference's w, h, c and p parameters (API.md section 6)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

MAX_SIDE = 2000
WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class Resize:
    width: int | None = None
    height: int | None = None
    crop: int | None = None  # 4 blind ratio, 7 smart ratio (falls back to blind)
    pad: bool = True

    @property
    def is_identity(self) -> bool:
        return self.width is None and self.height is None


def resize_jpeg(data: bytes, spec: Resize, *, quality: int = 85) -> bytes:
    with Image.open(io.BytesIO(data)) as source:
        image = source.convert("RGB")
    if spec.width and spec.height and spec.crop in (4, 7):
        image = _blind_crop(image, spec.width / spec.height)
        out = (
            image.resize((spec.width, spec.height), Image.Resampling.LANCZOS)
            if (image.width >= spec.width)
            else _pad(image, spec.width, spec.height)
        )
    else:
        out = _fit(image, spec)
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _fit(image: Image.Image, spec: Resize) -> Image.Image:
    box_w = spec.width or round(image.width * (spec.height or image.height) / image.height)
    box_h = spec.height or round(image.height * (spec.width or image.width) / image.width)
    scale = min(box_w / image.width, box_h / image.height, 1.0)  # never upscale: pad instead
    fitted = (
        image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.LANCZOS,
        )
        if scale < 1.0
        else image
    )
    return _pad(fitted, box_w, box_h) if spec.pad else fitted


def _pad(image: Image.Image, width: int, height: int) -> Image.Image:
    if (image.width, image.height) == (width, height):
        return image
    canvas = Image.new("RGB", (width, height), WHITE)
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    return canvas


def _blind_crop(image: Image.Image, ratio: float) -> Image.Image:
    """Narrower than asked: keep the top, cut the bottom; wider: keep the centre."""
    current = image.width / image.height
    if current < ratio:
        return image.crop((0, 0, image.width, max(1, round(image.width / ratio))))
    if current > ratio:
        new_width = max(1, round(image.height * ratio))
        left = (image.width - new_width) // 2
        return image.crop((left, 0, left + new_width, image.height))
    return image
