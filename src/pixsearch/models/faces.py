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
# size (its geometric mean side), in steps of SCALE_STEP, centred within the box
# expanded by MARGIN on each side.
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

    def windows(self, gray: np.ndarray) -> np.ndarray:
        """(row, col) of every 24x24 window of a 2-D picture that passes all stages."""
        height, width = gray.shape
        rows, cols = height - self.window_h + 1, width - self.window_w + 1
        if rows <= 0 or cols <= 0:
            return np.empty((0, 2), dtype=np.intp)
        integral = np.zeros((height + 1, width + 1), dtype=np.int64)
        integral[1:, 1:] = gray.astype(np.int64).cumsum(0).cumsum(1)
        alive = np.ones(rows * cols, dtype=bool)
        codes: dict[int, np.ndarray] = {}
        for threshold, features, subsets, leaves in self.stages:
            index = np.flatnonzero(alive)
            if index.size == 0:
                break
            total = np.zeros(index.size)
            for feature, subset, leaf in zip(features, subsets, leaves, strict=True):
                if feature not in codes:
                    codes[feature] = self._codes(integral, self.rects[feature], rows, cols)
                code = codes[feature][index]
                inside = (subset[code >> 5] >> (code & 31)) & 1
                total += np.where(inside == 1, leaf[0], leaf[1])
            alive[index[total < threshold]] = False
        found = np.flatnonzero(alive)
        return np.stack([found // cols, found % cols], axis=1)

    @staticmethod
    def _codes(integral: np.ndarray, rect: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """The 8-bit LBP code of one feature at every window position, flattened."""
        x, y, w, h = (int(v) for v in rect)
        blocks = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]

        def block(i: int, j: int) -> np.ndarray:  # column i, row j of the 3x3 grid
            return blocks[y + j * h : y + j * h + rows, x + i * w : x + i * w + cols]

        center = block(1, 1)
        code = np.zeros((rows, cols), dtype=np.uint32)
        # OpenCV's bit order: clockwise from the top-left block, top-left the high bit.
        for bit, (i, j) in zip(
            (128, 64, 32, 16, 8, 4, 2, 1),
            ((0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1)),
            strict=True,
        ):
            code |= np.where(block(i, j) >= center, bit, 0).astype(np.uint32)
        return code.ravel()


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
        shrunk = gray.resize(
            (max(1, round(gray.width / factor)), max(1, round(gray.height / factor))),
            Image.Resampling.BILINEAR,
        )
        for row, col in found.windows(np.asarray(shrunk)):
            window = np.array([col, row, col + found.window_w, row + found.window_h]) * factor
            count += _iou(window, target) >= MIN_IOU
        size *= SCALE_STEP
    return int(count)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    low, high = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(high - low, 0, None)))
    union = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2])) - inter
    return inter / max(union, 1e-9)
