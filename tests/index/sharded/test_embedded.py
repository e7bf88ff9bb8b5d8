"""Embedded shards split from one embedded index, served by the ``sharded`` backend.

BM25 takes its statistics from each shard, so scores (and the order of close
scores) differ a little from the whole index's; which documents match, how
many, and everything looked up by id must not.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pixsearch.index.backends import BackendUnavailable, open_reader, open_writer
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.sharded.local import EmbeddedTermStats, shard_dirs
from pixsearch.index.sharded.merge import ShardedStore
from pixsearch.index.sharded.split import split_store
from pixsearch.index.sharded.termstats import GlobalStats, WordCounts, idf
from pixsearch.index.store import (
    Clause,
    Filters,
    PageSource,
    ReadStore,
    StoreQuery,
    StoreResult,
    TextQuery,
    pages_of,
    places_of,
)
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.helpers import make_doc
from tests.index.sharded.helpers import WORDS, corpus, vectors

N = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, Path]]:
    """(the whole corpus as one embedded index, a folder holding it as shard-0..shard-2)."""
    root = tmp_path_factory.mktemp("sharded")
    whole = EmbeddedStore(root / "whole", writable=True)
    for doc, vector in zip(corpus(), vectors(240), strict=True):
        doc_id = whole.add(doc, None, vector)
        whole.add_vector(doc_id, vector)
    whole.commit()
    targets = [EmbeddedStore(root / "shards" / f"shard-{i}", writable=True) for i in range(N)]
    counts = split_store(whole, targets)
    assert sum(counts) == 240 and min(counts) > 40
    for target in targets:
        target.close()
    yield whole, root / "shards"
    whole.close()


@pytest.fixture(scope="module")
def sharded(built: tuple[EmbeddedStore, Path]) -> ShardedStore:
    store = open_reader("sharded", built[1], dup_distance=6)
    assert isinstance(store, ShardedStore)
    return store


def ids_of(store: EmbeddedStore | ShardedStore, query: StoreQuery) -> tuple[int, list[str]]:
    result = store.search(query)
    return result.total, [d.image_id for d in store.get([h.doc_id for h in result.hits])]


@pytest.mark.parametrize(
    "query",
    [
        StoreQuery(TextQuery(required=((Clause((w,)),),)), limit=1000)
        for w in ("red", "sunset", "cat", "moon")
    ]
    + [
        StoreQuery(
            TextQuery(required=((Clause(("blue",)),), (Clause(("sky",)), Clause(("sea",))))),
            filters=Filters(size="large"),
            limit=1000,
        ),
        StoreQuery(TextQuery(excluded=(Clause(("red",)),)), limit=1000),
    ],
)
def test_same_matches_as_one_index(
    built: tuple[EmbeddedStore, Path], sharded: ShardedStore, query: StoreQuery
) -> None:
    whole, _ = built
    one_total, one = ids_of(whole, query)
    many_total, many = ids_of(sharded, query)
    assert many_total == one_total
    assert sorted(many) == sorted(one)


def test_top_ten_agrees_with_global_idf(
    built: tuple[EmbeddedStore, Path], sharded: ShardedStore
) -> None:
    """On 80-document shards of a 30-word corpus, the loosest case, the sharded top 10
    scored with the whole index's idf (index/sharded/termstats.py) is the whole index's.

    Ties are common here, so a sharded top-10 document counts as agreeing when the
    whole index scores it at least as high as its own 10th (each shard's own idf
    gives 0.84; the global idf 0.996). bench/shard_bench.py measures the plain
    overlap@10 at scale.
    """
    whole, _ = built
    overlaps = []
    for i, first in enumerate(WORDS):
        second = WORDS[(i * 7 + 3) % len(WORDS)]
        for words in ((first,), (first, second)):
            text = TextQuery(required=tuple((Clause((w,)),) for w in words))
            ranked = whole.search(StoreQuery(text, limit=1000)).hits
            if not ranked:
                continue
            scores = {
                d.image_id: h.score
                for h, d in zip(ranked, whole.get([h.doc_id for h in ranked]), strict=True)
            }
            tenth = ranked[min(9, len(ranked) - 1)].score
            many = ids_of(sharded, StoreQuery(text, limit=10))[1]
            overlaps.append(sum(scores[m] >= tenth - 1e-6 for m in many) / min(10, len(ranked)))
    assert sum(overlaps) / len(overlaps) >= 0.95, sorted(overlaps)


def test_details_and_lookups_match(
    built: tuple[EmbeddedStore, Path], sharded: ShardedStore
) -> None:
    whole, _ = built
    for doc in whole.get(whole.changed_since(0))[::7]:
        mine = sharded.get_by_image_id(doc.image_id)
        assert mine is not None and mine.occurrences == doc.occurrences
        members = sharded.get(sharded.group_members(mine.group_id))
        assert sorted(d.image_id for d in members) == sorted(
            d.image_id for d in whole.get(whole.group_members(doc.group_id))
        )
        assert (
            sharded.group_counts([mine.group_id])[mine.group_id]
            == whole.group_counts([doc.group_id])[doc.group_id]
        )
        vector = sharded.vector(mine.doc_id)
        stored = whole.vector(doc.doc_id)
        assert vector is not None and stored is not None and (vector == stored).all()
        similar = [h.doc_id for h in sharded.similar(vector, k=5)]
        expected = [h.doc_id for h in whole.similar(stored, k=5)]
        assert [d.image_id for d in sharded.get(similar)] == [
            d.image_id for d in whole.get(expected)
        ]
    assert dict(sharded.terms()) == dict(whole.terms())
    stats, expected_stats = sharded.stats(), whole.stats()
    assert [stats[k] for k in ("images", "documents")] == [
        expected_stats[k] for k in ("images", "documents")
    ]


def test_pages_come_from_each_shards_light_reader(sharded: ShardedStore) -> None:
    """The site chrome count reads every image's group and pages: the sharded store
    answers with its shards' light readers, under global ids, as its documents say."""
    assert isinstance(sharded, PageSource)
    every = sharded.changed_since(0)
    expected = sorted((d.group_id, places_of(d)[1]) for d in sharded.get(every))
    assert sorted(pages_of(sharded, every)) == expected
    assert len({group for group, _ in expected}) > len(sharded.shards)  # several shards' groups
    assert pages_of(sharded, []) == []


