"""The index's own vocabulary: words, document frequencies and co-occurrence vectors.

Built per committed generation from two sources. Document frequencies come
from one walk of the term dictionary (exact, about 0.4 s at 1M documents).
Co-occurrence comes from a random sample of documents' text by *random
indexing*: every frequent word gets a fixed random vector, and a word's
context vector is the idf-weighted sum of the random vectors of the words it
appears beside. Words used in the same contexts ("dusk", "sunset") end up
with close context vectors, without ever building the quadratic
word-by-word matrix. Each word's nearest words are computed once, at build
time, so a request reads lists instead of multiplying matrices. The result is
cached in a file named after the generation, so several workers and restarts
build it once.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy import sparse

from pixsearch.records import ImageDocument
from pixsearch.search.words import STOPWORDS

log = logging.getLogger(__name__)

DIM = 128  # random-indexing dimensions: enough to keep 20k random vectors near-orthogonal
VECTOR_TERMS = 20_000  # the most frequent content words get context vectors
NEAR = 24  # nearest words kept per word
SAMPLE_DOCS = 30_000  # documents read for co-occurrence (all of them in a small index)
SYNC_BUILD_DOCS = 20_000  # below this many documents the first build blocks (it is quick)
ADULT_SHARE = 0.5  # a word found mostly on adult images is never suggested under safe search
_TOKEN = re.compile(r"[^\W_]+")
FORMAT = 3  # bump when the cached file's layout changes


class TermSource(Protocol):
    """What the vocabulary needs from a store (the embedded store has it)."""

    @property
    def generation(self) -> int: ...

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]: ...

    def get(self, doc_ids: list[int]) -> list[ImageDocument]: ...

    def stats(self) -> dict[str, int]: ...


def tokens(text: str) -> list[str]:
    """Words as the index folds them: lower case, accents removed."""
    folded = text.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(folded)


def is_content_word(term: str) -> bool:
    return len(term) > 1 and term.isalpha() and term not in STOPWORDS


@dataclass(slots=True)
class Vocabulary:
    generation: int
    num_docs: int
    terms: list[str]  # by document frequency, most frequent first
    df: np.ndarray  # int64, aligned with terms
    adult: frozenset[str]  # words mostly seen on adult images or pages
    near: np.ndarray  # (k, NEAR) int32: for terms[:k], the words with the closest contexts
    near_score: np.ndarray  # (k, NEAR) float32: their cosine similarities
    ids: dict[str, int] = field(default_factory=dict)
    adult_df: dict[str, int] = field(default_factory=dict)  # documents that are adult, per word
    _df: dict[str, int] = field(default_factory=dict)  # df as a dict: cheaper per lookup

    def __post_init__(self) -> None:
        self.near_score = self.near_score.astype(np.float32)  # float16 on disk
        if not self.ids:
            self.ids = {t: i for i, t in enumerate(self.terms)}

    def freq(self, term: str) -> int:
        if not self._df:
            self._df = dict(zip(self.terms, self.df.tolist(), strict=True))
        return self._df.get(term, 0)

    def clean_freq(self, term: str) -> int:
        """Documents holding `term` that are not adult: > 0 proves it finds images under any
        safe-search level (as of this vocabulary's generation)."""
        return self.freq(term) - self.adult_df.get(term, 0)

    def idf(self, term: str) -> float:
        return math.log((self.num_docs + 1) / (self.freq(term) + 1))

    def neighbours(self, weights: dict[str, float], *, k: int, exclude: set[str]) -> list[str]:
        """Words whose contexts are closest to those of the weighted words, best first."""
        scores: dict[int, float] = {}
        for word, weight in weights.items():
            i = self.ids.get(word, len(self.near))
            if i >= len(self.near):
                continue
            for j, score in zip(self.near[i], self.near_score[i], strict=True):
                scores[int(j)] = scores.get(int(j), 0.0) + weight * float(score)
        ranked = sorted(scores.items(), key=lambda js: -js[1])
        out = []
        for j, score in ranked:
            term = self.terms[j]
            if score > 0 and term not in exclude and term not in weights:
                out.append(term)
                if len(out) == k:
                    break
        return out


def build(store: TermSource, *, sample_docs: int = SAMPLE_DOCS, seed: int = 7) -> Vocabulary:
    generation = store.generation
    counted = [(t, n) for t, n in store.terms() if n > 0]
    counted.sort(key=lambda tn: (-tn[1], tn[0]))
    terms = [t for t, _ in counted]
    df = np.array([n for _, n in counted], dtype=np.int64)
    num_docs = max(store.stats().get("documents", 0), int(df.max()) if len(df) else 0)
    adult_df = dict(store.terms(adult=True))
    adult = frozenset(
        t for t, n in counted if adult_df.get(t, 0) >= max(1, ADULT_SHARE * n) and n > 0
    )
    empty = np.zeros((0, NEAR), np.int32)
    vocab = Vocabulary(generation, num_docs, terms, df, adult, empty, empty.astype(np.float32))
    vocab.adult_df = {t: n for t, n in adult_df.items() if n > 0}
    vectors = _context_vectors(store, vocab, sample_docs, seed)
    vocab.near, vocab.near_score = _nearest(vectors)
    return vocab


def _sample_texts(store: TermSource, num_docs: int, sample_docs: int, seed: int) -> list[str]:
    """Text of about `sample_docs` documents picked at random (doc ids are dense from 1)."""
    top = int(num_docs * 1.2) + 10  # deleted ids leave gaps; oversample the id range
    rng = random.Random(seed)
    ids = (
        list(range(1, top + 1))
        if top <= sample_docs
        else rng.sample(range(1, top + 1), sample_docs)
    )
    texts: list[str] = []
    for start in range(0, len(ids), 500):
        for doc in store.get(ids[start : start + 500]):
            texts.append(" ".join(v for o in doc.occurrences for v in o.text.values() if v))
    return texts


def _context_vectors(
    store: TermSource, vocab: Vocabulary, sample_docs: int, seed: int
) -> np.ndarray:
    chosen = [t for t in vocab.terms if is_content_word(t)][:VECTOR_TERMS]
    # Rows of the vector matrix follow vocab.terms order, so reorder terms: chosen first.
    chosen_set = set(chosen)
    rest = [t for t in vocab.terms if t not in chosen_set]
    order = [vocab.ids[t] for t in chosen] + [vocab.ids[t] for t in rest]
    vocab.terms = [vocab.terms[i] for i in order]
    vocab.df = vocab.df[order]
    vocab.ids = {t: i for i, t in enumerate(vocab.terms)}
    k = len(chosen)
    if k == 0:
        return np.zeros((0, DIM), np.float32)
    rows, cols = [], []
    for n, text in enumerate(_sample_texts(store, vocab.num_docs, sample_docs, seed)):
        ids = {vocab.ids[t] for t in tokens(text) if vocab.ids.get(t, k) < k}
        rows.extend([n] * len(ids))
        cols.extend(ids)
    if not rows:
        return np.zeros((k, DIM), np.float32)
    x = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(max(rows) + 1, k))
    idf = np.log((vocab.num_docs + 1) / (vocab.df[:k] + 1)).astype(np.float32)
    randoms = np.random.default_rng(seed).standard_normal((k, DIM)).astype(np.float32)
    weighted = randoms * idf[:, None]
    docs = x @ weighted  # each sampled document: the sum of its words' weighted vectors
    context = np.asarray(x.T @ docs)  # each word: the sum over documents it is in
    context -= np.asarray(x.sum(axis=0)).ravel()[:, None] * weighted  # not its own vector
    return _unit(_unit(context) - _unit(context).mean(axis=0)).astype(np.float32)


