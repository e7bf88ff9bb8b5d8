"""Open an image safely and decode only as much of it as the pipeline needs.

Safety rules: the declared pixel count is checked from the header before any
decoding (decompression bombs), truncated files are errors (LOAD_TRUNCATED_IMAGES
is never set), and every Pillow failure becomes a ``Rejected`` with a reason.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from io import BytesIO

import numpy as np
from PIL import Image

from pixsearch.ingest.config import PipelineConfig

_PIL_FORMATS: dict[str, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
}

# Formats whose extra frames are an animation; extra TIFF pages are a document.
_ANIMATED_FORMATS = frozenset({"gif", "png", "webp"})

_ORIENTATION_TAG = 0x0112
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})


class Rejected(Exception):
    """A file the pipeline refuses; ``reason`` is one of the Rejection reasons."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    """The first frame, reduced and oriented, plus what was learnt while opening.

    ``image`` is RGB, or RGBA when ``transparent``; its longest side is at least the
    thumbnail size (or the original size if smaller). ``width``/``height`` are the
    original's after EXIF orientation. ``opened`` keeps the Pillow file object for
    the metadata reader (info, EXIF, IPTC, XMP).
    """

    image: Image.Image
    width: int
    height: int
    encoding_format: str
    frame_count: int
    animated: bool
    transparent: bool
    exif: Image.Exif | None
    opened: Image.Image


def decode(data: bytes, fmt: str, *, config: PipelineConfig) -> Decoded:
    """Decode ``data`` (already sniffed as ``fmt``) or raise ``Rejected``."""
    with warnings.catch_warnings():
        # Pillow warns about odd-but-readable files (bad EXIF, bomb threshold);
        # they are either fine or decided by the explicit checks below.
        warnings.simplefilter("ignore")
        im = _open(data, fmt, config=config)
        width, height = im.size  # the header's size: draft() shrinks im.size
        frame_count, animated = _frames(im, fmt)
        _prepare_draft(im, fmt, config=config)
        _narrow_colour_key(im, data, fmt)
        try:
            im.load()
            work, transparent = _normalize(im)
        except MemoryError:
            raise
        except Exception as exc:
            # Truncated data, broken streams, and modes Pillow cannot turn into RGB.
            raise Rejected("corrupt", f"{type(exc).__name__}: {exc}") from exc
        exif = _read_exif(im)
        orientation = _orientation(exif)
    work = _reduce(work, config.thumb_size)
    if orientation in _TRANSPOSE:
        work = work.transpose(_TRANSPOSE[orientation])
        if orientation >= 5:
            width, height = height, width
    return Decoded(
        image=work,
        width=width,
        height=height,
        encoding_format=fmt,
        frame_count=frame_count,
        animated=animated,
        transparent=transparent,
        exif=exif,
        opened=im,
    )


def _open(data: bytes, fmt: str, *, config: PipelineConfig) -> Image.Image:
    # Pillow refuses images over 2 x MAX_IMAGE_PIXELS on its own; tie that guard to the
    # configured cap so a cap above Pillow's default (179 MP) takes effect too.
    Image.MAX_IMAGE_PIXELS = config.max_pixels
    try:
        im = Image.open(BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    except Image.DecompressionBombError as exc:
        raise Rejected("bomb", str(exc)) from exc
    except MemoryError:
        raise  # not the file's fault: let the caller report "crashed"
    except Exception as exc:
        raise Rejected("corrupt", f"{type(exc).__name__}: {exc}") from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise Rejected("corrupt", f"declared size {width}x{height}")
    if width * height > config.max_pixels:
        raise Rejected("bomb", f"declares {width}x{height} pixels, cap {config.max_pixels}")
    return im


def _frames(im: Image.Image, fmt: str) -> tuple[int, bool]:
    """Count frames before loading: counting seeks, and seeking back drops a loaded GIF frame."""
    try:
        count = int(getattr(im, "n_frames", 1))
        if count > 1:
            im.seek(0)
    except Exception as exc:
        # Frames past the first that cannot be walked mean a truncated/damaged file.
        raise Rejected("corrupt", f"frames: {type(exc).__name__}: {exc}") from exc
    return max(count, 1), count > 1 and fmt in _ANIMATED_FORMATS


def _prepare_draft(im: Image.Image, fmt: str, *, config: PipelineConfig) -> None:
    """Ask libjpeg for the smallest 1/2^k scale whose longest side still covers the thumbnail."""
    if fmt != "jpeg" or not config.draft:
        return
    width, height = im.size
    scale = config.thumb_size / max(width, height)
    if scale >= 0.5:
        return
    wanted = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
    im.draft("RGB" if im.mode == "RGB" else None, wanted)


def _read_exif(im: Image.Image) -> Image.Exif | None:
    try:
        exif = im.getexif()
    except Exception:
        return None  # malformed EXIF must not reject an otherwise good image
    return exif if len(exif) else None


def _orientation(exif: Image.Exif | None) -> int:
    if exif is None:
        return 1
    try:
        value = int(exif.get(_ORIENTATION_TAG, 1))
    except (TypeError, ValueError):
        return 1
    return value if value in _TRANSPOSE else 1


def _normalize(im: Image.Image) -> tuple[Image.Image, bool]:
    """Convert to RGB, or RGBA when the alpha channel is actually used."""
    mode = im.mode
    if mode in _HIGH_DEPTH_MODES:
        return _high_depth(im)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        rgba = im if mode == "RGBA" else im.convert("RGBA")
        if rgba.getchannel("A").getextrema() != (255, 255):  # some pixel not fully opaque
            return rgba, True
        return rgba.convert("RGB"), False
    if mode == "RGB":
        return im, False
    return im.convert("RGB"), False


def _narrow_colour_key(im: Image.Image, data: bytes, fmt: str) -> None:
    """Make a 16-bit RGB PNG's tRNS colour key comparable with its 8-bit pixels.

    Pillow reads such a file as 8-bit RGB but keeps the key at 16 bits, so no pixel
    ever matched it and the picture was called opaque. Keeping the key's high bytes
    may also clear a colour within 1/256 of it: a picture that declares a colour key
    is meant to be transparent.
    """
    key = im.info.get("transparency")
    if fmt == "png" and im.mode == "RGB" and isinstance(key, tuple) and data[24:25] == b"\x10":
        im.info["transparency"] = tuple(int(v) >> 8 for v in key)


def _high_depth(im: Image.Image) -> tuple[Image.Image, bool]:
    """16-bit or float gray, RGBA where a tRNS gray key (compared at full depth) is used."""
    rgb = _stretch_to_rgb(im)
    key = im.info.get("transparency")
    if not isinstance(key, int) or isinstance(key, bool):
        return rgb, False
    clear = np.asarray(im) == key
    if not clear.any():
        return rgb, False
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(clear, 0, 255).astype(np.uint8)))
    return rgba, True


def _stretch_to_rgb(im: Image.Image) -> Image.Image:
    """16-bit and float images: Pillow's convert clips at 255, so scale to 8 bits first."""
    arr = np.asarray(im, dtype=np.float32)
    low, high = float(arr.min()), float(arr.max())
    span = high - low if high > low else 1.0
    gray = ((arr - low) * (255.0 / span)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(gray).convert("RGB")


def _reduce(im: Image.Image, thumb_size: int) -> Image.Image:
    """Cheap integer box reduction for formats without draft mode (PNG, WebP, ...)."""
    factor = max(im.size) // thumb_size
    if factor < 2:
        return im
    return im.reduce(factor)
