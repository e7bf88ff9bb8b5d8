"""A fixed, judged sample: ranking quality must not fall below measured floors.

The texts are written for this test in the style of short stock-image captions;
each image carries a category label, and a result is relevant to a query when
its label is one of the query's labels (the written rule). The full evaluation
over real images is bench/quality_relevance.py (docs/quality.md); this keeps a
small, fast slice of it in the suite. Floors sit a little under the numbers
measured when the test was written, so a regression fails and noise does not.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.textvectors import update_text_vectors
from pixsearch.records import ImageDocument
from pixsearch.search.semantic import SemanticMatcher, load_embedder
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.helpers import make_doc

# (caption, label, width, height)
SAMPLE: tuple[tuple[str, str, int, int], ...] = (
    ("A robin on a branch.", "bird", 640, 480),
    ("A black crow.", "bird", 600, 600),
    ("An owl at night.", "bird", 800, 600),
    ("A flamingo standing on one leg.", "bird", 500, 700),
    ("A seagull over the harbour.", "bird", 900, 600),
    ("A young dog playing with a ball.", "dog", 640, 480),
    ("A sleeping dog.", "dog", 640, 480),
    ("A dog icon.", "dog", 32, 32),
    ("A golden retriever.", "dog", 800, 600),
    ("A red apple.", "fruit", 500, 500),
    ("A ripe banana.", "fruit", 500, 500),
    ("A bunch of grapes.", "fruit", 600, 400),
    ("A slice of lemon.", "fruit", 400, 400),
    ("A red sports car.", "car", 1024, 768),
    ("A police car.", "car", 800, 500),
    ("A blue sedan.", "car", 640, 400),
    ("A car icon.", "car", 24, 24),
    ("A fire truck.", "truck", 800, 500),
    ("A garbage truck.", "truck", 800, 500),
    ("A yellow rose.", "flower", 600, 800),
    ("A field of tulips.", "flower", 1200, 800),
    ("A daisy.", "flower", 400, 400),
    ("A hammer.", "tool", 400, 400),
    ("An adjustable wrench.", "tool", 500, 300),
    ("A saw with a wooden handle.", "tool", 600, 300),
    ("A screwdriver.", "tool", 400, 400),
    ("A violin.", "instrument", 400, 800),
    ("An electric guitar.", "instrument", 400, 900),
    ("A drum kit.", "instrument", 800, 600),
    ("A trumpet.", "instrument", 700, 400),
    ("A red flag on a pole.", "flag", 400, 600),
    ("A castle tower with a flag.", "building", 600, 900),
    ("A wooden cottage.", "building", 800, 600),
    ("A lighthouse.", "building", 500, 900),
)

# (query, relevant labels)
JUDGED: tuple[tuple[str, frozenset[str]], ...] = (
    ("bird", frozenset({"bird"})),
    ("dog", frozenset({"dog"})),
    ("puppy", frozenset({"dog"})),
    ("fruit", frozenset({"fruit"})),
    ("car", frozenset({"car"})),
    ("vehicle", frozenset({"car", "truck"})),
    ("flower", frozenset({"flower"})),
    ("tool", frozenset({"tool"})),
    ("musical instrument", frozenset({"instrument"})),
    ("flag", frozenset({"flag"})),
    ("house", frozenset({"building"})),
    ("apple", frozenset({"fruit"})),
)

# Most queries here name a category no caption spells out: BM25 alone finds little.
BM25_FLOOR = (0.19, 0.05)  # (nDCG@10, P@10); measured 0.224, 0.067 (priors on)
SEMANTIC_FLOOR = (0.80, 0.30)  # measured 0.877, 0.342 (priors on)


def labelled_doc(n: int, caption: str, width: int, height: int) -> ImageDocument:
    doc = make_doc(n, caption, width=width, height=height)
    occurrence = replace(
        doc.occurrences[0],
        text={"caption": caption, "name": caption},
        source=f"/sample/{n}.png",
        local_path=f"/sample/{n}.png",
    )
    # A distinct hash per image, so nothing collapses as a near-duplicate.
    phash = int(hashlib.sha256(caption.encode()).hexdigest()[:16], 16)
    return replace(doc, facts=replace(doc.facts, phash=phash), occurrences=[occurrence])


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("relevance")
    writer = EmbeddedStore(root, writable=True)
    for n, (caption, _, width, height) in enumerate(SAMPLE, start=1):
        writer.add(labelled_doc(n, caption, width, height), None)
    writer.commit()
    writer.close()
    yield root


def scores(service: SearchService) -> tuple[float, float]:
    labels = {caption: label for caption, label, _, _ in SAMPLE}
    ndcgs, precisions = [], []
    for query, wanted in JUDGED:
        results = service.search(SearchRequest(q=query, count=10)).results
        gains = [1 if labels[r.occurrence.title] in wanted else 0 for r in results]
        relevant = sum(1 for label in labels.values() if label in wanted)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, relevant)))
        ndcgs.append(sum(g / math.log2(i + 2) for i, g in enumerate(gains)) / ideal)
        precisions.append(sum(gains) / 10)
    return sum(ndcgs) / len(ndcgs), sum(precisions) / len(precisions)


def test_bm25_with_priors_keeps_its_floor(sample_index: Path) -> None:
    ndcg, precision = scores(SearchService(EmbeddedStore(sample_index)))
    assert ndcg >= BM25_FLOOR[0]
    assert precision >= BM25_FLOOR[1]


def test_icons_rank_below_pictures_of_the_same_subject(sample_index: Path) -> None:
    results = SearchService(EmbeddedStore(sample_index)).search(SearchRequest(q="car")).results
    assert results[-1].occurrence.title == "A car icon."


def test_semantic_fusion_keeps_its_floor_and_beats_bm25(sample_index: Path) -> None:
    embedder = load_embedder()
    if embedder is None:
        pytest.skip("the MiniLM model package is not installed")
    store = EmbeddedStore(sample_index)
    update_text_vectors(store, sample_index, embedder.embed_texts)
    matcher = SemanticMatcher(embedder, store)
    fused = scores(SearchService(store, semantic=matcher))
    plain = scores(SearchService(store))
    assert fused[0] >= SEMANTIC_FLOOR[0]
    assert fused[1] >= SEMANTIC_FLOOR[1]
    assert fused[0] > plain[0]
    puppy = SearchService(store, semantic=matcher).search(SearchRequest(q="puppy")).results
    labels = {caption: label for caption, label, _, _ in SAMPLE}
    assert [labels[r.occurrence.title] for r in puppy[:3]] == ["dog", "dog", "dog"]
