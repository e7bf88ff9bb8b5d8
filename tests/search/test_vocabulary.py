"""The vocabulary of a real embedded index: counts, neighbours, and a rebuild per commit."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import Filters, Vocabulary
from pixsearch.index.vocabulary import VocabularyCache, build, load, save
from pixsearch.search.probes import Prober
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import SearchService
from pixsearch.search.vocabulary import VocabularyHolder
from tests.index.helpers import make_doc

CAPTIONS = [
    "red sunset over the sea",
    "orange sunset over the hills",
    "pink sunset over the sea",
    "red dawn over the hills",
    "black cat on a rug",
    "tabby cat on a sofa",
]


def test_vocabulary_follows_commits(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    for n, caption in enumerate(CAPTIONS):
        writer.add(make_doc(n, caption), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path / "index")
    cache = VocabularyCache(reader, tmp_path / "vocabulary")
    holder = VocabularyHolder(reader, cache, check_seconds=0)
    vocab = holder.current()  # a small index: the first build happens right away
    assert vocab is not None and vocab.generation == reader.generation
    assert vocab.freq("sunset") == 3 and vocab.freq("cat") == 2 and vocab.freq("zebra") == 0
    # words used in the same contexts ("sunset" and "dawn": colours, "over", "hills")
    assert "dawn" in vocab.neighbours({"sunset": 1.0}, k=5, exclude=set())
    first = tmp_path / "vocabulary" / f"vocabulary-{vocab.generation}.npz"
    assert first.exists()

    writer.add(make_doc(99, "striped zebra on the plain"), None)
    writer.commit()
    writer.close()
    reader.refresh()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vocab = holder.current()  # rebuilt in the background; the old one serves meanwhile
        if vocab is not None and vocab.freq("zebra") == 1:
            break
        time.sleep(0.05)
    assert vocab is not None and vocab.freq("zebra") == 1
    assert not first.exists()  # the older generation's file is gone


def test_vocabulary_samples_the_ids_that_exist(tmp_path: Path) -> None:
    # Deleted images leave every live doc_id far above the number of documents.
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    for n in range(200):
        writer.add(make_doc(100 + n, f"item{n}"), None)
    writer.commit()
    for n in range(200):
        writer.delete(make_doc(100 + n, "").image_id)
    for n, caption in enumerate(CAPTIONS):
        writer.add(make_doc(n, caption), None)
    writer.commit()
    writer.close()
    vocab = build(EmbeddedStore(tmp_path / "index"))
    assert vocab.freq("sunset") == 3
    assert "dawn" in vocab.neighbours({"sunset": 1.0}, k=5, exclude=set())


def test_any_store_has_a_vocabulary() -> None:
    store = MemoryStore()
    for n, caption in enumerate(CAPTIONS):
        store.add(make_doc(n, caption))
    holder = VocabularyHolder(store, VocabularyCache(store, None), check_seconds=0)
    vocab = holder.current()
    assert vocab is not None and vocab.generation == store.generation
    assert vocab.freq("sunset") == 3 and vocab.freq("cat") == 2
    assert "dawn" in vocab.neighbours({"sunset": 1.0}, k=5, exclude=set())


def test_counts_are_of_describing_text_not_file_names() -> None:
    """What spelling and suggestions trust: words and pairs of captions, titles, page text."""
    store = MemoryStore()
    for n, caption in enumerate(CAPTIONS):
        doc = make_doc(n, caption)
        doc.occurrences[0].text["url_words"] = f"uploads nicubucu usehold {n}"
        store.add(doc)
    bare = make_doc(50, "")
    bare.occurrences[0].text = {"url_words": "striped zebra"}  # a file with only its name
    store.add(bare)
    vocab = build(store)
    assert vocab.sampled == len(CAPTIONS) + 1
    assert vocab.seen["sunset"] == 3 and vocab.seen["cat"] == 2
    assert "red sunset" not in vocab.pairs  # a pair seen once is not kept
    assert vocab.pairs["sunset over"] == 3 and vocab.pairs["over the"] == 4
    assert not {"uploads", "nicubucu", "usehold"} & set(vocab.seen)
    assert vocab.freq("usehold") == len(CAPTIONS)  # still indexed, still searchable
    assert vocab.seen["zebra"] == 1  # a bare file's name is the only text it has
    assert "usehold" not in vocab.neighbours({"sunset": 1.0}, k=20, exclude=set())


def test_rebuilds_are_spaced_by_their_own_length() -> None:
    """A commit every second must not keep a worker rebuilding (at most ~5 % of its time)."""
    store = MemoryStore()
    store.add(make_doc(0, CAPTIONS[0]))
    builds: list[int] = []
    cache = VocabularyCache(store, None)

    def slow_source() -> Vocabulary:
        time.sleep(0.06)  # the spacing is 19x this (or more on a loaded machine)
        builds.append(store.generation)
        return cache()

    holder = VocabularyHolder(store, slow_source, check_seconds=0)
    assert holder.current() is not None and builds == [store.generation]
    store.add(make_doc(1, CAPTIONS[1]))
    time.sleep(0.4)
    holder.current()  # too soon after the last build: no rebuild starts
    time.sleep(0.3)  # (a rebuild started now would have ended by now)
    vocab = holder.current()
    assert len(builds) == 1 and vocab is not None and vocab.freq("orange") == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (vocab is None or vocab.freq("orange") == 0):
        time.sleep(0.05)
        vocab = holder.current()
    assert vocab is not None and vocab.freq("orange") == 1 and len(builds) == 2


def test_witnesses_are_sampled_documents_free_of_adult_marks(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    for n, caption in enumerate(CAPTIONS):
        writer.add(make_doc(n, caption), None)
    writer.add(make_doc(50, "red sunset topless beach"), None)  # adult words: marked "text"
    writer.add(make_doc(51, "red sunset beach"), None)
    writer.commit()
    writer.close()
    store = EmbeddedStore(tmp_path / "index")
    vocab = build(store)
    ids = {d.occurrences[0].text["caption"]: d.doc_id for d in store.get(store.changed_since(0))}
    assert vocab.witness(["red", "beach"]) == ids["red sunset beach"]
    assert vocab.ids["topless"] < len(vocab.witness_ptr) - 1  # a word with a list...
    assert vocab.witness(["topless"]) is None  # ...empty: its only document is adult
    red_sunset = vocab.witness(["sunset", "red"])
    assert red_sunset in (ids["red sunset over the sea"], ids["red sunset beach"])
    assert vocab.witness(["cat", "sea"]) is None

    path = tmp_path / "vocabulary" / "vocabulary.npz"
    save(vocab, path)
    loaded = load(path)
    assert loaded is not None
    assert loaded.witness(["red", "beach"]) == ids["red sunset beach"]
    for name in ("witness_ptr", "witness_rows", "witness_ids"):
        assert np.array_equal(getattr(loaded, name), getattr(vocab, name)), name
    assert vocab.witness_rows.dtype == np.uint8  # rows of a sample of 9 documents


def test_a_witness_deleted_since_the_build_fails_its_check(tmp_path: Path) -> None:
    """A vocabulary serves until the next one is built: its witnesses may be gone. The
    check runs on the reader's generation, so the probe then searches as before."""
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    for n, caption in enumerate(CAPTIONS):
        writer.add(make_doc(n, caption), None)
    writer.add(make_doc(51, "red sunset beach"), None)
    writer.commit()
    reader = EmbeddedStore(tmp_path / "index")
    vocab = build(reader)
    witness = vocab.witness(["red", "sunset"])
    (gone,) = reader.get([witness])
    writer.delete(gone.image_id)
    writer.commit()
    writer.close()
    reader.refresh()
    moderate = Filters(exclude_adult=excluded_adult("Moderate"))
    found = Prober(SearchService(reader)).probe("red sunset", moderate, vocab=vocab)
    assert found is not None and found[0] != witness
    (shown,) = reader.get([found[0]])
    assert {"red", "sunset"} <= set(shown.occurrences[0].text["caption"].split())
    assert Prober(SearchService(reader)).probe("red sunset", moderate) == found
