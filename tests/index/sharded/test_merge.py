"""The sharded store over in-memory shards against one in-memory store of the same corpus.

The in-memory store scores by term counts, with no corpus statistics, so a
document scores the same on a shard as in the whole corpus: the merged
answers must equal one store's exactly, up to the order of equal scores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from pixsearch.index.memory import MemoryStore
from pixsearch.index.sharded.merge import ShardedStore
from pixsearch.index.sharded.routing import ShardIds, shard_of
from pixsearch.index.sharded.scatter import watching_shards
from pixsearch.index.store import (
    Clause,
    Filters,
    Range,
    ReadStore,
    SiteBoost,
    StoreHit,
    StoreQuery,
    StoreResult,
    TextQuery,
)
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.sharded.helpers import corpus, memory_split, vectors

N = 3


def words(*groups: str) -> TextQuery:
    return TextQuery(required=tuple((Clause((w,)),) for w in groups))


QUERIES = [
    StoreQuery(words("red")),
    StoreQuery(words("sunset", "sea")),
    StoreQuery(TextQuery(required=((Clause(("cat",)), Clause(("dog",))),))),
    StoreQuery(TextQuery(required=((Clause(("red", "kite")),),))),  # a phrase
    StoreQuery(TextQuery(excluded=(Clause(("red",)),))),  # every document but these
    StoreQuery(words("blue"), filters=Filters(license="any")),
    StoreQuery(words("sky"), filters=Filters(width=Range(low=500), sites=("site3.example",))),
    StoreQuery(words("tree"), boosts=(SiteBoost("site2.example", 5.0),)),
    StoreQuery(words("nothingmatches")),
]


@pytest.fixture(scope="module")
def stores() -> tuple[MemoryStore, ShardedStore]:
    single, shards = memory_split(corpus(), N)
    return single, ShardedStore(shards)


def by_score(hits: Sequence[StoreHit], store: ReadStore) -> list[tuple[float, str]]:
    """(score, imageId) of hits, in a tie-free order."""
    ids = {d.doc_id: d.image_id for d in store.get([h.doc_id for h in hits])}
    return sorted(((round(h.score, 6), ids[h.doc_id]) for h in hits), key=lambda p: (-p[0], p[1]))


def test_shard_of_is_stable_and_spreads_groups() -> None:
    assert [shard_of(g, 4) for g in (1, 2, 3, 1000, "a-group")] == [
        shard_of(g, 4) for g in (1, 2, 3, 1000, "a-group")
    ]
    assert shard_of(12345, 1) == 0
    counts = np.bincount([shard_of(g, 4) for g in range(4000)], minlength=4)
    assert counts.min() > 900, counts  # about 1000 each
    with pytest.raises(ValueError):
        shard_of(1, 0)


def test_global_ids_round_trip() -> None:
    ids = ShardIds(3)
    for shard in range(3):
        for local in (1, 2, 77):
            g = ids.encode(shard, local)
            assert (ids.shard(g), ids.local(g)) == (shard, local)
    assert ShardIds(1).encode(0, 42) == 42  # one shard answers with its own ids
    assert ids.split([ids.encode(2, 5), ids.encode(0, 1), ids.encode(2, 4)]) == {2: [5, 4], 0: [1]}


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_search_finds_what_one_store_finds(
    stores: tuple[MemoryStore, ShardedStore], query: StoreQuery
) -> None:
    single, sharded = stores
    full = StoreQuery(query.text, query.filters, limit=1000, boosts=query.boosts)
    one, many = single.search(full), sharded.search(full)
    assert many.total == one.total
    assert by_score(many.hits, sharded) == by_score(one.hits, single)
    scores = [h.score for h in many.hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.doc_id for h in many.hits}) == len(many.hits)


@pytest.mark.parametrize("page", [1, 7, 35])
def test_pages_cut_one_ranked_list(stores: tuple[MemoryStore, ShardedStore], page: int) -> None:
    _, sharded = stores
    text = words("red")
    whole = sharded.search(StoreQuery(text, limit=1000)).hits
    paged: list[StoreHit] = []
    for offset in range(0, len(whole) + page, page):
        result = sharded.search(StoreQuery(text, limit=page, offset=offset))
        assert result.total == len(whole)
        paged += result.hits
    assert [h.doc_id for h in paged] == [h.doc_id for h in whole]  # no gap, no duplicate


def test_probe_counts_only_the_page(stores: tuple[MemoryStore, ShardedStore]) -> None:
    _, sharded = stores
    probe = sharded.search(StoreQuery(words("red"), limit=1, count=False))
    assert probe.total == 1 and len(probe.hits) == 1


def test_doc_ids_reach_their_shards_only(stores: tuple[MemoryStore, ShardedStore]) -> None:
    _, sharded = stores
    every = sharded.search(StoreQuery(words("blue"), limit=1000)).hits
    chosen = tuple(h.doc_id for h in every[::3])
    found = sharded.search(StoreQuery(words("blue"), doc_ids=chosen, limit=1000))
    assert sorted(h.doc_id for h in found.hits) == sorted(chosen)


def test_documents_and_groups_by_global_id(stores: tuple[MemoryStore, ShardedStore]) -> None:
    single, sharded = stores
    hits = sharded.search(StoreQuery(words("sea"), limit=1000)).hits
    asked = [h.doc_id for h in reversed(hits)]
    docs = sharded.get([*asked, 10**9])
    assert [d.doc_id for d in docs] == asked  # the order asked; unknown ids left out
    for doc in docs[:20]:
        again = sharded.get_by_image_id(doc.image_id)
        assert again is not None and (again.doc_id, again.group_id) == (doc.doc_id, doc.group_id)
        original = single.get_by_image_id(doc.image_id)
        assert original is not None and original.occurrences == doc.occurrences
    assert sharded.get_by_image_id("NO-SUCH-IMAGE") is None
    copies = [d for d in docs if len(sharded.group_members(d.group_id)) > 1]
    assert copies, "the corpus has groups of two"
    for doc in copies:
        members = sharded.group_members(doc.group_id)
        assert doc.doc_id in members
        assert {m.group_id for m in sharded.get(members)} == {doc.group_id}
        single_doc = single.get_by_image_id(doc.image_id)
        assert single_doc is not None
        assert (
            sharded.group_counts([doc.group_id])[doc.group_id]
            == single.group_counts([single_doc.group_id])[single_doc.group_id]
        )


def test_counts_terms_and_stats_add_up(stores: tuple[MemoryStore, ShardedStore]) -> None:
    single, sharded = stores
    pages = [f"https://site{i}.example/page-{p}.html" for i in range(12) for p in range(80)]
    assert sharded.page_image_counts(pages) == single.page_image_counts(pages)
    assert sharded.terms() == single.terms()
    assert sharded.terms(adult=True) == single.terms(adult=True)
    stats = sharded.stats()
    for key in ("images", "occurrences", "documents"):
        assert stats[key] == single.stats()[key]
    assert stats["shards"] == N
    assert sorted(d.image_id for d in sharded.get(sharded.changed_since(0))) == sorted(
        d.image_id for d in single.get(single.changed_since(0))
    )


def test_lookalikes_and_vectors_merge_by_score(stores: tuple[MemoryStore, ShardedStore]) -> None:
    single, sharded = stores
    docs = corpus()
    query = vectors(len(docs))[17] + 0.1 * vectors(1, seed=9)[0]
    query /= np.linalg.norm(query)
    ids = {d.doc_id: d.image_id for d in sharded.get(sharded.changed_since(0))}
    single_ids = {d.doc_id: d.image_id for d in single.get(single.changed_since(0))}
    for space in ("text", "clip"):
        assert sharded.vector_count(space) == single.vector_count(space)
        mine = [(ids[d], round(c, 5)) for d, c in sharded.neighbours(space, query, k=12)]
        theirs = [(single_ids[d], round(c, 5)) for d, c in single.neighbours(space, query, k=12)]
        assert mine == theirs
    similar = sharded.similar(query, k=10)
    expected = single.similar(query, k=10)
    assert [ids[h.doc_id] for h in similar] == [single_ids[h.doc_id] for h in expected]
    skip = similar[0].group_id
    assert all(h.group_id != skip for h in sharded.similar(query, k=10, exclude_group=skip))
    vector = sharded.vector(similar[0].doc_id)
    assert vector is not None and float(vector @ query) == pytest.approx(similar[0].score, abs=1e-5)
    copy = docs[19]  # a copy of docs[18]: the same hash
    near = sharded.near_duplicates(copy.facts.phash, copy.facts.color_layout, max_distance=6)
    assert sorted(ids[d] for _, d in near) == sorted({docs[18].image_id, copy.image_id})
    thumbnail = sharded.thumbnail(copy.facts.sha256)
    assert thumbnail is not None and thumbnail == single.thumbnail(copy.facts.sha256)


def test_search_service_pages_match_one_store(stores: tuple[MemoryStore, ShardedStore]) -> None:
    single, sharded = stores

    # Equal scores may order a group's members differently (and the rerank window
    # may hold other members), so which member heads a group may differ: compare groups.
    group = {d.image_id: d.group_id for d in single.get(single.changed_since(0))}

    def every_result(store: ReadStore, q: str) -> tuple[int, list[int]]:
        service = SearchService(store, diversity=False)
        found: list[int] = []
        offset, total = 0, 0
        while True:
            page = service.search(SearchRequest(q=q, count=10, offset=offset))
            total = page.total_estimated
            found += [group[r.doc.image_id] for r in page.results]
            if not page.results:
                return total, found
            offset = page.next_offset

    for q in ("red", "blue sky", "cat OR dog", "-red", "sunset site:site3.example"):
        one_total, one = every_result(single, q)
        many_total, many = every_result(sharded, q)
        assert many_total == one_total
        assert len(many) == len(set(many))  # each picture once across pages
        assert sorted(many) == sorted(one)


def test_generation_follows_every_shard() -> None:
    docs = corpus(40)
    shards = [MemoryStore(), MemoryStore()]
    for doc in docs:
        shards[shard_of(doc.facts.sha256, 2)].add(doc)
    sharded = ShardedStore(shards)
    before = sharded.generation
    assert before == sum(s.generation for s in shards)
    late = corpus(41)[-1]
    shards[1].add(late)
    after = sharded.generation
    assert after > before
    changed = sharded.changed_since(before)
    assert [d.image_id for d in sharded.get(changed)] == [late.image_id]


class Failing(MemoryStore):
    """A shard that fails (or hangs) on every search."""

    def __init__(self, hang: float = 0.0) -> None:
        super().__init__()
        self.hang = hang
        self.released = threading.Event()

    def search(self, query: StoreQuery) -> StoreResult:
        if self.hang:
            self.released.wait(self.hang)
            return super().search(query)
        raise ConnectionError("shard unreachable")


@pytest.mark.parametrize("hang", [0.0, 5.0], ids=["fails", "hangs"])
def test_a_missing_shard_leaves_a_partial_answer_naming_it(hang: float) -> None:
    docs = corpus(60)
    live = MemoryStore()
    broken = Failing(hang)
    for i, doc in enumerate(docs):
        (live if i % 2 else broken).add(doc)
    sharded = ShardedStore([live, broken], timeout=0.5, names=["east", "west"])
    started = time.monotonic()
    with watching_shards() as missing:
        result = sharded.search(StoreQuery(words("red"), limit=100))
    assert time.monotonic() - started < 2.0
    assert missing == {"west"}
    expected = live.search(StoreQuery(words("red"), limit=100))
    assert result.total == expected.total
    assert [h.doc_id for h in result.hits] == [
        ShardIds(2).encode(0, h.doc_id) for h in expected.hits
    ]
    states = {s.name: s for s in sharded.health()}
    assert states["east"].ok and states["west"].ok  # refresh still answers: only search fails
    with watching_shards() as missing:
        sharded.search(StoreQuery(words("blue")))
    assert missing == {"west"}
    broken.released.set()


class Ranked(MemoryStore):
    """A shard answering every search with fixed scores, its local ids 1, 2, ..."""

    def __init__(self, scores: list[float]) -> None:
        super().__init__()
        self.scores = scores

    def search(self, query: StoreQuery) -> StoreResult:
        hits = [StoreHit(i + 1, i + 1, score) for i, score in enumerate(self.scores)]
        return StoreResult(hits=hits[: query.limit], total=len(hits))


def test_near_equal_scores_merge_by_global_id_and_page_exactly() -> None:
    """Scores within the tie window (a shard's field-length noise) merge as one score, in
    global-id order; each shard keeps its own order, and pages still cut one list."""
    sharded = ShardedStore([Ranked([0.9997, 0.9996, 0.5]), Ranked([0.9999, 0.9998, 0.6])])
    # Global id = local id x 2 + shard: 2, 4, 6 on shard 0; 3, 5, 7 on shard 1.
    ranked = [h.doc_id for h in sharded.search(StoreQuery(words("x"), limit=6)).hits]
    assert ranked == [2, 3, 4, 5, 7, 6]  # by score alone: 3, 5, 2, 4, 7, 6
    pages = [
        h.doc_id
        for offset in (0, 2, 4)
        for h in sharded.search(StoreQuery(words("x"), limit=2, offset=offset)).hits
    ]
    assert pages == ranked
