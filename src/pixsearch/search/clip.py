"""Text-to-image search with the user's CLIP weights: the query side.

At ingest every new picture gets a CLIP image vector (index/clipvectors.py
keeps them in the store's "clip" vector space). At search time a
``SemanticMatcher`` whose embedder is the CLIP text model asks the store for the
pictures nearest the query's CLIP text vector, so the query "tomato" reaches a
picture of one even if no text says so; its candidates join the
sentence-embedding ones (``CompositeMatcher``) and are fused with BM25 like them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from pixsearch.index.store import ReadStore
from pixsearch.search.semantic import SemanticMatcher

log = logging.getLogger("pixsearch.search")


class LazyClipText:
    """The CLIP text model, loaded on the first query: a server without vectors never pays."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = model_dir
        self._model: Any = None
        self._failed = False

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self._model is None and not self._failed:
            from pixsearch.models.embedder import clip_options, load_embedder

            try:
                self._model = load_embedder("clip-onnx", **clip_options(self.model_dir))
            except Exception as exc:  # missing files, unreadable graphs, missing packages
                log.warning("CLIP text-to-image search off: %s", exc)
                self._failed = True
        if self._model is None:
            return np.zeros((len(texts), 1), dtype=np.float32)  # no dimension matches: nothing
        rows: np.ndarray = self._model.embed_texts(texts)
        return rows


def open_clip_matcher(store: ReadStore, model_dir: str | Path) -> SemanticMatcher | None:
    """The CLIP side of semantic search, None when ``clip_model_dir`` is not set.

    Like ``open_matcher`` it starts before any vector exists and picks up later
    ingestions; the similarity floor comes from the folder's ``clip.json``
    (``min_similarity``), else ``clip_onnx.MIN_SIMILARITY``.
    """
    if not model_dir:
        return None
    try:
        from pixsearch.models.clip_onnx import ClipConfig
    except ImportError as exc:
        log.warning("CLIP text-to-image search off: %s", exc)
        return None
    floor = ClipConfig.read(Path(model_dir)).min_similarity
    return SemanticMatcher(LazyClipText(model_dir), store, space="clip", min_similarity=floor)
