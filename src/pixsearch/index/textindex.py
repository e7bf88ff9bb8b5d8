"""The Tantivy side of the embedded index: documents in, ranked doc ids out."""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, replace
from math import log2
from pathlib import Path
from typing import cast

import tantivy

from pixsearch.index import attributes, languages
from pixsearch.index.docrecords import GenerationCache
from pixsearch.index.priors import prior_multiplier, static_prior
from pixsearch.index.schema import (
    ANALYZER_NAME,
    BODY_FIELD,
    MARKER_FIELD,
    SITE_FIELD,
    build_analyzer,
    build_schema,
    index_version,
)
from pixsearch.index.store import Filters, IndexLockedError, StoreHit, StoreQuery, StoreResult
from pixsearch.index.tagwords import tags_text
from pixsearch.index.tantivy_query import QueryTranslator
from pixsearch.records import BODY_FIELDS, SIDE_FIELDS, ImageDocument

Occur = tantivy.Occur
Q = tantivy.Query
WRITER_HEAP = 128_000_000
TOTALS = 8_192  # query totals kept for a commit (~1.2 KB each, key included); then anew
# Search answers kept for a commit, most recently used: a 100-hit window is ~5 KiB as
# columns (Answer) with its key, so at most ~20 MiB per process.
RESULTS = 4096


class TextIndex:
    """Wraps one Tantivy index directory: documents in, ranked doc ids out.

    Store queries become Tantivy queries in index/tantivy_query.py.
    """

    def __init__(self, path: Path, *, results: int = RESULTS) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        # An index keeps the schema version it was written with (schema.py explains why).
        self.version = index_version(path)
        self.schema = build_schema(self.version)
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.analyzer = build_analyzer(self.version)
        self.index.register_tokenizer(ANALYZER_NAME, self.analyzer)
        self.stemmers = languages.register_stemmers(self.index) if self.version >= 2 else {}
        self._writer: tantivy.IndexWriter | None = None
        self._meta_mtime = self._meta_stamp()
        self.translate = QueryTranslator(
            self.index, self.schema, self.analyzer, self.stemmers, stamp=lambda: self._meta_mtime
        )
        self._totals = Totals()
        # An answer depends only on the query and the commit read: a query asked again
        # (a popular one, or a page revisited) skips the engine, as Solr's queryResultCache.
        self._results: GenerationCache[StoreQuery, Answer] = GenerationCache(results)

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

    def _meta_stamp(self) -> int:
        try:
            return os.stat(self.path / "meta.json").st_mtime_ns
        except OSError:
            return 0

    def refresh(self) -> bool:
        stamp = self._meta_stamp()
        if stamp == self._meta_mtime:
            return False
        self.index.reload()
        self._meta_mtime = stamp  # after the reload: what is cached under it saw the new commit
        return True

    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    def search(self, query: StoreQuery) -> StoreResult:
        stamp = self._meta_mtime  # the commit read; refresh() moves it on
        keep = not query.doc_ids  # checks of given documents are one-offs: not kept
        kept = self._results.lookup(stamp, (query,)) if keep else {}
        if query in kept:
            return kept[query].result()
        result = self._search(query, stamp)
        if keep and stamp == self._meta_mtime:  # unless a refresh came between
            self._results.store(stamp, {query: Answer.of(result)})
        return result

    def _search(self, query: StoreQuery, stamp: int) -> StoreResult:
        searcher = self.index.searcher()
        tquery = self.translate.build(query)
        key = replace(query, limit=0, offset=0) if query.count and not query.doc_ids else None
        known = self._totals.get(stamp, key)
        only_count = not query.limit  # no hit read: their fast fields cost ~80 µs at 1M
        counting = known is None and (key is not None or only_count)
        # Tantivy takes no limit of 0: a count alone asks for one hit and leaves it.
        result = searcher.search(tquery, query.limit or 1, count=counting, offset=query.offset)
        pairs = [] if only_count else result.hits
        hits = _hits(searcher, pairs, self.version) if pairs else []
        if counting:
            known = _count(result)
            if key is not None and stamp == self._meta_mtime:  # unless a refresh came between
                self._totals.keep(stamp, key, known)
        return StoreResult(hits=hits, total=known if known is not None else len(hits))

    def among(self, doc_ids: list[int], filters: Filters) -> dict[int, int]:
        """doc_id → group_id of those of `doc_ids` that are live and pass `filters`."""
        if not doc_ids:
            return {}
        searcher = self.index.searcher()
        clauses = [(Occur.Must, Q.term_set_query(self.schema, "doc_id", sorted(set(doc_ids))))]
        clauses.extend(self.translate.filters(filters))
        hits = searcher.search(Q.boolean_query(clauses), len(doc_ids)).hits
        addresses = [address for _, address in hits]
        ids = searcher.fast_field_values("doc_id", addresses)
        groups = searcher.fast_field_values("group_id", addresses)
        return {int(d): int(g or d) for d, g in zip(ids, groups, strict=True) if d}

    def matching(self, filters: Filters, limit: int) -> tuple[dict[int, int], int]:
        """(doc_id → group_id of up to `limit` documents passing `filters`, how many pass)."""
        searcher = self.index.searcher()
        clauses = [(Occur.Must, Q.all_query()), *self.translate.filters(filters)]
        clauses.append((Occur.MustNot, Q.term_query(self.schema, "doc_id", 0)))  # the marker
        result = searcher.search(Q.boolean_query(clauses), limit, count=True)
        addresses = [address for _, address in result.hits]
        ids = searcher.fast_field_values("doc_id", addresses)
        groups = searcher.fast_field_values("group_id", addresses)
        found = {int(d): int(g or d) for d, g in zip(ids, groups, strict=True) if d}
        return found, _count(result)

    def explain(self, query: StoreQuery, doc_id: int) -> str | None:
        searcher = self.index.searcher()
        tquery = self.translate.build(query)
        found = searcher.search(Q.term_query(self.schema, "doc_id", doc_id), 1).hits
        return tquery.explain(searcher, found[0][1]).to_json() if found else None

    def vocabulary(self, field: str, prefix: str, limit: int) -> list[tuple[str, int]]:
        return self.index.searcher().terms_with_prefix(field, prefix, limit=limit)


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


