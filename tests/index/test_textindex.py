"""The text index's hits: each image's fast fields, as the exact conversion gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tantivy

from pixsearch.index import textindex
from pixsearch.index.attributes import site_key
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.priors import multiplier
from pixsearch.index.store import Clause, Filters, StoreQuery, TextQuery
from pixsearch.index.textindex import _hits
from tests.index.helpers import make_doc


def test_hits_carry_each_images_fields_and_never_the_commit_marker(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    docs = [
        make_doc(1, "red kite", width=30, height=30),  # a spacer: stored prior 0, multiplier 1
        make_doc(2, "red kite over hills", page="https://a.example/p"),
        make_doc(3, "red kite nest", width=2000, height=1500, page="https://b.example/q"),
    ]
    for doc in docs:
        store.add(doc, None)
    store.commit()
    searcher = store.text.index.searcher()
    every = searcher.search(tantivy.Query.all_query(), 10).hits  # the commit marker too
    images = [(s, a) for s, a in every if searcher.fast_field_values("doc_id", [a])[0]]
    assert len(every) == len(images) + 1 == 4
    hits = _hits(searcher, images, store.text.version)
    # With the marker among them, the exact conversion runs; it drops the marker only.
    assert _hits(searcher, every, store.text.version) == hits
    for hit, doc in zip(hits, store.get([h.doc_id for h in hits]), strict=True):
        assert hit.group_id == doc.group_id == doc.doc_id
        assert hit.site == site_key(doc) and (hit.site != 0) == (doc.doc_id in (2, 3))
        assert hit.published == int(doc.date_published.timestamp())
        assert hit.prior == pytest.approx(multiplier(doc.facts), abs=1e-9)
    assert {h.doc_id: h.prior for h in hits}[1] == 1.0


class CountingIndex:
    """The Tantivy index, recording whether each search counted its matches."""

    def __init__(self, index: tantivy.Index) -> None:
        self.index = index
        self.counted: list[bool] = []

    def searcher(self) -> Any:
        searcher = self.index.searcher()
        outer = self

        class Searcher:
            def search(self, query: tantivy.Query, limit: int, **options: Any) -> Any:
                outer.counted.append(options.get("count", True))
                return searcher.search(query, limit, **options)

            def __getattr__(self, name: str) -> Any:
                return getattr(searcher, name)

        return Searcher()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)


def test_a_querys_total_is_counted_once_a_commit(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path, writable=True)
    for n in range(1, 8):
        writer.add(make_doc(n, "red kite" if n % 2 else "red barn"), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path, result_cache=0)  # whole answers not kept: totals alone
    recording = CountingIndex(reader.text.index)
    reader.text.index = recording  # type: ignore[assignment]

    def page(text: str, offset: int, filters: Filters | None = None) -> tuple[int, list[int]]:
        query = StoreQuery(words(*text.split()), filters or Filters(), limit=3, offset=offset)
        found = reader.search(query)
        return found.total, [h.doc_id for h in found.hits]

    first, later, again = page("red", 0), page("red", 3), page("red", 0)
    assert first[0] == later[0] == again[0] == 7 and first == again
    assert set(first[1]).isdisjoint(later[1])
    assert recording.counted == [True, False, False]  # the later page and the repeat: kept
    assert page("kite", 3)[0] == 4 and page("red", 0, Filters(size="small"))[0] == 0
    assert recording.counted[3:] == [True, True]  # other words, other filters: counted
    writer.add(make_doc(8, "red fox"), None)
    writer.commit()
    assert page("red", 0)[0] == 7  # not refreshed: the reader still serves the last commit
    reader.refresh()
    assert page("red", 3)[0] == 8 and recording.counted[-1] is True  # a new commit: counted


def words(*ws: str) -> TextQuery:
    return TextQuery(required=tuple((Clause((w,)),) for w in ws))


def test_a_count_alone_reads_no_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """limit=0: how many documents match, given ones included, and no hit read."""
    writer = EmbeddedStore(tmp_path, writable=True)
    for n in range(1, 8):
        writer.add(make_doc(n, "red kite" if n % 2 else "red barn"), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path, result_cache=0)
    ids: dict[str, list[int]] = {}
    for doc in reader.get(reader.changed_since(0)):
        ids.setdefault(doc.occurrences[0].text["caption"], []).append(doc.doc_id)
    read: list[int] = []
    monkeypatch.setattr(textindex, "_hits", lambda s, pairs, v: read.append(len(pairs)) or [])

    def count(text: str, doc_ids: tuple[int, ...] = ()) -> tuple[int, int]:
        found = reader.search(StoreQuery(words(*text.split()), limit=0, doc_ids=doc_ids))
        return found.total, len(found.hits)

    assert count("kite") == (4, 0) and count("red") == (7, 0)
    assert count("red kite", (ids["red kite"][0],)) == (1, 0)
    assert count("kite", (ids["red barn"][0],)) == (0, 0)
    assert count("red", tuple(ids["red barn"])) == (3, 0)
    assert count("red", (ids["red kite"][0],)) == (1, 0)  # one id: its own posting, not a set
    assert not read  # no search read its hits' fields
    assert reader.search(StoreQuery(words("kite"), limit=2)).total == 4
    assert read == [2]


def test_an_answer_is_kept_for_the_commit_it_was_read_at(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path, writable=True)
    for n in range(1, 8):
        writer.add(
            make_doc(n, "red kite" if n % 2 else "red barn", page=f"https://s{n}.example/"), None
        )
    writer.commit()
    reader = EmbeddedStore(tmp_path)
    uncached = EmbeddedStore(tmp_path, result_cache=0)
    recording = CountingIndex(reader.text.index)
    reader.text.index = recording  # type: ignore[assignment]
    red = StoreQuery(words("red"), limit=5)

    first = reader.search(red)
    first.hits[0].score = -1.0  # a caller may edit what it got: the kept answer is not it
    again = reader.search(red)
    assert len(recording.counted) == 1  # asked again: not searched
    # Every field of every hit as searched (sites included: each image has its own).
    assert again == uncached.search(red) and again.total == 7 and again.hits[0].score > 0
    reader.search(StoreQuery(words("red"), limit=5, offset=5))  # another page
    reader.search(StoreQuery(words("red"), Filters(size="small"), limit=5))  # other filters
    doc_check = StoreQuery(words("red"), limit=5, doc_ids=(1, 2))
    reader.search(doc_check)  # a check of given images: never kept
    reader.search(doc_check)
    assert len(recording.counted) == 5

    writer.add(make_doc(8, "red fox"), None)
    writer.commit()
    assert reader.search(red).total == 7 and len(recording.counted) == 5  # not refreshed yet
    reader.refresh()
    assert reader.search(red).total == 8 and len(recording.counted) == 6  # a new commit
    reader.search(red)
    assert len(recording.counted) == 6


def test_no_answer_is_kept_when_the_cache_is_off(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path, writable=True)
    writer.add(make_doc(1, "red kite"), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path, result_cache=0)
    recording = CountingIndex(reader.text.index)
    reader.text.index = recording  # type: ignore[assignment]
    for _ in range(3):
        assert [h.doc_id for h in reader.search(StoreQuery(words("red"))).hits] == [1]
    assert len(recording.counted) == 3
