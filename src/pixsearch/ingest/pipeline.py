"""One file in, (ImageFacts, thumbnail, Occurrence) or a Rejection out.

Stages, one small function each: read (bounded) -> sniff -> decode -> shrink to
thumbnail size -> measure (small samples) -> derive (sha256, colours, phash,
classify) -> thumbnail (encode) -> metadata. The file is read once and decoded
once; one resize serves both the thumbnail and the statistics.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from pixsearch.index.darklook import SIDE as ALPHA_SIDE
from pixsearch.index.darklook import DarkLook
from pixsearch.ingest.classify import classify
from pixsearch.ingest.colors import ColorFacts, analyze_colors, layout_signature
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.decode import Decoded, Rejected, decode
from pixsearch.ingest.metadata import Metadata, capture_date, extract_metadata
from pixsearch.ingest.phash import phash_rgb, rgb_to_gray
from pixsearch.ingest.sniff import SNIFF_BYTES, sniff
from pixsearch.ingest.thumbnail import make_thumbnail, shrink, thumb_dimensions
from pixsearch.ingest.understand import understand
from pixsearch.models.analyzer import Understanding
from pixsearch.records import ImageFacts, Occurrence, Rejection

CLASSIFY_SAMPLE = 128  # the classifier sample's longest side is at most this
COLOR_SAMPLE = 64  # side of the square sample for colours and the perceptual hash
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
# Over black, a sample spreading less than this (grey levels) is blank: black ink on a
# transparent ground leaves nothing to match, and all such pictures would hash alike.
MIN_DARK_SPREAD = 1.0


@dataclass(frozen=True, slots=True)
class Processed:
    facts: ImageFacts
    thumbnail: bytes
    occurrence: Occurrence
    embedding: np.ndarray | None = None  # visual embedding from the "visual" analyzer
    clip_embedding: np.ndarray | None = None  # CLIP image vector from the "clip" analyzer


@dataclass(frozen=True, slots=True)
class Samples:
    """Small views of the picture; transparency already composited over white."""

    classify_rgb: np.ndarray  # (<=128, <=128, 3) uint8, aspect kept
    color_rgb: np.ndarray  # (64, 64, 3) uint8
    color_alpha: np.ndarray | None  # (64, 64) uint8, None when opaque
    # Transparent pictures only: the colour sample over black, and the alpha of the
    # whole (thumbnail-size) picture box-sampled as index/darklook.py compares it.
    dark_rgb: np.ndarray | None = None  # (64, 64, 3) uint8
    alpha_sample: np.ndarray | None = None  # (ALPHA_SIDE, ALPHA_SIDE) uint8


@dataclass(frozen=True, slots=True)
class Derived:
    sha256: str
    colors: ColorFacts
    phash: int
    image_types: tuple[str, ...]
    dark_look: str = ""  # DarkLook.encode() of a transparent picture, else ""


def process_file(path: Path, config: PipelineConfig) -> Processed | Rejection:
    """Process one file; never raises (bar KeyboardInterrupt/SystemExit)."""
    source = os.path.abspath(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _process(Path(source), config)
    except Rejected as exc:
        return Rejection(source, exc.reason, exc.detail)
    except Exception as exc:
        return Rejection(source, "crashed", f"{type(exc).__name__}: {exc}"[:500])


def process_bytes(
    data: bytes, occurrence: Occurrence, config: PipelineConfig
) -> Processed | Rejection:
    """Process an image already in memory (web sources); never raises.

    Same stages as process_file; metadata comes from the embedded fields only
    (no sidecars), and the page's occurrence is kept as given.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not data:
                raise Rejected("empty")
            if len(data) > config.max_file_bytes:
                raise Rejected("too-large", f"{len(data)} bytes, cap {config.max_file_bytes}")
            facts, thumb, _, seen = _stages(data, config, None)
            return Processed(
                facts=facts,
                thumbnail=thumb,
                occurrence=occurrence,
                embedding=seen.embedding,
                clip_embedding=seen.clip_embedding,
            )
    except Rejected as exc:
        return Rejection(occurrence.source, exc.reason, exc.detail)
    except Exception as exc:
        return Rejection(occurrence.source, "crashed", f"{type(exc).__name__}: {exc}"[:500])