def test_search_service_pages_match(
    built: tuple[EmbeddedStore, Path], sharded: ShardedStore
) -> None:
    whole, _ = built
    group = {d.image_id: d.group_id for d in whole.get(whole.changed_since(0))}

    def every_group(store: EmbeddedStore | ShardedStore, q: str) -> tuple[int, list[int]]:
        service = SearchService(store)
        found: list[int] = []
        offset = 0
        while True:
            page = service.search(SearchRequest(q=q, count=7, offset=offset))
            if not page.results:
                return page.total_estimated, found
            found += [group[r.doc.image_id] for r in page.results]
            offset = page.next_offset

    for q in ("red", "blue sky", "cat OR dog", "tree -snow"):
        one_total, one = every_group(whole, q)
        many_total, many = every_group(sharded, q)
        assert many_total == one_total
        assert len(many) == len(set(many)) and sorted(many) == sorted(one)


def test_shard_folders_are_found_or_refused(
    built: tuple[EmbeddedStore, Path], tmp_path: Path
) -> None:
    _, root = built
    assert shard_dirs(root) == [root / f"shard-{i}" for i in range(N)]
    listed = f"{root / 'shard-2'}, {root / 'shard-0'}"
    assert shard_dirs(tmp_path, listed) == [root / "shard-2", root / "shard-0"]
    gap = tmp_path / "gap"
    for i in (0, 2):
        shutil.copytree(root / f"shard-{i}", gap / f"shard-{i}")
    with pytest.raises(FileNotFoundError, match=r"shard-0\.\.shard-N-1"):
        shard_dirs(gap)
    with pytest.raises(BackendUnavailable, match="no shard"):
        open_reader("sharded", tmp_path / "empty")
    with pytest.raises(BackendUnavailable, match="read-only"):
        open_writer("sharded", root)


@pytest.mark.parametrize(
    "groups",
    [
        (("red",),),
        (("moon",),),
        (("bridge",),),
        (("red",), ("moon",)),  # every word weighed with its own idf, not one ratio a query
        (("green",), ("sunset",), ("sky",)),
        (("city",), ("cloud",)),
        (("barn", "house"),),  # a phrase: the sum of its tokens' idf
    ],
)
def test_scores_are_the_whole_index_scores(
    built: tuple[EmbeddedStore, Path], sharded: ShardedStore, groups: tuple[tuple[str, ...], ...]
) -> None:
    """With the global idf, a query scores each document as the whole index does, but for
    the shard's average field length (here, 80-document shards: within 3 %)."""
    whole, _ = built
    text = TextQuery(required=tuple((Clause(words),) for words in groups))
    expected = scores(whole, StoreQuery(text, limit=1000))
    found = scores(sharded, StoreQuery(text, limit=1000))
    assert found and found.keys() == expected.keys()
    for image_id, score in found.items():
        assert score == pytest.approx(expected[image_id], rel=0.03)


