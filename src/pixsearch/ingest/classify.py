"""imageType from cheap statistics of a small RGB sample.

"transparent" and "animatedgif" are exact facts. photo / clipart / line / graphics
come from a handful of statistics on a sample about 128 px on its longest side,
transparency composited over white:

* still: share of pixels identical to their neighbours (drawings are runs of one
  exact colour; camera noise and texture break every run in a photo);
* palette: share of pixels covered by the 16 most frequent colours of a 4-bit grid
  (clipart and line art are drawn with few colours, photos with thousands);
* flat / soft / hard: neighbour differences; photos are dominated by soft
  transitions, drawings by flat areas separated by hard edges;
* background and ink chroma, to tell one neutral ink on paper (line) from clipart.

The thresholds (FITTED) were fitted on labelled real images; see docs/quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLAT_DIFF = 2  # max channel difference between neighbours that still counts as flat
HARD_DIFF = 40  # above this a neighbour difference is a drawn edge
PALETTE_BITS = 4
PALETTE_TOP = 16
INK_CHROMA = 48  # max-min of RGB above which a pixel is coloured, not gray ink


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision rule's constants (see kind_of); FITTED holds the values in use."""

    # A photo: camera noise and texture leave hardly any pair of identical
    # neighbours, while drawings are mostly runs of one exact colour ...
    photo_max_still: float = 0.25
    # ... or its 16 most frequent exact colours cover little of it (gray photos,
    # whose single channel makes equal neighbours common, still spread over
    # hundreds of levels; a drawing's fills are a few exact colours) ...
    photo_max_exact: float = 0.0
    # ... or (dark skies, fog, studio backdrops) almost every transition is soft
    # (soft / (soft + hard) among non-flat pixels) with too many colours for a drawing.
    photo_min_soft_share: float = 0.90
    photo_max_palette: float = 0.70
    line_min_palette: float = 0.90
    line_max_ink_chroma: float = 0.02  # share of coloured pixels off the paper
    line_min_background: float = 0.50  # share of the dominant (neutral) colour: paper
    clipart_min_palette: float = 0.70
    # Clipart is flat fills between hard outlines; shading and gradients between
    # the edges (charts, UI, renders) make few-colour pictures graphics instead.
    clipart_max_soft: float = 0.45


# Fitted by `python bench/quality_images.py --fit` (coordinate ascent from the
# defaults above) on a stratified 60 % training split (300 of 498 labelled real
# images, split by source picture): plasma-workspace-wallpapers and scikit-image
# photographs, openclipart-png drawings, rendered wallpapers; scored on the other
# 198 in docs/quality.md.
FITTED = Thresholds(
    photo_max_still=0.2,
    photo_max_exact=0.15,
    photo_min_soft_share=0.94,
    photo_max_palette=0.7,
    line_min_palette=0.85,
    line_max_ink_chroma=0.01,
    line_min_background=0.65,
    clipart_min_palette=0.5,
    clipart_max_soft=0.95,
)

KINDS: tuple[str, ...] = ("photo", "clipart", "line", "graphics")


@dataclass(frozen=True, slots=True)
class Stats:
    palette: float
    background: float  # share of the single most frequent colour
    background_neutral: bool
    flat: float
    soft: float  # share of non-flat pixels whose transition is soft
    saturation: float
    still: float = 0.0  # share of pixels equal to their right and lower neighbours
    ink_chroma: float = 0.0  # share of coloured pixels among those off the background
    exact: float = 1.0  # share of pixels covered by the 16 most frequent exact colours


def image_stats(rgb: np.ndarray, *, deciding: Thresholds | None = None) -> Stats:
    """Statistics of an (H, W, 3) uint8 sample.

    With `deciding`, `exact` (a sort of every pixel, the dearest statistic) is
    skipped when `still` alone already makes the picture a photo under those
    thresholds, as it does for most photographs; it is then reported as 0.
    """
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
    ink = codes != bg_code
    inked = int(ink.sum())
    coloured = int((chroma.ravel()[ink] > INK_CHROMA).sum()) if inked else 0
    still = float((diff == 0).mean())
    decided = deciding is not None and still <= deciding.photo_max_still
    return Stats(
        palette=float(top.sum()) / total,
        background=float(counts[bg_code]) / total,
        background_neutral=max(bg) - min(bg) <= 1,
        flat=float(flat.mean()),
        soft=float(moving - hard) / moving,
        saturation=float(sat.mean()),
        still=still,
        ink_chroma=coloured / max(1, inked),
        exact=0.0 if decided else _exact_palette(rgb),
    )


def _exact_palette(rgb: np.ndarray) -> float:
    """Share of pixels covered by the PALETTE_TOP most frequent exact RGB values."""
    codes = (
        (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    ).ravel()
    if codes.size == 0:
        return 1.0
    _, counts = np.unique(codes, return_counts=True)
    top = np.partition(counts, max(0, counts.size - PALETTE_TOP))[-PALETTE_TOP:]
    return float(top.sum()) / codes.size


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


def kind_of(stats: Stats, t: Thresholds = FITTED) -> str:
    """Exactly one of photo / clipart / line / graphics."""
    if stats.still <= t.photo_max_still or stats.exact <= t.photo_max_exact:
        return "photo"
    if stats.soft >= t.photo_min_soft_share and stats.palette < t.photo_max_palette:
        return "photo"
    if (
        stats.palette >= t.line_min_palette
        and stats.ink_chroma <= t.line_max_ink_chroma
        and stats.background >= t.line_min_background
        and stats.background_neutral
    ):
        return "line"
    if stats.palette >= t.clipart_min_palette and stats.soft < t.clipart_max_soft:
        return "clipart"
    return "graphics"


def classify(rgb: np.ndarray, *, transparent: bool, animated: bool) -> tuple[str, ...]:
    """imageType values of a picture: its kind, then the exact flags."""
    types = [kind_of(image_stats(rgb, deciding=FITTED))]
    if transparent:
        types.append("transparent")
    if animated:
        types.append("animatedgif")
    return tuple(types)
