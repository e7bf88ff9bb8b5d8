"""Trending: what this server's users search for, each with the image it leads to.

Queries come from the query log with time decay; each tile is kept only if
the query still returns an image under the caller's filters (safe search, a
custom slice), and no image appears twice. With too little history, the
collection itself supplies tiles, so the answer is never empty while the
index is not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pixsearch.index.store import Filters, StoreQuery, TextQuery
from pixsearch.search.querylog import QueryLog
from pixsearch.search.service import Result, SearchRequest, SearchService
from pixsearch.search.words import content_words

TILES_PER_CATEGORY = 12
MIN_POPULAR_TILES = 4


@dataclass(frozen=True, slots=True)
class Tile:
    query: str
    result: Result


@dataclass(frozen=True, slots=True)
class Category:
    title: str
    tiles: list[Tile]


class TrendingService:
    def __init__(self, search: SearchService, log: QueryLog) -> None:
        self.search = search
        self.log = log

    def categories(self, *, market: str, filters: Filters, scope: str = "") -> list[Category]:
        seen: set[int] = set()
        popular = [q for q, _ in self.log.popular(market=market, scope=scope, limit=60)]
        tiles = self._tiles(popular, filters, seen)
        out = []
        if len(tiles) >= MIN_POPULAR_TILES:
            out.append(Category("Popular searches", tiles))
        collection = self._tiles(self._collection_queries(filters), filters, seen)
        if collection:
            out.append(Category("From the collection", collection))
        return out

    def _tiles(self, queries: list[str], filters: Filters, seen: set[int]) -> list[Tile]:
        tiles: list[Tile] = []
        for query in queries:
            page = self.search.search(SearchRequest(q=query, filters=filters, count=3))
            result = next((r for r in page.results if r.doc.group_id not in seen), None)
            if result is None:
                continue  # every tile must lead somewhere, and to a new picture
            seen.add(result.doc.group_id)
            tiles.append(Tile(query=query, result=result))
            if len(tiles) == TILES_PER_CATEGORY:
                break
        return tiles

    def _collection_queries(self, filters: Filters) -> list[str]:
        """Short queries made from the titles of indexed images, in index order."""
        store = self.search.store
        hits = store.search(StoreQuery(text=TextQuery(), filters=replace(filters), limit=60)).hits
        queries: list[str] = []
        for doc in store.get([h.doc_id for h in hits]):
            query = " ".join(content_words(doc.occurrences[0].title)[:3])
            if query and query not in queries:
                queries.append(query)
        return queries
