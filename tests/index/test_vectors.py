"""The vector index: nearest images, filters, deletes, commits and crashes.

Vectors are random but real: unit float32 vectors of the embedding's shape,
stored and searched through the real usearch index inside the real store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.index.vectors import VectorIndex, generations, quantize
from tests.index.helpers import make_doc

DIM = 1280


def unit(rng: np.random.Generator, n: int = 1) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def near(v: np.ndarray, rng: np.random.Generator, amount: float = 0.3) -> np.ndarray:
    out = v + amount * unit(rng)[0]
    return out / np.linalg.norm(out)


def fill(store: EmbeddedStore, vectors: np.ndarray, *, start: int = 0, **kw: object) -> list[int]:
    ids = []
    for i, vec in enumerate(vectors):
        doc = make_doc(start + i, f"picture {start + i}", **kw)  # type: ignore[arg-type]
        ids.append(store.add(doc, None))
        store.add_vector(ids[-1], vec)
    return ids


def test_quantize_keeps_cosine() -> None:
    rng = np.random.default_rng(1)
    a, b = unit(rng, 2)
    b = near(a, rng, 0.8)
    qa, qb = quantize(np.stack([a, b])).astype(np.float32)
    cos = float(qa @ qb / np.linalg.norm(qa) / np.linalg.norm(qb))
    assert abs(cos - float(a @ b)) < 0.01


def test_nearest_finds_the_neighbour_and_collapses_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 200)
    store = EmbeddedStore(tmp_path, writable=True)
    ids = fill(store, vectors)
    store.commit()
    reader = EmbeddedStore(tmp_path)
    query = near(vectors[17], rng, 0.2)
    hits = reader.similar(query, k=5)
    assert hits[0].doc_id == ids[17] and hits[0].score > 0.9
    assert len({h.group_id for h in hits}) == 5
    # Excluding the image's own group moves to the next one.
    without = reader.similar(query, k=5, exclude_group=hits[0].group_id)
    assert ids[17] not in [h.doc_id for h in without]
    assert reader.vector(ids[17]) is not None and reader.vector(10_000) is None
    assert float(reader.vector(ids[17]) @ vectors[17]) > 0.99  # type: ignore[operator]


def test_near_duplicates_show_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = unit(rng)[0]
    store = EmbeddedStore(tmp_path, writable=True)
    # Same perceptual hash: one near-duplicate group of three.
    dup_ids = [store.add(make_doc(n, "copy", phash=12345), None) for n in range(3)]
    for doc_id in dup_ids:
        store.add_vector(doc_id, near(base, rng, 0.05))
    others = fill(store, unit(rng, 20), start=10)
    store.commit()
    hits = store.similar(base, k=4)
    assert [h.doc_id for h in hits].count(dup_ids[0]) + sum(
        h.doc_id in dup_ids[1:] for h in hits
    ) == 1
    assert len(hits) == 4 and all(h.doc_id in others for h in hits[1:])


def test_filters_apply_to_similar_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    store = EmbeddedStore(tmp_path, writable=True)
    # 300 small images close to the query, 5 large ones far from it.
    query = unit(rng)[0]
    small = fill(store, np.stack([near(query, rng, 0.5) for _ in range(300)]), width=100, height=80)
    large = fill(store, unit(rng, 5), start=1000, width=2000, height=1500)
    store.commit()
    reader = EmbeddedStore(tmp_path)
    unfiltered = reader.similar(query, k=10)
    assert all(h.doc_id in small for h in unfiltered)
    # The large ones are far from the top: found by oversampling or the exact fallback.
    only_large = reader.similar(query, k=10, filters=Filters(size="large"))
    assert sorted(h.doc_id for h in only_large) == sorted(large)
    assert reader.similar(query, k=10, filters=Filters(aspect="tall")) == []


def test_deleted_images_disappear_at_commit(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    vectors = unit(rng, 30)
    store = EmbeddedStore(tmp_path, writable=True)
    ids = fill(store, vectors)
    store.commit()
    reader = EmbeddedStore(tmp_path)
    assert reader.similar(vectors[3], k=1)[0].doc_id == ids[3]
    store.delete(make_doc(3, "").image_id)
    assert reader.similar(vectors[3], k=1)[0].doc_id == ids[3]  # not committed yet
    store.commit()
    reader.refresh()
    assert ids[3] not in [h.doc_id for h in reader.similar(vectors[3], k=5)]
    assert not store.vectors.contains(ids[3])


def test_readers_follow_commits_and_old_files_are_pruned(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    store = EmbeddedStore(tmp_path, writable=True)
    fill(store, unit(rng, 10))
    store.commit()
    reader = EmbeddedStore(tmp_path)
    late = unit(rng)[0]
    assert len(reader.similar(late, k=50)) == 10
    for round_ in range(4):
        fill(store, unit(rng, 5), start=100 + round_ * 10)
        store.commit()
    reader.refresh()
    assert len(reader.similar(late, k=50)) == 30
    assert len(generations(tmp_path / "vectors")) == 2  # the newest and one spare


def test_a_store_without_vectors_answers_empty(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, writable=True)
    store.add(make_doc(1, "no embedding"), None)
    store.commit()
    assert EmbeddedStore(tmp_path).similar(unit(np.random.default_rng(0))[0], k=5) == []


def test_a_vector_of_another_size_is_refused(tmp_path: Path) -> None:
    index = VectorIndex(tmp_path, writable=True)
    index.add(1, np.ones(8, dtype=np.float32))
    with pytest.raises(ValueError):
        index.add(2, np.ones(9, dtype=np.float32))
    assert index.search(np.ones(9, dtype=np.float32), 3) == []


_CRASH = """
import os, sys
sys.path[:0] = {paths!r}
from pathlib import Path
import numpy as np
from pixsearch.index.embedded import EmbeddedStore
from tests.index.helpers import make_doc
rng = np.random.default_rng(7)
vecs = rng.standard_normal((40, {dim})).astype(np.float32)
store = EmbeddedStore(Path({root!r}), writable=True)
for n in range(20):
    store.add_vector(store.add(make_doc(n, "committed"), None), vecs[n])
