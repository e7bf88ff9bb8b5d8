"""A ``ReadStore`` over N shards: scatter every lookup, gather, merge as one store would answer.

Searches ask every shard for the first ``offset + limit`` hits, merge them by
score and cut the page out of the merged list, so paging is what one store's
is: positions in one ranked list, stable, with no duplicates and no gaps
(equal and near-equal scores go by global id, so every page is cut from the
same list).
Totals, term statistics, counts and stats are summed; nearest-vector and
near-duplicate lookups are merged by score or distance. Ids are global
(``routing.ShardIds``): a lookup by id goes to its shard only. A near-duplicate
group never spans shards, so group counts and members come whole from one shard.

Scores are each shard's own BM25, whose document frequencies differ a little
from shard to shard. Given the shards' term statistics (``term_stats``), each
shard is sent the query with each word weighed to the whole index's idf
(``termstats``), so the merged order is close to one index's
(docs/distributed.md gives the measured agreement). Which documents match, and
how many, is one index's, but for the engine's cut of very common words
(index/tantivy_query.py), which each shard makes on its own counts.

A shard that fails or times out is left out of the answer (``scatter``):
the answer comes from the other shards and names the missing ones.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from pixsearch.index import lookalike
from pixsearch.index.sharded.routing import ShardIds
from pixsearch.index.sharded.scatter import Scatter, ShardState, ShardUnavailable
from pixsearch.index.sharded.termstats import GlobalStats, StatsCache, TermStats, scored_words
from pixsearch.index.store import (
    COMMON_TERM_SHARE,
    BatchSearch,
    Filters,
    PagePlaces,
    PageSource,
    Picture,
    ReadStore,
    StoreHit,
    StoreQuery,
    StoreResult,
    TextQuery,
    VectorSpace,
    pages_of,
    search_many,
)
from pixsearch.records import ImageDocument

T = TypeVar("T")
NEAR_LIMIT = 50  # near-duplicates returned, as one store's hash scan returns
HISTORY = 256  # combined generations remembered for changed_since
BULK_TIMEOUT = 120.0  # seconds for whole-index reads (all terms, all ids, counts)
TIE = 1e-3  # text scores this close (relative) merge as equal: _by_text_score
LOG_TIE = math.log1p(TIE)
NO_SCORE = -(1 << 62)  # the bucket of a zero score (a filter-only query's)


class ShardedStore:
    """One ReadStore over `shards` (shard i holds the documents ``routing.shard_of`` sends it).

    `timeout`: seconds a lookup waits for the shards before answering without the
    silent ones. `names` label the shards in health reports and missing-shard notes.
    `inline`: a lookup of one shard may run in the caller's thread (not for remote
    shards whose clients block: the caller may be running an event loop).
    `term_stats`: each shard's word counts, to score with the whole index's idf.
    """

    def __init__(
        self,
        shards: Sequence[ReadStore],
        *,
        timeout: float = 2.0,
        names: Sequence[str] | None = None,
        inline: bool = True,
        term_stats: Sequence[TermStats] | None = None,
    ) -> None:
        if not shards:
            raise ValueError("a sharded store needs at least one shard")
        if term_stats is not None and len(term_stats) != len(shards):
            raise ValueError("term statistics are needed for every shard")
        self.term_stats = list(term_stats) if term_stats and len(shards) > 1 else None
        self._stats = StatsCache()
        self.shards = list(shards)
        self.ids = ShardIds(len(self.shards))
        self.names = list(names) if names else [f"shard-{i}" for i in range(len(self.shards))]
        self.scatter = Scatter(self.names, timeout=timeout, inline=inline)
        self._history: OrderedDict[int, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()  # requests may run in several threads

    def _all(self, call: Callable[[ReadStore], T]) -> dict[int, T]:
        return self.scatter.on(range(len(self.shards)), lambda s: call(self.shards[s]))

    def _every(self, call: Callable[[int], T]) -> list[T]:
        """call(shard) of every shard, for whole-index reads that must not be partial
        (a vocabulary of some shards would be cached as the index's): raises if one fails."""
        found = self.scatter.on(range(len(self.shards)), call, timeout=BULK_TIMEOUT)
        missing = [self.names[s] for s in range(len(self.shards)) if s not in found]
        if missing:
            raise ShardUnavailable(f"shards did not answer: {', '.join(missing)}")
        return [found[s] for s in range(len(self.shards))]

    # -- search ----------------------------------------------------------------

    def search(self, query: StoreQuery) -> StoreResult:
        return self.search_many([query])[0]

    def search_many(self, queries: Sequence[StoreQuery]) -> list[StoreResult]:
        """Each query's answer, every shard asked once for all of them (one round trip
        to a remote shard, whose client may batch them: ``index.store.search_many``)."""
        plans = [self._shard_queries(query) for query in queries]
        targets = sorted({shard for plan in plans for shard in plan})

        def ask(shard: int) -> list[StoreResult]:
            return search_many(self.shards[shard], [p[shard] for p in plans if shard in p])

        answers = self.scatter.on(targets, ask)
        taken = dict.fromkeys(answers, 0)  # each shard's answers come in its queries' order
        results = []
        for query, plan in zip(queries, plans, strict=True):
            mine: dict[int, StoreResult] = {}
            for shard in sorted(plan):
                if shard in answers:
                    mine[shard] = answers[shard][taken[shard]]
                    taken[shard] += 1
            results.append(self._merged(query, mine))
        return results

    def _shard_queries(self, query: StoreQuery) -> dict[int, StoreQuery]:
        """What each shard is asked for `query`: its first ``offset + limit`` hits, every
        word weighed to the whole index's idf, only the shard's own ids if any are given."""
        window = query.offset + query.limit
        wanted = self.ids.split(query.doc_ids) if query.doc_ids else None
        targets = sorted(wanted) if wanted is not None else range(len(self.shards))
        # A probe (count=False) only asks whether anything matches: its order needs no idf;
        # nor does a count alone (limit 0) that drops no word as common (a witness's check).
        scored = query.count and (query.limit or not query.text.keep_common)
        stats = self._global_stats(query.text) if scored else None
        informative = (
            stats.informative(query.text, COMMON_TERM_SHARE) if stats is not None else query.text
        )
        return {
            shard: _window(
                query,
                stats.weighed(shard, informative) if stats is not None else query.text,
                window,
                tuple(wanted[shard]) if wanted is not None else (),
            )
            for shard in targets
        }

    def _merged(self, query: StoreQuery, answers: dict[int, StoreResult]) -> StoreResult:
        """One page of `query` out of the shards' answers: merged by score, then cut."""
        runs = [self._encoded_hits(s, answers[s].hits) for s in sorted(answers)]
        merged = heapq.merge(*runs, key=_by_text_score)
        hits = list(itertools.islice(merged, query.offset, query.offset + query.limit))
        total = sum(a.total for a in answers.values()) if query.count else len(hits)
        return StoreResult(hits=hits, total=total)

    def _global_stats(self, text: TextQuery) -> GlobalStats | None:
        """The query words' statistics on every shard, to weigh each shard's query (termstats)."""
        words = scored_words(text)
        if self.term_stats is None or not words:
            return None
        generation = self.generation
        stats = self._stats.get(generation, words)
        if stats is None:
            shards = self.term_stats
            counts = self.scatter.on(range(len(shards)), lambda s: shards[s].doc_freqs(words))
            if len(counts) < len(shards):
                return None  # a shard is missing: its documents are missing too
            stats = GlobalStats.of([counts[s] for s in range(len(shards))])
            self._stats.put(generation, words, stats)
        return stats

    def _encoded_hits(self, shard: int, hits: list[StoreHit]) -> list[StoreHit]:
        encode = self.ids.encode
        return [
            StoreHit(
                encode(shard, h.doc_id),
                encode(shard, h.group_id),
                h.score,
                h.site,
                h.published,
                h.prior,
            )
            for h in hits
        ]

    # -- documents and groups --------------------------------------------------

    def get(self, doc_ids: Sequence[int]) -> list[ImageDocument]:
        wanted = self.ids.split(doc_ids)
        found = self.scatter.on(sorted(wanted), lambda s: self.shards[s].get(wanted[s]))
        docs: dict[int, ImageDocument] = {}
        for shard, shard_docs in found.items():
            for doc in shard_docs:
                encoded = self._encoded_doc(shard, doc)
                docs[encoded.doc_id] = encoded
        return [docs[d] for d in doc_ids if d in docs]

    def _encoded_doc(self, shard: int, doc: ImageDocument) -> ImageDocument:
        # A copy: a shard client may keep the document it returned (its occurrences
        # are shared, read-only, as the embedded store's cached records are).
        encoded = copy.copy(doc)
        encoded.doc_id = self.ids.encode(shard, doc.doc_id)
        encoded.group_id = self.ids.encode(shard, doc.group_id)
        return encoded

    def pages_of(self, doc_ids: Sequence[int]) -> list[PagePlaces]:
        """Each image's group and places, from each shard's light reader: counting site
        chrome reads every image, and whole documents would cost shards' calls far more
        time and push the shown documents out of what shard clients keep."""
        wanted = self.ids.split(doc_ids)
        asked = sorted(wanted)
        found = self.scatter.on(asked, lambda s: pages_of(self.shards[s], wanted[s]))
        if missing := [self.names[s] for s in asked if s not in found]:
            raise ShardUnavailable(f"shards did not answer: {', '.join(missing)}")
        return [
            (self.ids.encode(shard, group), places)
            for shard, pages in found.items()
            for group, places in pages
        ]

    def get_by_image_id(self, image_id: str) -> ImageDocument | None:
        found = self._all(lambda store: store.get_by_image_id(image_id))
        for shard in sorted(found):
            doc = found[shard]
            if doc is not None:
                return self._encoded_doc(shard, doc)
        return None

    def group_counts(self, group_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        wanted = self.ids.split(group_ids)
        found = self.scatter.on(sorted(wanted), lambda s: self.shards[s].group_counts(wanted[s]))
        return {
            self.ids.encode(shard, group): counts
            for shard, by_group in found.items()
            for group, counts in by_group.items()
        }

    def group_members(self, group_id: int, *, limit: int = 50) -> list[int]:
        shard, local = self.ids.shard(group_id), self.ids.local(group_id)
        found = self.scatter.on([shard], lambda s: self.shards[s].group_members(local, limit=limit))
        return [self.ids.encode(shard, d) for d in found.get(shard, [])]

    def page_image_counts(self, urls: Sequence[str]) -> dict[str, int]:
        # An image lives on one shard, so per-shard distinct counts add up exactly.
        total: dict[str, int] = {}
        for counts in self._all(lambda store: store.page_image_counts(urls)).values():
            for url, n in counts.items():
                total[url] = total.get(url, 0) + n
        return total

    def thumbnail(self, sha256: str) -> bytes | None:
        found = self._all(lambda store: store.thumbnail(sha256))
        return next((found[s] for s in sorted(found) if found[s] is not None), None)

    # -- look-alikes and vectors -----------------------------------------------

    def near_duplicates(
        self, phash: int, color_layout: str, *, max_distance: int
    ) -> list[tuple[int, int]]:
        found = self._all(
            lambda store: store.near_duplicates(phash, color_layout, max_distance=max_distance)
        )
        merged = [
            (distance, self.ids.encode(shard, d))
            for shard in sorted(found)
            for distance, d in found[shard]
        ]
        merged.sort(key=lambda pair: pair[0])  # stable: equal distances keep shard order
        return merged[:NEAR_LIMIT]

    def duplicate_of(self, picture: Picture, *, max_distance: int) -> int | None:
        return lookalike.duplicate_of(self, picture, max_distance=max_distance)

    def similar(
        self,
        vector: np.ndarray,
        *,
        k: int,
        filters: Filters | None = None,
        exclude_group: int | None = None,
    ) -> list[StoreHit]:
        excluded = None if exclude_group is None else self.ids.shard(exclude_group)
        local = None if exclude_group is None else self.ids.local(exclude_group)

        def ask(shard: int) -> list[StoreHit]:
            group = local if shard == excluded else None
            return self.shards[shard].similar(vector, k=k, filters=filters, exclude_group=group)

        found = self.scatter.on(range(len(self.shards)), ask)
        runs = [self._encoded_hits(s, found[s]) for s in sorted(found)]
        return list(itertools.islice(heapq.merge(*runs, key=_by_score), k))

    def vector(self, doc_id: int) -> np.ndarray | None:
        shard, local = self.ids.shard(doc_id), self.ids.local(doc_id)
        return self.scatter.on([shard], lambda s: self.shards[s].vector(local)).get(shard)

    def neighbours(
        self, space: VectorSpace, vector: np.ndarray, *, k: int
    ) -> list[tuple[int, float]]:
        found = self._all(lambda store: store.neighbours(space, vector, k=k))
        runs = [[(self.ids.encode(s, d), c) for d, c in found[s]] for s in sorted(found)]
        return list(itertools.islice(heapq.merge(*runs, key=lambda dc: -dc[1]), k))

    def vector_count(self, space: VectorSpace) -> int:
        return sum(self._all(lambda store: store.vector_count(space)).values())

    # -- generations, vocabulary, stats ----------------------------------------

    @property
    def generation(self) -> int:
        """The sum of the shards' generations: it grows whenever any shard commits."""
        gens = tuple(store.generation for store in self.shards)
        combined = sum(gens)
        with self._lock:
            self._history[combined] = gens
            self._history.move_to_end(combined)
            while len(self._history) > HISTORY:
                self._history.popitem(last=False)
        return combined

    def terms(self, *, adult: bool = False) -> list[tuple[str, int]]:
        df: dict[str, int] = {}
        for terms in self._every(lambda s: self.shards[s].terms(adult=adult)):
            for term, n in terms:
                df[term] = df.get(term, 0) + n
        return sorted(df.items())

    def changed_since(self, gen: int) -> list[int]:
        """Changes since a generation this store reported; an unknown one counts as 0 (all)."""
        with self._lock:
            before = self._history.get(gen) or (0,) * len(self.shards)
        found = self._every(lambda s: self.shards[s].changed_since(before[s]))
        return sorted(self.ids.encode(s, d) for s, ids in enumerate(found) for d in ids)

    def refresh(self) -> bool:
        return any(self._all(lambda store: store.refresh()).values())

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        stats = self.scatter.on(
            range(len(self.shards)), lambda s: self.shards[s].stats(), timeout=BULK_TIMEOUT
        )
        for counts in stats.values():
            for key, n in counts.items():
                total[key] = total.get(key, 0) + n
        total["generation"] = self.generation
        total["shards"] = len(self.shards)
        return total

    def health(self) -> list[ShardState]:
        """Each shard's state now: a refresh must come back within the timeout."""
        answered = self.scatter.on(
            range(len(self.shards)), lambda s: self.shards[s].refresh(), probe=True
        )
        return [
            ShardState(
                name=name,
                ok=shard in answered,
                generation=self.shards[shard].generation,
                error="" if shard in answered else self.scatter.last_error.get(shard, ""),
            )
            for shard, name in enumerate(self.names)
        ]

    def close(self) -> None:
        self.scatter.close()


def _window(query: StoreQuery, text: TextQuery, limit: int, doc_ids: tuple[int, ...]) -> StoreQuery:
    """`query` with `text`, from its first hit, `limit` of them, restricted to `doc_ids`."""
    return StoreQuery(
        text=text,
        filters=query.filters,
        limit=limit,
        offset=0,
        boosts=query.boosts,
        language=query.language,
        doc_ids=doc_ids,
        count=query.count,
    )


def _by_text_score(hit: StoreHit) -> tuple[int, int]:
    """Text scores that differ across shards by less than their field-length noise as ties.

    With the whole index's idf, a shard's BM25 differs from the whole index's only
    by its own average field length, well under TIE; documents the whole index
    scores exactly alike (same counts, same length) would otherwise come in the
    order of their shards' averages. Ties go by global id, as one index's go by
    position. Each shard's run keeps its own exact order, and the merged list
    still depends only on the runs' prefixes, so paging stays exact.
    """
    bucket = math.floor(math.log(hit.score) / LOG_TIE) if hit.score > 0 else NO_SCORE
    return -bucket, hit.doc_id


def _by_score(hit: StoreHit) -> tuple[float, int]:
    # Equal scores by global id: about the order the documents were indexed in (a
    # shard's ids follow the corpus order), which is how one index orders them.
    return -hit.score, hit.doc_id


_: type[ReadStore] = ShardedStore  # mypy checks the sharded store against the seam
_batch: type[BatchSearch] = ShardedStore
_pages: type[PageSource] = ShardedStore
