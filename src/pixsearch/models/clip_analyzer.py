"""The "clip" analyzer: a CLIP image vector per picture, for text-to-image search.

It runs the user's CLIP image model (``clip_onnx.py`` documents the folder,
``Settings.clip_model_dir`` names it) on the
picture the pipeline hands every analyzer (thumbnail size, transparency over
white) and fills ``Understanding.clip_embedding``; the indexer keeps these
vectors in ``<index>/clipvectors/`` (index/clipvectors.py), where the CLIP text model
searches them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pixsearch.config import Settings
from pixsearch.models.analyzer import Understanding
from pixsearch.models.embedder import clip_options, load_embedder


class ClipAnalyzer:
    """Fills ``Understanding.clip_embedding``."""

    name = "clip"

    def __init__(self, model_dir: str | Path | None = None, threads: int = 1):
        folder = model_dir if model_dir is not None else Settings.load().clip_model_dir
        try:
            # The registry's instance: one session pair per process, shared with search.
            self.model = load_embedder("clip-onnx", threads=threads, **clip_options(folder))
        except Exception as exc:  # unreadable graphs too; load_analyzer reports ImportError
            raise ImportError(f"clip: {exc}") from exc

    def analyze(self, image: Image.Image, into: Understanding) -> None:
        into.clip_embedding = self.model.embed_images([image])[0]