store.commit()
for n in range(20, 40):
    store.add_vector(store.add(make_doc(n, "uncommitted"), None), vecs[n])
{before_exit}
os.kill(os.getpid(), 9)
"""


def _crash(root: Path, before_exit: str = "") -> np.ndarray:
    script = _CRASH.format(paths=sys.path, root=str(root), dim=DIM, before_exit=before_exit)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr
    return np.random.default_rng(7).standard_normal((40, DIM)).astype(np.float32)


def test_kill_9_before_commit_keeps_the_last_vectors(tmp_path: Path) -> None:
    vecs = _crash(tmp_path)
    reader = EmbeddedStore(tmp_path)
    assert len(reader.similar(vecs[30], k=100)) == 20
    writer = EmbeddedStore(tmp_path, writable=True)
    assert len(writer.similar(vecs[30], k=100)) == 20
    writer.add_vector(writer.add(make_doc(99, "after"), None), vecs[30])
    writer.commit()
    assert len(EmbeddedStore(tmp_path).similar(vecs[30], k=100)) == 21


def test_kill_9_after_the_vector_file_before_the_marker_rolls_back(tmp_path: Path) -> None:
    # Generation 2's vector file is in place; Tantivy never committed it.
    vecs = _crash(
        tmp_path, "store.text.commit = lambda gen: os.kill(os.getpid(), 9)\nstore.commit()"
    )
    assert 2 in generations(tmp_path / "vectors")
    reader = EmbeddedStore(tmp_path)
    assert len(reader.similar(vecs[30], k=100)) == 20  # the reader ignores the stray file
    writer = EmbeddedStore(tmp_path, writable=True)
    assert generations(tmp_path / "vectors") == [1]
    assert len(writer.similar(vecs[30], k=100)) == 20


def test_kill_9_after_the_marker_rolls_forward(tmp_path: Path) -> None:
    vecs = _crash(
        tmp_path,
        "store.meta.finish_generation = lambda gen: os.kill(os.getpid(), 9)\nstore.commit()",
    )
    reader = EmbeddedStore(tmp_path)
    assert len(reader.similar(vecs[30], k=100)) == 40
    writer = EmbeddedStore(tmp_path, writable=True)
    assert writer.meta.committed_gen() == 2
    assert len(writer.similar(vecs[30], k=100)) == 40
