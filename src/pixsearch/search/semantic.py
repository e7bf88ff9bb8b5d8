"""Semantic text matching: a sentence embedding of each image's text, searched by the query's.

BM25 finds the words typed; this finds the meaning, so "puppy" reaches a
picture described as "young dog". The vectors use index/vectors.py's machinery
(usearch HNSW, cosine, int8: 384 bytes per image at 384 dimensions) in their own
folder, ``textvectors/``: one file per generation, written under a temporary
name, synced and renamed, so a reader sees whole files only; readers memory-map
the newest, so server workers share its pages.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from pixsearch.index.vectors import VectorIndex, generations
from pixsearch.records import ImageDocument
from pixsearch.search.ranking import RRF_K

log = logging.getLogger("pixsearch.search")

DIMENSIONS = 384  # all-MiniLM-L6-v2
LATEST = 2**62  # "the newest generation on disk" for VectorIndex.load
MIN_SIMILARITY = 0.35  # MiniLM cosine under which pairs are mostly unrelated (docs/quality.md)
CANDIDATES = 100  # nearest neighbours fused with the BM25 window
QUERY_CACHE = 1024  # query embeddings kept per process
TEXT_CHARS = 400  # MiniLM reads 128 word pieces here; the start of the text matters most
# The fields that say what the picture shows, best first; surrounding page text
# is left out: it is long, often about something else, and would blur the vector.
EMBEDDED_FIELDS = ("caption", "name", "keywords", "tags", "page_title", "url_words")


class TextEmbedder(Protocol):
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text, float32 [n, 384]."""
        ...


def image_text(doc: ImageDocument) -> str:
    """The text embedded for an image: its describing fields, each distinct phrase once."""
    seen: set[str] = set()
    phrases: list[str] = []
    for name in EMBEDDED_FIELDS:
        for occurrence in doc.occurrences:
            text = " ".join(occurrence.text.get(name, "").split()).rstrip(" .")
            if text and text.lower() not in seen:
                seen.add(text.lower())
                phrases.append(text)
    return ". ".join(phrases)[:TEXT_CHARS]


class TextVectors:
    """Per-image text vectors keyed by doc_id: index/vectors.py's generation files, own folder."""

    def __init__(self, folder: Path, *, writable: bool = False) -> None:
        self.store = VectorIndex(folder, writable=writable)
        self.refresh()

    @property
    def gen(self) -> int:
        gens = generations(self.store.folder)
        return gens[-1] if gens else -1

    def refresh(self) -> None:
        """Serve the newest complete file: files appear by rename, only after their commit."""
        self.store.load(LATEST)

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, doc_id: int) -> bool:
        return self.store.contains(doc_id)

    def add(self, doc_ids: list[int], vectors: np.ndarray) -> None:
        for doc_id, vector in zip(doc_ids, vectors, strict=True):
            self.store.add(doc_id, vector)

    def save(self, gen: int) -> None:
        if self.store.save(gen) is not None:
            self.store.prune(gen)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(doc_id, cosine similarity) of the k nearest vectors, nearest first."""
        return self.store.search(vector, k)


@dataclass
class SemanticMatcher:
    """Query text in, nearest image texts out (above a similarity floor)."""

    embedder: TextEmbedder
    vectors: TextVectors
    min_similarity: float = MIN_SIMILARITY
    k: int = CANDIDATES

    refresh_seconds: float = 1.0
    _checked_at: float = 0.0
    # Query embeddings, most recent last: people repeat queries and page through them,
    # and one embedding costs ~4 ms of CPU.
    _cache: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def candidates(self, words: list[str]) -> list[tuple[int, float]]:
        now = time.monotonic()
        if now - self._checked_at >= self.refresh_seconds:  # pick up a newer generation
            self._checked_at = now
            self.vectors.refresh()
        if not words or not len(self.vectors):
            return []
        query = self._embed(" ".join(words))
        return [(d, s) for d, s in self.vectors.search(query, self.k) if s >= self.min_similarity]

    def _embed(self, text: str) -> np.ndarray:
        vector = self._cache.pop(text, None)
        if vector is None:
            vector = self.embedder.embed_texts([text])[0]
        self._cache[text] = vector
        if len(self._cache) > QUERY_CACHE:
            self._cache.popitem(last=False)
        return vector

    def similarity(self, words: list[str], doc: ImageDocument) -> float:
        """Cosine similarity of the query and one image's text (for explanations)."""
        rows = self.embedder.embed_texts([" ".join(words), image_text(doc)])
        return float(np.dot(rows[0], rows[1]))


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


