"""Text-to-image search with the user's CLIP weights: ``<index>/clipvectors/``.

At ingest the "clip" analyzer (models/clip_analyzer.py) gives every new picture
a CLIP image vector; ``ClipVectorSync`` keeps them, in the same generation-named
usearch files as the text vectors (semantic.py's ``TextVectors``), saved right
after each index commit under that commit's generation. At search time a
``SemanticMatcher`` whose embedder is the CLIP text model searches them, so the
query "tomato" reaches a picture of one even if no text says so; its candidates
join the sentence-embedding ones (``CompositeMatcher``) and are fused with BM25
like them.

Limit: vectors are held in memory until the commit. A crash between the index
commit and the vector save loses that batch's vectors (at most
``commit_every`` images), and re-ingesting the same files does not restore
them: they are "unchanged" to the indexer. Ingest them into a fresh index to
get them back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from pixsearch.search.semantic import SemanticMatcher, TextVectors

log = logging.getLogger("pixsearch.search")

FOLDER = "clipvectors"


def clip_vectors_folder(index_dir: Path) -> Path:
    return index_dir / FOLDER  # beside vectors/ and textvectors/, same file format


class Generation(Protocol):
    @property
    def generation(self) -> int: ...


class ClipVectorSync:
    """The ingestion side: CLIP vectors of new images, saved after every commit.

    ``add`` for each new image (the Indexer calls it), then calling the object
    saves them under the store's generation, which the commit has just made
    visible: a file never names a generation that did not land.
    """

    def __init__(self, store: Generation, index_dir: Path) -> None:
        self.store = store
        self.vectors = TextVectors(clip_vectors_folder(index_dir), writable=True)

    def add(self, doc_id: int, vector: np.ndarray) -> None:
        self.vectors.add([doc_id], np.asarray(vector, dtype=np.float32)[None, :])

    def __call__(self) -> None:
        self.vectors.save(self.store.generation)  # no-op when nothing was added


class LazyClipText:
    """The CLIP text model, loaded on the first query: a server without vectors never pays."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = model_dir
        self._model = None
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
        return self._model.embed_texts(texts)


def open_clip_matcher(index_dir: Path, model_dir: str | Path) -> SemanticMatcher | None:
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
    vectors = TextVectors(clip_vectors_folder(index_dir))
    return SemanticMatcher(LazyClipText(model_dir), vectors, min_similarity=floor)
