"""The ``Vocabulary`` record: word statistics of a store, and the lookups on them.

What the query side knows of the indexed words (frequencies, adult words, nearest
words by context, sampled word and pair counts), apart from how they are built.
Re-exported by ``pixsearch.index.store`` on purpose: it is part of the storage
seam, the one module of index/ that search/ may import, so import it from there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

WITNESS_CHUNK = 64  # a witness's first candidates; each further chunk four times larger


@dataclass(slots=True)
class Vocabulary:
    """A store's words of one committed generation: frequencies and nearest words.

    Built from ``ReadStore.terms`` and a sample of documents (index/vocabulary.py);
    spelling, suggestions and trending read it.
    """

    generation: int
    num_docs: int
    terms: list[str]  # by document frequency, most frequent first
    df: np.ndarray  # int64, aligned with terms
    adult: frozenset[str]  # words mostly seen on adult images or pages
    near: np.ndarray  # (k, NEAR) int32: for terms[:k], the words with the closest contexts
    near_score: np.ndarray  # (k, NEAR) float32: their cosine similarities
    ids: dict[str, int] = field(default_factory=dict)
    adult_df: dict[str, int] = field(default_factory=dict)  # documents that are adult, per word
    # Of `sampled` documents: how many hold a word, or two words side by side ("a b"), as
    # whole words of their captions, titles, keywords or page text (URL and file-name
    # words only for an image with no other text).
    seen: dict[str, int] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    # Per word of `near`'s rows (terms[:k]), the sampled documents that are not adult and
    # hold it in their describing text: witness_rows[witness_ptr[i]:witness_ptr[i + 1]]
    # are those of terms[i], ascending, as rows of witness_ids (their doc ids). Rows take
    # 2 bytes each in a sample of 30,000 documents, a quarter of doc ids' 8.
    witness_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    witness_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))
    witness_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
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
            # Python numbers first: numpy scalars cost ~100 ns per conversion.
            near, near_score = self.near[i].tolist(), self.near_score[i].tolist()
            for j, score in zip(near, near_score, strict=True):
                scores[j] = scores.get(j, 0.0) + weight * score
        ranked = sorted(scores.items(), key=lambda js: -js[1])
        out = []
        for j, score in ranked:
            term = self.terms[j]
            if score > 0 and term not in exclude and term not in weights:
                out.append(term)
                if len(out) == k:
                    break
        return out

    def witness(self, words: Sequence[str]) -> int | None:
        """A sampled document, not adult, whose describing text holds every one of
        `words`; None when no sampled document does or a word has no list.

        Such a document matches the query of those words under safe search, as of this
        vocabulary's generation: it proves a suggestion without searching. Smallest
        list first, probed in growing chunks, as a match is usually among the first.
        """
        k = len(self.witness_ptr) - 1
        lists = []
        for word in words:
            i = self.ids.get(word, k)
            if i >= k:
                return None
            lists.append(self.witness_rows[self.witness_ptr[i] : self.witness_ptr[i + 1]])
        if not lists:
            return None
        lists.sort(key=len)
        first, others = lists[0], lists[1:]
        start, size = 0, WITNESS_CHUNK
        while start < len(first):
            chunk = first[start : start + size]
            for other in others:
                if not len(other):
                    return None
                at = np.minimum(other.searchsorted(chunk), len(other) - 1)
                chunk = chunk[other[at] == chunk]
                if not len(chunk):
                    break
            if len(chunk):
                return int(self.witness_ids[chunk[0]])
            start, size = start + size, size * 4
        return None