def _process(path: Path, config: PipelineConfig) -> Processed:
    data = read_bounded(path, max_bytes=config.max_file_bytes)
    facts, thumb, meta, seen = _stages(data, config, path)
    assert meta is not None
    return Processed(
        facts=facts,
        thumbnail=thumb,
        occurrence=_occurrence(path, meta),
        embedding=seen.embedding,
        clip_embedding=seen.clip_embedding,
    )


def _stages(
    data: bytes, config: PipelineConfig, path: Path | None
) -> tuple[ImageFacts, bytes, Metadata | None, Understanding]:
    """sniff → decode → shrink → measure → derive → analyze → thumbnail (→ metadata)."""
    fmt = sniff_format(data)
    decoded = decode(data, fmt, config=config)
    if _invisible(decoded):
        raise Rejected("blank", "every pixel is transparent: nothing to show")
    small = shrink_to_thumbnail(decoded, config)
    samples = measure(small)
    derived = derive(data, decoded, samples)
    seen = understand(_opaque_rgb(small), config.analyzers)
    thumb, thumb_w, thumb_h = make_thumbnail(small, quality=config.thumb_quality)
    meta = read_metadata(path, decoded, config.roots) if path is not None else None
    facts = ImageFacts(
        sha256=derived.sha256,
        width=decoded.width,
        height=decoded.height,
        content_size=len(data),
        encoding_format=fmt,
        frame_count=decoded.frame_count,
        animated=decoded.animated,
        transparent=decoded.transparent,
        accent_color=derived.colors.accent_color,
        color_name=derived.colors.color_name,
        monochrome=derived.colors.monochrome,
        phash=derived.phash,
        color_layout=derived.colors.layout,
        dark_look=derived.dark_look,
        image_types=derived.image_types,
        captured_at=meta.captured_at if meta is not None else _captured_at(decoded),
        thumb_width=thumb_w,
        thumb_height=thumb_h,
        analyzed=tuple(seen.analyzed),
        adult_score=seen.adult_score,
        faces=seen.faces,
        image_content=seen.image_content,
        tags=seen.tags,
        ocr_text=seen.ocr_text,
    )
    return facts, thumb, meta, seen


def _invisible(decoded: Decoded) -> bool:
    """Whether no pixel of a still picture can be seen (tracking pixels, transparent
    spacers, empty drawings): an image search has nothing to show for it. An animation
    may draw on later frames, so its blank first frame decides nothing."""
    if not decoded.transparent or decoded.animated:
        return False
    return bool(decoded.image.getchannel("A").getextrema()[1] == 0)


def _opaque_rgb(image: Image.Image) -> Image.Image:
    """The picture as the analyzers see it: RGB, transparency over white."""
    if image.mode == "RGBA":
        return _over_white(image)
    return image if image.mode == "RGB" else image.convert("RGB")


