"""Trending: what this server's users search for, in topical categories.

Queries come from the query log (per market, with time decay); each tile is
kept only if the query still returns an image under the caller's filters
(trending is always adult-free, and a custom slice applies), and no image
appears twice. Queries are grouped by what their results are about: each
query's topic words are the words and visual tags its top results share, and
the word shared by the most queries becomes a category ("Popular sunset
searches"), then the next, greedily. Queries that share nothing stay in
"Popular searches". Curated categories from a file come first. With no
history at all, short queries made from the collection's own titles are
grouped the same way, so the answer is never empty while the index is not.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # no stubs installed (types-PyYAML)

from pixsearch.index.store import Filters, StoreQuery, TextQuery, is_content_word, tokens
from pixsearch.search.querylog import QueryLog
from pixsearch.search.scope import scoped_filters
from pixsearch.search.service import Result, SearchPage, SearchRequest, SearchService
from pixsearch.search.vocabulary import VocabularyHolder
from pixsearch.search.words import content_words

log = logging.getLogger(__name__)

TILES_PER_CATEGORY = 12
MIN_POPULAR_TILES = 4  # fewer logged queries than this: the log says too little to show
MIN_GROUP = 2  # queries sharing a topic before it becomes its own category
TOPIC_RESULTS = 3  # top results of a query whose words make its topic
COMMON_SHARE = 0.3  # a word in more than this share of the index is no topic
# Fields that say what a picture shows or where it sits; folder and page words group well.
DESCRIBING = ("caption", "name", "keywords", "tags", "page_title", "url_words")


def counts_towards_trending(page: SearchPage) -> bool:
    """A person's search counts when it is a first page that found something."""
    return page.current_offset == 0 and bool(page.results)


@dataclass(frozen=True, slots=True)
class Tile:
    query: str
    result: Result
    about: frozenset[str] = frozenset()  # topic words its top results share


@dataclass(frozen=True, slots=True)
class Category:
    title: str
    tiles: list[Tile]


@dataclass(frozen=True, slots=True)
class Curated:
    title: str
    queries: tuple[str, ...]
    markets: tuple[str, ...] = ()  # empty: every market


def load_curated(path: str | Path) -> list[Curated]:
    """Curated categories from YAML or JSON: a list of {title, queries[, markets]}."""
    if not path:
        return []
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError):
        log.warning("could not read the trending file %s", path)
        return []
    out = []
    for item in data or []:
        if isinstance(item, dict) and item.get("title") and item.get("queries"):
            markets = item.get("markets") or ()
            markets = (markets,) if isinstance(markets, str) else tuple(markets)
            queries = tuple(str(q) for q in item["queries"])
            out.append(Curated(str(item["title"]), queries, tuple(m.lower() for m in markets)))
    return out


class TrendingService:
    def __init__(
        self,
        search: SearchService,
        log: QueryLog,
        *,
        curated: list[Curated] | None = None,
        vocabulary: VocabularyHolder | None = None,
    ) -> None:
        self.search = search
        self.log = log
        self.curated = curated or []
        self.vocabulary = vocabulary

    def categories(self, *, market: str, filters: Filters, scope: str = "") -> list[Category]:
        """Curated, popular and collection categories under `filters` (the caller's scope)."""
        # The collection's titles come straight from the store: they need the policy too.
        filters = scoped_filters(filters, self.search.adult)
        seen: set[int] = set()
        out = []
        for curated in self.curated:
            if not curated.markets or market.lower() in curated.markets:
                tiles = self._tiles(list(curated.queries), filters, seen)
                if tiles:
                    out.append(Category(curated.title, tiles))
        popular = [q for q, _ in self.log.popular(market=market, scope=scope, limit=60)]
        tiles = self._tiles(popular, filters, seen)
        if len(tiles) >= MIN_POPULAR_TILES:
            out.extend(self._grouped(tiles, "Popular {} searches", "Popular searches"))
        # The collection always has its say, after what people search for.
        collection = self._tiles(self._collection_queries(filters), filters, seen)
        out.extend(self._grouped(collection, "{} in the collection", "From the collection"))
        return out

    def _tiles(self, queries: list[str], filters: Filters, seen: set[int]) -> list[Tile]:
        tiles: list[Tile] = []
        for query in queries:
            page = self.search.search(SearchRequest(q=query, filters=filters, count=3))
            result = next((r for r in page.results if r.doc.group_id not in seen), None)
            if result is None or not self._clean(query):
                continue  # every tile must lead somewhere, and to a new picture
            seen.add(result.doc.group_id)
            about = self._topic_words(query, page.results[:TOPIC_RESULTS])
            tiles.append(Tile(query=query, result=result, about=about))
            if len(tiles) == TILES_PER_CATEGORY * 4:
                break
        return tiles

    def _clean(self, query: str) -> bool:
        vocab = self.vocabulary.current() if self.vocabulary else None
        return vocab is None or not any(t in vocab.adult for t in tokens(query))

    def _grouped(self, tiles: list[Tile], titled: str, rest_title: str) -> list[Category]:
        """Categories of tiles whose results share a topic word; the rest in one more."""
        topics = {tile.query: tile.about for tile in tiles}
        left = list(tiles)
        out = []
        while True:
            counts = Counter(w for tile in left for w in topics[tile.query])
            if not counts:
                break
            word, n = min(counts.items(), key=lambda wn: (-wn[1], wn[0]))
            if n < MIN_GROUP:
                break
            members = [t for t in left if word in topics[t.query]]
            title = titled.format(word)
            out.append(Category(title[0].upper() + title[1:], members[:TILES_PER_CATEGORY]))
            left = [t for t in left if word not in topics[t.query]]
        if left:
            out.append(Category(rest_title, left[:TILES_PER_CATEGORY]))
        return out

    def _topic_words(self, query: str, results: list[Result]) -> frozenset[str]:
        """Words and visual tags most of the query's top results share, not the query's own."""
        vocab = self.vocabulary.current() if self.vocabulary else None
        common = COMMON_SHARE * vocab.num_docs if vocab else float("inf")
        counts: Counter[str] = Counter()
        for result in results:
            doc = result.doc
            words = {
                t for o in doc.occurrences for f in DESCRIBING for t in tokens(o.text.get(f) or "")
            }
            words |= {t for tag, _ in doc.facts.tags for t in tokens(tag)}
            counts.update(words)
        own = set(tokens(query))
        least = min(2, len(results))
        return frozenset(
            w
            for w, n in counts.items()
            if n >= least
            and w not in own
            and is_content_word(w)
            and not (vocab and (vocab.freq(w) > common or w in vocab.adult))
        )

    def _collection_queries(self, filters: Filters) -> list[str]:
        """Short queries made from the titles of indexed images, in index order."""
        store = self.search.store
        hits = store.search(StoreQuery(text=TextQuery(), filters=filters, limit=60)).hits
        queries: list[str] = []
        for doc in store.get([h.doc_id for h in hits]):
            query = " ".join(content_words(doc.occurrences[0].title)[:3])
            if query and query not in queries:
                queries.append(query)
        return queries
