"""Trending over the in-memory store and an in-memory query log.

Trending is adult-free at any level: the route asks for Strict through the
scope builder, with the server's policy. The log and the curated list name
queries that only adult or blocklisted pictures answer; no tile may show one,
whichever policy the server has, and each tile must lead to its picture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pixsearch.index.store import Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.scope import scoped_filters
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.trending import MIN_GROUP, Category, Curated, TrendingService
from tests.search.corpus import POLICY, MemoryQueryLog, Scenery, scenery, vocabulary

pytestmark = pytest.mark.memory

MARKET = "en-US"
LOGGED = {
    "sunset": 6,
    "red sunset": 3,
    "dawn": 3,
    "green hills": 2,
    "sheep": 2,
    "tabby cat": 2,
    "kitten": 2,
    "lighthouse": 2,
    "beach cabana": 5,  # only pictures with a 0.3 nudity score
    "nude bather": 4,  # an adult picture with adult words
    "beach hut": 3,  # only a picture on the blocklisted host
}
CURATED = [Curated("Seaside", ("beach cabana", "calm sea", "nude bather", "rocky coast"))]


def trending(world: Scenery, policy: AdultPolicy, log: MemoryQueryLog) -> list[Category]:
    search = SearchService(world.store, adult=policy)
    service = TrendingService(search, log, curated=CURATED, vocabulary=vocabulary(world.store))
    filters = scoped_filters(Filters(), policy, safe_search="Strict")  # as the route asks
    return service.categories(market=MARKET, filters=filters)


def logged() -> MemoryQueryLog:
    log = MemoryQueryLog()
    log.record_many(LOGGED, market=MARKET)
    log.record_many({"zebra": 50}, market="de-DE")  # another market's searches stay there
    return log


@pytest.mark.parametrize("policy", [AdultPolicy(), POLICY], ids=["default", "stricter"])
def test_no_tile_shows_what_strict_search_hides(policy: AdultPolicy) -> None:
    world = scenery()
    categories = trending(world, policy, logged())
    tiles = [tile for category in categories for tile in category.tiles]
    hidden = world.hidden(policy, "Strict")
    assert len(tiles) >= 8
    assert not {tile.result.doc.doc_id for tile in tiles} & hidden
    groups = [tile.result.doc.group_id for tile in tiles]
    assert len(groups) == len(set(groups))  # no picture twice
    search = SearchService(world.store, adult=policy)
    strict = Filters(exclude_adult=("image", "text"))
    for tile in tiles:
        assert "nude" not in tile.query.split() and tile.query != "zebra"
        page = search.search(SearchRequest(q=tile.query, filters=strict, count=100))
        assert tile.result.doc.group_id in {r.doc.group_id for r in page.results}


def test_queries_that_only_hidden_pictures_answer_make_no_tile() -> None:
    """Per policy, from the descriptions: the 0.3 cabana is hidden only by the stricter one."""
    shown = {}
    for name, policy in (("default", AdultPolicy()), ("stricter", POLICY)):
        categories = trending(scenery(), policy, logged())
        shown[name] = {tile.query for c in categories for tile in c.tiles}
    assert {"beach cabana", "beach hut"} <= shown["default"]
    assert not {"beach cabana", "beach hut"} & shown["stricter"]
    assert "nude bather" not in shown["default"] | shown["stricter"]


def test_curated_first_then_popular_grouped_by_topic() -> None:
    world = scenery()
    categories = trending(world, POLICY, logged())
    assert categories[0].title == "Seaside"
    assert [t.query for t in categories[0].tiles] == ["calm sea", "rocky coast"]
    popular = [c for c in categories if c.title.startswith("Popular")]
    assert popular
    for category in popular:
        topic = category.title.removeprefix("Popular ").removesuffix(" searches")
        if category.title != "Popular searches":
            assert len(category.tiles) >= MIN_GROUP
            assert all(topic in tile.about and topic not in tile.query for tile in category.tiles)
    queries = {tile.query for c in popular for tile in c.tiles}
    assert queries <= set(LOGGED) and "sunset" in queries


def test_with_no_history_the_collection_still_trends_adult_free() -> None:
    world = scenery()
    categories = trending(world, POLICY, MemoryQueryLog())
    tiles = [tile for c in categories[1:] for tile in c.tiles]  # after the curated one
    assert tiles and all("collection" in c.title for c in categories[1:])
    assert not {tile.result.doc.doc_id for tile in tiles} & world.hidden(POLICY, "Strict")


def test_the_log_ranks_recent_searches_first() -> None:
    log = MemoryQueryLog()
    now = datetime.now(UTC)
    for _ in range(3):
        log.record("Old  Favourite", market=MARKET, now=now - timedelta(days=30))
    log.record("fresh", market=MARKET, now=now)
    log.record("fresh", market=MARKET, scope="instance-1", now=now)
    popular = log.popular(market=MARKET, now=now)
    assert [q for q, _ in popular] == ["fresh", "old favourite"]
    assert popular[1][1] == pytest.approx(3 * 0.5 ** (30 / 7))
    assert log.popular(market=MARKET, scope="instance-1", now=now) == [("fresh", 1.0)]
