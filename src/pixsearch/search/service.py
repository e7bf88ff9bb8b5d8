"""The search service: ranked, near-duplicate-collapsed, stably paged results.

Paging contract (the reference's nextOffset): an offset is a position in the
raw ranked list. A hit is shown only if it is the first of its near-duplicate
group in that list, so each image appears once across all pages, and
nextOffset is the raw position after the last hit shown.

What a result shows holds its filters: the hit is a member that passed them, its
place (hostPageUrl, name) is one that holds the page-level filters itself, and a
hit with no such place is no result (its group may still show through another
member). The counts are those of what the same filters let through (places.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pixsearch.index.store import (
    Filters,
    ReadStore,
    SiteBoost,
    StoreHit,
    StoreQuery,
    TextQuery,
    is_content_word,
    tokens,
)
from pixsearch.observe.metrics import stage
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search import places
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.query import ParsedQuery, parse_query, weigh_template_words
from pixsearch.search.ranking import WINDOW, Explanation, Reranked, SemanticHit, rerank
from pixsearch.search.scope import PlaceRule, place_rule, scoped_filters, splits_places
from pixsearch.search.semantic import Matcher

MAX_SCAN = 20_000  # raw hits examined at most for one page
PLACE_BATCH = 64  # documents read at once when hits must prove a place holds the filters
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SearchRequest:
    q: str
    filters: Filters = field(default_factory=Filters)
    count: int = 35
    offset: int = 0
    pin_image_id: str | None = None  # the reference's id=: this image first
    boosts: tuple[SiteBoost, ...] = ()  # a custom instance's boosted/demoted sites
    language: str = "en"  # the market's language (stemming)
    explain: bool = False  # attach an Explanation to each result (admin debugging)


@dataclass(slots=True)  # not frozen: 35 a search, and frozen ones cost 4x to make
class Result:
    doc: ImageDocument
    occurrence: Occurrence  # the place holding the filters that best matches the query
    score: float
    sizes: int = 1  # distinct sizes of this picture (its group) the filters let through
    pages: int = 1  # distinct pages including this picture (its group) that hold the filters
    explain: Explanation | None = None  # only when the request asked for explanations


@dataclass(frozen=True, slots=True)
class SearchPage:
    parsed: ParsedQuery
    results: list[Result]
    total_estimated: int
    current_offset: int
    next_offset: int


class SearchService:
    """`semantic` fuses sentence-embedding (and CLIP) matches in; `diversity` spreads hosts."""

    def __init__(
        self,
        store: ReadStore,
        semantic: Matcher | None = None,
        *,
        diversity: bool = True,
        priors: bool = True,
        adult: AdultPolicy | None = None,
        chrome: Callable[[], frozenset[int]] | None = None,
        template_words: Callable[[], frozenset[str]] | None = None,
    ) -> None:
        self.store = store
        self.chrome = chrome  # the near-duplicate groups that are site chrome, kept current
        self.template_words = template_words  # the sites' template words, kept current
        self.adult = adult or AdultPolicy()  # what safeSearch's exclusions mean here
        self.semantic = semantic
        self.diversity = diversity
        self.priors = priors  # False only to measure ranking without them

    def search(self, request: SearchRequest) -> SearchPage:
        with stage("parse"):
            parsed = parse_query(request.q)
            filters = scoped_filters(request.filters, self.adult, query=parsed)
        text = parsed.text
        if self.template_words is not None:
            text = weigh_template_words(text, self.template_words())
        base = StoreQuery(  # limit: the first page's search asks the window as it is
            text=text,
            filters=filters,
            boosts=request.boosts,
            language=request.language,
            limit=WINDOW,
        )
        semantic = self._semantic_hits(parsed, base)
        pinned = self._pinned(request) if request.offset == 0 else None
        pin_group = pinned.group_id if pinned else self._group_of(request.pin_image_id)
        # The pin takes one place of the first page, so that page asks for one head
        # less: cutting it afterwards would drop a head that no later page shows.
        # (With count 1 it cannot: the next page's offset 0 would pin again.)
        wanted = request.count - 1 if pinned is not None and request.count > 1 else request.count
        check = _PlaceCheck(self.store, filters) if splits_places(filters) else None
        shown, total, next_offset, notes = self._collapsed_page(
            base,
            request.offset,
            wanted,
            semantic,
            explain=request.explain,
            skip_group=pin_group,
            shows=check,
        )
        with stage("fetch"):
            docs = dict(check.docs) if check is not None else {}
            docs.update(
                (d.doc_id, d)
                for d in self.store.get([h.doc_id for h in shown if h.doc_id not in docs])
            )
            ranked = [(docs[h.doc_id], h.score) for h in shown if h.doc_id in docs]
            counts = places.group_counts(self.store, filters, [d for d, _ in ranked])
            if pinned is not None:
                ranked = [(pinned, 0.0), *ranked][: request.count]
                # id= shows its image whatever the filters, so its group counts whole
                counts.update(places.group_counts(self.store, Filters(), [pinned]))
        words = [w.lower() for w in parsed.words]
        why = notes if request.explain else None
        return SearchPage(
            parsed=parsed,
            results=_results(ranked, counts, words, place_rule(filters), why),
            total_estimated=total,
            current_offset=request.offset,
            next_offset=next_offset,
        )

    def _collapsed_page(
        self,
        base: StoreQuery,
        offset: int,
        count: int,
        semantic: list[SemanticHit],
        *,
        explain: bool = False,
        skip_group: int | None = None,
        shows: _PlaceCheck | None = None,
    ) -> tuple[list[StoreHit], int, int, dict[int, Explanation]]:
        if count <= 0:
            return [], self.store.search(replace(base, limit=1)).total + len(semantic), offset, {}
        # At least the whole rerank window, so its order is the same whatever page is asked.
        fetch = max(offset + count + 16, WINDOW)  # grows below when collapsing needs more
        while True:
            with stage("text"):
                result = self.store.search(base if fetch == base.limit else _paged(base, fetch))
            ranked = self._rerank(result.hits, semantic, base, explain)
            page = _group_heads_from(ranked.hits, offset, count, skip_group, shows)
            exhausted = len(result.hits) < fetch
            if len(page) == count or exhausted or fetch >= MAX_SCAN:
                break
            fetch = min(fetch * 2, MAX_SCAN)
        next_offset = page[-1][0] + 1 if page else max(offset, min(len(ranked.hits), fetch))
        total = result.total + ranked.added
        return [hit for _, hit in page], total, next_offset, ranked.explanations

    @stage("rerank")
    def _rerank(
        self, hits: list[StoreHit], semantic: list[SemanticHit], base: StoreQuery, explain: bool
    ) -> Reranked:
        since = base.filters.published_since
        return rerank(
            hits,
            semantic,
            fresh_since=int(since.timestamp()) if since is not None else None,
            now=int(time.time()),
            diversity=self.diversity,
            priors=self.priors,
            explain=explain,
            chrome=self.chrome() if self.chrome is not None else frozenset(),
            several_words=bool(semantic) and _several_words(base.text),  # only asked then
        )

    @stage("semantic")
    def _semantic_hits(self, parsed: ParsedQuery, base: StoreQuery) -> list[SemanticHit]:
        """Nearest image texts to the query that pass its filters and exclusions, best first."""
        if self.semantic is None or not parsed.words:
            return []
        found = self.semantic.candidates(parsed.words)
        if not found:
            return []
        # The same filters, site: and -word exclusions as the text query, only the
        # required words dropped: meaning stands in for them.
        check = replace(
            base,
            text=TextQuery(excluded=parsed.text.excluded),
            doc_ids=tuple(d for d, _ in found),
            limit=len(found),
        )
        allowed = {h.doc_id: h for h in self.store.search(check).hits}
        return [
            SemanticHit(
                doc_id=d,
                group_id=allowed[d].group_id,
                similarity=similarity,
                site=allowed[d].site,
                published=allowed[d].published,
                prior=allowed[d].prior,
            )
            for d, similarity in found
            if d in allowed
        ]

    def _pinned(self, request: SearchRequest) -> ImageDocument | None:
        if not request.pin_image_id:
            return None
        return self.store.get_by_image_id(request.pin_image_id)

    def _group_of(self, image_id: str | None) -> int | None:
        doc = self.store.get_by_image_id(image_id) if image_id else None
        return doc.group_id if doc else None


def _results(
    ranked: list[tuple[ImageDocument, float]],
    counts: dict[int, places.Counts],
    words: list[str],
    rule: PlaceRule,
    notes: dict[int, Explanation] | None,
) -> list[Result]:
    """The page's results, with explanations when `notes` are given."""
    results = []
    for doc, score in ranked:
        counted = counts.get(doc.group_id, places.ONE)
        why = None
        if notes is not None:
            # Beyond the rerank window (and for a pinned image) only BM25 placed it.
            why = notes.get(doc.doc_id) or Explanation(bm25_score=score)
        # An image in one place (most) shows that place, whatever the rule and words.
        only = doc.occurrences
        place = only[0] if len(only) == 1 else best_occurrence(doc, words, rule)
        results.append(Result(doc, place, score, counted.sizes, counted.pages, why))
    return results


