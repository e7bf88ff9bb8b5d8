"""Suggestions around a search: spelling, expansions, pivots, related searches, similar terms.

Every suggestion returns results under the request's own filters (safe
search, sites, a custom slice) as the search applies them (scope.py, with the
server's adult policy): expansions are proven by a result already on the page
that contains the added word (its thumbnail is that result), the others by
running them as a one-hit query. Under Moderate and Strict no suggestion uses
a word found mostly on adult images. Suggestions accompany a first page only.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import chain, islice

from pixsearch.index.store import (
    Filters,
    Vocabulary,
    is_content_word,
    tokens,
)
from pixsearch.observe.metrics import stage
from pixsearch.records import ImageDocument
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.probes import Prober, ProbeRun
from pixsearch.search.querylog import QueryLog, normalise
from pixsearch.search.service import Result, SearchPage, SearchRequest, SearchService
from pixsearch.search.spelling import Correction, Speller
from pixsearch.search.vocabulary import VocabularyHolder
from pixsearch.search.words import content_words

EXPANSIONS = 5
PIVOTS = 3  # query words pivoted at most
PER_PIVOT = 3
RELATED = 5
SIMILAR = 4
PIVOT_PROBES = 4  # of probes.MAX_PROBES, pivots may use this many (each about a search)
POPULAR_PROBES = 3  # logged queries tried as related searches
TEXT_RESULTS = 20  # top results whose text suggests expansions and related titles
CLEARLY = 2  # a correction is searched when it finds this many times what the original does
POPULAR_TTL = 30.0  # seconds the popular-query list is reused
USABLE_MEMO = 100_000  # words whose usability is kept; past it the memo starts over


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str  # the whole query to run
    display: str  # the added or substituted word, or the query itself
    image: ImageDocument | None = None  # its top image, for the thumbnail


@dataclass(slots=True)
class Suggestions:
    expansions: list[Suggestion] = field(default_factory=list)
    pivots: list[tuple[str, list[Suggestion]]] = field(default_factory=list)
    related: list[Suggestion] = field(default_factory=list)
    similar: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Spelling:
    altered: str | None = None  # the query actually searched, when corrected
    override: str | None = None  # the query that forces the original spelling


def search_with_spelling(
    search: SearchService, suggestions: SuggestionService | None, request: SearchRequest
) -> tuple[SearchPage, Spelling]:
    """The page for the request, or for its spelling correction when that finds far more."""
    if suggestions is None:  # suggestions switched off: no spelling either
        return search.search(request), Spelling()
    return suggestions.search(request)


class SuggestionService:
    def __init__(
        self,
        search: SearchService,
        holder: VocabularyHolder,
        log: QueryLog | None = None,
        *,
        excluded: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        """`excluded` gives words never suggested nor corrected to (e.g. site template words)."""
        self.search_service = search
        self.store = search.store
        self.prober = Prober(search)
        self.holder = holder
        self.log = log
        self.excluded = excluded
        self._speller: Speller | None = None
        # (market, scope) → (when read, [(popular query, its words)])
        self._popular: dict[tuple[str, str], tuple[float, list[tuple[str, frozenset[str]]]]] = {}
        self._usable: dict[tuple[int, frozenset[str], bool], dict[str, bool]] = {}
        holder.on_build(self._index_spelling)

    def _index_spelling(self, vocab: Vocabulary) -> None:
        self._speller = Speller(vocab)

    # -- spelling ----------------------------------------------------------------

    def search(self, request: SearchRequest) -> tuple[SearchPage, Spelling]:
        """The page for the request, or for its spelling correction when that finds clearly more.

        Every query is checked word by word, however much it finds: one misspelled
        word beside correct ones still finds images by those (and by meaning).
        """
        page = self.search_service.search(request)
        vocab, speller = self.holder.current(), self._speller
        if vocab is None or speller is None or speller.vocab is not vocab:
            return page, Spelling()
        avoid = self.excluded()
        if request.filters.exclude_adult:
            avoid |= vocab.adult
        with stage("spelling"):
            fix: Correction | None = speller.correct(request.q, avoid=avoid)
        if fix is None:
            return page, Spelling()
        fixed = self.prober.probe(
            fix.query, request.filters, count=True
        )  # "finds more" needs totals
        typed = self.prober.probe(request.q, request.filters, count=True)
        typed_total = typed[1] if typed is not None else 0
        if fixed is None and typed_total:
            return page, Spelling()
        if fixed is not None and fixed[1] < CLEARLY * typed_total:
            return page, Spelling()
        # Its words match clearly more, or neither matches by words and the corrected
        # query may still find images by meaning: searched, and shown if it finds any.
        corrected = self.search_service.search(replace(request, q=fix.query))
        if not corrected.results:
            return page, Spelling()
        return corrected, Spelling(altered=fix.query, override=fix.override)

    # -- suggestions -------------------------------------------------------------

    @stage("suggest")
    def suggest(
        self, request: SearchRequest, page: SearchPage, q: str, *, market: str, scope: str = ""
    ) -> Suggestions:
        """Suggestions for `q` (the query searched), each proven to return results."""
        vocab = self.holder.current()
        out = Suggestions()
        if vocab is None or not page.results or page.current_offset != 0:
            return out
        plain = _only_safe_search(request.filters) and _counts_prove(self.search_service.adult)
        excluded = self.excluded()
        run = ProbeRun(
            self.prober,
            request.filters,
            vocab,
            plain=plain and not _has_operators(q),
            excluded=excluded,
            usable_memo=self._usable_memo(vocab, excluded, bool(request.filters.exclude_adult)),
        )
        words = [w for w in dict.fromkeys(t for w in page.parsed.words for t in tokens(w))]
        # An image pinned by id= heads the page whatever it matches: it proves nothing.
        top = [r for r in page.results if r.doc.image_id != request.pin_image_id]
        top = top[:TEXT_RESULTS]
        texts = {r.doc.doc_id: run.described(r.doc) for r in top}
        out.expansions = self._expansions(q, words, top, texts, run)
        # Pivots and similar terms are substitutes: a word already beside the query's
        # words in its results is an expansion, not another way of saying them.
        beside = set().union(*texts.values())
        out.pivots = self._pivots(q, words, beside, run)
        out.similar = self._similar(words, beside, run)
        out.related = self._related(q, words, top, run, market=market, scope=scope)
        _attach_images(run, out)
        return out

    def _usable_memo(
        self, vocab: Vocabulary, excluded: frozenset[str], adult: bool
    ) -> dict[str, bool]:
        """`ProbeRun.usable`'s answers, shared by requests: they depend only on the
        vocabulary, the words never suggested and whether adult words are."""
        key = (vocab.generation, excluded, adult)
        memo = self._usable.get(key)
        if memo is None or len(memo) > USABLE_MEMO:
            if len(self._usable) >= 4:  # the vocabulary or the excluded words moved on
                self._usable.clear()
            memo = self._usable[key] = {}
        return memo

    def _expansions(
        self,
        q: str,
        words: list[str],
        top: list[Result],
        texts: dict[int, frozenset[str]],
        run: ProbeRun,
    ) -> list[Suggestion]:
        """The query plus a word frequent in its results and rare in the index."""
        counts = Counter(chain.from_iterable(texts[r.doc.doc_id] for r in top))
        least = 2 if len(top) >= 4 else 1
        scored = sorted(
            (
                (n * run.vocab.idf(t), t)
                for t, n in counts.items()
                if n >= least and t not in words and run.usable(t)
            ),
            reverse=True,
        )
        wanted = set(words)

        def witness(term: str) -> ImageDocument:
            return next(r.doc for r in top if term in texts[r.doc.doc_id])

        def proven(term: str) -> bool:
            # A result holding every query word and the new one proves the expansion
            # without a query; results found by meaning alone do not, so those run it.
            return wanted <= run.words_of(witness(term))

        if run.batches:  # the probes the loop below may make, sent together
            shown = sum(proven(t) for _, t in scored[:EXPANSIONS])
            unproven = (f"{q} {t}" for _, t in scored if not proven(t))
            run.probe_ahead(list(islice(unproven, max(EXPANSIONS - shown, 0))))
        found = []
        for _, term in scored:
            text = f"{q} {term}"
            if proven(term):
                found.append(Suggestion(text, term, witness(term)))
            elif run.proves(text):
                found.append(Suggestion(text, term))
            if len(found) == EXPANSIONS:
                break
        return found

    def _pivots(
        self, q: str, words: list[str], beside: set[str], run: ProbeRun
    ) -> list[tuple[str, list[Suggestion]]]:
        """Each query word replaced by words used like it that still go with the rest."""
        content = [w for w in words if is_content_word(w)]
        if len(content) < 2:
            return []
        out = []
        near: dict[str, list[str]] = {}
        for pivot in content[:PIVOTS]:
            rest = [w for w in content if w != pivot]
            weights = {pivot: 2.0, **{w: 1.0 for w in rest}}
            terms = run.vocab.neighbours(weights, k=8, exclude=beside | set(words))
            near[pivot] = [t for t in terms if run.usable(t)]
        if run.batches:  # the probes the loop below may make, sent together
            ahead = [_replace_word(q, p, t) for p, ts in near.items() for t in ts[:PER_PIVOT]]
            run.probe_ahead(ahead, limit=PIVOT_PROBES)
        for pivot in content[:PIVOTS]:
            found = []
            for term in near[pivot]:
                text = _replace_word(q, pivot, term)
                if run.proves(text, limit=PIVOT_PROBES):
                    found.append(Suggestion(text, term))
                if len(found) == PER_PIVOT:
                    break
            if found:
                out.append((pivot, found))
        return out

    def _similar(self, words: list[str], beside: set[str], run: ProbeRun) -> list[Suggestion]:
        content = [w for w in words if is_content_word(w)]
        found = []
        exclude = beside | set(words)
        terms = run.vocab.neighbours({w: 1.0 for w in content}, k=8, exclude=exclude)
        unknown = [t for t in terms if not (run.plain and run.vocab.clean_freq(t) > 0)]
        run.probe_ahead([t for t in unknown if run.usable(t)][:SIMILAR])
        for term in terms:
            # With no filter but safe search, the vocabulary's count of non-adult documents
            # holding the word proves it (no thumbnail needed: similarTerms carry none).
            known = run.plain and run.vocab.clean_freq(term) > 0
            if run.usable(term) and (known or run.proves(term)):
                found.append(Suggestion(term, term))
            if len(found) == SIMILAR:
                break
        return found

    def _related(
        self, q: str, words: list[str], top: list[Result], run: ProbeRun, *, market: str, scope: str
    ) -> list[Suggestion]:
        """Popular logged queries sharing a word with this one; else titles of its results."""
        own = normalise(q)
        mine = set(words)
        popular = [p for p, ws in self._popular_queries(market, scope) if not mine.isdisjoint(ws)]
        candidates: dict[str, ImageDocument | None] = dict.fromkeys(popular[:POPULAR_PROBES])
        for result in top:
            title = " ".join(content_words(result.occurrence.title)[:3])
            if title and title not in candidates and set(tokens(title)) <= run.words_of(result.doc):
                candidates[title] = result.doc  # its own result proves a title query
        tried = [
            (t, w)
            for t, w in candidates.items()
            if t != own and all(run.usable(x) for x in tokens(t))
        ]
        witnessed = sum(w is not None for _, w in tried[:RELATED])
        run.probe_ahead([t for t, w in tried if w is None][: max(RELATED - witnessed, 0)])
        found = []
        for text, witness in candidates.items():
            if text == own or not all(run.usable(t) for t in tokens(text)):
                continue
            if witness is not None or run.proves(text):
                found.append(Suggestion(text, text, witness))
            if len(found) == RELATED:
                break
        return found

    def _popular_queries(self, market: str, scope: str) -> list[tuple[str, frozenset[str]]]:
        """Popular logged queries, best first, with their words (read once per list)."""
        if self.log is None:
            return []
        key = (market, scope)
        cached = self._popular.get(key)
        now = time.monotonic()
        if cached is None or now - cached[0] > POPULAR_TTL:
            popular = self.log.popular(market=market, scope=scope, limit=200)
            cached = (now, [(text, frozenset(tokens(text))) for text, _ in popular])
            self._popular[key] = cached
        return cached[1]


def _attach_images(run: ProbeRun, out: Suggestions) -> None:
    """Each suggestion a probe proved gets the image that probe found as its thumbnail."""
    images = run.images()

    def with_image(s: Suggestion) -> Suggestion:
        if s.image is not None or s.text not in images:
            return s
        return replace(s, image=images[s.text])

    out.expansions = [with_image(s) for s in out.expansions]
    out.pivots = [(p, [with_image(s) for s in ss]) for p, ss in out.pivots]
    out.related = [with_image(s) for s in out.related]
    out.similar = [with_image(s) for s in out.similar]


def _only_safe_search(filters: Filters) -> bool:
    """Whether `filters` narrow nothing but by safe search."""
    unset = Filters()
    bare = replace(
        filters,
        exclude_adult=(),
        adult_threshold=unset.adult_threshold,
        adult_hosts=unset.adult_hosts,
    )
    return bare == unset


def _counts_prove(policy: AdultPolicy) -> bool:
    """Whether the vocabulary's count of non-adult documents proves a word under `policy`.

    The index marks adult pictures at the default threshold and knows no blocklist, so
    its clean count holds only while the policy hides no more than that: a lower
    threshold or a blocklisted host hides documents the count calls clean.
    """
    return policy.threshold >= AdultPolicy().threshold and not policy.hosts


def _replace_word(q: str, word: str, replacement: str) -> str:
    """`q` with the first token holding `word` (as the index folds it) replaced."""
    parts = q.split()
    for i, part in enumerate(parts):
        if part.lower() == word:  # the usual case, without compiling a pattern per word
            parts[i] = replacement
            break
        if word in tokens(part):
            pattern = re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", re.IGNORECASE)
            parts[i] = (
                pattern.sub(replacement, part, count=1) if pattern.search(part) else replacement
            )
            break
    return " ".join(parts)


def _has_operators(q: str) -> bool:
    """site:, OR, exclusions or phrases: a word's count no longer proves its results."""
    return any(":" in t or t == "OR" or t.startswith(("-", '"')) for t in q.split())
