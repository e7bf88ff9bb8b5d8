"""The embedded store: visibility at commit, updates, deletes, and crash safety."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Clause, Filters, IndexLockedError, Range, StoreQuery, TextQuery
from pixsearch.records import Occurrence
from tests.index.helpers import make_doc


def words(*ws: str) -> TextQuery:
    return TextQuery(required=tuple((Clause((w,)),) for w in ws))


def count(store: EmbeddedStore, *ws: str, filters: Filters | None = None) -> int:
    return store.search(StoreQuery(words(*ws), filters or Filters(), limit=100)).total


def test_nothing_is_visible_before_commit(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path, writable=True)
    reader = EmbeddedStore(tmp_path)
    writer.add(make_doc(1, "golden retriever puppy"), b"thumb")
    assert count(writer, "puppy") == 0
    assert reader.get_by_image_id(make_doc(1, "").image_id) is None
    writer.commit()
    reader.refresh()
    assert count(reader, "puppy") == 1
    assert (
        reader.get_by_image_id(make_doc(1, "").image_id).occurrences[0].title.startswith("golden")
    )
    assert reader.thumbnail(make_doc(1, "").facts.sha256) == b"thumb"


def test_occurrences_update_and_delete(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    doc_id = store.add(make_doc(1, "harbour boats"), None)
    store.commit()
    assert store.add_occurrence(doc_id, Occurrence(source="/other.jpg", text={"caption": "marina"}))
    assert not store.add_occurrence(
        doc_id, Occurrence(source="/other.jpg", text={"caption": "marina"})
    )
    store.commit()
    assert count(store, "marina") == 1 and count(store, "harbour") == 1
    assert len(store.get([doc_id])[0].occurrences) == 2
    assert store.delete(make_doc(1, "").image_id)
    store.commit()
    assert count(store, "harbour") == 0 and store.get([doc_id]) == []
    assert store.stats()["images"] == 0


def test_filters_run_in_the_index(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    store.add(
        make_doc(
            1,
            "tree",
            width=100,
            height=100,
            license="cc-by-nc",
            page="http://www.example.org/a/page.html",
        ),
        None,
    )
    store.add(
        make_doc(
            2, "tree", width=900, height=600, license="cc0", page="http://images.example.com/b/"
        ),
        None,
    )
    store.add(make_doc(3, "tree", width=600, height=1200), None)
    store.commit()
    assert count(store, "tree", filters=Filters(size="small")) == 1
    assert count(store, "tree", filters=Filters(size="large")) == 2
    assert count(store, "tree", filters=Filters(aspect="tall")) == 1
    assert count(store, "tree", filters=Filters(license="any")) == 2
    assert count(store, "tree", filters=Filters(license="public")) == 1
    assert count(store, "tree", filters=Filters(license="modifycommercially")) == 1
    assert count(store, "tree", filters=Filters(license="modify")) == 2
    assert count(store, "tree", filters=Filters(width=Range(600, 900))) == 2
    assert count(store, "tree", filters=Filters(sites=("example.com",))) == 1
    assert count(store, "tree", filters=Filters(sites=("example.org",))) == 1
    assert count(store, "tree", filters=Filters(excluded_sites=("example.org",))) == 2
    assert count(store, "tree", filters=Filters(url_prefixes=("www.example.org/a/",))) == 1


def test_near_duplicates_share_a_group(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    base = 0xDEADBEEF12345678
    a = store.add(make_doc(1, "cat", phash=base), None)
    b = store.add(make_doc(2, "cat", phash=base ^ 0b1011), None)  # distance 3
    c = store.add(make_doc(3, "cat", phash=base ^ ((1 << 40) - 1)), None)  # far
    store.commit()
    groups = {d.doc_id: d.group_id for d in store.get([a, b, c])}
    assert groups[a] == groups[b] == a and groups[c] == c


def test_a_group_given_by_the_caller_is_kept_and_later_images_see_it(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    base = 0xDEADBEEF12345678
    a = store.add(make_doc(1, "cat", phash=base), None, grouped=True)  # group_id 0: its own
    copy = make_doc(2, "cat", phash=base)
    copy.group_id = 0  # a look-up would join a's group; the caller said otherwise
    b = store.add(copy, None, grouped=True)
    joined = make_doc(3, "cat", phash=base ^ (1 << 50))
    joined.group_id = a
    c = store.add(joined, None, grouped=True)
    d = store.add(make_doc(4, "cat", phash=base ^ 0b11), None)  # looked up: sees a, b and c
    store.commit()
    groups = {doc.doc_id: doc.group_id for doc in store.get([a, b, c, d])}
    assert groups == {a: a, b: b, c: a, d: a}


def doc_freq(store: EmbeddedStore, word: str) -> int:
    """Documents holding `word` as Tantivy's statistics count them: deleted ones too."""
    return int(store.text.index.searcher().doc_freq("body", word))


