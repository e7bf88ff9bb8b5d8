"""StoreQuery → Tantivy query: what a second backend has to mirror.

Text groups become required clauses (any clause of a group), each clause a
match on the body field (plus the stemmed field of the market's language) or a
boosted side field; filters become zero-scored required or excluded clauses;
site boosts become optional constant scores that reorder matches and never add
any. The field values the filters test are defined once, in index/attributes.py.
"""

from __future__ import annotations

from collections.abc import Callable

import tantivy

from pixsearch.index import attributes, languages
from pixsearch.index.schema import BODY_FIELD
from pixsearch.index.store import COMMON_TERM_SHARE, Clause, Filters, Range, StoreQuery
from pixsearch.records import SIDE_FIELDS

Occur = tantivy.Occur
Q = tantivy.Query
Clauses = list[tuple[tantivy.Occur, tantivy.Query]]
PART_CACHE = 50_000  # cached word parts; past it the cache starts over
FILTER_CACHE = 1024  # cached filter clauses (distinct Filters values)


class QueryTranslator:
    """Translates store queries and filters for one Tantivy index (schema, analyzers)."""

    def __init__(
        self,
        index: tantivy.Index,
        schema: tantivy.Schema,
        analyzer: tantivy.TextAnalyzer,
        stemmers: dict[str, tantivy.TextAnalyzer],
        stamp: Callable[[], float],
    ) -> None:
        self.index = index
        self.schema = schema
        self.analyzer = analyzer
        self.stemmers = stemmers
        self.side_weights = dict(SIDE_FIELDS)
        self._stamp = stamp  # changes with every commit seen: when host lists go stale
        self._blocked: tuple[tuple[str, ...], float, list[str]] | None = None
        # Per-word parts of queries, valid for one commit: their analysis and the
        # document frequencies that shape them cost more than the search of a rare word.
        self._parts: dict[tuple[tuple[str, ...], str], tantivy.Query | None] = {}
        self._freqs: dict[tuple[Clause, ...], int] = {}
        self._filters: dict[Filters, Clauses] = {}  # a page's filters come back query after query
        self._parts_stamp: float | None = None

    def build(self, query: StoreQuery) -> tantivy.Query:
        stamp = self._stamp()
        if stamp != self._parts_stamp or len(self._parts) > PART_CACHE:
            self._parts.clear()
            self._freqs.clear()
            self._filters.clear()
            self._parts_stamp = stamp
        clauses: Clauses = []
        text = query.text
        groups = text.required if text.keep_common else self._informative(text.required)
        if not groups:  # every document, but not the commit marker (index/textindex.py)
            clauses.append((Occur.Must, Q.all_query()))
            clauses.append((Occur.MustNot, Q.term_query(self.schema, "doc_id", 0)))
        for group in groups:
            alternatives = [
                q for q in (self._clause(c, query.language) for c in group) if q is not None
            ]
            if not alternatives:
                return Q.empty_query()  # a required word analysed to nothing matches nothing
            query_for_group = (
                alternatives[0]
                if len(alternatives) == 1
                else Q.boolean_query([(Occur.Should, q) for q in alternatives])
            )
            clauses.append((Occur.Must, query_for_group))
        for clause in query.text.excluded:
            excluded = self._clause(clause, query.language)
            if excluded is not None:
                clauses.append((Occur.MustNot, excluded))
        clauses.extend(self._cached_filters(query.filters))
        if query.doc_ids:
            ids = sorted(set(query.doc_ids))
            # A term set fills a bitset as large as the index (~0.2 ms at 1M documents);
            # one id, as a suggestion's witness is, reads one posting instead.
            only = (
                Q.term_query(self.schema, "doc_id", ids[0])
                if len(ids) == 1
                else Q.term_set_query(self.schema, "doc_id", ids)
            )
            clauses.append((Occur.Must, Q.const_score_query(only, 0.0)))
        # Boosts are optional clauses: they reorder what matched and never add matches.
        clauses.extend(
            (Occur.Should, Q.const_score_query(self._plain_term("host", b.host), b.weight))
            for b in query.boosts
        )
        if len(clauses) == 1 and clauses[0][0] == Occur.Must:
            # One word, no filter: the word's own query scores the same, and Tantivy
            # prunes its top hits by block maxima, which it does not do through a
            # one-clause boolean query (one word's top 105 at 1M: 4.1 -> 2.6 ms).
            return clauses[0][1]
        return Q.boolean_query(clauses)

    def _informative(
        self, groups: tuple[tuple[Clause, ...], ...]
    ) -> tuple[tuple[Clause, ...], ...]:
        """Drop required single words found in most documents, as a common-terms query does.

        BM25 gives such a word an IDF near zero, so it barely moves the ranking,
        yet intersecting its posting list costs as much as scanning the index.
        The rarest group is always kept, so a query never loses all its words.
        """
        if len(groups) < 2:
            return groups
        searcher = self.index.searcher()
        limit = COMMON_TERM_SHARE * max(searcher.num_docs, 1)
        freqs = [self._group_freq(searcher, g) for g in groups]
        rarest = min(range(len(groups)), key=lambda i: freqs[i])
        return tuple(g for i, g in enumerate(groups) if i == rarest or freqs[i] <= limit)

    def _group_freq(self, searcher: tantivy.Searcher, group: tuple[Clause, ...]) -> int:
        """Documents a one-word group can match (phrases and OR groups count as rare)."""
        if len(group) != 1 or len(group[0].words) != 1:
            return 0
        freq = self._freqs.get(group)
        if freq is None:
            tokens = self.analyzer.analyze(group[0].words[0])
            freq = int(searcher.doc_freq(BODY_FIELD, tokens[0])) if len(tokens) == 1 else 0
            self._freqs[group] = freq
        return freq

    def _clause(self, clause: Clause, language: str = "en") -> tantivy.Query | None:
        key = (clause.words, language)
        try:
            part = self._parts[key]
        except KeyError:
            part = self._parts[key] = self._word_part(clause, language)
        if part is None or clause.weight == 1.0:
            return part
        return Q.boost_query(part, clause.weight)

    def _word_part(self, clause: Clause, language: str) -> tantivy.Query | None:
        tokens = [t for word in clause.words for t in self.analyzer.analyze(word)]
        if not tokens:
            return None
        searcher = self.index.searcher()
        main = languages.word_match(
            self.schema, self.stemmers, tokens, clause.words, language, searcher
        )
        # A side field none of whose documents holds every token adds no match and no
        # score: left out, it costs no posting lists (tags and OCR text are sparse).
        sides = [
            (Occur.Should, Q.boost_query(self._match(name, tokens), weight))
            for name, weight in self.side_weights.items()
            if all(searcher.doc_freq(name, token) for token in tokens)
        ]
        return Q.boolean_query([(Occur.Should, main), *sides]) if sides else main

    def _match(self, field: str, tokens: list[str]) -> tantivy.Query:
        if len(tokens) == 1:
            return Q.term_query(self.schema, field, tokens[0])
        words: list[str | tuple[int, str]] = list(tokens)
        return Q.phrase_query(self.schema, field, words)

    def _cached_filters(self, f: Filters) -> Clauses:
        """filters(f), kept for the commit (build empties the cache with the parts).

        Not with a host blocklist: hashing 100k hosts a query would cost more than it saves.
        """
        if f.adult_hosts:
            return self.filters(f)
        try:
            return self._filters[f]
        except KeyError:
            if len(self._filters) >= FILTER_CACHE:
                self._filters.clear()
            clauses = self._filters[f] = self.filters(f)
            return clauses

    def filters(self, f: Filters) -> Clauses:
        """The clauses of `f`: required attribute values, ranges, safeSearch, sites, scope."""
        out: Clauses = []
        for name in ("aspect", "color", "image_content", "image_type", "license", "size"):
            value = getattr(f, name)
            if value:
                out.append((Occur.Must, self._term(name, value)))
        for name, rng in (("width", f.width), ("height", f.height), ("content_size", f.file_size)):
            if rng.low is not None or rng.high is not None:
                out.append((Occur.Must, self._range(name, rng)))
        if f.published_since is not None:
            since = int(f.published_since.timestamp())
            out.append((Occur.Must, self._range("published", Range(low=max(since, 0)))))
        out.extend(self._adult(f))
        out.extend(self._any_of("host", [s.lower() for s in f.sites]))
        out.extend((Occur.MustNot, self._term("host", s.lower())) for s in f.excluded_sites)
        prefixes = [attributes.normalize_prefix(p) for p in f.url_prefixes]
        out.extend(self._any_of("url_prefix", prefixes))
        out.extend(
            (Occur.MustNot, self._term("url_prefix", attributes.normalize_prefix(p)))
            for p in f.excluded_url_prefixes
        )
        scope = self._scope(f)
        if scope is not None:
            out.append((Occur.Must, scope))
        return out

    def _scope(self, f: Filters) -> tantivy.Query | None:
        """A custom instance's slice as one zero-scored OR over hosts and URL prefixes.

        Term-set queries, not a boolean of term queries: an instance may list
        hundreds of sites, and a term set walks the dictionary once instead of
        merging hundreds of posting-list iterators per hit.
        """
        parts = []
        if f.scope_sites:
            hosts = sorted({s.lower() for s in f.scope_sites})
            parts.append(Q.term_set_query(self.schema, "host", hosts))
        if f.scope_prefixes:
            prefixes = sorted({attributes.normalize_prefix(p) for p in f.scope_prefixes})
            parts.append(Q.term_set_query(self.schema, "url_prefix", prefixes))
        if not parts:
            return None
        either = (
            parts[0] if len(parts) == 1 else Q.boolean_query([(Occur.Should, q) for q in parts])
        )
        return Q.const_score_query(either, 0.0)

    def _adult(self, f: Filters) -> Clauses:
        """safeSearch exclusions: nudity scores at or above the threshold, adult words, hosts.

        Term sets, not a range: the score is stored as whole-percent keywords
        (attributes.adult_of), so the threshold is a query-time choice.
        """
        out: Clauses = []
        if "image" in f.exclude_adult:
            buckets = attributes.adult_score_terms(f.adult_threshold)
            if buckets:
                out.append((Occur.MustNot, Q.term_set_query(self.schema, "adult", buckets)))
        if "text" in f.exclude_adult:
            out.append((Occur.MustNot, self._term("adult", "text")))
            blocked = self._blocked_hosts(f.adult_hosts) if f.adult_hosts else []
            if blocked:
                out.append((Occur.MustNot, Q.term_set_query(self.schema, "host", blocked)))
        return out

    def _blocked_hosts(self, hosts: tuple[str, ...]) -> list[str]:
        """The blocklisted hosts this index holds, found once per list and commit.

        Published blocklists hold 100k+ hosts and a term set that size costs ~300 ms a
        query; the index usually holds a handful of them, and one walk of its host
        dictionary per commit finds which.
        """
        stamp = self._stamp()
        if self._blocked is None or self._blocked[0] is not hosts or self._blocked[1] != stamp:
            listed = frozenset(hosts)
            present = self.index.searcher().terms_with_prefix("host", "")
            self._blocked = (hosts, stamp, sorted(h for h, _ in present if h in listed))
        return self._blocked[2]

    def _any_of(self, field: str, values: list[str]) -> Clauses:
        if not values:
            return []
        either = Q.boolean_query([(Occur.Should, self._term(field, v)) for v in values])
        return [(Occur.Must, Q.const_score_query(either, 0.0))]

    def _term(self, field: str, value: str) -> tantivy.Query:
        return Q.const_score_query(self._plain_term(field, value), 0.0)

    def _plain_term(self, field: str, value: str) -> tantivy.Query:
        return Q.term_query(self.schema, field, value)

    def _range(self, field: str, rng: Range) -> tantivy.Query:
        inner = Q.range_query(
            self.schema,
            field,
            tantivy.FieldType.Unsigned,
            rng.low,
            rng.high,
            include_lower=True,
            include_upper=True,
        )
        return Q.const_score_query(inner, 0.0)
