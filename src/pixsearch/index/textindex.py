"""The Tantivy side of the embedded index: documents in, ranked doc ids out."""

from __future__ import annotations

import os
from pathlib import Path

import tantivy

from pixsearch.index import attributes, languages
from pixsearch.index.schema import (
    ANALYZER_NAME,
    BODY_FIELD,
    MARKER_FIELD,
    SITE_FIELD,
    build_analyzer,
    build_schema,
    index_version,
)
from pixsearch.index.store import (
    Clause,
    Filters,
    IndexLockedError,
    Range,
    StoreHit,
    StoreQuery,
    StoreResult,
)
from pixsearch.models.tagwords import tags_text
from pixsearch.records import BODY_FIELDS, SIDE_FIELDS, ImageDocument
from pixsearch.search.ranking import prior_multiplier, static_prior

Occur = tantivy.Occur
Q = tantivy.Query
WRITER_HEAP = 128_000_000
COMMON_TERM_SHARE = 0.5  # a word in more than this share of documents is 'common'


class TextIndex:
    """Wraps one Tantivy index directory; translates store queries to Tantivy queries."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        # An index keeps the schema version it was written with (schema.py explains why).
        self.version = index_version(path)
        self.schema = build_schema(self.version)
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.analyzer = build_analyzer(self.version)
        self.index.register_tokenizer(ANALYZER_NAME, self.analyzer)
        self.stemmers = languages.register_stemmers(self.index) if self.version >= 2 else {}
        self.side_weights = dict(SIDE_FIELDS)
        self._writer: tantivy.IndexWriter | None = None
        self._blocked: tuple[tuple[str, ...], float, list[str]] | None = None
        self._meta_mtime = self._meta_stamp()

    # -- writing -------------------------------------------------------------

    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self.index.writer(WRITER_HEAP, 1)
            except ValueError as exc:  # the lock file is held by another writer
                raise IndexLockedError(str(self.path)) from exc
        return self._writer

    def add(self, doc: ImageDocument, *, gen: int) -> None:
        self.writer.add_document(to_tantivy(doc, gen=gen, version=self.version))

    def delete(self, doc_id: int) -> None:
        # By query, not by term: the term API would type a Python int as i64, not u64.
        self.writer.delete_documents_by_query(Q.term_query(self.schema, "doc_id", doc_id))

    def commit(self, gen: int) -> None:
        """Commit with a marker document recording that generation `gen` landed."""
        writer = self.writer
        writer.delete_documents_by_query(
            Q.range_query(
                self.schema,
                MARKER_FIELD,
                tantivy.FieldType.Unsigned,
                1,
                None,
                use_inverted_index=True,
            )
        )
        marker = tantivy.Document()
        marker.add_unsigned(MARKER_FIELD, gen)
        marker.add_unsigned("doc_id", 0)
        writer.add_document(marker)
        writer.commit()
        self.index.reload()
        self._meta_mtime = self._meta_stamp()

    def has_generation(self, gen: int) -> bool:
        self.index.reload()
        return self.index.searcher().doc_freq(MARKER_FIELD, gen) > 0

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    # -- reading -------------------------------------------------------------

    def _meta_stamp(self) -> float:
        try:
            return os.stat(self.path / "meta.json").st_mtime_ns
        except OSError:
            return 0

    def refresh(self) -> bool:
        stamp = self._meta_stamp()
        if stamp == self._meta_mtime:
            return False
        self._meta_mtime = stamp
        self.index.reload()
        return True

    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    def search(self, query: StoreQuery) -> StoreResult:
        searcher = self.index.searcher()
        tquery = self.build_query(query)
        result = searcher.search(tquery, query.limit, count=query.count, offset=query.offset)
        addresses = [address for _, address in result.hits]
        # Priors apply in the service's rerank window: weight_by_field would score every
        # match (3x slower at 1M). A version-1 index has no site field: read doc_id twice.
        site = SITE_FIELD if self.version >= 2 else "doc_id"
        names = ("doc_id", "group_id", "published", "prior", site)
        columns = [searcher.fast_field_values(name, addresses) for name in names]
        hits = [
            StoreHit(
                int(doc_id),
                int(group or 0),
                float(score),
                site=int(site or 0) if self.version >= 2 else 0,
                published=int(when or 0),
                prior=prior_multiplier(prior or 0.0),
            )
            for (score, _), doc_id, group, when, prior, site in zip(
                result.hits, *columns, strict=True
            )
            if doc_id  # the commit marker has doc_id 0
        ]
        return StoreResult(hits=hits, total=result.count if query.count else len(hits))

    def among(self, doc_ids: list[int], filters: Filters) -> dict[int, int]:
        """doc_id → group_id of those of `doc_ids` that are live and pass `filters`."""
        if not doc_ids:
            return {}
        searcher = self.index.searcher()
        clauses = [(Occur.Must, Q.term_set_query(self.schema, "doc_id", sorted(set(doc_ids))))]
        clauses.extend(self._filters(filters))
        hits = searcher.search(Q.boolean_query(clauses), len(doc_ids)).hits
        addresses = [address for _, address in hits]
        ids = searcher.fast_field_values("doc_id", addresses)
        groups = searcher.fast_field_values("group_id", addresses)
        return {int(d): int(g or d) for d, g in zip(ids, groups, strict=True) if d}

    def matching(self, filters: Filters, limit: int) -> tuple[dict[int, int], int]:
        """(doc_id → group_id of up to `limit` documents passing `filters`, how many pass)."""
        searcher = self.index.searcher()
        clauses = [(Occur.Must, Q.all_query()), *self._filters(filters)]
        clauses.append((Occur.MustNot, Q.term_query(self.schema, "doc_id", 0)))  # the marker
        result = searcher.search(Q.boolean_query(clauses), limit, count=True)
        addresses = [address for _, address in result.hits]
        ids = searcher.fast_field_values("doc_id", addresses)
        groups = searcher.fast_field_values("group_id", addresses)
        found = {int(d): int(g or d) for d, g in zip(ids, groups, strict=True) if d}
        return found, result.count

    def explain(self, query: StoreQuery, doc_id: int) -> str | None:
        searcher = self.index.searcher()
        tquery = self.build_query(query)
        found = searcher.search(Q.term_query(self.schema, "doc_id", doc_id), 1).hits
        return tquery.explain(searcher, found[0][1]).to_json() if found else None

    def vocabulary(self, field: str, prefix: str, limit: int) -> list[tuple[str, int]]:
        return self.index.searcher().terms_with_prefix(field, prefix, limit=limit)

    # -- query translation -----------------------------------------------------

    def build_query(self, query: StoreQuery) -> tantivy.Query:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        groups = self._informative(query.text.required)
        if not groups:
            clauses.append((Occur.Must, Q.all_query()))
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
        clauses.extend(self._filters(query.filters))
        if query.doc_ids:
            only = Q.term_set_query(self.schema, "doc_id", sorted(set(query.doc_ids)))
            clauses.append((Occur.Must, Q.const_score_query(only, 0.0)))
        # Boosts are optional clauses: they reorder what matched and never add matches.
        clauses.extend(
            (Occur.Should, Q.const_score_query(self._plain_term("host", b.host), b.weight))
            for b in query.boosts
        )
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
        tokens = self.analyzer.analyze(group[0].words[0])
        return searcher.doc_freq(BODY_FIELD, tokens[0]) if len(tokens) == 1 else 0

    def _clause(self, clause: Clause, language: str = "en") -> tantivy.Query | None:
        tokens = [t for word in clause.words for t in self.analyzer.analyze(word)]
        if not tokens:
            return None
        main = languages.word_match(
            self.schema, self.stemmers, tokens, clause.words, language, self.index.searcher()
        )
        sides = [
            (Occur.Should, Q.boost_query(self._match(name, tokens), weight))
            for name, weight in self.side_weights.items()
        ]
        return Q.boolean_query([(Occur.Should, main), *sides]) if sides else main

    def _match(self, field: str, tokens: list[str]) -> tantivy.Query:
        if len(tokens) == 1:
            return Q.term_query(self.schema, field, tokens[0])
        return Q.phrase_query(self.schema, field, tokens)

    def _filters(self, f: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        out: list[tuple[tantivy.Occur, tantivy.Query]] = []
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

    def _adult(self, f: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """safeSearch exclusions: nudity scores at or above the threshold, adult words, hosts.

        Term sets, not a range: the score is stored as whole-percent keywords
        (attributes.adult_of), so the threshold is a query-time choice.
        """
        out: list[tuple[tantivy.Occur, tantivy.Query]] = []
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
        stamp = self._meta_mtime
        if self._blocked is None or self._blocked[0] is not hosts or self._blocked[1] != stamp:
            listed = frozenset(hosts)
            present = self.index.searcher().terms_with_prefix("host", "")
            self._blocked = (hosts, stamp, sorted(h for h, _ in present if h in listed))
        return self._blocked[2]

    def _any_of(self, field: str, values: list[str]) -> list[tuple[tantivy.Occur, tantivy.Query]]:
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


def to_tantivy(doc: ImageDocument, *, gen: int, version: int = 2) -> tantivy.Document:
    facts = doc.facts
    out = tantivy.Document()
    out.add_unsigned("doc_id", doc.doc_id)
    out.add_unsigned("group_id", doc.group_id or doc.doc_id)
    out.add_unsigned("gen", gen)
    for occurrence in doc.occurrences:
        for name, text in occurrence.text.items():
            if not text:
                continue
            for _ in range(BODY_FIELDS.get(name, 0)):
                out.add_text(BODY_FIELD, text)
            if name in SIDE_FIELDS:
                out.add_text(name, text)
    if facts.ocr_text:  # words read in the picture: the low-weight "ocr" side field
        out.add_text("ocr", facts.ocr_text)
    if facts.tags:  # visual classifier words with their synonyms: the "tags" side field
        out.add_text("tags", tags_text(facts.tags))
    keywords: dict[str, tuple[str, ...]] = {
        "aspect": (attributes.aspect_of(facts.width, facts.height),),
        "color": attributes.colors_of(facts),
        "image_type": attributes.image_types_of(doc),
        "image_content": attributes.image_content_of(facts),
        "adult": attributes.adult_of(doc),
        "license": attributes.licenses_of(doc),
        "size": attributes.sizes_of(facts.width, facts.height),
        "host": attributes.hosts_of(doc),
        "url_prefix": attributes.prefixes_of(doc),
    }
    for name, values in keywords.items():
        for value in values:
            out.add_text(name, value)
    out.add_unsigned("width", facts.width)
    out.add_unsigned("height", facts.height)
    out.add_unsigned("content_size", facts.content_size)
    out.add_unsigned("published", max(int(doc.date_published.timestamp()), 0))
    out.add_float("prior", static_prior(facts) if version >= 2 else 0.0)
    if version >= 2:
        languages.add_language_fields(out, doc)
    return out
