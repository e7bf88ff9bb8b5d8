"""Suggestion probes (search/probes.py): sent together to a store that batches searches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import BatchSearch, Filters, StoreQuery, StoreResult
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.suggest import Suggestions, SuggestionService
from tests.search.corpus import MemoryQueryLog, scenery, vocabulary

pytestmark = pytest.mark.memory

QUERIES = ("sunset", "red sunset", "pink sunset", "sunset beach", "calm sea", "tabby cat")


class Batching:
    """The store, answering several searches in one call as remote shards do; counting."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.calls = 0
        self.batched = 0

    def search(self, query: StoreQuery) -> StoreResult:
        self.calls += 1
        return self.store.search(query)

    def search_many(self, queries: Sequence[StoreQuery]) -> list[StoreResult]:
        self.calls += 1
        self.batched += len(queries)
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
