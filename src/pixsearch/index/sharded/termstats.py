"""Global term statistics for sharded BM25: every query word weighed with the whole index's idf.

BM25 weighs a word by its idf, ``ln(1 + (N - df + 0.5) / (df + 0.5))``, and a
shard computes it from its own N and df. Across shards those differ a little,
which is enough to reorder the many near-equal scores of a common query (at
40k documents in 4 shards, a third of the top-10 lists differed). Like
Elasticsearch's dfs_query_then_fetch, the sharded store first learns each
query word's document frequency on every shard (one cheap lookup per word,
cached per generation), then sends each shard the query with every scoring
clause weighed by

    w = the clause's idf over the whole index / its idf on the shard

(a phrase's idf is the sum of its tokens', as Tantivy scores a phrase), carried
by ``Clause.weight`` into the engine's own scoring. So each word of a
several-word query is scored with the whole index's idf, not one ratio per
query: what still differs is each shard's average field length. The body
field's statistics stand for the side and stemmed fields'.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pixsearch.index.store import Clause, TextQuery

CACHE = 20_000  # queries whose word statistics are kept (per generation)


@dataclass(frozen=True, slots=True)
class WordCounts:
    """One shard's statistics for some words: documents as BM25 counts them, df per token,
    and each word's tokens (the shard's analyzer says how a word splits)."""

    num_docs: int
    df: dict[str, int]
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)


class TermStats(Protocol):
    """A shard that can say how many of its documents hold each of some words."""

    def doc_freqs(self, words: Sequence[str]) -> WordCounts: ...


def scored_words(text: TextQuery) -> tuple[str, ...]:
    """The words whose matches score: every word of the required clauses."""
    return tuple(sorted({w for group in text.required for clause in group for w in clause.words}))


def idf(num_docs: int, df: int) -> float:
    return math.log(1 + (num_docs - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class GlobalStats:
    """The shards' statistics for some words, gathered: what weighs a query for each shard."""

    shards: tuple[WordCounts, ...]
    whole: dict[str, float]  # token → idf over the whole index

    @classmethod
    def of(cls, counts: Sequence[WordCounts]) -> GlobalStats:
        # The whole index has one commit marker where the shards have one each.
        total = sum(c.num_docs - 1 for c in counts) + 1
        tokens = {t for c in counts for t in c.df}
        whole = {t: idf(total, sum(c.df.get(t, 0) for c in counts)) for t in tokens}
        return cls(tuple(counts), whole)

    def weight(self, shard: int, clause: Clause) -> float:
        """What a clause's score on `shard` is multiplied by to carry the whole index's idf."""
        counts = self.shards[shard]
        tokens = [t for word in clause.words for t in counts.tokens.get(word, ())]
        own = sum(idf(counts.num_docs, counts.df.get(t, 0)) for t in tokens)
        whole = sum(self.whole.get(t, 0.0) for t in tokens)
        return whole / own if own > 0 and whole > 0 else 1.0

    def weighed(self, shard: int, text: TextQuery) -> TextQuery:
        """`text` for `shard`: each required clause weighed to the whole index's idf."""
        required = tuple(
            tuple(dataclasses.replace(c, weight=c.weight * self.weight(shard, c)) for c in group)
            for group in text.required
        )
        return dataclasses.replace(text, required=required)

    def informative(self, text: TextQuery, common_share: float) -> TextQuery:
        """`text` without its common required words, decided with the whole index's counts.

        The rule of index/tantivy_query.py (`_informative`): a one-word group found in
        more than `common_share` of the documents is dropped, the rarest group always
        kept. Left to each shard, a word near the line would match differently on a
        shard where it crosses it.
        """
        groups = text.required
        if text.keep_common or len(groups) < 2:
            return dataclasses.replace(text, keep_common=True)
        total = sum(c.num_docs - 1 for c in self.shards) + 1
        freqs = [self._group_freq(g) for g in groups]
        rarest = min(range(len(groups)), key=lambda i: freqs[i])
        limit = common_share * max(total, 1)
        kept = tuple(g for i, g in enumerate(groups) if i == rarest or freqs[i] <= limit)
        return dataclasses.replace(text, required=kept, keep_common=True)

    def _group_freq(self, group: tuple[Clause, ...]) -> int:
        """Documents of the whole index a one-word group can match (others count as rare)."""
        if len(group) != 1 or len(group[0].words) != 1:
            return 0
        word = group[0].words[0]
        total = 0
        for counts in self.shards:
            tokens = counts.tokens.get(word, ())
            if len(tokens) != 1:
                return 0
            total += counts.df.get(tokens[0], 0)
        return total


class StatsCache:
    """Gathered statistics by query words, for one generation of the shards (LRU, thread-safe)."""

    def __init__(self, size: int = CACHE) -> None:
        self.size = size
        self.generation = -1
        self._stats: OrderedDict[tuple[str, ...], GlobalStats] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: int, words: tuple[str, ...]) -> GlobalStats | None:
        with self._lock:
            if generation != self.generation:
                self._stats.clear()
                self.generation = generation
                return None
            found = self._stats.get(words)
            if found is not None:
                self._stats.move_to_end(words)
            return found

    def put(self, generation: int, words: tuple[str, ...], stats: GlobalStats) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._stats[words] = stats
            if len(self._stats) > self.size:
                self._stats.popitem(last=False)
