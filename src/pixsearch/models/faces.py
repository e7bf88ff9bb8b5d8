"""A second opinion on a doubtful face: OpenCV's LBP frontal-face cascade, in numpy.

The NudeNet detector misses faces that fill a small, tight crop (a 25 px LFW face
enlarged): it sees them, but at 0.1-0.3 confidence, where a fallen leaf or a cat can
also score. An LBP cascade (multi-block local binary patterns, 24x24 window, Viola-Jones
style boosting) is trained on exactly such tight frontal crops. On its own it fires on
textures all over photographs, so it is only asked about one place: does a frontal face
sit where NudeNet's doubtful face candidate is, at about its size?

The cascade is OpenCV's ``lbpcascade_frontalface.xml``, converted to JSON unchanged
(``data/lbp_frontalface.json``, with its source). OpenCV 5's Python wheel no longer has
``CascadeClassifier``, so the evaluation is written here, following OpenCV's
``LBPEvaluator`` and ``predictCategoricalStump``; it scans one cropped region at a few
scales, a few milliseconds per question.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

CASCADE = Path(__file__).with_name("data") / "lbp_frontalface.json"
# The windows tried: from SIZE_RANGE[0] to SIZE_RANGE[1] times the candidate box's
# size (its geometric mean side), in steps of SCALE_STEP, within the box expanded by
# MARGIN on each side (plus room for the largest window); of those, only windows
# that overlap the box by MIN_IOU are scanned.
SIZE_RANGE = (0.7, 1.5)
SCALE_STEP = 1.15
MARGIN = 0.3
# A window counts when it passes every stage and overlaps the candidate box by at least
# MIN_IOU; a face is confirmed by MIN_HITS such windows (OpenCV's minNeighbors idea: a
# real face passes at several neighbouring positions and scales). Measured on the
# candidates NudeNet doubted (scores 0.1-0.3): LFW faces 0-23 windows; the non-face
# patch, leaf and non-face drawings that reached the question 0; scikit-image's cat
# 0 or 1 (resized to 160-474 px, mirrored or not). 1 / 2 / 3 hits give LFW recall
# 0.93 / 0.90 / 0.88: 3 keeps two windows of margin over the cat.
MIN_IOU = 0.3
MIN_HITS = 3


# OpenCV's LBP code: the 8 outer blocks of the 3x3 grid clockwise from the top-left
# (row-major block numbers 0 1 2 5 8 7 6 3), the top-left one the high bit; a bit is set
# when that block's sum is at least the centre block's.
_RING = np.array([0, 1, 2, 5, 8, 7, 6, 3])
_BITS = np.array([128, 64, 32, 16, 8, 4, 2, 1])


class LbpCascade:
    """OpenCV's LBP cascade: 24x24 windows, stumps on 3x3 multi-block LBP codes."""

    def __init__(self, path: Path = CASCADE) -> None:
        spec = json.loads(path.read_text())
        self.window_w, self.window_h = spec["window"]
        self.rects = np.array(spec["features"], dtype=np.intp)  # x, y, block w, block h
        self.stages = [
            (
                float(stage["threshold"]),
                np.array([w[0] for w in stage["weak"]], dtype=np.intp),
                np.array([w[1] for w in stage["weak"]], dtype=np.uint32),
                np.array([w[2] for w in stage["weak"]], dtype=np.float64),
            )
            for stage in spec["stages"]
        ]

    def windows(self, gray: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """(row, col) of the 24x24 windows of a 2-D picture that pass every stage.

        ``where``: an optional (rows, cols) boolean mask of the window positions to try
        (top-left corners); all of them by default.
        """
        height, width = gray.shape
        rows, cols = height - self.window_h + 1, width - self.window_w + 1
        if rows <= 0 or cols <= 0:
            return np.empty((0, 2), dtype=np.intp)
        integral = np.zeros((height + 1, width + 1), dtype=np.int64)
        integral[1:, 1:] = gray.astype(np.int64).cumsum(0).cumsum(1)
        flat, stride = integral.ravel(), width + 1
        grid = np.mgrid[0:rows, 0:cols]
        alive = grid[0] * stride + grid[1]  # each window's top-left corner in `flat`
        alive = alive[where] if where is not None else alive.ravel()
        steps = np.arange(4)
        for threshold, features, subsets, leaves in self.stages:
            if alive.size == 0:
                break
            # The 4x4 corner points of each feature's 3x3 blocks (OpenCV's LBPEvaluator),
            # as offsets from a window's top-left corner: (features, 16).
            x, y, w, h = (self.rects[features, k, None] for k in range(4))
            rows_at = (y + steps * h)[:, :, None] * stride
            cols_at = (x + steps * w)[:, None, :]
            offsets = (rows_at + cols_at).reshape(len(features), 16)
            corner = flat[alive[None, None, :] + offsets[:, :, None]]  # (features, 16, n)
            grid = corner.reshape(len(features), 4, 4, -1)
            blocks = grid[:, :-1, :-1] - grid[:, :-1, 1:] - grid[:, 1:, :-1] + grid[:, 1:, 1:]
            blocks = blocks.reshape(len(features), 9, -1)  # row-major 3x3 blocks
            ring = blocks[:, _RING] >= blocks[:, 4:5]  # (features, 8, n)
            code = (ring * _BITS[None, :, None]).sum(axis=1).astype(np.intp)
            inside = (subsets[np.arange(len(features))[:, None], code >> 5] >> (code & 31)) & 1
            total = np.where(inside == 1, leaves[:, 0, None], leaves[:, 1, None]).sum(axis=0)
            alive = alive[total >= threshold]
        return np.stack([alive // stride, alive % stride], axis=1)


@cache
def cascade() -> LbpCascade:
    return LbpCascade()


def confirms(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """Whether the cascade finds a frontal face at a normalised (l, t, r, b) box."""
    return hits(image, box) >= MIN_HITS


def hits(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Passing windows, over the scales tried, that overlap the box by MIN_IOU."""
    found = cascade()
    width, height = image.size
    left, top, right, bottom = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    side = float(np.sqrt(max(right - left, 1.0) * max(bottom - top, 1.0)))
    pad_x, pad_y = MARGIN * (right - left), MARGIN * (bottom - top)
    region = (
        max(0, int(left - pad_x - side * (SIZE_RANGE[1] - 1) / 2)),
        max(0, int(top - pad_y - side * (SIZE_RANGE[1] - 1) / 2)),
        min(width, int(np.ceil(right + pad_x + side * (SIZE_RANGE[1] - 1) / 2))),
        min(height, int(np.ceil(bottom + pad_y + side * (SIZE_RANGE[1] - 1) / 2))),
    )
    gray = image.convert("L").crop(region)
    target = np.array([left - region[0], top - region[1], right - region[0], bottom - region[1]])
    count, size = 0, side * SIZE_RANGE[0]
    while size <= side * SIZE_RANGE[1]:
        factor = size / found.window_w  # picture pixels per window pixel
        shrunk = np.asarray(
            gray.resize(
                (max(1, round(gray.width / factor)), max(1, round(gray.height / factor))),
                Image.Resampling.BILINEAR,
            )
        )
        rows = shrunk.shape[0] - found.window_h + 1
        cols = shrunk.shape[1] - found.window_w + 1
        if rows > 0 and cols > 0:
            # Only windows that could count are scanned: those overlapping the box.
            top_left = np.mgrid[0:rows, 0:cols] * factor
            near = _iou_grid(top_left[1], top_left[0], found.window_w * factor, target)
            count += len(found.windows(shrunk, near >= MIN_IOU))
        size *= SCALE_STEP
    return int(count)


def _iou_grid(left: np.ndarray, top: np.ndarray, side: float, box: np.ndarray) -> np.ndarray:
    """IoU of square windows (top-left corners, one side) with one box, elementwise."""
    width = np.clip(np.minimum(left + side, box[2]) - np.maximum(left, box[0]), 0, None)
    height = np.clip(np.minimum(top + side, box[3]) - np.maximum(top, box[1]), 0, None)
    inter = width * height
    return inter / (side * side + (box[2] - box[0]) * (box[3] - box[1]) - inter)
