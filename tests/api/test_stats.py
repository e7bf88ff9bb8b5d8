"""stats(): counts of the index, and of the images each analyzer ran on, in every backend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx

from pixsearch.api.routes_stats import with_coverage
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import ReadStore
from pixsearch.records import ImageDocument
from tests.api.conftest import Vision
from tests.index.helpers import make_doc

RAN = [("nudenet", "visual"), ("nudenet",), (), ("nudenet", "visual"), ("nudenet",)]


def analysed_docs() -> list[ImageDocument]:
    docs = []
    for n, names in enumerate(RAN, start=1):
        doc = make_doc(n, f"picture {n}")
        docs.append(replace(doc, facts=replace(doc.facts, analyzed=names)))
    return docs


def test_both_backends_count_what_each_analyzer_covered(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "index", writable=True)
    memory = MemoryStore()
    for doc in analysed_docs():
        writer.add(doc, None, None)
        memory.add(replace(doc))
    writer.commit()
    writer.close()
    embedded: ReadStore = EmbeddedStore(tmp_path / "index")
    for store in (embedded, memory):
        counts = store.stats()
        assert counts["images"] == 5
        assert counts["analyzed:nudenet"] == 4 and counts["analyzed:visual"] == 2
        shown = with_coverage(counts, ("nudenet", "visual", "ocr"))
        assert shown["analyzers"] == {
            "nudenet": {"images": 4, "fraction": 0.8, "configured": True},
            "ocr": {"images": 0, "fraction": 0.0, "configured": True},
            "visual": {"images": 2, "fraction": 0.4, "configured": True},
        }
        assert "analyzed:nudenet" not in shown


def test_stats_over_http_shows_the_analyzers_the_index_was_built_with(vision: Vision) -> None:
    stats = httpx.get(vision.base + "/stats", timeout=30).json()
    # Every picture of this index went through both analyzers; none is configured here.
    for name in ("nudenet", "visual"):
        assert stats["analyzers"][name] == {
            "images": stats["images"],
            "fraction": 1.0,
            "configured": False,
        }
