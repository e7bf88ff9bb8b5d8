"""Many box-filtered samples of one picture at once, in numpy: the alignment windows.

A near-duplicate pixel check (index/alignment.py) compares one picture with
~140 windows of the other, each the window's pixels box-averaged to 32x32.
Made one by one with Pillow's ``resize(box=...)`` they cost ~14 ms of CPU a
picture; here every window of a picture comes from two prefix-sum tables (one
per pass) in a few whole-array steps, ~3 ms.

The arithmetic is Pillow's classic BOX resampling, reproduced exactly: for each
output pixel the whole source pixels whose centres fall in its span, averaged
with Pillow's 22-bit fixed-point weights and rounding, the horizontal pass first
and rounded to 8 bits before the vertical one. Pillow 13 sometimes runs the
vertical pass first, which moves a few values by one level; this module keeps
one order, so a pair's samples, and so its near-duplicate decision, no longer
depend on the Pillow version installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

PRECISION = 22  # Pillow's PRECISION_BITS for 8-bit images (32 - 8 - 2)
HALF = 1 << (PRECISION - 1)

Box = tuple[float, float, float, float]  # (left, top, right, bottom), as Image.resize's box
# Spans kept by (size, ranges): a collection's thumbnails come in few sizes, and so the
# windows of one size in the same spans (working them out was 7 % of a writer's check).
SPAN_CACHE = 256


def box_samples(pixels: np.ndarray, boxes: Sequence[Box], side: int) -> np.ndarray:
    """(len(boxes), side·side·3) int32: each box of `pixels` ((H, W, 3) uint8) box-sampled
    to side x side, laid out as ``np.asarray(image.resize((side, side), BOX, box))``."""
    height, width = pixels.shape[:2]
    columns: dict[tuple[float, float], int] = {}
    rows: dict[tuple[float, float], int] = {}
    pairs = np.array(
        [
            (
                columns.setdefault((b[0], b[2]), len(columns)),
                rows.setdefault((b[1], b[3]), len(rows)),
            )
            for b in boxes
        ],
        dtype=np.intp,
    ).reshape(-1, 2)
    h_lo, h_hi, h_weight = spans(width, tuple(columns), side)  # (P, side)
    v_lo, v_hi, v_weight = spans(height, tuple(rows), side)  # (Q, side)
    # Horizontal pass: prefix sums along x, every column span of every box at once.
    along_x = np.zeros((width + 1, height, 3), np.int32)
    np.cumsum(pixels.transpose(1, 0, 2), axis=0, out=along_x[1:])
    first = along_x[h_hi] - along_x[h_lo]  # (P, side, H, 3)
    _average(first, h_weight[:, :, None, None])
    # Vertical pass over the rounded first pass, prefix sums along y.
    along_y = np.zeros((len(columns), height + 1, side, 3), np.int32)
    np.cumsum(first.transpose(0, 2, 1, 3), axis=1, out=along_y[:, 1:])
    p, q = pairs[:, :1], pairs[:, 1]
    out: np.ndarray = along_y[p, v_hi[q]] - along_y[p, v_lo[q]]  # (N, side, side, 3)
    _average(out, v_weight[q][:, :, None, None])
    return out.reshape(len(pairs), -1)


@lru_cache(maxsize=SPAN_CACHE)
def spans(size: int, ranges: tuple[tuple[float, float], ...], side: int) -> tuple[np.ndarray, ...]:
    """(lo, hi, weight), each (len(ranges), side), read-only: the source pixels [lo, hi)
    that each output pixel of each range averages, and their fixed-point weight, as
    Pillow's ``precompute_coeffs`` and ``normalize_coeffs_8bpc`` compute them for BOX."""
    bounds = np.asarray(ranges, dtype=np.float32).reshape(-1, 2)  # Pillow reads the box as C floats
    start = bounds[:, 0].astype(np.float64)[:, None]
    scale = (bounds[:, 1] - bounds[:, 0]).astype(np.float64)[:, None] / side
    filterscale = np.maximum(scale, 1.0)
    support = 0.5 * filterscale
    centre = start + (np.arange(side) + 0.5) * scale
    first = np.maximum(np.trunc(centre - support + 0.5).astype(np.int64), 0)
    count = np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), size) - first
    offsets = np.arange(int(np.ceil(support.max())) * 2 + 1)
    reciprocal = (1.0 / filterscale)[..., None]  # multiplied, not divided, as Pillow does
    position = ((offsets + first[..., None]) - centre[..., None] + 0.5) * reciprocal
    inside = (position > -0.5) & (position <= 0.5) & (offsets < count[..., None])
    n = inside.sum(axis=-1)
    lo = first + np.argmax(inside, axis=-1)
    weight = np.trunc(0.5 + (1 << PRECISION) / np.maximum(n, 1)) * (n > 0)
    found = (lo, lo + n, weight.astype(np.int32))
    for array in found:
        array.setflags(write=False)  # shared by every later call with these spans
    return found


def _average(sums: np.ndarray, weight: np.ndarray) -> None:
    """Sums of whole pixels → their 8-bit average, in place, with Pillow's rounding."""
    sums *= weight
    sums += HALF
    sums >>= PRECISION
    np.minimum(sums, 255, out=sums)
