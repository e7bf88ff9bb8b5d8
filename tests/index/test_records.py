"""Result records: one blob per image that result pages read instead of its rows.

Whatever a document holds, its record and its rows give equal documents; an
index written before records existed still opens and answers alike; a record
never shows a reader more than its generation; a rolled-back generation takes
its records with it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pixsearch.index.docrecords import GenerationCache
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search.service import SearchPage, SearchRequest, SearchService
from tests.index.helpers import make_doc

WHEN = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def rich_doc(n: int) -> ImageDocument:
    """A document using every kind of fact and occurrence field the rows encode."""
    doc = make_doc(n, f"lighthouse number {n} über Küste 灯台", page=f"https://h{n % 3}.example/p")
    facts = replace(
        doc.facts,
        phash=(1 << 63) | n,  # a hash with the sign bit: stored two's complement in SQLite
        image_types=("photo", "transparent"),
        captured_at=WHEN - timedelta(days=n),
        color_layout="0a" * 12,
        analyzed=("nudenet", "visual"),
        adult_score=0.125 * (n % 3),
        faces=((0.1, 0.2, 0.3, 0.4),) if n % 2 else (),
        image_content=("face",) if n % 2 else (),
        tags=(("lighthouse", 0.9), ("sea", 0.25)),
        ocr_text="KEEP OUT" if n % 2 else "",
    )
    second = Occurrence(
        source=f"https://h{n}.example/q#{n}",
        content_url=f"https://h{n}.example/i/{n}.jpg",
        host_page_url=f"https://h{n}.example/q",
        title=f"a second place {n}",
        text={"caption": f"beacon {n}", "context": "coast — rocks", "url_words": "i q"},
        license="cc-by",
        license_url="https://creativecommons.org/licenses/by/4.0/",
        date_published=WHEN + timedelta(hours=n),
        language="de",
        offers=[{"price": "12.50", "priceCurrency": "EUR"}],
        recipe={"name": "soup", "totalTime": "PT20M", "ingredients": ["a", "b"]},
        alternates=[f"https://h{n}.example/i/{n}-2x.jpg"],
    )
    return ImageDocument(facts, [doc.occurrences[0], second], WHEN - timedelta(days=400 - n))


def build(root: Path, n: int = 12) -> list[int]:
    store = EmbeddedStore(root, writable=True)
    ids = [store.add(rich_doc(i), None) for i in range(n)]
    store.commit()
    store.close()
    return ids


def by_rows(store: EmbeddedStore, doc_ids: list[int]) -> list[ImageDocument]:
    return store.meta._fetch_rows(doc_ids, store.generation)


def answers(root: Path) -> list[SearchPage]:
    service = SearchService(EmbeddedStore(root))
    return [
        service.search(SearchRequest(q=q, filters=f, count=c, offset=o))
        for q in ("lighthouse", "beacon", "kuste", "灯台")
        for f in (Filters(), Filters(license="any"))
        for c, o in ((35, 0), (3, 0), (3, 4))
    ]


def test_records_and_rows_give_equal_documents(tmp_path: Path) -> None:
    ids = build(tmp_path)
    writer = EmbeddedStore(tmp_path, writable=True)
    # An update in place and a new place: the record keeps the rows' order.
    replaced = replace(rich_doc(3).occurrences[0], title="renamed")
    assert writer.add_occurrence(ids[3], replaced)
    assert writer.add_occurrence(ids[3], Occurrence(source="/x.jpg", text={"caption": "x"}))
    writer.commit()
    reader = EmbeddedStore(tmp_path, record_cache=0)
    docs = reader.get(ids)
    assert docs == by_rows(reader, ids)
    assert [o.title for o in docs[3].occurrences] == ["renamed", "a second place 3", ""]
    expected = rich_doc(5)
    assert docs[5].facts == expected.facts and docs[5].occurrences == expected.occurrences
    rows = reader.meta.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    assert rows == len(ids)


def test_facts_read_back_as_their_rows_give_them(tmp_path: Path) -> None:
    odd = rich_doc(1)
    odd = replace(odd, facts=replace(odd.facts, image_types=("photo", "line,clipart", "")))
    writer = EmbeddedStore(tmp_path, writable=True)
    doc_id = writer.add(odd, None)
    writer.commit()
    reader = EmbeddedStore(tmp_path, record_cache=0)
    assert reader.get([doc_id])[0].facts.image_types == ("photo", "line", "clipart")
    assert reader.get([doc_id]) == by_rows(reader, [doc_id])


def test_documents_are_the_callers_to_rearrange(tmp_path: Path) -> None:
    ids = build(tmp_path, 2)
    reader = EmbeddedStore(tmp_path)
    first = reader.get(ids)[0]
    first.occurrences.pop()
    first.group_id = 999
    again = reader.get(ids)[0]
    assert len(again.occurrences) == 2 and again.group_id == first.doc_id


def test_an_index_written_before_records_answers_alike(tmp_path: Path) -> None:
    ids = build(tmp_path)
    expected = answers(tmp_path)
    with sqlite3.connect(tmp_path / "meta.db") as conn:
        conn.execute("DROP TABLE records")  # as the code before records left it
    assert answers(tmp_path) == expected
    with sqlite3.connect(tmp_path / "meta.db") as conn:  # a reader never creates the table
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name='records'").fetchall()
    writer = EmbeddedStore(tmp_path, writable=True)  # a writer does; old images keep their rows
    extra = Occurrence(source="/beacon.jpg", text={"caption": "beacon"})
    assert writer.add_occurrence(ids[0], extra)
    writer.commit()
    recorded = [r[0] for r in writer.meta.conn.execute("SELECT doc_id FROM records")]
    assert recorded == [ids[0]]
    reader = EmbeddedStore(tmp_path)
    assert reader.get(ids) == by_rows(reader, ids)
    assert reader.get([ids[0]])[0].occurrences[-1] == extra


def test_a_reader_sees_no_record_newer_than_its_generation(tmp_path: Path) -> None:
    ids = build(tmp_path, 3)
    reader = EmbeddedStore(tmp_path)
    assert len(reader.get([ids[1]])[0].occurrences) == 2  # now in the reader's cache
    writer = EmbeddedStore(tmp_path, writable=True)
    writer.add_occurrence(ids[1], Occurrence(source="/later.jpg", text={"caption": "later"}))
    assert writer.delete(rich_doc(2).image_id)
    writer.commit()
    stale = EmbeddedStore(tmp_path, record_cache=0)
    stale._visible -= 1  # a reader that has not refreshed yet, its cache empty
    for store in (reader, stale):
        assert len(store.get([ids[1]])[0].occurrences) == 2
        assert [d.doc_id for d in store.get(ids[:2])] == ids[:2]
    assert reader.refresh()
    assert len(reader.get([ids[1]])[0].occurrences) == 3
    assert [d.doc_id for d in reader.get(ids)] == ids[:2]


def test_a_rolled_back_generation_takes_its_records(tmp_path: Path) -> None:
    ids = build(tmp_path, 3)
    before = EmbeddedStore(tmp_path).get(ids)
    writer = EmbeddedStore(tmp_path, writable=True)
    writer.add_occurrence(ids[0], Occurrence(source="/lost.jpg", text={"caption": "lost"}))
    writer.add(rich_doc(50), None)

    def crash(gen: int) -> None:  # SQLite holds generation 2, Tantivy never did
        raise RuntimeError("killed")

    writer.text.commit = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        writer.commit()
    writer.text.close()
    writer.meta.close()
    assert EmbeddedStore(tmp_path, writable=True).recover() is None  # rolled back on open
    reader = EmbeddedStore(tmp_path)
    with sqlite3.connect(tmp_path / "meta.db") as conn:
        assert conn.execute("SELECT max(gen) FROM records").fetchone()[0] == 1
    assert reader.get(ids) == before
    digest = hashlib.sha256(b"image-50").hexdigest()[:40].upper()
    assert reader.get_by_image_id(digest) is None


def test_the_image_cache_holds_one_generation_and_a_bounded_number() -> None:
    cache: GenerationCache[int, str] = GenerationCache(2)
    assert cache.lookup(1, [1]) == {}
    cache.store(1, {1: "a", 2: "b"})
    assert cache.lookup(1, [2, 1, 3]) == {1: "a", 2: "b"}
    cache.store(1, {3: "c"})  # 2 was used least recently
    assert cache.lookup(1, [1, 2, 3]) == {1: "a", 3: "c"}
    assert cache.lookup(2, [1]) == {}  # a new generation starts empty
    cache.store(1, {1: "stale"})  # decoded for the old one while it moved on
    assert cache.lookup(2, [1]) == {}


def test_groups_of_one_image_are_counted_from_its_record_as_from_its_rows(
    tmp_path: Path,
) -> None:
    writer = EmbeddedStore(tmp_path, writable=True)
    local = make_doc(1, "a local file")  # no page: its own file is its page
    two_local = make_doc(2, "copied twice")
    two_local.occurrences.append(Occurrence(source="/elsewhere/2.jpg", title="copy"))
    pages = make_doc(3, "on two pages", page="https://a.example/p")
    pages.occurrences += [
        Occurrence(source="https://a.example/p#2", host_page_url="https://a.example/p"),
        Occurrence(source="https://b.example/q", host_page_url="https://b.example/q"),
    ]
    pair = [make_doc(n, "a pair", page=f"https://c.example/{n}") for n in (4, 5)]
    pair[1].facts = replace(pair[1].facts, width=800, height=600)
    ids = [writer.add(doc, None) for doc in (local, two_local, pages, pair[0])]
    pair[1].group_id = ids[3]
    writer.add(pair[1], None, grouped=True)
    deleted = make_doc(6, "a member deleted")
    deleted.group_id = ids[1]
    writer.add(deleted, None, grouped=True)
    writer.commit()
    assert writer.delete(deleted.image_id)
    writer.commit()
    reader = EmbeddedStore(tmp_path)
    later = make_doc(7, "a member the reader does not see yet")
    later.group_id = ids[2]
    writer.add(later, None, grouped=True)
    writer.commit()
    groups = sorted({d.group_id for d in reader.get(ids)})  # as a result page reads them
    gen = reader._visible
    single, settled = reader.meta._count_single(groups, gen)
    # The deleted member was purged; the pair and the group of the member the reader
    # does not see yet have a second row, so the counting query reads them.
    assert settled == {ids[0], ids[1]}
    rows = reader.meta._count_rows(groups, gen)
    assert single == {ids[0]: (1, 1), ids[1]: (1, 1)} == {g: rows[g] for g in settled}
    assert reader.group_counts(groups) == rows
    assert rows == {ids[0]: (1, 1), ids[1]: (1, 1), ids[2]: (1, 2), ids[3]: (2, 2)}
    assert reader.refresh()
    assert reader.group_counts(groups)[ids[2]] == (1, 3)  # the later member: a third page
