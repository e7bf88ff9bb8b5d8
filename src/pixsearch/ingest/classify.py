"""Provisional imageType from cheap statistics of a small RGB sample.

"transparent" and "animatedgif" are exact facts. photo / clipart / line / graphics
come from a handful of statistics on a sample about 128 px on its longest side,
transparency composited over white:

* palette: share of pixels covered by the 16 most frequent colours of a 4-bit grid
  (clipart and line art are drawn with few colours, photos with thousands);
* flat / soft / hard: neighbour differences; photos are dominated by soft
  transitions, drawings by flat areas separated by hard edges;
* saturation and the dominant colour, to tell line drawings from coloured clipart.

The thresholds below are provisional guesses checked on synthetic images; a later
issue fits them on labelled images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLAT_DIFF = 2  # max channel difference between neighbours that still counts as flat
HARD_DIFF = 40  # above this a neighbour difference is a drawn edge
PALETTE_BITS = 4
PALETTE_TOP = 16

# A photo: almost every transition is soft (soft / (soft + hard) among non-flat
# pixels) ...
PHOTO_MIN_SOFT_SHARE = 0.90
# ... or, for sharp and busy photos, hardly any flat area and too many colours for
# a drawing (below CLIPART_MIN_PALETTE).
PHOTO_MAX_FLAT = 0.40
LINE_MIN_PALETTE = 0.90
LINE_MAX_SATURATION = 0.10  # mean HSV saturation
LINE_MIN_BACKGROUND = 0.50  # share of the dominant (neutral) colour: paper
CLIPART_MIN_PALETTE = 0.70
# Clipart is flat fills between hard outlines; shading and gradients between the
# edges (charts, UI, renders) make few-colour pictures graphics instead.
CLIPART_MAX_SOFT = 0.45

KINDS: tuple[str, ...] = ("photo", "clipart", "line", "graphics")


@dataclass(frozen=True, slots=True)
class Stats:
    palette: float
    background: float  # share of the single most frequent colour
    background_neutral: bool
    flat: float
    soft: float  # share of non-flat pixels whose transition is soft
    saturation: float


def image_stats(rgb: np.ndarray) -> Stats:
    """Statistics of an (H, W, 3) uint8 sample."""
    r, g, b = (rgb[..., i] for i in range(3))
    codes = (
        ((r >> (8 - PALETTE_BITS)).astype(np.intp) << (2 * PALETTE_BITS))
        | ((g >> (8 - PALETTE_BITS)).astype(np.intp) << PALETTE_BITS)
        | (b >> (8 - PALETTE_BITS))
    ).ravel()
    counts = np.bincount(codes, minlength=1 << (3 * PALETTE_BITS))
    top = np.partition(counts, counts.size - PALETTE_TOP)[-PALETTE_TOP:]
    total = float(codes.size)
    bg_code = int(counts.argmax())
    bg = [(bg_code >> shift) & 0xF for shift in (2 * PALETTE_BITS, PALETTE_BITS, 0)]
    diff = _neighbour_diff(r, g, b)
    flat = diff <= FLAT_DIFF
    moving = max(1, codes.size - int(flat.sum()))
    hard = int((diff > HARD_DIFF).sum())
    mx = np.maximum(np.maximum(r, g), b)
    chroma = mx - np.minimum(np.minimum(r, g), b)  # uint8, no overflow: max >= min
    sat = chroma.astype(np.float32) / np.maximum(mx, 1).astype(np.float32)
    return Stats(
        palette=float(top.sum()) / total,
        background=float(counts[bg_code]) / total,
        background_neutral=max(bg) - min(bg) <= 1,
        flat=float(flat.mean()),
        soft=float(moving - hard) / moving,
        saturation=float(sat.mean()),
    )


def _absdiff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| of uint8 arrays without widening."""
    return np.maximum(a, b) - np.minimum(a, b)


def _neighbour_diff(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest channel difference to the right and lower neighbours, per pixel."""
    diff = np.zeros(r.shape, dtype=np.uint8)
    for c in (r, g, b):
        np.maximum(diff[:, :-1], _absdiff(c[:, 1:], c[:, :-1]), out=diff[:, :-1])
        np.maximum(diff[:-1], _absdiff(c[1:], c[:-1]), out=diff[:-1])
    return diff


def kind_of(stats: Stats) -> str:
    """Exactly one of photo / clipart / line / graphics."""
    if stats.soft >= PHOTO_MIN_SOFT_SHARE:
        return "photo"
    if stats.flat <= PHOTO_MAX_FLAT and stats.palette < CLIPART_MIN_PALETTE:
        return "photo"
    if (
        stats.palette >= LINE_MIN_PALETTE
        and stats.saturation <= LINE_MAX_SATURATION
        and stats.background >= LINE_MIN_BACKGROUND
        and stats.background_neutral
    ):
        return "line"
    if stats.palette >= CLIPART_MIN_PALETTE and stats.soft < CLIPART_MAX_SOFT:
        return "clipart"
    return "graphics"


def classify(rgb: np.ndarray, *, transparent: bool, animated: bool) -> tuple[str, ...]:
    """imageType values of a picture: its kind, then the exact flags."""
    types = [kind_of(image_stats(rgb))]
    if transparent:
        types.append("transparent")
    if animated:
        types.append("animatedgif")
    return tuple(types)