def read_bounded(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes, refusing empty, oversize and non-regular files without reading them."""
    try:
        # O_NONBLOCK: opening a FIFO named x.jpg must not hang the worker.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Rejected("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Rejected("unreadable", "not a regular file")
        if info.st_size == 0:
            raise Rejected("empty")
        if info.st_size > max_bytes:
            raise Rejected("too-large", f"{info.st_size} bytes, cap {max_bytes}")
        data = _read_fd(fd, info.st_size, max_bytes)
    finally:
        os.close(fd)
    if not data:
        raise Rejected("empty")
    if len(data) > max_bytes:
        raise Rejected("too-large", f"over {max_bytes} bytes")
    return data


def _read_fd(fd: int, size: int, max_bytes: int) -> bytes:
    try:
        # Sized by fstat, not by the cap: a read(n) allocates n bytes up front.
        with open(fd, "rb", buffering=0, closefd=False) as handle:
            data = handle.read(size + 1)
            if len(data) > size:  # the file grew since fstat
                data += handle.read(max_bytes + 1 - len(data))
    except OSError as exc:
        raise Rejected("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}") from exc
    return data


def sniff_format(data: bytes) -> str:
    fmt = sniff(data[:SNIFF_BYTES])
    if fmt is None:
        raise Rejected("not-an-image", "unknown magic bytes")
    return fmt


def shrink_to_thumbnail(decoded: Decoded, config: PipelineConfig) -> Image.Image:
    """The picture at thumbnail size: what the thumbnail encodes and the statistics read.

    The size comes from the original's dimensions, since a draft-scaled decode can
    round differently by a pixel.
    """
    return shrink(decoded.image, thumb_dimensions(decoded.width, decoded.height, config.thumb_size))


def measure(image: Image.Image) -> Samples:
    """Integer-reduce to at most ~128 px (classifier), then box-resize to 64x64 (colours, phash)."""
    factor = -(-max(image.size) // CLASSIFY_SAMPLE)  # ceiling division
    small = image.reduce(factor) if factor > 1 else image
    smaller = small.resize((COLOR_SAMPLE, COLOR_SAMPLE), Image.Resampling.BOX)
    if small.mode != "RGBA":
        return Samples(
            classify_rgb=np.asarray(small), color_rgb=np.asarray(smaller), color_alpha=None
        )
    whole_alpha = image.getchannel("A").resize((ALPHA_SIDE, ALPHA_SIDE), Image.Resampling.BOX)
    return Samples(
        classify_rgb=np.asarray(_over_white(small)),
        color_rgb=np.asarray(_over_white(smaller)),
        color_alpha=np.asarray(smaller.getchannel("A")),
        dark_rgb=np.asarray(_flattened(smaller, BLACK)),
        alpha_sample=np.asarray(whole_alpha),
    )


def _over_white(image: Image.Image) -> Image.Image:
    return _flattened(image, WHITE)


def _flattened(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    background = Image.new("RGB", image.size, colour)
    background.paste(image, mask=image.getchannel("A"))
    return background


def derive(data: bytes, decoded: Decoded, samples: Samples) -> Derived:
    return Derived(
        sha256=hashlib.sha256(data).hexdigest(),
        colors=analyze_colors(samples.color_rgb, samples.color_alpha),
        phash=phash_rgb(samples.color_rgb),
        image_types=classify(
            samples.classify_rgb, transparent=decoded.transparent, animated=decoded.animated
        ),
        dark_look=_dark_look(samples) if decoded.transparent else "",
    )


def _dark_look(samples: Samples) -> str:
    """A transparent picture's look over black (index/darklook.py): a copy a site
    flattened over black hashes unlike the white-flattened original."""
    dark, alpha = samples.dark_rgb, samples.alpha_sample
    if dark is None or alpha is None or float(rgb_to_gray(dark).std()) < MIN_DARK_SPREAD:
        return ""
    return DarkLook(phash_rgb(dark), layout_signature(dark), alpha).encode()


def _captured_at(decoded: Decoded) -> datetime | None:
    """Capture date from the embedded EXIF of in-memory bytes (no file, so no sidecars)."""
    try:
        return capture_date(decoded.exif) if decoded.exif is not None else None
    except Exception:
        return None


def read_metadata(path: Path, decoded: Decoded, roots: tuple[str, ...] = ()) -> Metadata:
    try:
        return extract_metadata(path, image=decoded.opened, exif=decoded.exif, roots=roots)
    except Exception:
        # extract_metadata guards each source; this is the last line for the rest.
        return extract_metadata(path, roots=roots)


def _occurrence(path: Path, meta: Metadata) -> Occurrence:
    source = str(path)
    return Occurrence(
        source=source,
        content_url=meta.content_url,
        host_page_url=meta.host_page_url,
        local_path=source,
        title=meta.title,
        text=meta.text,
        license=meta.license,
        license_url=meta.license_url,
    )
