"""Semantic matching: text vectors on disk, fusion with BM25, filters still binding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pixsearch.index.derived import DerivedVectors
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import Filters
from pixsearch.index.textvectors import image_text, update_text_vectors
from pixsearch.records import ImageDocument
from pixsearch.search.ranking import SemanticHit, fuse
from pixsearch.search.semantic import SemanticMatcher, TextEmbedder, load_embedder
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.helpers import make_doc

CAPTIONS = (
    "A young dog.",
    "A kitten asleep on a sofa.",
    "Fresh bread from the bakery.",
    "A sailing boat on a calm lake.",
    "Puppy training class.",
    "Mountain road in the fog.",
)


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, 384)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_vectors_are_visible_only_after_save_and_survive_reopening(tmp_path: Path) -> None:
    rows = unit(np.random.default_rng(1), 3)
    writer = DerivedVectors(tmp_path, writable=True)
    writer.add([11, 12, 13], rows)
    reader = DerivedVectors(tmp_path)
    assert len(reader) == 0 and reader.gen == -1
    writer.save(1)
    reader.refresh()
    assert len(reader) == 3 and reader.gen == 1
    assert reader.search(rows[1], 1)[0][0] == 12
    assert reader.search(rows[1], 1)[0][1] > 0.95  # int8 storage keeps cosine close


def test_a_new_generation_replaces_the_old_file(tmp_path: Path) -> None:
    rows = unit(np.random.default_rng(2), 4)
    writer = DerivedVectors(tmp_path, writable=True)
    writer.add([1, 2], rows[:2])
    writer.save(1)
    reader = DerivedVectors(tmp_path)
    writer.add([3, 4], rows[2:])
    writer.save(2)
    writer.add([5], unit(np.random.default_rng(3), 1))
    writer.save(3)
    reader.refresh()
    assert reader.gen == 3 and len(reader) == 5
    assert not list(tmp_path.glob("*.tmp"))
    assert len(list(tmp_path.glob("*.usearch"))) == 2  # the newest and one spare


def test_image_text_takes_describing_fields_once() -> None:
    doc = make_doc(1, "A red kite")
    doc.occurrences[0].text.update({"name": "a red kite", "context": "long page text"})
    assert image_text(doc) == "A red kite"


def test_fusion_adds_semantic_only_hits_and_rewards_agreement() -> None:
    from pixsearch.index.store import StoreHit

    head = [StoreHit(doc_id=i, group_id=i, score=10.0 - i) for i in (1, 2, 3)]
    semantic = [SemanticHit(doc_id=3, group_id=3, similarity=0.8), SemanticHit(9, 9, 0.6)]
    fused, notes, added = fuse(head, semantic)
    order = [hit.doc_id for hit, _ in fused]
    assert added == 1
    assert order[0] == 3  # found by both lists
    assert set(order) == {1, 2, 3, 9}
    assert notes[9].bm25_rank is None and notes[9].semantic_rank == 2


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    found = load_embedder()
    if found is None:
        pytest.skip("the MiniLM model package is not installed")
    return found


@pytest.fixture(scope="module")
def semantic_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: TextEmbedder
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("semantic")
    writer = EmbeddedStore(root, writable=True)
    for n, caption in enumerate(CAPTIONS, start=1):
        writer.add(on_host(make_doc(n, caption), f"site{n % 2}.example", n), None)
    writer.commit()
    writer.close()
    added = update_text_vectors(EmbeddedStore(root), root, embedder.embed_texts)
    assert added == len(CAPTIONS)
    yield root


def on_host(doc: ImageDocument, host: str, n: int) -> ImageDocument:
    page = f"https://{host}/{n}.html"
    occurrence = replace(doc.occurrences[0], host_page_url=page, content_url=page + ".jpg")
    return replace(doc, occurrences=[occurrence])


def service(root: Path, embedder: TextEmbedder) -> SearchService:
    store = EmbeddedStore(root)
    return SearchService(store, semantic=SemanticMatcher(embedder, store))


def titles(page_service: SearchService, q: str, **kwargs: object) -> list[str]:
    page = page_service.search(SearchRequest(q=q, **kwargs))  # type: ignore[arg-type]
    return [r.occurrence.title for r in page.results]


def test_puppy_finds_a_young_dog(semantic_index: Path, embedder: TextEmbedder) -> None:
    found = titles(service(semantic_index, embedder), "puppy")
    assert found[0] == "Puppy training class."  # the word itself still leads
    assert "A young dog." in found[:3]
    assert "Fresh bread from the bakery." not in found
    assert titles(SearchService(EmbeddedStore(semantic_index)), "puppy") == [
        "Puppy training class."
    ]


def test_semantic_hits_obey_exclusions_and_site_filters(
    semantic_index: Path, embedder: TextEmbedder
) -> None:
    fused = service(semantic_index, embedder)
    assert "A young dog." not in titles(fused, "puppy -young")
    # Odd-numbered captions live on site1: the dog and the puppy class; the kitten does not.
    assert titles(fused, "puppy", filters=Filters(sites=("site0.example",))) == []
    on_site1 = titles(fused, "puppy", filters=Filters(sites=("site1.example",)))
    assert set(on_site1) == {"Puppy training class.", "A young dog."}


def test_semantic_pages_never_repeat_an_image(semantic_index: Path, embedder: TextEmbedder) -> None:
    fused = service(semantic_index, embedder)
    first = fused.search(SearchRequest(q="dog", count=1))
    second = fused.search(SearchRequest(q="dog", count=5, offset=first.next_offset))
    ids = [r.doc.doc_id for r in first.results + second.results]
    assert len(ids) == len(set(ids)) >= 2
    assert first.total_estimated >= len(ids)


def test_explanations_carry_semantic_ranks(semantic_index: Path, embedder: TextEmbedder) -> None:
    page = service(semantic_index, embedder).search(SearchRequest(q="puppy", explain=True))
    dog = next(r for r in page.results if r.occurrence.title.startswith("A young dog"))
    assert dog.explain is not None
    assert dog.explain.bm25_rank is None  # found by meaning alone
    assert dog.explain.semantic_similarity is not None and dog.explain.semantic_similarity > 0.35


class Counting:
    """An embedder that counts its calls and returns a fixed vector."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.calls = 0

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.tile(self.vector, (len(texts), 1))


def test_matcher_asks_the_store_and_keeps_its_floor() -> None:
    rows = unit(np.random.default_rng(4), 3)
    store = MemoryStore()
    for n, row in enumerate(rows, start=1):
        store.add(make_doc(n, f"caption {n}"), text_vector=row)
    embedder = Counting(rows[1])
    matcher = SemanticMatcher(embedder, store, min_similarity=0.9)
    assert matcher.candidates(["anything"]) == [(2, pytest.approx(1.0))]
    matcher.candidates(["anything"])
    assert embedder.calls == 1  # the query's embedding is cached
    assert SemanticMatcher(embedder, store, space="clip").candidates(["x"]) == []
    assert embedder.calls == 1  # no vectors in that space: the model is never asked
