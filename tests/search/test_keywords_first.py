"""The words typed come first: an exact match of every query word never sinks under
pictures only semantic matching found ("tape mirror").

A real index (EmbeddedStore) and the real MiniLM embedder: one small drawing holds
both words of the query; a dozen larger pictures are close in meaning (mirrors, tape)
but hold only one of the words, so BM25 finds the drawing alone and semantic matching
finds the others. Rank fusion (each list's rank 1 scores alike) with the small-image
prior used to put it below them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import StoreHit
from pixsearch.index.textvectors import update_text_vectors
from pixsearch.search.ranking import keywords_first
from pixsearch.search.semantic import SemanticMatcher, load_embedder
from pixsearch.search.service import SearchRequest, SearchService
from tests.search.test_relevance_sample import labelled_doc

# Both words, in a list of many: its text as a whole is not close in meaning to the
# query (MiniLM similarity 0.33, under the 0.35 floor), as a real page's often is not.
DRAWING = (
    "Parts list for the school periscope project: two cardboard tubes, glue, scissors, "
    "a ruler, paint, string, a pencil, a compass and a protractor, plus tape and a mirror."
)
# (caption, width, height): near in meaning, one of the two words at most.
OTHERS = (
    ("A round hand mirror with a wooden handle.", 800, 600),
    ("A bathroom mirror above the sink.", 900, 700),
    ("A vanity mirror with lights.", 800, 800),
    ("A large wall mirror in a gilded frame.", 700, 1000),
    ("A roll of sticky tape.", 800, 600),
    ("Silver duct tape on a table.", 900, 600),
    ("A retractable measuring tape.", 800, 600),
    ("A tailor's measuring tape around a neck.", 700, 900),
    ("A pocket makeup mirror.", 640, 640),
    ("A rear-view mirror of a car.", 1000, 600),
    ("Masking tape and a paint brush.", 800, 600),
    ("A cassette tape.", 800, 600),
)


@pytest.fixture(scope="module")
def fused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    embedder = load_embedder()
    if embedder is None:
        pytest.skip("the MiniLM model package is not installed")
    root = tmp_path_factory.mktemp("keywords")
    writer = EmbeddedStore(root, writable=True)
    writer.add(labelled_doc(1, DRAWING, 60, 48), None)  # icon-sized: the prior sinks it
    for n, (caption, width, height) in enumerate(OTHERS, start=2):
        writer.add(labelled_doc(n, caption, width, height), None)
    writer.commit()
    writer.close()
    store = EmbeddedStore(root)
    update_text_vectors(store, root, embedder.embed_texts)
    yield SearchService(store, semantic=SemanticMatcher(embedder, store))


def titles(service: SearchService, q: str) -> list[str]:
    return [r.occurrence.title for r in service.search(SearchRequest(q=q, count=10)).results]


def test_a_lone_match_of_every_word_leads_the_semantic_hits(fused: SearchService) -> None:
    found = titles(fused, "tape mirror")
    assert found[0] == DRAWING
    assert len(found) == 10  # meaning still fills the page after it


def test_meaning_orders_what_no_word_matches(fused: SearchService) -> None:
    # No picture holds "reflection": semantic matching alone finds and orders them.
    found = titles(fused, "reflection")
    assert found and all("mirror" in t for t in found[:3]), found


def test_keywords_first_keeps_each_side_in_order() -> None:
    hits = [StoreHit(doc_id=d, group_id=d, score=0.0) for d in (5, 1, 6, 2, 7)]
    ordered = keywords_first(hits, matched={1, 2})
    assert [h.doc_id for h in ordered] == [1, 2, 5, 6, 7]
    assert keywords_first(hits, matched=set()) == hits  # nothing typed matched: as fused
