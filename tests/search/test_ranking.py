"""Ranking: priors, host diversity, freshness ties, languages, on real indexes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.priors import multiplier, static_prior
from pixsearch.index.schema import build_analyzer
from pixsearch.index.store import Clause, StoreHit, StoreQuery, TextQuery
from pixsearch.records import ImageDocument
from pixsearch.search.ranking import WINDOW, diversify, rerank
from pixsearch.search.service import SearchRequest, SearchService
from tests.index.helpers import make_doc


def sized(n: int, text: str, width: int, height: int, size: int = 0) -> ImageDocument:
    doc = make_doc(n, text, width=width, height=height)
    return replace(doc, facts=replace(doc.facts, content_size=size or width * height // 4))


def on_site(doc: ImageDocument, host: str, n: int, language: str | None = None) -> ImageDocument:
    page = f"https://{host}/page-{n}.html"
    occurrence = replace(
        doc.occurrences[0],
        source=page + "#img",
        local_path=None,
        host_page_url=page,
        content_url=f"https://{host}/img/{n}.jpg",
        language=language,
    )
    return replace(doc, occurrences=[occurrence])


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


def test_multiplier_orders_spacers_icons_and_pictures() -> None:
    spacer = sized(1, "x", 16, 16).facts
    icon = sized(2, "x", 64, 64).facts
    photo = sized(3, "x", 800, 600).facts
    big = sized(4, "x", 2400, 1600).facts
    assert multiplier(spacer) < multiplier(icon) < multiplier(photo) < multiplier(big)
    assert static_prior(spacer) == 0.0  # the field's floor: log2(2 + 0) = 1


def test_sharper_copy_of_the_same_size_has_the_higher_prior() -> None:
    crisp = sized(1, "x", 800, 600, size=300_000).facts
    mushy = sized(2, "x", 800, 600, size=30_000).facts
    assert multiplier(crisp) > multiplier(mushy)


def test_icons_sink_below_pictures_with_the_same_text(tmp_path: Path) -> None:
    service = build(
        tmp_path,
        [
            sized(1, "lighthouse icon", 32, 32),
            sized(2, "lighthouse button", 64, 64),
            sized(3, "lighthouse photo", 1200, 800),
        ],
    )
    assert shown(service, "lighthouse") == [
        "lighthouse photo",
        "lighthouse button",
        "lighthouse icon",
    ]


def test_larger_copy_leads_its_duplicate_group(tmp_path: Path) -> None:
    small = sized(1, "harbour at dawn", 320, 240)
    large = sized(2, "harbour at dawn", 1600, 1200)
    small = replace(small, facts=replace(small.facts, phash=0xABCDEF0123456789))
    large = replace(large, facts=replace(large.facts, phash=0xABCDEF0123456789))
    service = build(tmp_path, [small, large])  # the small copy is indexed first
    results = service.search(SearchRequest(q="harbour")).results
    assert len(results) == 1
    assert results[0].doc.facts.width == 1600


def test_one_host_does_not_fill_the_first_page(tmp_path: Path) -> None:
    # Ten pages of one site mention the word three times; three other sites once.
    docs = [
        on_site(make_doc(i, "tulip tulip tulip field"), "bigsite.example", i) for i in range(10)
    ]
    docs += [on_site(make_doc(20 + i, "tulip"), f"site{i}.example", 20 + i) for i in range(3)]
    service = build(tmp_path, docs)
    first = service.search(SearchRequest(q="tulip", count=6)).results
    hosts = [r.doc.occurrences[0].host_page_url.split("/")[2] for r in first]
    assert len(set(hosts)) >= 3
    assert hosts[0] == "bigsite.example"  # the best hit still leads
    # Diversity reorders, it drops nothing: all 13 still come, each once, over the pages.
    seen: list[int] = []
    offset = 0
    while True:
        page = service.search(SearchRequest(q="tulip", count=4, offset=offset))
        seen += [r.doc.doc_id for r in page.results]
        if not page.results:
            break
        offset = page.next_offset
    assert len(seen) == len(set(seen)) == 13


def test_diversify_never_penalises_unknown_sites() -> None:
    fused = [(StoreHit(doc_id=i, group_id=i, score=10.0 - i), 10.0 - i) for i in range(1, 6)]
    notes = rerank([h for h, _ in fused], []).explanations
    assert [h.doc_id for h in diversify(fused, notes)] == [1, 2, 3, 4, 5]


def test_fresher_wins_ties_only_when_freshness_is_asked() -> None:
    old = StoreHit(doc_id=1, group_id=1, score=5.0, published=1_000)
    new = StoreHit(doc_id=2, group_id=2, score=5.0, published=9_000)
    better_old = StoreHit(doc_id=3, group_id=3, score=6.0, published=1_000)
    hits = [better_old, old, new]
    assert [h.doc_id for h in rerank(hits, []).hits] == [3, 1, 2]
    fresh = rerank(hits, [], fresh_since=0, now=10_000).hits
    assert [h.doc_id for h in fresh] == [3, 2, 1]  # a tie broken, relevance kept


def test_rerank_keeps_hits_beyond_the_window_in_order() -> None:
    hits = [StoreHit(doc_id=i, group_id=i, score=1000.0 - i) for i in range(1, WINDOW + 20)]
    assert [h.doc_id for h in rerank(hits, []).hits] == [h.doc_id for h in hits]


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