def embed_documents(
    docs: Iterable[ImageDocument], vectors: TextVectors, embedder: TextEmbedder, *, batch: int = 64
) -> int:
    """Add the text vectors of the images not in `vectors` yet; the count added."""
    added = 0
    pending: list[ImageDocument] = []
    for doc in docs:
        if doc.doc_id not in vectors and image_text(doc):
            pending.append(doc)
        if len(pending) >= batch:
            added += _embed_batch(pending, vectors, embedder)
            pending = []
    if pending:
        added += _embed_batch(pending, vectors, embedder)
    return added


def _embed_batch(docs: list[ImageDocument], vectors: TextVectors, embedder: TextEmbedder) -> int:
    rows = embedder.embed_texts([image_text(d) for d in docs])
    vectors.add([d.doc_id for d in docs], rows)
    return len(docs)


def vectors_folder(index_dir: Path) -> Path:
    return index_dir / "textvectors"  # beside the visual vectors/, same file format


def load_embedder() -> TextEmbedder | None:
    """The MiniLM sentence embedder, or None when its package or weights are missing."""
    try:
        from pixsearch.models.minilm import MiniLM
    except ImportError:
        return None
    try:
        return MiniLM()
    except (OSError, RuntimeError, ValueError) as exc:  # missing or unreadable weights
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


def open_matcher(index_dir: Path, *, enabled: bool) -> SemanticMatcher | None:
    """The matcher a server uses, None when switched off.

    It starts even before anything is embedded: vectors written by a later
    ingestion are picked up like any other commit, and the model loads on the
    first query that has vectors to search.
    """
    if not enabled:
        return None
    return SemanticMatcher(LazyEmbedder(), TextVectors(vectors_folder(index_dir)))


class ChangeLog(Protocol):
    """What a store tells the text vectors: its generation and the images changed since one."""

    @property
    def generation(self) -> int: ...

    def get(self, doc_ids: list[int]) -> list[ImageDocument]: ...

    def changed_since(self, gen: int) -> list[int]: ...


def update_text_vectors(
    store: ChangeLog, index_dir: Path, embedder: TextEmbedder, *, batch: int = 500
) -> int:
    """(Re)embed the images committed since the vectors' own generation; the count embedded.

    Run after each ingestion commit. The vector file is named by the store
    generation it covers, so a run killed between the index commit and this
    save is caught up by the next one: nothing is missed, nothing redone twice.
    An image given a new occurrence is embedded again, since its text grew.
    """
    vectors = TextVectors(vectors_folder(index_dir), writable=True)
    target = store.generation
    if vectors.gen >= target:
        return 0
    changed = store.changed_since(max(vectors.gen, 0))
    added = 0
    for start in range(0, len(changed), batch):
        docs = store.get(changed[start : start + batch])
        for doc in docs:
            if doc.doc_id in vectors:
                vectors.store.remove(doc.doc_id)
        added += embed_documents(docs, vectors, embedder)
    vectors.save(target)
    return added


class TextVectorSync:
    """The ingestion side: after every commit, bring textvectors/ up to the new generation."""

    def __init__(self, store: ChangeLog, index_dir: Path) -> None:
        self.store = store
        self.index_dir = index_dir
        self.embedder = LazyEmbedder()

    def __call__(self) -> None:
        update_text_vectors(self.store, self.index_dir, self.embedder)
