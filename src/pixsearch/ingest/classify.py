"""imageType from cheap statistics of a small RGB sample.

"transparent" and "animatedgif" are exact facts. photo / clipart / line come from
statistics of a sample about 128 px on its longest side, transparency composited
over white, read by the learned model of classify_model.py:

* still: share of pixels identical to their neighbours (drawings are runs of one
  exact colour; camera noise and texture break every run in a photo);
* palette: share of pixels covered by the 16 most frequent colours of a 4-bit grid
  (clipart and line art are drawn with few colours, photos with thousands);
* flat / soft / hard: neighbour differences; photos are dominated by soft
  transitions, drawings by flat areas separated by hard edges;
* background, ink share and ink chroma, to tell one neutral ink on paper (line)
  from clipart;
* colours, entropy, white and calm (flat through JPEG noise): what survives the
  re-encoding web sites apply, where the exact runs of `still` do not.

The model was fitted on labelled real images and measured on packages it never saw;
see docs/quality.md and bench/quality_heldout.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixsearch.ingest.classify_model import predict

FLAT_DIFF = 2  # max channel difference between neighbours that still counts as flat
HARD_DIFF = 40  # above this a neighbour difference is a drawn edge
PALETTE_BITS = 4
PALETTE_TOP = 16
CALM_DIFF = 8  # neighbour difference JPEG noise rarely exceeds inside a flat fill
WHITE = 240  # every channel at least this: paper white
INK_LEVEL = 200  # some channel below this: ink (or paint), not paper
NEUTRAL_INK = 40  # max-min of RGB below this: gray ink
INK_CHROMA = 48  # max-min of RGB above which a pixel is coloured, not gray ink


KINDS: tuple[str, ...] = ("photo", "clipart", "line", "graphics")
FEATURES: tuple[str, ...] = (
    "palette",
    "background",
    "background_neutral",
    "flat",
    "soft",
    "saturation",
    "still",
    "ink_chroma",
    "exact",
    "hard",
    "colours",
    "entropy",
    "white",
    "calm",
    "ink",
    "ink_neutral",
    "distinct",
)


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
    hard: float = 0.0  # share of all pixels at a drawn edge
    colours: float = 0.0  # distinct colours of the 4-bit grid, log2 / 12
    entropy: float = 0.0  # entropy of the 4-bit grid's histogram, bits / 12
    white: float = 0.0  # share of near-white pixels: paper, or transparency over white
    calm: float = 0.0  # share of neighbour differences <= CALM_DIFF: flat through JPEG noise
    ink: float = 0.0  # share of pixels darker than paper (some channel below INK_LEVEL)
    ink_neutral: float = 0.0  # share of that ink without colour (max-min below NEUTRAL_INK)
    distinct: float = 0.0  # distinct exact colours, log2 / 14 (a 128 px sample has ~2^14)

    def vector(self) -> np.ndarray:
        """The statistics as the kind model's input, in FEATURES order."""
        return np.array([float(getattr(self, name)) for name in FEATURES], dtype=np.float64)


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
    ink = codes != bg_code
    inked = int(ink.sum())
    coloured = int((chroma.ravel()[ink] > INK_CHROMA).sum()) if inked else 0
    still = float((diff == 0).mean())
    shares = counts[counts > 0] / total
    inky = np.minimum(np.minimum(r, g), b) < INK_LEVEL
    ink_count = int(inky.sum())
    exact, distinct = _exact_palette(rgb)
    return Stats(
        palette=float(top.sum()) / total,
        background=float(counts[bg_code]) / total,
        background_neutral=max(bg) - min(bg) <= 1,
        flat=float(flat.mean()),
        soft=float(moving - hard) / moving,
        saturation=float(sat.mean()),
        still=still,
        ink_chroma=coloured / max(1, inked),
        exact=exact,
        hard=hard / total,
        colours=float(np.log2(shares.size)) / (3 * PALETTE_BITS),
        entropy=float(-(shares * np.log2(shares)).sum()) / (3 * PALETTE_BITS),
        white=float((np.minimum(np.minimum(r, g), b) >= WHITE).mean()),
        calm=float((diff <= CALM_DIFF).mean()),
        ink=ink_count / total,
        ink_neutral=int((chroma[inky] < NEUTRAL_INK).sum()) / max(1, ink_count),
        distinct=float(np.log2(max(1, distinct))) / 14,
    )


def _exact_palette(rgb: np.ndarray) -> tuple[float, int]:
    """Share of pixels covered by the PALETTE_TOP most frequent exact RGB values, and
    the number of distinct values."""
    codes = (
        (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    ).ravel()
    if codes.size == 0:
        return 1.0, 0
    _, counts = np.unique(codes, return_counts=True)
    top = np.partition(counts, max(0, counts.size - PALETTE_TOP))[-PALETTE_TOP:]
    return float(top.sum()) / codes.size, int(counts.size)


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
    """Exactly one of photo / clipart / line / graphics (the learned model's choice)."""
    return predict(stats.vector())


def classify(rgb: np.ndarray, *, transparent: bool, animated: bool) -> tuple[str, ...]:
    """imageType values of a picture: its kind, then the exact flags."""
    types = [kind_of(image_stats(rgb))]
    if transparent:
        types.append("transparent")
    if animated:
        types.append("animatedgif")
    return tuple(types)
