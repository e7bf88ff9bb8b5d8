"""Semantic text matching: the query's sentence embedding against each image text's.

BM25 finds the words typed; this finds the meaning, so "puppy" reaches a
picture described as "young dog". The store keeps a vector of each image's text
(``ReadStore.neighbours("text", ...)``; written after each ingestion commit by
index/textvectors.py); this side embeds the query, asks for its nearest images
and fuses them with the other matchers.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pixsearch.index.store import ReadStore, VectorSpace
from pixsearch.search.ranking import RRF_K

log = logging.getLogger("pixsearch.search")

DIMENSIONS = 384  # all-MiniLM-L6-v2
MIN_SIMILARITY = 0.35  # MiniLM cosine under which pairs are mostly unrelated (docs/quality.md)
CANDIDATES = 100  # nearest neighbours fused with the BM25 window
QUERY_CACHE = 1024  # query embeddings kept per process


class TextEmbedder(Protocol):
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text, float32 [n, dimensions]."""
        ...


@dataclass
class SemanticMatcher:
    """Query text in, the nearest images of one vector space out (above a similarity floor).

    The store picks up vectors written after it opened (it looks for a newer
    file about once a second), so a server starts before anything is embedded.
    """

    embedder: TextEmbedder
    store: ReadStore
    space: VectorSpace = "text"
    min_similarity: float = MIN_SIMILARITY
    k: int = CANDIDATES

    # Query embeddings, most recent last: people repeat queries and page through them,
    # and one embedding costs ~4 ms of CPU.
    _cache: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def candidates(self, words: list[str]) -> list[tuple[int, float]]:
        # An index without vectors never loads the model.
        if not words or not self.store.vector_count(self.space):
            return []
        query = self._embed(" ".join(words))
        found = self.store.neighbours(self.space, query, k=self.k)
        return [(d, s) for d, s in found if s >= self.min_similarity]

    def _embed(self, text: str) -> np.ndarray:
        vector = self._cache.pop(text, None)
        if vector is None:
            vector = self.embedder.embed_texts([text])[0]
        self._cache[text] = vector
        if len(self._cache) > QUERY_CACHE:
            self._cache.popitem(last=False)
        return vector


class Matcher(Protocol):
    """What search asks of semantic matching: nearest images to the query, best first."""

    def candidates(self, words: list[str]) -> list[tuple[int, float]]: ...


@dataclass
class CompositeMatcher:
    """Several matchers as one (MiniLM on image text, CLIP on pixels): each image once.

    Merged by reciprocal rank, not by similarity: each model's cosine has its own
    scale (CLIP text-image matches score ~0.25, MiniLM text-text ones 0.5 and up),
    so raw similarities would always put one model first. An image both find
    gains from both; its similarity shown is the higher one.
    """

    matchers: list[Matcher]

    def candidates(self, words: list[str]) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        best: dict[int, float] = {}
        for matcher in self.matchers:
            for rank, (doc_id, similarity) in enumerate(matcher.candidates(words), start=1):
                scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (RRF_K + rank)
                best[doc_id] = max(best.get(doc_id, -1.0), similarity)
        order = sorted(scores, key=lambda d: (-scores[d], d))
        return [(d, best[d]) for d in order]


def combine_matchers(*matchers: Matcher | None) -> Matcher | None:
    """The matchers switched on, as one: None, the only one, or a CompositeMatcher."""
    present = [m for m in matchers if m is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return CompositeMatcher(present)


def load_embedder() -> TextEmbedder | None:
    """The MiniLM sentence embedder, or None when its package or weights are missing."""
    try:
        from pixsearch.models.minilm import MiniLM
    except ImportError:
        return None
    try:
        return MiniLM()
    # ImportError: MiniLM imports its weight package only when built (models fetch).
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        log.warning("semantic matching off: %s", exc)
        return None


class LazyEmbedder:
    """Loads the model on the first text, so a server or an index without vectors never pays."""

    def __init__(self) -> None:
        self._model: TextEmbedder | None = None
        self._failed = False

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self._model is None and not self._failed:
            self._model = load_embedder()
            self._failed = self._model is None
        if self._model is None:
            return np.zeros((len(texts), DIMENSIONS), dtype=np.float32)  # matches nothing
        return self._model.embed_texts(texts)


def open_matcher(store: ReadStore, *, enabled: bool) -> SemanticMatcher | None:
    """The matcher a server uses, None when switched off.

    It starts even before anything is embedded: vectors written by a later
    ingestion are picked up, and the model loads on the first query that has
    vectors to search.
    """
    if not enabled:
        return None
    return SemanticMatcher(LazyEmbedder(), store)