def scores(store: EmbeddedStore | ShardedStore, query: StoreQuery) -> dict[str, float]:
    hits = store.search(query).hits
    docs = store.get([h.doc_id for h in hits])
    return {d.image_id: h.score for h, d in zip(hits, docs, strict=True)}


def test_each_word_is_weighed_to_the_whole_index_idf() -> None:
    # Two shards of 100 documents and a commit marker each; "kite" in 10 and 30 of them,
    # "red" in 50 and 5: each word of a query gets its own weight on each shard.
    counts = [
        WordCounts(101, {"kite": 10, "red": 50}, {"kite": ("kite",), "red": ("red",)}),
        WordCounts(101, {"kite": 30, "red": 5}, {"kite": ("kite",), "red": ("red",)}),
    ]
    stats = GlobalStats.of(counts)
    kite, red = Clause(("kite",)), Clause(("red",))
    for shard, (df_kite, df_red) in enumerate([(10, 50), (30, 5)]):
        assert stats.weight(shard, kite) * idf(101, df_kite) == pytest.approx(idf(201, 40))
        assert stats.weight(shard, red) * idf(101, df_red) == pytest.approx(idf(201, 55))
    # A phrase scores the sum of its tokens' idf, on the shard as in the whole index.
    phrase = stats.weight(0, Clause(("red", "kite")))
    assert phrase * (idf(101, 10) + idf(101, 50)) == pytest.approx(idf(201, 40) + idf(201, 55))
    text = TextQuery(required=((kite, Clause(("red",), weight=2.0)),), excluded=(red,))
    weighed = stats.weighed(1, text)
    assert [c.weight for c in weighed.required[0]] == [
        pytest.approx(stats.weight(1, kite)),
        pytest.approx(2.0 * stats.weight(1, red)),
    ]
    assert weighed.excluded == (red,)  # an excluded word does not score
    assert GlobalStats.of([WordCounts(1, {}), WordCounts(1, {})]).weight(0, kite) == 1.0


def test_each_word_scores_with_the_whole_index_idf(tmp_path: Path) -> None:
    """Two shards whose words are skewed the opposite ways ("kite" in 45 % of one, "moon" of
    the other; under the common-word cut), documents of one length: each word weighed with
    its own global idf gives the whole index's scores (one ratio per query: 3.7 % off)."""
    both = ("kite kite moon grass", "kite moon moon grass")
    texts = [
        [both[i % 2] if i < 20 else one if i < 90 else "fill stone pad grass" for i in range(200)]
        for one in ("kite stone pad grass", "fill moon pad grass")
    ]
    whole = EmbeddedStore(tmp_path / "whole", writable=True)
    shards = [EmbeddedStore(tmp_path / f"shard-{s}", writable=True) for s in range(2)]
    for s, shard_texts in enumerate(texts):
        for i, text in enumerate(shard_texts):
            for store in (whole, shards[s]):
                store.add(make_doc(s * 1000 + i, text), None)  # a store numbers what it adds
    for store in (whole, *shards):
        store.commit()
    sharded = ShardedStore(shards, term_stats=[EmbeddedTermStats(s) for s in shards])
    text = TextQuery(required=((Clause(("kite",)),), (Clause(("moon",)),)))
    expected = scores(whole, StoreQuery(text, limit=100))
    found = scores(sharded, StoreQuery(text, limit=100))
    assert len(found) == 40 and found.keys() == expected.keys()
    for image_id, score in found.items():
        assert score == pytest.approx(expected[image_id], rel=0.003)


