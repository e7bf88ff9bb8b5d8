"""The text index's hits: each image's fast fields, as the exact conversion gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from pixsearch.index.attributes import site_key
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.priors import multiplier
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
