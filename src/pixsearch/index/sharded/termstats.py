"""Global term statistics for sharded BM25: each shard's scores rescaled to the whole index's idf.

BM25 weighs a word by its idf, ``ln(1 + (N - df + 0.5) / (df + 0.5))``, and a
shard computes it from its own N and df. Across shards those differ a little,
which is enough to reorder the many near-equal scores of a common query (at
40k documents in 4 shards, a third of the top-10 lists differed). Like
Elasticsearch's dfs_query_then_fetch, the sharded store first learns each
query word's document frequency on every shard (one cheap lookup per word,
cached per generation), then multiplies each shard's scores by

    r = sum of the words' idf over the whole index / sum of their idf on the shard

which is exact for one-word queries and phrases (tantivy sums its terms'
idf) up to the field-length average, and close for several words (where each
word's share of a score varies by document). The body field's statistics stand
for the side and stemmed fields'.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pixsearch.index.store import TextQuery

CACHE = 20_000  # queries whose word statistics are kept (per generation)


@dataclass(frozen=True, slots=True)
class WordCounts:
    """One shard's statistics for some words: documents as BM25 counts them, df per token."""

    num_docs: int
    df: dict[str, int]


class TermStats(Protocol):
    """A shard that can say how many of its documents hold each of some words."""

    def doc_freqs(self, words: Sequence[str]) -> WordCounts: ...


def scored_words(text: TextQuery) -> tuple[str, ...]:
    """The words whose matches score: every word of the required clauses."""
    return tuple(sorted({w for group in text.required for clause in group for w in clause.words}))


def idf(num_docs: int, df: int) -> float:
    return math.log(1 + (num_docs - df + 0.5) / (df + 0.5))


def rescale_factors(counts: Sequence[WordCounts]) -> list[float]:
    """Per shard, what to multiply its scores by to score with the whole index's idf.

    The whole index has one commit marker where the shards have one each.
    """
    total = sum(c.num_docs - 1 for c in counts) + 1
    tokens = sorted({t for c in counts for t in c.df})
    df = {t: sum(c.df.get(t, 0) for c in counts) for t in tokens}
    whole = sum(idf(total, df[t]) for t in tokens)
    factors = []
    for c in counts:
        own = sum(idf(c.num_docs, c.df.get(t, 0)) for t in tokens)
        factors.append(whole / own if own > 0 else 1.0)
    return factors


class FactorCache:
    """Rescale factors by query words, for one generation of the shards (LRU, thread-safe)."""

    def __init__(self, size: int = CACHE) -> None:
        self.size = size
        self.generation = -1
        self._factors: OrderedDict[tuple[str, ...], list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: int, words: tuple[str, ...]) -> list[float] | None:
        with self._lock:
            if generation != self.generation:
                self._factors.clear()
                self.generation = generation
                return None
            found = self._factors.get(words)
            if found is not None:
                self._factors.move_to_end(words)
            return found

    def put(self, generation: int, words: tuple[str, ...], factors: list[float]) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._factors[words] = factors
            if len(self._factors) > self.size:
                self._factors.popitem(last=False)