def _nearest(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's NEAR most similar other rows (cosine), in blocks to bound memory."""
    k = len(vectors)
    width = min(NEAR, max(k - 1, 0))
    near = np.zeros((k, width), np.int32)
    score = np.zeros((k, width), np.float32)
    if width == 0:
        return near, score
    for start in range(0, k, 1024):
        block = vectors[start : start + 1024] @ vectors.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        top = np.argpartition(-block, width - 1, axis=1)[:, :width]
        top_scores = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_scores, axis=1)
        near[start : start + len(block)] = np.take_along_axis(top, order, axis=1)
        score[start : start + len(block)] = np.take_along_axis(top_scores, order, axis=1)
    return near, score


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-9)


def save(vocab: Vocabulary, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(
        tmp,
        format=np.array([FORMAT, vocab.generation, vocab.num_docs]),
        terms=np.array(vocab.terms, dtype=object),
        df=vocab.df,
        adult=np.array(sorted(vocab.adult), dtype=object),
        adult_terms=np.array(list(vocab.adult_df), dtype=object),
        adult_counts=np.array(list(vocab.adult_df.values()), dtype=np.int64),
        near=vocab.near,
        near_score=vocab.near_score.astype(np.float16),  # half the bytes; plenty for ranking
    )
    os.replace(tmp, path)  # readers see the whole file or none


def load(path: Path) -> Vocabulary | None:
    try:
        with np.load(path, allow_pickle=True) as data:
            fmt, generation, num_docs = (int(v) for v in data["format"])
            if fmt != FORMAT:
                return None
            return Vocabulary(
                generation=generation,
                num_docs=num_docs,
                terms=[str(t) for t in data["terms"]],
                df=data["df"],
                adult=frozenset(str(t) for t in data["adult"]),
                adult_df={
                    str(t): int(n)
                    for t, n in zip(data["adult_terms"], data["adult_counts"], strict=True)
                },
                near=data["near"],
                near_score=data["near_score"],
            )
    except (OSError, ValueError, KeyError):
        return None


class VocabularyHolder:
    """The vocabulary of the generation being served, rebuilt in the background.

    Requests never wait for a rebuild (except the first one of a small index,
    which takes well under a second): they use the previous generation's
    vocabulary until the new one is ready, which only makes suggestions a
    commit behind.
    """

    def __init__(
        self, store: TermSource, cache_dir: Path | None, *, check_seconds: float = 1.0
    ) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self.check_seconds = check_seconds
        self._current: Vocabulary | None = None
        self._listeners: list[Callable[[Vocabulary], None]] = []
        self._lock = threading.Lock()
        self._building = False
        self._checked = 0.0

    def on_build(self, listener: Callable[[Vocabulary], None]) -> None:
        """Call listener(vocab) for each new vocabulary (the speller indexes it)."""
        self._listeners.append(listener)

    def current(self) -> Vocabulary | None:
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            gen = self.store.generation
            if self._current is None or self._current.generation != gen:
                self._start(gen)
        return self._current

    def _start(self, gen: int) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True
        small = self._current is None and self.store.stats().get("documents", 0) < SYNC_BUILD_DOCS
        if small:
            self._build(gen)
        else:
            threading.Thread(target=self._build, args=(gen,), daemon=True).start()

    def _build(self, gen: int) -> None:
        try:
            path = self.cache_dir / f"vocabulary-{gen}.npz" if self.cache_dir else None
            vocab = load(path) if path and path.exists() else None
            if vocab is None or vocab.generation != gen:
                started = time.perf_counter()
                vocab = build(self.store)
                log.info(
                    "vocabulary of generation %d in %.1f s", gen, time.perf_counter() - started
                )
                if path is not None:
                    self._store_file(vocab, path)
            for listener in self._listeners:
                listener(vocab)
            self._current = vocab
        except Exception:  # suggestions are optional; a failed build must not break search
            log.exception("vocabulary build failed")
        finally:
            self._building = False

    def _store_file(self, vocab: Vocabulary, path: Path) -> None:
        try:
            save(vocab, path)
            for old in path.parent.glob("vocabulary-*.npz"):
                # Only older generations: another worker may already serve a newer one.
                gen = old.stem.removeprefix("vocabulary-")
                if gen.isdigit() and int(gen) < vocab.generation:
                    old.unlink(missing_ok=True)
        except OSError:
            log.warning("could not cache the vocabulary in %s", path.parent)
