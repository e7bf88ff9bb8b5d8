"""A bare Tantivy index of the search benchmark's documents: the engine alone.

The baseline bench/search_bench.py measures pixsearch against. The same
documents go in with their whole-weight text folded into one ``body`` field,
each field repeated by its weight exactly as pixsearch's own body field is (so
the posting lists and BM25 statistics are the same size), and the attributes
the benchmark filters on (width, height, colour) as fast fields. A query is
built straight from Tantivy's API, every word required and each filter a
fast-field range, so no pixsearch code runs while it is answered. It returns
what a result page needs of an engine: the top ``count`` doc ids and how many
documents matched.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy

from pixsearch.index.attributes import LARGE_LIMIT
from pixsearch.records import BODY_FIELDS, COLOR_NAMES, ImageDocument

Occur = tantivy.Occur
Q = tantivy.Query
WRITER_HEAP = 256_000_000


@dataclass(frozen=True, slots=True)
class BareQuery:
    words: tuple[str, ...]
    large: bool = False  # size=large: width and height at least LARGE_LIMIT
    color: str | None = None  # a colour name, as the dominant colour

    @classmethod
    def of(cls, text: str, *, large: bool = False, color: str | None = None) -> BareQuery:
        return cls(tuple(text.lower().split()), large, color)


class BareIndex:
    def __init__(self, path: Path) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_unsigned_field("doc_id", fast=True)
        builder.add_text_field("body", tokenizer_name="default", index_option="position")
        for name in ("width", "height", "color"):
            builder.add_unsigned_field(name, fast=True)
        self.schema = builder.build()
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.searcher = self.index.searcher()
        self.colors = {name.lower(): code for code, name in enumerate(COLOR_NAMES)}

    def __len__(self) -> int:
        return int(self.searcher.num_docs)

    @classmethod
    def empty(cls, path: Path) -> BareIndex:
        """A new index at `path`, dropping whatever is there (a half-finished load)."""
        shutil.rmtree(path, ignore_errors=True)
        return cls(path)

    def load(self, documents: Iterable[ImageDocument]) -> None:
        writer = self.index.writer(WRITER_HEAP, 1)
        for doc in documents:
            writer.add_document(self._document(doc))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def _document(self, doc: ImageDocument) -> tantivy.Document:
        out = tantivy.Document()
        out.add_unsigned("doc_id", doc.doc_id)
        for occurrence in doc.occurrences:
            for name, text in occurrence.text.items():
                for _ in range(BODY_FIELDS.get(name, 0) if text else 0):
                    out.add_text("body", text)
        out.add_unsigned("width", doc.facts.width)
        out.add_unsigned("height", doc.facts.height)
        out.add_unsigned("color", self.colors.get(doc.facts.color_name.lower(), 99))
        return out

    def search(
        self, query: BareQuery, count: int, *, total: bool = True
    ) -> tuple[list[int | float | bool | None], int]:
        """(doc ids of the best `count` matches, number of matches or 0 when not `total`)."""
        clauses = [(Occur.Must, Q.term_query(self.schema, "body", w)) for w in query.words]
        if not clauses:
            clauses.append((Occur.Must, Q.all_query()))
        if query.large:
            clauses.extend(
                (Occur.Must, self._range(name, LARGE_LIMIT)) for name in ("width", "height")
            )
        if query.color is not None:
            code = self.colors[query.color]
            clauses.append((Occur.Must, self._range("color", code, code)))
        result = self.searcher.search(Q.boolean_query(clauses), count, count=total)
        ids = self.searcher.fast_field_values("doc_id", [address for _, address in result.hits])
        return ids, result.count if total else 0  # type: ignore[attr-defined]

    def _range(self, field: str, low: int, high: int | None = None) -> tantivy.Query:
        return Q.range_query(self.schema, field, tantivy.FieldType.Unsigned, low, high)
