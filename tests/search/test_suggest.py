"""Spelling and suggestions over the in-memory store and the vocabulary built from it.

Every suggestion must return images under the request's own filters as the
search applies them (search/scope.py with the server's adult policy), so these
tests run each one as a search and check that what it shows is not hidden. The
scenery holds a word ("cabana") found only on pictures with a nudity score of
0.3: visible under the default policy, hidden under Moderate with POLICY's 0.2
threshold. Where the default policy suggests it, the stricter one must not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pixsearch.index.store import Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import SearchPage, SearchRequest, SearchService
from pixsearch.search.suggest import Spelling, Suggestion, Suggestions, SuggestionService
from tests.search.corpus import (
    POLICY,
    SCENERY,
    MemoryQueryLog,
    Scenery,
    scenery,
    vocabulary,
)

pytestmark = pytest.mark.memory

MARKET = "en-US"
QUERIES = ("sunset", "red sunset", "pink sunset", "sunset beach", "calm sea", "tabby cat", "hut")
LOGGED = {"beach cabana": 4, "sunset beach": 3, "green hills": 2, "nude beach": 3}


def page_filters(level: str) -> Filters:
    return Filters(exclude_adult=excluded_adult(level))


@dataclass(slots=True)
class Served:
    world: Scenery
    policy: AdultPolicy
    search: SearchService
    suggestions: SuggestionService

    def ask(self, q: str, level: str = "Moderate") -> tuple[SearchRequest, SearchPage, Spelling]:
        request = SearchRequest(q=q, filters=page_filters(level))
        page, spelling = self.suggestions.search(request)
        return request, page, spelling

    def suggest(self, q: str, level: str = "Moderate") -> tuple[SearchRequest, Suggestions]:
        request, page, spelling = self.ask(q, level)
        searched = spelling.altered or q
        return request, self.suggestions.suggest(request, page, searched, market=MARKET)


def serve(policy: AdultPolicy) -> Served:
    world = scenery()
    search = SearchService(world.store, adult=policy)
    log = MemoryQueryLog()
    log.record_many(LOGGED, market=MARKET)
    return Served(world, policy, search, SuggestionService(search, vocabulary(world.store), log))


@pytest.fixture(scope="module")
def default() -> Served:
    return serve(AdultPolicy())


@pytest.fixture(scope="module")
def stricter() -> Served:
    return serve(POLICY)


def everything(found: Suggestions) -> list[Suggestion]:
    pivots = [s for _, group in found.pivots for s in group]
    return [*found.expansions, *pivots, *found.related, *found.similar]


def caption_words(world: Scenery, doc_ids: set[int]) -> set[str]:
    return {
        w
        for s in SCENERY
        if world.docs[s.n].doc_id in doc_ids
        for w in f"{s.caption} {s.title or ''}".lower().split()
    }


def only_hidden_words(world: Scenery, policy: AdultPolicy, level: str) -> set[str]:
    """Words that only pictures hidden at `level` have: no visible picture proves them."""
    hidden = world.hidden(policy, level)
    everyone = {d.doc_id for d in world.docs.values()}
    return caption_words(world, hidden) - caption_words(world, everyone - hidden)


@pytest.mark.parametrize(
    ("typo", "word"), [("lighthuose", "lighthouse"), ("sunst", "sunset"), ("kiten", "kitten")]
)
def test_a_misspelling_is_searched_as_the_word_the_index_knows(
    default: Served, typo: str, word: str
) -> None:
    _, page, spelling = default.ask(typo)
    assert (spelling.altered, spelling.override) == (word, "+" + typo)
    hidden = default.world.hidden(default.policy, "Moderate")
    docs = [default.world.docs[s.n] for s in SCENERY if word in s.caption.split()]
    expected = {d.group_id for d in docs if d.doc_id not in hidden}
    assert {r.doc.group_id for r in page.results} == expected != set()


def test_a_query_that_finds_enough_is_left_alone(default: Served) -> None:
    _, page, spelling = default.ask("sunset")
    assert spelling == Spelling()
    plain = default.search.search(SearchRequest(q="sunset", filters=page_filters("Moderate")))
    assert [r.doc.doc_id for r in page.results] == [r.doc.doc_id for r in plain.results]


def test_no_correction_to_a_word_only_hidden_pictures_have(
    default: Served, stricter: Served
) -> None:
    assert "cabana" in only_hidden_words(stricter.world, POLICY, "Moderate")
    assert default.ask("cabanna")[2].altered == "cabana"  # visible under the default policy
    _, page, spelling = stricter.ask("cabanna")
    assert spelling == Spelling() and page.results == []


@pytest.mark.parametrize("level", ["Moderate", "Strict"])
@pytest.mark.parametrize("policy_name", ["default", "stricter"])
def test_every_suggestion_returns_images_the_search_shows(
    request: pytest.FixtureRequest, policy_name: str, level: str
) -> None:
    served: Served = request.getfixturevalue(policy_name)
    hidden = served.world.hidden(served.policy, level)
    unprovable = only_hidden_words(served.world, served.policy, level)
    kinds = 0
    for q in QUERIES:
        asked, found = served.suggest(q, level)
        suggestions = everything(found)
        kinds += bool(found.expansions) + bool(found.pivots) + bool(found.similar)
        for suggestion in suggestions:
            page = served.search.search(
                SearchRequest(q=suggestion.text, filters=asked.filters, count=100)
            )
            assert page.results, (q, suggestion.text)
            assert not {r.doc.doc_id for r in page.results} & hidden
            assert not set(suggestion.text.split()) & unprovable, (q, suggestion.text)
            if suggestion.image is not None:
                assert suggestion.image.doc_id not in hidden
                assert suggestion.image.group_id in {r.doc.group_id for r in page.results}
    assert kinds >= len(QUERIES)  # most queries have suggestions of several kinds


def test_expansions_and_pivots_are_proven_with_their_images(default: Served) -> None:
    _, found = default.suggest("red sunset")
    assert found.expansions and found.pivots
    for suggestion in found.expansions:
        assert suggestion.text.startswith("red sunset ") and suggestion.image is not None
        assert suggestion.display in suggestion.image.occurrences[0].text["caption"].split()
    for pivot, group in found.pivots:
        assert pivot in ("red", "sunset")
        for suggestion in group:
            assert pivot not in suggestion.text.split() and suggestion.display in suggestion.text
            assert suggestion.image is not None  # the probe's top image, for the thumbnail
            words = set(suggestion.image.occurrences[0].text["caption"].split())
            assert set(suggestion.text.split()) <= words


@pytest.mark.parametrize("q", ["pink sunset", "sunset beach", "beach"])
def test_the_stricter_policy_takes_back_what_only_hidden_pictures_prove(
    default: Served, stricter: Served, q: str
) -> None:
    """The control of the test above: the default policy does suggest "cabana" here."""
    suggested = [[s.text for s in everything(s.suggest(q)[1])] for s in (default, stricter)]
    assert any("cabana" in text.split() for text in suggested[0])
    assert not any("cabana" in text.split() for text in suggested[1])
