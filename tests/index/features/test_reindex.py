"""`pixsearch reindex`: the index rebuilt from its own features answers as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.build import Target
from pixsearch.index.features.reindex import exchange, reindex, workspace_of
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import ingest_folder
from tests.index.features.helpers import (
    all_documents,
    page_counts,
    partition,
    thumbnail_jpeg,
    write_corpus,
)
from tests.index.helpers import make_doc

PIXSEARCH = [sys.executable, "-m", "pixsearch"]
QUERIES = ("red", "circle", "blue star", "mosaic pattern", "white", "copy", "square -blue")


def answers(index_dir: Path) -> dict[str, list[tuple[str, int, int]]]:
    service = SearchService(EmbeddedStore(index_dir))
    out = {}
    for q in QUERIES:
        page = service.search(SearchRequest(q=q, count=50))
        out[q] = [(r.doc.image_id, r.sizes, r.pages) for r in page.results]
    return out


def test_reindex_answers_the_same_and_keeps_the_service_files(tmp_path: Path) -> None:
    write_corpus(tmp_path / "pictures")
    index_dir = tmp_path / "index"
    ingest_folder(tmp_path / "pictures", index_dir)
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("kept")
    (index_dir / "secret.key").write_bytes(b"0123456789abcdef")
    (index_dir / "uploads").mkdir()
    (index_dir / "uploads" / "one.jpg").write_bytes(b"upload")
    before = answers(index_dir)
    documents = EmbeddedStore(index_dir).get(EmbeddedStore(index_dir).changed_since(0))
    assert all(before.values()), before
    old = EmbeddedStore(index_dir)

    result = subprocess.run(
        [*PIXSEARCH, "reindex", "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert answers(index_dir) == before
    fresh = EmbeddedStore(index_dir)
    assert all_documents(fresh) == all_documents(old)
    assert page_counts(fresh) == page_counts(old)
    again = {d.image_id: d for d in fresh.get(fresh.changed_since(0))}
    for doc in documents:  # dates and texts carried over exactly, thumbnails too
        assert again[doc.image_id].first_seen == doc.first_seen
        assert again[doc.image_id].occurrences == doc.occurrences
        assert fresh.thumbnail(doc.facts.sha256) == old.thumbnail(doc.facts.sha256)
    assert SqliteKeyStore(ServiceDb(index_dir / "service.db")).lookup(key) is not None
    assert (index_dir / "secret.key").read_bytes() == b"0123456789abcdef"
    assert (index_dir / "uploads" / "one.jpg").read_bytes() == b"upload"
    assert not workspace_of(index_dir).exists()


def test_reindex_refuses_a_folder_without_an_index(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PIXSEARCH, "reindex", "--index", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "no embedded or sharded index" in result.stderr


def test_reindex_carries_visual_embeddings(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    store = EmbeddedStore(index_dir, writable=True)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(30, 32)).astype(np.float32)
    for n in range(30):
        doc = make_doc(n, f"thing {n}")
        store.add(doc, thumbnail_jpeg(n), vectors[n])
        store.add_vector(doc.doc_id, vectors[n])
    store.commit()
    before = [(h.doc_id, round(h.score, 5)) for h in store.similar(vectors[3], k=5)]
    stored = {doc_id: store.vector(doc_id) for doc_id in store.changed_since(0)}

    summary = reindex(store, index_dir, lambda f: Target(EmbeddedStore(f, writable=True)))

    fresh = EmbeddedStore(index_dir)
    assert summary.documents == 30 and summary.build.indexed == [30]
    assert [(h.doc_id, round(h.score, 5)) for h in fresh.similar(vectors[3], k=5)] == before
    assert fresh.changed_since(0) == sorted(stored)
    for doc_id, vector in stored.items():
        assert np.array_equal(fresh.vector(doc_id), vector)  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", ["1", "2"])  # in this process, and side by side
def test_reindex_regroups_the_shards_of_a_sharded_index_as_one(
    tmp_path: Path, workers: str
) -> None:
    """Old shards that split a group (the originals on one, their copies on the other)."""
    write_corpus(tmp_path / "pictures")
    ingest_folder(tmp_path / "pictures", tmp_path / "whole")
    sharded = tmp_path / "sharded"
    ingest_folder(tmp_path / "pictures" / "shapes", sharded / "shard-0")
    ingest_folder(tmp_path / "pictures" / "copies", sharded / "shard-1")
    ingest_folder(tmp_path / "pictures" / "mosaics", sharded / "shard-2")
    key = SqliteKeyStore(ServiceDb(sharded / "shard-1" / "service.db")).create("kept")
    (sharded / "notes.txt").write_text("kept too")
    whole = EmbeddedStore(tmp_path / "whole")
    split = [EmbeddedStore(sharded / f"shard-{i}") for i in range(3)]
    assert set().union(*(partition(s) for s in split)) != partition(whole)

    result = subprocess.run(
        [*PIXSEARCH, "reindex", "--index", str(sharded), "--workers", workers],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    shards = [EmbeddedStore(sharded / f"shard-{i}") for i in range(3)]
    where = {image_id: i for i, s in enumerate(shards) for image_id in all_documents(s)}
    assert sorted(where) == sorted(all_documents(whole))
    assert set().union(*(partition(s) for s in shards)) == partition(whole)
    for group in partition(whole):
        assert len({where[image_id] for image_id in group}) == 1, group
    counts = {k: v for s in shards for k, v in page_counts(s).items()}
    assert counts == page_counts(whole)
    assert SqliteKeyStore(ServiceDb(sharded / "shard-1" / "service.db")).lookup(key) is not None
    assert (sharded / "notes.txt").read_text() == "kept too"
    assert not workspace_of(sharded).exists()


def test_exchange_swaps_two_folders_without_starting_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a")
    (b / "which").write_text("b")
    exchange(a, b)
    assert ((a / "which").read_text(), (b / "which").read_text()) == ("b", "a")
