"""The analyzer contract: what a model-based ingest stage fills, and the registry of them.

Each analyzer looks at the decoded picture (already shrunk to thumbnail size,
transparency composited over white) and fills part of an ``Understanding``.
The contract lives here, below ``ingest/``, because the analyzers are models:
``ingest/understand.py`` runs them, the insights of an upload run them too,
and neither needs the other. Analyzers are loaded by name once per process
(as embedders are), so a pool of workers pays each model's start-up once, not
per image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from pixsearch.registry import Registry, Unavailable


@dataclass(slots=True)
class Understanding:
    """What the analyzers found about one picture; defaults mean "nothing found"."""

    analyzed: list[str] = field(default_factory=list)
    adult_score: float = 0.0
    faces: tuple[tuple[float, float, float, float], ...] = ()
    image_content: tuple[str, ...] = ()
    tags: tuple[tuple[str, float], ...] = ()
    ocr_text: str = ""
    embedding: np.ndarray | None = None  # float32, L2-normalised visual embedding
    clip_embedding: np.ndarray | None = None  # float32, L2-normalised CLIP image vector


class Analyzer(Protocol):
    name: str

    def analyze(self, image: Image.Image, into: Understanding) -> None:
        """Fill this analyzer's part of ``into`` from an RGB picture."""


class AnalyzerUnavailable(Unavailable):
    """A named analyzer cannot run here (its package or model is missing)."""


# Each factory takes no arguments and returns an Analyzer.
ANALYZERS: Registry[Analyzer] = Registry(
    "analyzer",
    {
        "nudenet": "pixsearch.models.nudenet:NudeNetAnalyzer",
        "visual": "pixsearch.models.visual:VisualAnalyzer",
        "ocr": "pixsearch.models.ocr:OcrAnalyzer",
        # CLIP image vectors for text-to-image search; needs Settings.clip_model_dir.
        "clip": "pixsearch.models.clip_analyzer:ClipAnalyzer",
    },
    error=AnalyzerUnavailable,
)

_LOADED: dict[str, Analyzer] = {}


def load_analyzer(name: str) -> Analyzer:
    """The process-wide instance of a named analyzer, created on first use."""
    if name not in _LOADED:
        _LOADED[name] = ANALYZERS.create(name)
    return _LOADED[name]
