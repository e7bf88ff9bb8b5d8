"""Ranking: priors, duplicate groups and host diversity over the in-memory store.

Text analysis (stemming, accents, CJK) is the embedded backend's own; it is
tested on that backend in test_ranking_embedded.py, with a twin of the orders
checked here so that both stores are seen to rank alike.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import fields, replace
from urllib.parse import urlsplit

import pytest

from pixsearch.index.memory import MemoryStore
from pixsearch.index.priors import multiplier, static_prior
from pixsearch.index.store import Clause, Filters, SiteBoost, StoreHit, StoreQuery, TextQuery
from pixsearch.records import ImageDocument
from pixsearch.search.ranking import SITE_DECAY, WINDOW, Explanation, diversify, rerank
from pixsearch.search.service import SearchRequest, SearchService, _paged
from tests.search.corpus import ranking_corpus, sized

pytestmark = pytest.mark.memory


def build(
    docs: list[ImageDocument], *, diversity: bool = True, priors: bool = True
) -> SearchService:
    store = MemoryStore()
    for doc in docs:
        store.add(doc)
    return SearchService(store, diversity=diversity, priors=priors)


def shown(service: SearchService, q: str, **kwargs: object) -> list[str]:
    page = service.search(SearchRequest(q=q, **kwargs))  # type: ignore[arg-type]
    return [r.doc.occurrences[0].title for r in page.results]


def host(doc: ImageDocument) -> str:
    return urlsplit(doc.occurrences[0].host_page_url or "").hostname or ""


def test_multiplier_orders_spacers_icons_and_pictures() -> None:
    spacer = sized(1, "x", 16, 16).facts
    icon = sized(2, "x", 64, 64).facts
    photo = sized(3, "x", 800, 600).facts
    big = sized(4, "x", 2400, 1600).facts
    assert multiplier(spacer) < multiplier(icon) < multiplier(photo) < multiplier(big)
    assert static_prior(spacer) == 0.0  # the field's floor: log2(2 + 0) = 1


def test_sharper_copy_of_the_same_size_has_the_higher_prior() -> None:
    crisp = sized(1, "x", 800, 600, size=300_000).facts
    mushy = sized(2, "x", 800, 600, size=30_000).facts
    assert multiplier(crisp) > multiplier(mushy)


def test_icons_sink_below_pictures_with_the_same_text() -> None:
    service = build(ranking_corpus())
    assert shown(service, "lighthouse") == [
        "lighthouse photo",
        "lighthouse button",
        "lighthouse icon",
    ]
    # The store scores the three alike and keeps them in the order they were added:
    # without priors the icon would lead, so it is the priors that sink it.
    unweighted = build(ranking_corpus(), priors=False)
    assert shown(unweighted, "lighthouse")[0] == "lighthouse icon"


def test_larger_copy_leads_its_duplicate_group() -> None:
    docs = ranking_corpus()
    service = build(docs)  # the small copy is indexed first
    harbours = [d for d in docs if "harbour" in d.occurrences[0].title]
    results = service.search(SearchRequest(q="harbour")).results
    assert len(results) == 1
    assert results[0].doc.facts.width == max(d.facts.width for d in harbours)
    assert results[0].sizes == len({(d.facts.width, d.facts.height) for d in harbours}) == 2
    assert results[0].pages == len(harbours)  # two local files: two places, no page shared


def test_one_host_does_not_fill_the_first_page() -> None:
    docs = ranking_corpus()
    tulips = [d for d in docs if "tulip" in d.occurrences[0].title]
    service = build(docs)
    first = [host(r.doc) for r in service.search(SearchRequest(q="tulip", count=6)).results]
    assert len(set(first)) >= 3
    assert first[0] == "bigsite.example"  # the best hit still leads
    # Without diversity the six best are all the big site's (they say "tulip" thrice).
    plain = build(ranking_corpus(), diversity=False)
    assert {host(r.doc) for r in plain.search(SearchRequest(q="tulip", count=6)).results} == {
        "bigsite.example"
    }
    # Diversity reorders, it drops nothing: all still come, each once, over the pages.
    seen: list[int] = []
    offset = 0
    while True:
        page = service.search(SearchRequest(q="tulip", count=4, offset=offset))
        seen += [r.doc.doc_id for r in page.results]
        if not page.results:
            break
        offset = page.next_offset
    assert len(seen) == len(set(seen)) == len(tulips)


def test_diversify_never_penalises_unknown_sites() -> None:
    fused = [(StoreHit(doc_id=i, group_id=i, score=10.0 - i), 10.0 - i) for i in range(1, 6)]
    notes = rerank([h for h, _ in fused], []).explanations
    assert [h.doc_id for h in diversify(fused, notes)] == [1, 2, 3, 4, 5]


def test_fresher_wins_ties_only_when_freshness_is_asked() -> None:
    old = StoreHit(doc_id=1, group_id=1, score=5.0, published=1_000)
    new = StoreHit(doc_id=2, group_id=2, score=5.0, published=9_000)
    better_old = StoreHit(doc_id=3, group_id=3, score=6.0, published=1_000)
    hits = [better_old, old, new]
    assert [h.doc_id for h in rerank(hits, []).hits] == [3, 1, 2]
    fresh = rerank(hits, [], fresh_since=0, now=10_000).hits
    assert [h.doc_id for h in fresh] == [3, 2, 1]  # a tie broken, relevance kept


def test_rerank_keeps_hits_beyond_the_window_in_order() -> None:
    hits = [StoreHit(doc_id=i, group_id=i, score=1000.0 - i) for i in range(1, WINDOW + 20)]
    assert [h.doc_id for h in rerank(hits, []).hits] == [h.doc_id for h in hits]


def greedy(fused: list[tuple[StoreHit, float]]) -> tuple[list[int], dict[int, float]]:
    """(doc ids, site penalties) of the lazy-heap greedy pick diversify replaced: its spec.

    A heap holds each site's best remaining hit; the best decayed one is popped,
    and its site's next hit comes in with one more decay. No site twice: as is.
    """
    queues: dict[int, list[tuple[int, StoreHit, float]]] = {}
    heap: list[tuple[float, int, int]] = []
    for position, (hit, score) in enumerate(fused):
        if hit.site == 0:
            heapq.heappush(heap, (-score, position, -1 - position))
            queues[-1 - position] = [(position, hit, score)]
        else:
            queues.setdefault(hit.site, []).append((position, hit, score))
    if len(queues) == len(fused):
        return [hit.doc_id for hit, _ in fused], {}
    picked: dict[int, int] = {}
    for key, queue in queues.items():
        queue.reverse()
        if key >= 0:
            heapq.heappush(heap, (-queue[-1][2], queue[-1][0], key))
    order, penalties = [], {}
    while heap:
        _, _, key = heapq.heappop(heap)
        _, hit, _ = queues[key].pop()
        order.append(hit.doc_id)
        if key >= 0 and queues[key]:
            picked[key] = picked.get(key, 0) + 1
            decay = SITE_DECAY ** picked[key]
            position, following, score = queues[key][-1]
            penalties[following.doc_id] = decay
            heapq.heappush(heap, (-score * decay, position, key))
    return order, penalties


@pytest.mark.parametrize("seed", range(40))
def test_diversify_is_the_greedy_pick_of_the_best_decayed_hit(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    scores = [rng.choice([rng.uniform(0, 20), 5.0]) for _ in range(n)]
    if seed % 4:  # best first, as searches give them; else any order, some negative
        scores.sort(reverse=True)
    else:
        scores = [s - 6 for s in scores]
    sites = [0, 0, 11, 12, 13, 14, 15, 16]
    hits = [StoreHit(i + 1, i + 1, s, site=rng.choice(sites)) for i, s in enumerate(scores)]
    fused = [(h, h.score) for h in hits]
    notes = {h.doc_id: Explanation() for h in hits}
    order, penalties = greedy(fused)
    assert [h.doc_id for h in diversify(fused, notes)] == order
    assert {d: e.site_penalty for d, e in notes.items() if e.site_penalty != 1.0} == penalties


def test_explanations_cost_nothing_unless_asked() -> None:
    hits = [StoreHit(i, i, 10.0 - i / 10, site=i % 3, published=i) for i in range(1, 50)]
    plain = rerank(hits, [], fresh_since=0, now=100, explain=False)
    explained = rerank(hits, [], fresh_since=0, now=100)
    assert plain.hits == explained.hits and plain.explanations == {}
    assert len(explained.explanations) == len(hits)


@pytest.mark.parametrize("seed", range(30))
def test_the_plain_window_orders_as_the_explained_one(seed: int) -> None:
    """Without semantic candidates, freshness or explanations, rerank takes its list
    path (_weighted); it must give the explained path's order: ties of weighted
    scores, repeated and unknown sites, negative scores, priors and diversity off."""
    rng = random.Random(seed)
    n = rng.randint(1, WINDOW + 30)
    scores = [rng.choice([rng.uniform(0, 20), 5.0, 0.0]) for _ in range(n)]
    scores.sort(reverse=True)
    if seed % 3 == 0:
        scores = [s - 6 for s in scores]  # demoted sites score below zero
    hits = [
        StoreHit(
            i + 1, i + 1, s, site=rng.choice([0, 0, 11, 12, 13]), prior=rng.choice([1.6, 2.0, 2.1])
        )
        for i, s in enumerate(scores)
    ]
    for priors in (True, False):
        for diversity in (True, False):
            plain = rerank(hits, [], priors=priors, diversity=diversity, explain=False)
            explained = rerank(hits, [], priors=priors, diversity=diversity, explain=True)
            assert plain.hits == explained.hits and plain.explanations == {}


def test_paged_queries_keep_every_field() -> None:
    every = StoreQuery(
        text=TextQuery(required=((Clause(("tulip",)),),)),
        filters=Filters(color="red"),
        limit=7,
        offset=3,
        boosts=(SiteBoost("a.example", 1.0),),
        language="fr",
        doc_ids=(1, 2),
        count=False,
    )
    defaults = StoreQuery(text=TextQuery())
    assert all(getattr(every, f.name) != getattr(defaults, f.name) for f in fields(StoreQuery))
    assert _paged(every, 100) == replace(every, limit=100, offset=0)