def test_images_changed_before_their_commit_leave_no_deleted_documents(tmp_path: Path) -> None:
    # New images reach Tantivy's writer as they are added; one changed or deleted before
    # the commit must not stay behind as a deleted document in the term statistics.
    store = EmbeddedStore(tmp_path, writable=True)
    kept = store.add(make_doc(1, "committed kestrel"), None)
    gone = store.add(make_doc(2, "committed osprey"), None)
    store.commit()
    store.add(make_doc(3, "early heron"), None)
    changed = store.add(make_doc(4, "pending egret"), None)
    store.add_occurrence(changed, Occurrence(source="/late", text={"caption": "late plover"}))
    store.add(make_doc(5, "later heron"), None)
    dropped = store.add(make_doc(6, "dropped bittern"), None)
    store.delete(make_doc(6, "").image_id)
    store.delete(make_doc(2, "").image_id)
    store.add_occurrence(kept, Occurrence(source="/again", text={"caption": "kestrel again"}))
    store.add(make_doc(7, "last heron"), None)
    store.commit()
    assert count(store, "heron") == 3 and doc_freq(store, "heron") == 3
    assert count(store, "egret", "plover") == 1 and doc_freq(store, "egret") == 1
    assert count(store, "bittern") == 0 and doc_freq(store, "bittern") == 0
    assert count(store, "osprey") == 0 and count(store, "kestrel", "again") == 1
    assert {d.doc_id for d in store.get([kept, gone, changed, dropped])} == {kept, changed}
    store.add(make_doc(8, "next heron"), None)  # the next generation sends ahead again
    assert store._sending and store._sent
    store.commit()
    assert count(store, "heron") == 4 and doc_freq(store, "heron") == 4


def test_thumbnails_take_their_names_when_their_images_commit(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    sha = make_doc(1, "").facts.sha256
    store.add(make_doc(1, "lighthouse"), b"thumb one")
    assert store.thumbnail(sha) == b"thumb one"  # the writer reads its own at once
    assert not store.thumbs.path_for(sha).exists()
    assert EmbeddedStore(tmp_path).thumbnail(sha) is None
    store.commit()
    assert EmbeddedStore(tmp_path).thumbnail(sha) == b"thumb one"
    store.add(make_doc(2, "never committed"), b"thumb two")
    store.close()
    assert sorted(p.name for p in (tmp_path / "thumbs").rglob("*") if p.is_file()) == [f"{sha}.jpg"]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path, writable=True)
    with pytest.raises(IndexLockedError):
        EmbeddedStore(tmp_path, writable=True)
    first.close()
    EmbeddedStore(tmp_path, writable=True).close()  # free again once the first is closed


_CRASH_SCRIPT = """
import os, sys
sys.path[:0] = {paths!r}
from pathlib import Path
from pixsearch.index.embedded import EmbeddedStore
from tests.index.helpers import make_doc
store = EmbeddedStore(Path({root!r}), writable=True)
for n in range(20):
    store.add(make_doc(n, "committed lighthouse"), b"t")
store.commit()
for n in range(20, 40):
    store.add(make_doc(n, "uncommitted lighthouse"), b"t")
store.add_occurrence(1, __import__("pixsearch.records").records.Occurrence(
    source="/late", text={{"caption": "late addition"}}))
{before_exit}
os._exit(9)
"""


def _crash(root: Path, before_exit: str = "") -> None:
    script = _CRASH_SCRIPT.format(paths=sys.path, root=str(root), before_exit=before_exit)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 9, result.stderr


def test_a_writer_killed_before_commit_leaves_the_last_commit_whole(tmp_path: Path) -> None:
    _crash(tmp_path)
    reader = EmbeddedStore(tmp_path)
    assert count(reader, "lighthouse") == 20 and count(reader, "uncommitted") == 0
    assert reader.thumbnail(make_doc(5, "").facts.sha256) == b"t"
    assert reader.thumbnail(make_doc(25, "").facts.sha256) is None  # never named
    assert count(reader, "late") == 0
    assert reader.stats()["images"] == 20
    writer = EmbeddedStore(tmp_path, writable=True)  # recovery rolls the half generation back
    assert writer.meta.count_images(max_gen=1 << 40) == 20
    writer.add(make_doc(99, "after the crash"), None)
    writer.commit()
    assert count(writer, "crash") == 1 and count(writer, "lighthouse") == 20


