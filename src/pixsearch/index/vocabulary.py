"""The index's own vocabulary: words, document frequencies and co-occurrence vectors.

Built per committed generation from two sources. Document frequencies come
from one walk of the term dictionary (exact, about 0.4 s at 1M documents).
The rest comes from a random sample of documents' describing text (captions,
titles, keywords, page text; not URL or file-name words, which hold word
pieces and uploader handles, unless an image has no other text): how many
sampled documents hold each word and each pair of adjacent words (what
spelling's language model and the "a real word of the collection" rule of
suggestions read), and co-occurrence by *random indexing*: every frequent
word gets a fixed random vector, and a word's context vector is the
idf-weighted sum of the random vectors of the words it appears beside. Words
used in the same contexts ("dusk", "sunset") end up with close context
vectors, without ever building the quadratic word-by-word matrix. Each
word's nearest words are computed once, at build time, so a request reads
lists instead of multiplying matrices. The result is cached in a file named
after the generation, so several workers and restarts build it once.

Any ``ReadStore`` can be read this way: the build needs only its term
statistics (``generation``, ``terms``, ``stats``), its change feed (which doc
ids exist) and ``get``. search/vocabulary.py decides when to rebuild.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
from scipy import sparse

from pixsearch.index.attributes import ADULT_MARKS, adult_of
from pixsearch.index.genfiles import remove_older
from pixsearch.index.store import ReadStore, Vocabulary
from pixsearch.index.words import is_content_word, tokens

log = logging.getLogger(__name__)

DIM = 128  # random-indexing dimensions: enough to keep 20k random vectors near-orthogonal
VECTOR_TERMS = 20_000  # the most frequent content words get context vectors
NEAR = 24  # nearest words kept per word
SAMPLE_DOCS = 30_000  # documents read for co-occurrence (all of them in a small index)
ADULT_SHARE = 0.5  # a word found mostly on adult images is never suggested under safe search
# Fields whose words are a picture's words; url_words and ocr hold fragments and noise.
DESCRIBING = ("caption", "name", "keywords", "near", "context", "page_title")
FORMAT = 5  # bump when the cached file's layout changes


def build(store: ReadStore, *, sample_docs: int = SAMPLE_DOCS, seed: int = 7) -> Vocabulary:
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
    sample = _sample(store, sample_docs, seed)
    _count_seen(vocab, sample.texts)
    x = _word_matrix(vocab, sample.texts)
    vectors = _context_vectors(vocab, x, seed)
    vocab.near, vocab.near_score = _nearest(vectors)
    vocab.witness_ptr, vocab.witness_rows = _witnesses(x, sample)
    vocab.witness_ids = np.array(sample.ids, dtype=np.int64)
    return vocab


@dataclass(slots=True)
class _Sample:
    """The sampled documents: per document, the words of each describing field value (a
    pair never spans two values), its id, and whether it is free of adult marks."""

    texts: list[list[list[str]]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    clean: list[bool] = field(default_factory=list)


def _sample(store: ReadStore, sample_docs: int, seed: int) -> _Sample:
    """Describing text of `sample_docs` documents picked at random (all in a small index).

    The ids come from the store's change feed since generation 0, i.e. every
    visible image: ids need not be dense (deletions, a sharded store's ranges).
    """
    ids = store.changed_since(0)
    if len(ids) > sample_docs:
        ids = sorted(random.Random(seed).sample(ids, sample_docs))
    sample = _Sample()
    for start in range(0, len(ids), 500):
        for doc in store.get(ids[start : start + 500]):
            values = {v for o in doc.occurrences for k in DESCRIBING if (v := o.text.get(k))}
            if not values:  # a bare file: its name is the only text anyone gave it
                values = {v for o in doc.occurrences if (v := o.text.get("url_words"))}
            sample.texts.append([tokens(v) for v in sorted(values)])
            sample.ids.append(doc.doc_id)
            sample.clean.append(not any(kind in ADULT_MARKS for kind in adult_of(doc)))
    return sample


def _count_seen(vocab: Vocabulary, texts: list[list[list[str]]]) -> None:
    """Per word and per adjacent pair: sampled documents holding it in describing text."""
    seen: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for values in texts:
        seen.update({w for words in values for w in words})
        pairs.update({f"{a} {b}" for words in values for a, b in pairwise(words)})
    vocab.seen = dict(seen)
    # A pair seen once says little and there are many of them: keep the repeated ones.
    vocab.pairs = {p: n for p, n in pairs.items() if n > 1}
    vocab.sampled = len(texts)


def _word_matrix(vocab: Vocabulary, texts: list[list[list[str]]]) -> sparse.csr_matrix:
    """Sampled documents × the words that get context vectors: 1 where one holds the other.

    Only words of describing text get vectors: neighbours (similar terms, pivots) are
    then real words of the collection, never a URL's word pieces. The vocabulary's
    terms are reordered, those words first, as the rows of its vectors follow them.
    """
    chosen = [t for t in vocab.terms if is_content_word(t) and t in vocab.seen][:VECTOR_TERMS]
    chosen_set = set(chosen)
    rest = [t for t in vocab.terms if t not in chosen_set]
    order = [vocab.ids[t] for t in chosen] + [vocab.ids[t] for t in rest]
    vocab.terms = [vocab.terms[i] for i in order]
    vocab.df = vocab.df[order]
    vocab.ids = {t: i for i, t in enumerate(vocab.terms)}
    k = len(chosen)
    rows: list[int] = []
    cols: list[int] = []
    for n, values in enumerate(texts):
        ids = {vocab.ids[t] for words in values for t in words if vocab.ids.get(t, k) < k}
        rows.extend([n] * len(ids))
        cols.extend(ids)
    return sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(texts), k))


def _context_vectors(vocab: Vocabulary, x: sparse.csr_matrix, seed: int) -> np.ndarray:
    k = x.shape[1]
    if k == 0:
        return np.zeros((0, DIM), np.float32)
    if not x.nnz:
        return np.zeros((k, DIM), np.float32)
    idf = np.log((vocab.num_docs + 1) / (vocab.df[:k] + 1)).astype(np.float32)
    randoms = np.random.default_rng(seed).standard_normal((k, DIM)).astype(np.float32)
    weighted = randoms * idf[:, None]
    docs = x @ weighted  # each sampled document: the sum of its words' weighted vectors
    context = np.asarray(x.T @ docs)  # each word: the sum over documents it is in
    context -= np.asarray(x.sum(axis=0)).ravel()[:, None] * weighted  # not its own vector
    return _unit(_unit(context) - _unit(context).mean(axis=0)).astype(np.float32)


def _witnesses(x: sparse.csr_matrix, sample: _Sample) -> tuple[np.ndarray, np.ndarray]:
    """Per word of `x`, the sample's rows free of adult marks holding it, ascending
    (``Vocabulary.witness_ptr``, ``witness_rows``): suggestions take one holding all
    their words as the image that proves them, instead of a search."""
    clean = sparse.diags(np.array(sample.clean, dtype=np.float32))
    by_word = (x.T @ clean).tocsr()  # words × rows, the adult ones' entries dropped
    by_word.eliminate_zeros()
    by_word.sort_indices()
    rows = by_word.indices.astype(np.min_scalar_type(max(len(sample.ids) - 1, 0)))
    return by_word.indptr.astype(np.int64), rows


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
    unit: np.ndarray = m / np.maximum(norms, 1e-9)
    return unit


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
        seen_terms=np.array(list(vocab.seen), dtype=object),
        seen_counts=np.array(list(vocab.seen.values()), dtype=np.int64),
        pair_terms=np.array(list(vocab.pairs), dtype=object),
        pair_counts=np.array(list(vocab.pairs.values()), dtype=np.int64),
        sampled=np.array([vocab.sampled]),
        witness_ptr=vocab.witness_ptr,
        witness_rows=vocab.witness_rows,
        witness_ids=vocab.witness_ids,
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
                adult_df=_counts(data["adult_terms"], data["adult_counts"]),
                near=data["near"],
                near_score=data["near_score"],
                seen=_counts(data["seen_terms"], data["seen_counts"]),
                pairs=_counts(data["pair_terms"], data["pair_counts"]),
                sampled=int(data["sampled"][0]),
                witness_ptr=data["witness_ptr"],
                witness_rows=data["witness_rows"],
                witness_ids=data["witness_ids"],
            )
    except (OSError, ValueError, KeyError):
        return None


def _counts(keys: np.ndarray, counts: np.ndarray) -> dict[str, int]:
    return {str(t): int(n) for t, n in zip(keys, counts.tolist(), strict=True)}


class VocabularyCache:
    """The vocabulary of a store's committed generation, kept in `folder` (None: not kept).

    Calling it loads the file of the store's generation, or builds the vocabulary
    and writes the file, removing older generations' files.
    """

    def __init__(self, store: ReadStore, folder: Path | None) -> None:
        self.store = store
        self.folder = folder

    def __call__(self) -> Vocabulary:
        gen = self.store.generation
        if self.folder is None:
            return self._build(gen)
        path = self.folder / f"vocabulary-{gen}.npz"
        vocab = _load_current(path, gen)
        if vocab is not None:
            return vocab
        # Every server worker wants the new generation's vocabulary at once: one
        # builds it under the lock, the others wait, then read its file.
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = (self.folder / ".build.lock").open("a")
        except OSError:
            return self._build(gen)
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            vocab = _load_current(path, gen)
            if vocab is None:
                vocab = self._build(gen)
                _store_file(vocab, path)
        return vocab

    def _build(self, gen: int) -> Vocabulary:
        started = time.perf_counter()
        vocab = build(self.store)
        log.info("vocabulary of generation %d in %.1f s", gen, time.perf_counter() - started)
        return vocab


def _load_current(path: Path, gen: int) -> Vocabulary | None:
    vocab = load(path) if path.exists() else None
    return vocab if vocab is not None and vocab.generation == gen else None


def _store_file(vocab: Vocabulary, path: Path) -> None:
    try:
        save(vocab, path)
        remove_older(path.parent, "vocabulary-", ".npz", vocab.generation)
    except OSError:
        log.warning("could not cache the vocabulary in %s", path.parent)