def _several_words(text: TextQuery) -> bool:
    """Whether a match must hold several words: two required groups of content words
    ("the birds" is one), or a phrase. One group of one-word alternatives, "boat OR
    ship", needs one word only."""
    groups = [
        g
        for g in text.required
        if any(is_content_word(t) for c in g for w in c.words for t in tokens(w))
    ]
    return len(groups) > 1 or any(len(c.words) > 1 for g in groups for c in g)


def _paged(base: StoreQuery, limit: int) -> StoreQuery:
    """`base` from its first hit, `limit` of them (dataclasses.replace costs ~15 µs)."""
    return StoreQuery(
        text=base.text,
        filters=base.filters,
        limit=limit,
        offset=0,
        boosts=base.boosts,
        language=base.language,
        doc_ids=base.doc_ids,
        count=base.count,
    )


class _PlaceCheck:
    """Whether a hit has a place holding every page-level filter at once.

    Only asked when the filters can split (scope.splits_places); documents are
    read in batches of the hits ahead and kept for the page's own fetch.
    """

    def __init__(self, store: ReadStore, filters: Filters) -> None:
        self.store = store
        self.holds = place_rule(filters).holds
        self.docs: dict[int, ImageDocument] = {}
        self._read: set[int] = set()

    def __call__(self, hits: list[StoreHit], position: int) -> bool:
        doc_id = hits[position].doc_id
        if doc_id not in self._read:
            ahead = hits[position : position + PLACE_BATCH]
            batch = [h.doc_id for h in ahead if h.doc_id not in self._read]
            self._read.update(batch)
            self.docs.update((d.doc_id, d) for d in self.store.get(batch))
        doc = self.docs.get(doc_id)
        return doc is not None and any(self.holds(doc, o) for o in doc.occurrences)