def test_common_words_are_dropped_by_the_whole_index_counts(tmp_path: Path) -> None:
    """'kite' is in every document of one shard and a tenth of the other: 55 % of the
    whole index, so the whole index drops it from "kite moon"; so must every shard."""
    texts = [
        ["kite moon" if i < 20 else "kite grass" for i in range(100)],
        ["kite moon" if i < 10 else "moon grass" if i < 30 else "fill" for i in range(100)],
    ]
    whole = EmbeddedStore(tmp_path / "whole", writable=True)
    shards = [EmbeddedStore(tmp_path / f"shard-{s}", writable=True) for s in range(2)]
    for s, shard_texts in enumerate(texts):
        for i, text in enumerate(shard_texts):
            for store in (whole, shards[s]):
                store.add(make_doc(s * 1000 + i, text), None)
    for store in (whole, *shards):
        store.commit()
    sharded = ShardedStore(shards, term_stats=[EmbeddedTermStats(s) for s in shards])
    query = StoreQuery(TextQuery(required=((Clause(("kite",)),), (Clause(("moon",)),))), limit=100)
    assert whole.search(query).total == 50  # "kite" dropped: every "moon"
    assert sum(s.search(query).total for s in shards) == 30  # each shard deciding for itself
    assert sharded.search(query).total == 50
    assert sorted(ids_of(sharded, query)[1]) == sorted(ids_of(whole, query)[1])


def test_many_searches_ask_each_shard_once(sharded: ShardedStore) -> None:
    """search_many answers each query as search does (pages, probes, ids, totals), with
    one call per shard, each shard's queries in one batch."""

    def text(*words: str) -> TextQuery:
        return TextQuery(required=tuple((Clause((w,)),) for w in words))

    queries = [
        StoreQuery(text("red"), limit=10),
        StoreQuery(text("red"), limit=10, offset=10),
        StoreQuery(text("sunset", "sea"), filters=Filters(size="large"), limit=5),
        StoreQuery(text("moon"), limit=1, count=False),
        StoreQuery(text("nowordlikethis"), limit=1, count=False),
    ]
    few = sharded.search(StoreQuery(text("cat"), limit=3))
    queries.append(StoreQuery(TextQuery(), doc_ids=tuple(h.doc_id for h in few.hits)))
    one_by_one = [sharded.search(q) for q in queries]
    asked: list[int] = []
    inner = [ShardCalls(shard, n, asked) for n, shard in enumerate(sharded.shards)]
    batched = ShardedStore(inner, term_stats=sharded.term_stats, inline=False)
    assert batched.search_many(queries) == one_by_one
    assert sorted(asked) == list(range(N))  # each shard asked once, for all of them
    assert one_by_one[0].hits and one_by_one[3].total == 1 and one_by_one[4].total == 0


class ShardCalls:
    """An embedded shard, noting each batch of searches it is sent (by its shard number)."""

    def __init__(self, store: ReadStore, number: int, asked: list[int]) -> None:
        self.store = store
        self.number = number
        self.asked = asked

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def search_many(self, queries: list[StoreQuery]) -> list[StoreResult]:
        self.asked.append(self.number)
        return [self.store.search(q) for q in queries]


class RecordingStats(EmbeddedTermStats):
    """A shard's term statistics, recording the words each request asked for."""

    def __init__(self, store: EmbeddedStore, asked: list[tuple[str, ...]]) -> None:
        super().__init__(store)
        self.asked = asked

    def doc_freqs(self, words: Sequence[str]) -> WordCounts:
        self.asked.append(tuple(words))
        return super().doc_freqs(words)


def test_a_count_of_given_documents_asks_no_term_statistics(
    built: tuple[EmbeddedStore, Path],
) -> None:
    """A suggestion's witness check (limit 0, no word dropped) scores nothing, so it costs
    no round trip for the words' counts; it counts as the whole index does."""
    whole, folder = built
    shards = [EmbeddedStore(path) for path in shard_dirs(folder)]
    asked: list[tuple[str, ...]] = []
    store = ShardedStore(shards, term_stats=[RecordingStats(s, asked) for s in shards])
    text = TextQuery(required=((Clause(("red",)),), (Clause(("sunset",)),)), keep_common=True)
    hits = store.search(StoreQuery(text, limit=1000)).hits
    assert hits and asked  # a scored search asks every shard
    asked.clear()
    for hit in hits[:5]:
        check = store.search(StoreQuery(text, limit=0, doc_ids=(hit.doc_id,)))
        assert check.total == 1 and not check.hits
    stranger = next(d for d in range(1, 10**6) if d not in {h.doc_id for h in hits})
    assert store.search(StoreQuery(text, limit=0, doc_ids=(stranger,))).total == 0
    assert not asked
    assert store.search(StoreQuery(text, limit=0)).total == len(hits)
    other = TextQuery(required=((Clause(("blue",)),), (Clause(("moon",)),)))
    counted = store.search(StoreQuery(other, limit=0))
    assert counted.total == whole.search(StoreQuery(other, limit=0)).total > 0
    assert asked == [("blue", "moon")] * len(shards)  # it may drop a common word: counts
    for shard in shards:
        shard.close()
