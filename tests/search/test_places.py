"""Counting a shown picture's copies: nudity is judged once per picture, pages per copy.

A mandarine drawing is on three pages as three files. The nudity detector scored the
copies differently (0.30, 0.56 and 0.30, around the default 0.45 threshold), as it
does for one drawing at different sizes and encodings; the third copy is on a
blocklisted host. Under Moderate the picture is shown by a copy that passes, and its
counts and its insights include every copy's page; the host still drops its page
under Strict, and the copy scored above the threshold is never the one shown.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pixsearch.index.store import Filters
from pixsearch.records import ImageDocument
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.insights import InsightsService
from pixsearch.search.places import for_copies
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import Result, SearchRequest, SearchService
from pixsearch.search.uploads import UploadCache
from pixsearch.search.visual import PictureInsights
from tests.search.corpus import memory_store, picture

pytestmark = pytest.mark.memory

POLICY = AdultPolicy(hosts=("blocked.example",))
FACTS_UNLOOKED = replace(
    picture(9, "an unanalysed picture").facts, analyzed=()
)  # the default 0.45 nudity threshold
LOOK = 0x5A5A_1234_0F0F_AAAA  # one pHash: the three files are one picture


def mandarine() -> list[ImageDocument]:
    def copy(n: int, caption: str, size: int, host: str, score: float) -> ImageDocument:
        return picture(
            n, caption, width=size, height=size, host=host, phash=LOOK, adult_score=score
        )

    return [
        copy(1, "mandarine clip art", 600, "fruit.example", 0.30),
        copy(2, "mandarine tangerine drawing", 300, "citrus.example", 0.56),
        copy(3, "mandarine on a plate", 150, "blocked.example", 0.30),
    ]


def scope(level: str) -> Filters:
    return Filters(exclude_adult=excluded_adult(level))


def search(q: str, level: str) -> list[Result]:
    docs = mandarine()
    store = memory_store(docs)
    assert len({d.group_id for d in docs}) == 1  # one picture
    return (
        SearchService(store, adult=POLICY).search(SearchRequest(q=q, filters=scope(level))).results
    )


def insights(tmp_path: Path) -> PictureInsights:
    store = memory_store(mandarine())
    return PictureInsights(store, InsightsService(store), UploadCache(tmp_path), POLICY)


@pytest.mark.parametrize(("level", "pages"), [("Off", 3), ("Moderate", 3), ("Strict", 2)])
def test_a_shown_picture_counts_its_copies_whatever_their_nudity_score(
    level: str, pages: int
) -> None:
    results = search("mandarine", level)
    assert len(results) == 1
    shown = results[0]
    if level != "Off":
        assert shown.doc.facts.adult_score < POLICY.threshold  # never the 0.56 copy
    assert (shown.pages, shown.sizes) == (pages, pages)


def test_a_copy_scored_adult_is_not_shown_for_its_own_words() -> None:
    assert [r.doc.facts.width for r in search("tangerine", "Off")] == [300]
    assert search("tangerine", "Moderate") == []


@pytest.mark.parametrize("level", ["Off", "Moderate", "Strict"])
def test_insights_list_the_pages_search_counts(tmp_path: Path, level: str) -> None:
    pictures = insights(tmp_path)
    shown = search("mandarine", level)[0]
    found = pictures.visible(pictures.of_image(shown.doc.image_id), scope(level))
    assert found.page_count == shown.pages
    expected = [d.occurrences[0].host_page_url for d in mandarine()][: shown.pages]
    assert sorted(p.occurrence.host_page_url or "" for p in found.pages) == sorted(expected)


def test_insights_of_a_copy_scored_adult_show_none_of_its_pages(tmp_path: Path) -> None:
    pictures = insights(tmp_path)
    adult_copy = pictures.of_image(mandarine()[1].image_id)
    pages = {p.occurrence.host_page_url for p in pictures.visible(adult_copy, scope("Off")).pages}
    hidden = pictures.visible(adult_copy, scope("Moderate")).pages
    assert "https://citrus.example/page-2.html" in pages
    assert "https://citrus.example/page-2.html" not in {p.occurrence.host_page_url for p in hidden}


def test_a_copy_scored_adult_stays_hidden_behind_a_copy_never_looked_at() -> None:
    # The detector did not run on the shown file (an ingest without the analyzer): it has
    # no verdict to lend, so the copy it found adult is neither counted nor listed.
    unlooked, adult = mandarine()[:2]
    unlooked.facts = replace(unlooked.facts, analyzed=(), adult_score=0.0)
    store = memory_store([unlooked, adult])
    service = SearchService(store, adult=POLICY)
    for level, pages in (("Off", 2), ("Moderate", 1)):
        (shown,) = service.search(SearchRequest(q="mandarine", filters=scope(level))).results
        assert shown.doc.doc_id == unlooked.doc_id or level == "Off"
        assert shown.pages == pages


def test_for_copies_drops_only_the_verdict_of_a_picture_looked_at() -> None:
    looked, unlooked = mandarine()[0], replace(mandarine()[0], facts=FACTS_UNLOOKED)
    strict = Filters(exclude_adult=("image", "text"), license="public")
    assert for_copies(strict, looked) == Filters(exclude_adult=("text",), license="public")
    assert for_copies(strict, unlooked) is strict
    off = Filters(license="public")
    assert for_copies(off, looked) is off
