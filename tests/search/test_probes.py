"""Suggestion probes (search/probes.py): sent together to a store that batches searches,
kept for the generation, never reused across filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import BatchSearch, Filters, StoreQuery, StoreResult
from pixsearch.search import probes
from pixsearch.search.probes import Prober, ProbeRun
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.suggest import Suggestions, SuggestionService
from tests.search.corpus import MemoryQueryLog, picture, scenery, vocabulary

pytestmark = pytest.mark.memory

QUERIES = ("sunset", "red sunset", "pink sunset", "sunset beach", "calm sea", "tabby cat")


class Batching:
    """The store, answering several searches in one call as remote shards do; counting."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.calls = 0
        self.batched = 0
        self.queries: list[StoreQuery] = []

    def search(self, query: StoreQuery) -> StoreResult:
        self.calls += 1
        self.queries.append(query)
        return self.store.search(query)

    def search_many(self, queries: Sequence[StoreQuery]) -> list[StoreResult]:
        self.calls += 1
        self.batched += len(queries)
        self.queries += queries
        return [self.store.search(query) for query in queries]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def suggestions(service: SuggestionService, q: str) -> Suggestions:
    request = SearchRequest(q=q, filters=Filters(exclude_adult=excluded_adult("Moderate")))
    page, spelling = service.search(request)
    return service.suggest(request, page, spelling.altered or q, market="en-US")


def test_probes_sent_together_prove_the_same_suggestions_in_fewer_calls() -> None:
    world = scenery()
    log = MemoryQueryLog()
    log.record_many({"beach cabana": 4, "sunset beach": 3}, market="en-US")
    one_by_one = SuggestionService(SearchService(world.store), vocabulary(world.store), log)
    counted = Batching(world.store)
    assert isinstance(counted, BatchSearch)
    together = SuggestionService(SearchService(counted), vocabulary(counted), log)  # type: ignore[arg-type]
    found = 0
    for q in QUERIES:
        alone = suggestions(one_by_one, q)
        assert suggestions(together, q) == alone, q
        found += len(alone.pivots) + len(alone.related) + len(alone.similar)
    assert found and counted.batched > counted.calls  # several probes a call, same answers


