"""The ``Vocabulary`` record: word statistics of a store, and the lookups on them.

What the query side knows of the indexed words (frequencies, adult words, nearest
words by context, sampled word and pair counts), apart from how they are built.
Re-exported by ``pixsearch.index.store`` on purpose: it is part of the storage
seam, the one module of index/ that search/ may import, so import it from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


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
