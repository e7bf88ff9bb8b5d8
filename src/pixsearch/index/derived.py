"""Vectors derived from committed images after each commit: text and CLIP, keyed by doc_id.

They use index/vectors.py's machinery (usearch HNSW, cosine, int8) in their
own folders beside the visual ``vectors/``: ``textvectors/`` (a sentence
embedding of each image's text, index/textvectors.py) and ``clipvectors/`` (the
CLIP image vector of each picture, index/clipvectors.py). One file per
generation, written under a temporary name, synced and renamed after that
generation's commit, so a reader sees whole files only; readers memory-map the
newest, so server workers share its pages.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pixsearch.index.store import VectorSpace
from pixsearch.index.vectors import VectorIndex, generations

LATEST = 2**62  # "the newest generation on disk" for VectorIndex.load
FOLDERS: dict[VectorSpace, str] = {"text": "textvectors", "clip": "clipvectors"}
REFRESH_SECONDS = 1.0  # how often a reader looks for a newer file


def folder_of(index_dir: Path, space: VectorSpace) -> Path:
    """Where the vectors of `space` live in an index directory."""
    return index_dir / FOLDERS[space]


class DerivedVectors:
    """The vectors of one space: a writer adds and saves; a reader serves the newest file."""

    def __init__(
        self, folder: Path, *, writable: bool = False, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self.store = VectorIndex(folder, writable=writable)
        self.refresh_seconds = refresh_seconds
        self._checked_at = 0.0
        self.refresh()

    @property
    def gen(self) -> int:
        gens = generations(self.store.folder)
        return gens[-1] if gens else -1

    def refresh(self) -> None:
        """Serve the newest complete file: files appear by rename, only after their commit."""
        self._checked_at = time.monotonic()
        self.store.load(LATEST)

    def refreshed(self) -> DerivedVectors:
        """Self, having looked for a newer file if none was looked for lately.

        The files land after the index commit they belong to (embedding takes a
        while), so a reader polls for them instead of following the index.
        """
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            self.refresh()
        return self

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, doc_id: int) -> bool:
        return self.store.contains(doc_id)

    def add(self, doc_ids: list[int], vectors: np.ndarray) -> None:
        for doc_id, vector in zip(doc_ids, vectors, strict=True):
            self.store.add(doc_id, vector)

    def remove(self, doc_id: int) -> None:
        self.store.remove(doc_id)

    def save(self, gen: int) -> None:
        """Write generation `gen`'s file if anything changed, and prune older ones."""
        if self.store.save(gen) is not None:
            self.store.prune(gen)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(doc_id, cosine similarity) of the k nearest vectors, nearest first."""
        return self.store.search(vector, k)