class Counting:
    """The store, counting its one-hit searches (the probes)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.probes = 0

    def search(self, query: StoreQuery) -> StoreResult:
        self.probes += query.limit == 1 and not query.doc_ids  # not the page's own checks
        return self.store.search(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_request_asked_again_costs_no_probe_and_gets_the_same_suggestions() -> None:
    world = scenery()
    log = MemoryQueryLog()
    log.record_many({"beach cabana": 4, "sunset beach": 3}, market="en-US")
    counted = Counting(world.store)
    service = SuggestionService(SearchService(counted), vocabulary(counted), log)  # type: ignore[arg-type]
    first = [suggestions(service, q) for q in QUERIES]
    probed = counted.probes
    assert probed and [suggestions(service, q) for q in QUERIES] == first
    assert counted.probes == probed  # every answer kept: the generation did not change


@pytest.mark.parametrize("levels", [("Off", "Moderate", "Strict"), ("Strict", "Moderate", "Off")])
def test_what_one_safe_search_level_proved_is_never_reused_by_another(
    levels: tuple[str, ...],
) -> None:
    """Kept probe answers and word checks are per filters: a service that proved a word
    for Off must still hold it back under Moderate, as a service never asked Off does."""
    world = scenery()
    shared = SuggestionService(SearchService(world.store), vocabulary(world.store))
    for q in QUERIES:
        for level in levels:
            fresh = SuggestionService(SearchService(world.store), vocabulary(world.store))
            request = SearchRequest(q=q, filters=Filters(exclude_adult=excluded_adult(level)))
            answers = []
            for service in (shared, fresh):
                page, spelling = service.search(request)
                answers.append(service.suggest(request, page, spelling.altered or q, market="en"))
            assert answers[0] == answers[1], (q, level)


def test_document_words_fold_every_field_and_describe_with_the_describing_ones() -> None:
    store = MemoryStore()
    doc = picture(1, "Crème brûlée on a plate", host="example.com", title="Dessert")
    doc.occurrences[0].text["url_words"] = "recipes_2024 brulee-torch"
    store.add(doc)
    run = ProbeRun(Prober(SearchService(store)), Filters(), vocabulary(store).current())  # type: ignore[arg-type]
    described = run.described(doc)
    assert {"creme", "brulee", "plate"} <= described and "torch" not in described
    assert described | {"recipes", "2024", "torch"} <= run.words_of(doc)


def test_probes_sent_together_answer_alike_when_the_kept_answers_start_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = scenery()
    moderate = Filters(exclude_adult=excluded_adult("Moderate"))
    texts = ["sunset", "tabby cat", "calm sea", "striped zebra"]
    expected = [Prober(SearchService(world.store)).probe(t, moderate) for t in texts]
    monkeypatch.setattr(probes, "PROBE_CACHE", 2)  # full after the first call
    prober = Prober(SearchService(Batching(world.store)))
    assert prober.probe_many(texts[:2], moderate) == expected[:2]
    assert prober.probe_many(texts, moderate) == expected  # two kept, two new: over the bound
    assert expected[0] is not None and expected[-1] is None


class Recording:
    """The store, recording each search it answers."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.queries: list[StoreQuery] = []

    def search(self, query: StoreQuery) -> StoreResult:
        self.queries.append(query)
        return self.store.search(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_sampled_witness_proves_by_the_query_restricted_to_it() -> None:
    world = scenery()
    vocab = vocabulary(world.store).current()
    assert vocab is not None
    moderate = Filters(exclude_adult=excluded_adult("Moderate"))
    witness = vocab.witness(["red", "sunset"])
    assert witness is not None
    plain = Prober(SearchService(world.store)).probe("red sunset", moderate, count=True)
    assert plain is not None and plain[1] == 2  # two pictures hold both words
    recorded = Recording(world.store)
    found = Prober(SearchService(recorded)).probe("red sunset", moderate, vocab=vocab)  # type: ignore[arg-type]
    assert found == (witness, 1)
    (check,) = recorded.queries  # one search: the witness alone, counted, no hit read
    assert check.doc_ids == (witness,) and check.limit == 0 and check.count
    assert world.store.search(replace(check, limit=1)).hits[0].doc_id == witness


def test_a_witness_the_filters_refuse_leaves_the_whole_probe() -> None:
    world = scenery()
    vocab = vocabulary(world.store).current()
    assert vocab is not None
    witness = vocab.witness(["red", "sunset"])
    (shown,) = world.store.get([witness])
    other = "green" if shown.facts.color_name != "Green" else "orange"
    narrowed = Filters(color=other, exclude_adult=excluded_adult("Moderate"))
    recorded = Recording(world.store)
    found = Prober(SearchService(recorded)).probe("red sunset", narrowed, vocab=vocab)  # type: ignore[arg-type]
    assert found == Prober(SearchService(world.store)).probe("red sunset", narrowed)
    assert found is not None and found[0] != witness
    assert [q.limit for q in recorded.queries] == [0, 1]  # the check, then the probe
    phrase = Recording(world.store)
    Prober(SearchService(phrase)).probe("red-sunset", narrowed, vocab=vocab)  # type: ignore[arg-type]
    assert [q.limit for q in phrase.queries] == [1]  # a split word is a phrase: no witness


def test_probes_sent_together_check_their_witnesses_in_one_call() -> None:
    world = scenery()
    vocab = vocabulary(world.store).current()
    assert vocab is not None
    moderate = Filters(exclude_adult=excluded_adult("Moderate"))
    texts = ["red sunset", "tabby cat", "zebra crossing"]  # no picture holds the last
    alone = [Prober(SearchService(world.store)).probe(t, moderate, vocab=vocab) for t in texts]
    counted = Batching(world.store)
    together = Prober(SearchService(counted)).probe_many(texts, moderate, vocab=vocab)  # type: ignore[arg-type]
    assert together == alone and alone[2] is None
    assert alone[0] == (vocab.witness(["red", "sunset"]), 1)
    assert (counted.calls, counted.batched) == (1, 3)  # two checks and a probe: one call
    # Remote shards answer a check's one hit with its document: no call to fetch it later.
    assert [(q.limit, len(q.doc_ids)) for q in counted.queries] == [(1, 1), (1, 1), (1, 0)]
    narrowed = Filters(color="pink", exclude_adult=excluded_adult("Moderate"))
    failing = Batching(world.store)
    answers = Prober(SearchService(failing)).probe_many(texts[:2], narrowed, vocab=vocab)  # type: ignore[arg-type]
    assert answers == [Prober(SearchService(world.store)).probe(t, narrowed) for t in texts[:2]]
    assert (failing.calls, failing.batched) == (2, 4)  # the checks failed: their probes next


def test_remote_shards_try_witnesses_only_without_other_filters() -> None:
    world = scenery()
    vocab = vocabulary(world.store).current()
    assert vocab is not None
    narrowed = Filters(color="pink", exclude_adult=excluded_adult("Moderate"))
    here = Prober(SearchService(world.store))
    remote = Prober(SearchService(Batching(world.store)))  # type: ignore[arg-type]
    assert ProbeRun(here, narrowed, vocab)._witnessed() is vocab  # a failed check is cheap
    assert ProbeRun(remote, narrowed, vocab)._witnessed() is None  # it costs a round trip
    assert ProbeRun(remote, narrowed, vocab, plain=True)._witnessed() is vocab