def test_a_writer_killed_between_the_two_commits_is_rolled_forward(tmp_path: Path) -> None:
    # Tantivy has committed generation 2; SQLite never heard that it did.
    _crash(
        tmp_path,
        before_exit=("store.meta.finish_generation = lambda gen: os._exit(9)\nstore.commit()"),
    )
    reader = EmbeddedStore(tmp_path)
    assert count(reader, "lighthouse") == 40
    assert (
        len(
            reader.get(
                [h.doc_id for h in reader.search(StoreQuery(words("uncommitted"), limit=50)).hits]
            )
        )
        == 20
    )
    writer = EmbeddedStore(tmp_path, writable=True)
    assert writer.recover() is None  # already rolled forward on open
    assert writer.meta.committed_gen() == 2
    assert count(writer, "late") == 1


def test_words_only_in_tags_or_ocr_text_still_match(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    tagged = make_doc(1, "harbour at dusk")
    tagged.facts = replace(tagged.facts, tags=(("lighthouse", 0.9),), ocr_text="keep out")
    store.add(tagged, None)
    store.add(make_doc(2, "lighthouse on the rocks"), None)
    store.commit()
    hits = store.search(StoreQuery(words("lighthouse"), limit=10)).hits
    assert [h.doc_id for h in hits] == [2, 1]  # the caption outweighs the tag
    assert count(store, "keep", "out") == 1
    phrase = TextQuery(required=((Clause(("keep", "out")),),))
    assert store.search(StoreQuery(phrase, limit=10)).total == 1
    assert count(store, "dusk", "lighthouse") == 1


def test_a_clause_weight_reorders_without_changing_matches(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    store.add(make_doc(1, "harbour harbour harbour lighthouse"), None)
    store.add(make_doc(2, "lighthouse lighthouse lighthouse harbour"), None)
    store.commit()

    def ranked(harbour: float, lighthouse: float) -> list[int]:
        either = ((Clause(("harbour",), harbour), Clause(("lighthouse",), lighthouse)),)
        result = store.search(StoreQuery(TextQuery(required=either), limit=10))
        assert result.total == 2
        return [h.doc_id for h in result.hits]

    assert ranked(1.0, 0.2) == [1, 2]
    assert ranked(0.2, 1.0) == [2, 1]


def test_a_closed_writer_leaves_every_commit_in_the_database_file(tmp_path: Path) -> None:
    """The writer checkpoints its WAL seldom (index/metadb.py): commits reach a reader in
    another process from the WAL, and closing the writer folds them into meta.db itself."""
    writer = EmbeddedStore(tmp_path, writable=True)
    for n in range(1, 41):
        writer.add(make_doc(n, f"harbour boat {n}"), None)
        if n % 20 == 0:
            writer.commit()
    assert (tmp_path / "meta.db-wal").stat().st_size > 0
    probe = (
        "import sys; from pathlib import Path; from pixsearch.index.embedded import EmbeddedStore;"
        "print(EmbeddedStore(Path(sys.argv[1])).stats()['images'])"
    )
    seen = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert seen.stdout.strip() == "40"
    writer.close()
    assert not (tmp_path / "meta.db-wal").exists()
    reopened = EmbeddedStore(tmp_path, writable=True)
    assert reopened.stats()["images"] == 40 and count(reopened, "harbour") == 40
    reopened.close()


def test_a_writer_closing_beside_open_readers_folds_its_commits_in(tmp_path: Path) -> None:
    """A server's readers stay open while ingest batches come and go: each batch's close
    must still copy its commits into meta.db, or the WAL grows under every search."""
    writer = EmbeddedStore(tmp_path, writable=True)
    writer.add(make_doc(1, "harbour boat"), None)
    writer.commit()
    reader = sqlite3.connect(tmp_path / "meta.db")
    assert reader.execute("SELECT COUNT(*) FROM images").fetchone() == (1,)
    for n in range(2, 42):
        writer.add(make_doc(n, f"harbour boat {n}"), None)
    writer.commit()
    writer.close()
    assert (tmp_path / "meta.db-wal").exists()  # the reader keeps it: not the last connection
    # The database file alone (as a copy, without its WAL) holds every commit.
    shutil.copy(tmp_path / "meta.db", tmp_path / "main-file-only.db")
    with sqlite3.connect(tmp_path / "main-file-only.db") as alone:
        assert alone.execute("SELECT COUNT(*) FROM images").fetchone() == (41,)
    reader.close()


def test_a_reader_opening_an_index_its_writer_is_still_creating_sees_it_empty(
    tmp_path: Path,
) -> None:
    """meta.db exists, no table yet: the moment between a writer's connect and its schema."""
    connection = sqlite3.connect(tmp_path / "meta.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    reader = EmbeddedStore(tmp_path)
    assert reader.stats() == {"images": 0, "occurrences": 0, "documents": 0, "generation": 0}
    writer = EmbeddedStore(tmp_path, writable=True)
    writer.add(make_doc(1, "a red fox"), b"thumb")
    writer.commit()
    reader.refresh()
    assert count(reader, "fox") == 1
    writer.close()
    connection.close()
