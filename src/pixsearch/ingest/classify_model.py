"""The learned kind model: photo / clipart / line from classify.Stats.

Small gradient-boosted trees (multiclass, softmax loss) over the statistics
classify.py computes; data/kind_model.json holds them, written by
`python bench/quality_heldout.py --fit`, which fits on the first labelled set
(docs/quality.md) and on the "train" packages of the second one, never on the
"held" packages it reports on. Inference is numpy only: a few array lookups per
tree level over all trees at once, tens of microseconds a picture.

The trees also learn "graphics" (rendered wallpapers), so that those pull no
drawing towards photo, but the decision never picks it: no statistic here tells a
rendered gradient from a photographed sky, and calling a photograph "graphics"
loses it from imageType=Photo (leave-one-source-out on the training sources:
photo-vs-drawing balanced accuracy 0.84 with it, 0.91 without).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

CLASSES: tuple[str, ...] = ("photo", "clipart", "line", "graphics")
DECIDED: tuple[str, ...] = ("photo", "clipart", "line")  # the kinds the decision picks from
MODEL_FILE = "kind_model.json"


@dataclass(frozen=True, slots=True)
class Forest:
    """Complete trees of one depth; node i's children are 2i+1 and 2i+2."""

    depth: int
    learning_rate: float
    features: tuple[str, ...]
    label: np.ndarray  # (trees,) the class each tree adds to
    feature: np.ndarray  # (trees, inner nodes) index into the statistics vector
    threshold: np.ndarray  # (trees, inner nodes) go right when the value is above it
    leaf: np.ndarray  # (trees, leaves)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Per-class scores (logits) of one statistics vector."""
        rows = np.arange(self.label.size)
        node = np.zeros(self.label.size, dtype=np.intp)
        for _ in range(self.depth):
            right = x[self.feature[rows, node]] > self.threshold[rows, node]
            node = 2 * node + 1 + right
        values = self.leaf[rows, node - self.feature.shape[1]]
        return np.bincount(self.label, weights=values, minlength=len(CLASSES)) * self.learning_rate


def forest_from(data: dict[str, Any]) -> Forest:
    """The trees as bench/quality_heldout.py writes them (one JSON object)."""
    trees = data["trees"]
    return Forest(
        depth=int(data["depth"]),
        learning_rate=float(data["learning_rate"]),
        features=tuple(str(f) for f in data["features"]),
        label=np.array([t["class"] for t in trees], dtype=np.intp),
        feature=np.array([t["feature"] for t in trees], dtype=np.intp),
        threshold=np.array([t["threshold"] for t in trees], dtype=np.float64),
        leaf=np.array([t["leaf"] for t in trees], dtype=np.float64),
    )


@cache
def forest() -> Forest:
    text = resources.files("pixsearch.ingest").joinpath("data", MODEL_FILE).read_text()
    return forest_from(json.loads(text))


def predict(features: np.ndarray, model: Forest | None = None) -> str:
    """The most likely of DECIDED for one picture's statistics (classify.Stats.vector())."""
    scores = (model or forest()).scores(features)
    return max(DECIDED, key=lambda kind: float(scores[CLASSES.index(kind)]))