def _hits(
    searcher: tantivy.Searcher, pairs: list[tuple[float, tantivy.DocAddress]], version: int
) -> list[StoreHit]:
    """The hits of one search, read from the fast fields; this runs for the 100 hits of
    every search, so it is positional and reads each column in one call.

    Priors apply in the service's rerank window: weight_by_field would score every
    match (3x slower at 1M). A version-1 index has no site field.
    """
    scores = [score for score, _ in pairs]
    addresses = [address for _, address in pairs]
    ids, groups, published, stored = (
        searcher.fast_field_values(name, addresses)
        for name in ("doc_id", "group_id", "published", "prior")
    )
    sites = searcher.fast_field_values(SITE_FIELD, addresses) if version >= 2 else [0] * len(ids)
    # A value is None where its segment lacks the column, and the commit marker (doc_id
    # 0) has no other field: the exact conversion then; cheap checks first.
    if all(ids) and all(groups) and None not in published and None not in sites:
        try:  # prior_multiplier(p), inlined; None (no column) raises
            priors = [log2(2.0 + p) if p > 0.0 else 1.0 for p in cast("list[float]", stored)]
        except TypeError:
            pass
        else:
            return list(map(StoreHit, ids, groups, scores, sites, published, priors))
    return [
        StoreHit(doc_id, group or 0, score, site or 0, when or 0, prior_multiplier(p or 0.0))
        for score, doc_id, group, when, p, site in zip(
            scores, ids, groups, published, stored, sites, strict=True
        )
        if doc_id
    ]


@dataclass(frozen=True, slots=True)
class Answer:
    """A search's answer as kept: its hits as columns (48 bytes a hit where the hits
    themselves take about 250), made into new hits for each caller, who may edit them."""

    total: int
    ids: array[int]
    groups: array[int]
    scores: array[float]
    sites: array[int]
    published: array[int]
    priors: array[float]

    @classmethod
    def of(cls, result: StoreResult) -> Answer:
        hits = result.hits
        return cls(
            result.total,
            array("Q", [h.doc_id for h in hits]),
            array("Q", [h.group_id for h in hits]),
            array("d", [h.score for h in hits]),
            array("Q", [h.site for h in hits]),
            array("q", [h.published for h in hits]),
            array("d", [h.prior for h in hits]),
        )

    def result(self) -> StoreResult:
        columns = (self.ids, self.groups, self.scores, self.sites, self.published, self.priors)
        return StoreResult(hits=list(map(StoreHit, *columns)), total=self.total)


class Totals:
    """How many documents each query matched, kept for the commit that counted them.

    Counting every match defeats Tantivy's top-k pruning: at 1,000,000 documents a
    common word's page took 8.2 ms counted and 4.2 ms not. A query's total depends
    only on what it matches and the commit, not on the page asked, so a later page
    of a query, or the query asked again, is searched without counting.
    """

    def __init__(self) -> None:
        self._stamp: int | None = None
        self._known: dict[StoreQuery, int] = {}

    def get(self, stamp: int, key: StoreQuery | None) -> int | None:
        if key is None or stamp != self._stamp:
            return None
        return self._known.get(key)

    def keep(self, stamp: int, key: StoreQuery, total: int) -> None:
        if stamp != self._stamp:  # a new commit: what was counted before no longer holds
            self._stamp, self._known = stamp, {}
        elif len(self._known) >= TOTALS:
            self._known = {}
        self._known[key] = total


def _count(result: tantivy.SearchResult) -> int:
    """The matches a search with count=True counted (tantivy's stub lacks the attribute)."""
    return int(result.count)  # type: ignore[attr-defined]
