"""Ranking on a real embedded index: text analysis, legacy indexes, and the in-memory twin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.schema import build_analyzer
from pixsearch.index.store import Clause, ReadStore, StoreQuery, TextQuery
from pixsearch.records import ImageDocument
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.helpers import make_doc
from tests.search.corpus import on_site, ranking_corpus


def build(tmp_path: Path, docs: list[ImageDocument]) -> SearchService:
    writer = EmbeddedStore(tmp_path, writable=True)
    for doc in docs:
        writer.add(doc, None)
    writer.commit()
    writer.close()
    return SearchService(EmbeddedStore(tmp_path))


def shown(service: SearchService, q: str, **kwargs: object) -> list[str]:
    page = service.search(SearchRequest(q=q, **kwargs))  # type: ignore[arg-type]
    return [r.doc.occurrences[0].title for r in page.results]


def test_both_stores_rank_priors_groups_and_hosts_alike(tmp_path: Path) -> None:
    """test_ranking.py's orders, on the embedded store and the in-memory one."""
    memory = MemoryStore()
    for doc in ranking_corpus():
        memory.add(doc)
    services = [build(tmp_path, ranking_corpus()), SearchService(memory)]
    stores: list[ReadStore] = [s.store for s in services]
    assert [s.stats()["images"] for s in stores] == [len(ranking_corpus())] * 2
    for q in ("lighthouse", "harbour"):
        orders = [shown(service, q) for service in services]
        assert orders[0] == orders[1], q
    assert orders[0] == ["harbour at dawn"]
    pages = [service.search(SearchRequest(q="harbour")).results[0] for service in services]
    assert [(r.doc.facts.width, r.sizes, r.pages) for r in pages] == [(1600, 2, 2)] * 2
    # BM25 and the memory store's term count differ, so the tulips are compared by host
    # sequence: each page of six must mix the same number of sites on both.
    firsts = [service.search(SearchRequest(q="tulip", count=6)).results for service in services]
    hosts = [[r.doc.occurrences[0].host_page_url for r in first] for first in firsts]
    sites = [len({h.split("/")[2] for h in hs if h}) for hs in hosts]
    assert sites[0] == sites[1] >= 3


@pytest.mark.parametrize(
    ("text", "query", "language"),
    [
        ("three running dogs", "dog", "en-US"),
        ("a puppy sleeping", "puppies", "en-GB"),
        ("les chevaux blancs", "cheval", "fr-FR"),
        ("Häuser am Fluss", "haus", "de-DE"),
    ],
)
def test_market_language_stems_words(tmp_path: Path, text: str, query: str, language: str) -> None:
    doc = on_site(make_doc(1, text), "example.org", 1, language=language.split("-")[0])
    service = build(tmp_path, [doc])
    assert shown(service, query, language=language) == [text]


def test_exact_form_outranks_an_inflected_one(tmp_path: Path) -> None:
    service = build(tmp_path, [make_doc(1, "running shoes"), make_doc(2, "run shoes")])
    assert shown(service, "run") == ["run shoes", "running shoes"]


def test_accents_fold_both_ways(tmp_path: Path) -> None:
    service = build(tmp_path, [make_doc(1, "café crème"), make_doc(2, "naive art")])
    assert shown(service, "cafe") == ["café crème"]
    assert shown(service, "naïve") == ["naive art"]


def test_cjk_words_are_found_inside_unsegmented_text(tmp_path: Path) -> None:
    service = build(
        tmp_path,
        [
            make_doc(1, "東京タワーの夜景"),
            make_doc(2, "京都の寺"),
            make_doc(3, "东京的夜景很美"),
        ],
    )
    assert set(shown(service, "夜景")) == {"東京タワーの夜景", "东京的夜景很美"}
    assert shown(service, "京都") == ["京都の寺"]
    assert shown(service, "タワー") == ["東京タワーの夜景"]
    assert shown(service, "东京夜景") == ["东京的夜景很美"]  # pairs, not the exact string
    assert shown(service, "東京タワー") == ["東京タワーの夜景"]  # odd length


def test_cjk_runs_tokenise_to_characters_and_latin_to_words() -> None:
    tokens = build_analyzer().analyze("Tokyo東京 Café x2")
    assert tokens == ["tokyo", "東", "京", "cafe", "x2"]


def test_an_index_written_before_languages_keeps_working(tmp_path: Path) -> None:
    import tantivy

    from pixsearch.index.schema import build_schema

    (tmp_path / "text").mkdir()
    legacy = tantivy.Index(build_schema(1), path=str(tmp_path / "text"), reuse=True)
    del legacy  # a version-1 text index on disk, as older pixsearch wrote it
    service = build(tmp_path, [make_doc(1, "old lighthouse")])
    assert service.store.text.version == 1  # type: ignore[attr-defined]
    assert shown(service, "lighthouse") == ["old lighthouse"]


def test_dates_feed_the_published_field(tmp_path: Path) -> None:
    doc = make_doc(1, "comet")
    when = datetime(2020, 1, 1, tzinfo=UTC)
    doc.occurrences[0] = replace(doc.occurrences[0], date_published=when)
    store = build(tmp_path, [doc]).store
    query = StoreQuery(TextQuery(required=((Clause(("comet",)),),)))
    assert store.search(query).hits[0].published == int(when.timestamp())