def _group_heads_from(
    hits: list[StoreHit],
    offset: int,
    count: int,
    skip_group: int | None = None,
    shows: Callable[[list[StoreHit], int], bool] | None = None,
) -> list[tuple[int, StoreHit]]:
    """(raw position, hit) of each group's first hit, from `offset` on, `count` at most.

    `skip_group` (the pinned image's) is shown on no page of the list; a hit that
    `shows` refuses is no head (a later member of its group may be).
    """
    seen: set[int] = set() if skip_group is None else {skip_group}
    heads: list[tuple[int, StoreHit]] = []
    for position, hit in enumerate(hits):
        if hit.group_id in seen or (shows is not None and not shows(hits, position)):
            continue
        seen.add(hit.group_id)
        if position >= offset:
            heads.append((position, hit))
            if len(heads) == count:
                break
    return heads


def best_occurrence(
    doc: ImageDocument, words: list[str], rule: PlaceRule | None = None
) -> Occurrence:
    """The place to show: of those holding the filters' page-level parts (`rule`; all
    when none does, as for a pinned image), the one whose text shares the most query
    words, the first on ties."""
    candidates = doc.occurrences
    if rule is not None and not rule.everywhere:
        candidates = [o for o in doc.occurrences if rule.holds(doc, o)] or candidates
    if len(candidates) == 1 or not words:
        return candidates[0]
    wanted = set(words)

    def overlap(occurrence: Occurrence) -> int:
        text = " ".join(occurrence.text.values()).lower()
        return len(wanted.intersection(_WORD.findall(text)))

    return max(candidates, key=overlap)
