"""What a result shows holds its filters, through paging, over the in-memory store.

Each picture is on a licensed page of one site and an unlicensed page of another;
some have a near-duplicate copy with a licence on the second site. Under a site
and a licence together, the store matches every picture (each filter by another
page) but only the copies hold both: the originals must give way to them on
every page of results, each picture shown once, and counted as shown.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pixsearch.index.store import Filters
from pixsearch.records import ImageDocument
from pixsearch.search.ranking import WINDOW
from pixsearch.search.scope import place_rule
from pixsearch.search.service import SearchRequest, SearchService, best_occurrence
from tests.search.corpus import copy_of, memory_store, picture

pytestmark = pytest.mark.memory

PICTURES = WINDOW + 30
COPIED = range(0, PICTURES, 4)


def corpus() -> list[ImageDocument]:
    docs = []
    for n in range(PICTURES):
        doc = picture(n, f"pattern number {n}", host="a.example", license="cc0")
        unlicensed = replace(
            doc.occurrences[0],
            source=f"b{n}",
            host_page_url=f"https://b.example/page-{n}.html",
            content_url=f"https://b.example/img/{n}.jpg",
            license=None,
        )
        doc.occurrences.append(unlicensed)
        docs.append(doc)
    for n in COPIED:
        copy = copy_of(docs[n], 1000 + n, width=320, height=240, host="b.example")
        copy.occurrences[0].license = "cc-by"
        docs.append(copy)
    return docs


@pytest.fixture(scope="module")
def service() -> SearchService:
    return SearchService(memory_store(corpus()))


def all_pages(service: SearchService, q: str, filters: Filters, count: int = 9) -> list:
    shown, offset = [], 0
    while True:
        page = service.search(SearchRequest(q=q, filters=filters, count=count, offset=offset))
        shown += page.results
        if not page.results:
            return shown
        offset = page.next_offset


def test_site_and_licence_show_the_copies_on_every_page(service: SearchService) -> None:
    filters = Filters(license="any", sites=("b.example",))
    shown = all_pages(service, "pattern", filters)
    groups = [r.doc.group_id for r in shown]
    assert len(groups) == len(set(groups)) == len(COPIED)
    for result in shown:
        assert result.doc.facts.width == 320  # the copy, never the original
        assert result.occurrence.license == "cc-by"
        assert (result.occurrence.host_page_url or "").startswith("https://b.example/")
        assert (result.pages, result.sizes) == (1, 1)


def test_a_licence_alone_shows_and_counts_its_pages(service: SearchService) -> None:
    shown = all_pages(service, "pattern", Filters(license="public"))
    assert len(shown) == PICTURES
    for result in shown:
        assert result.occurrence.license == "cc0"  # never the unlicensed page, nor the copy
        assert (result.pages, result.sizes) == (1, 1)


def test_a_site_alone_shows_and_counts_its_pages(service: SearchService) -> None:
    shown = all_pages(service, "pattern", Filters(sites=("b.example",)))
    assert len(shown) == PICTURES
    copied = {r.doc.group_id for r in shown if (r.pages, r.sizes) == (2, 2)}
    assert len(copied) == len(COPIED)
    for result in shown:
        assert (result.occurrence.host_page_url or "").startswith("https://b.example/")
        assert result.doc.group_id in copied or (result.pages, result.sizes) == (1, 1)


def test_counts_without_filters_are_every_page_and_size(service: SearchService) -> None:
    shown = all_pages(service, "pattern", Filters())
    by_group = {r.doc.group_id: r for r in shown}
    assert len(by_group) == PICTURES
    copied = sum(1 for r in shown if (r.pages, r.sizes) == (3, 2))
    assert copied == len(COPIED)
    assert all((r.pages, r.sizes) in ((2, 1), (3, 2)) for r in shown)


def test_best_occurrence_prefers_a_place_holding_the_filters() -> None:
    doc = corpus()[1]
    public = place_rule(Filters(license="public"))
    assert best_occurrence(doc, ["pattern"], public).license == "cc0"
    inside = best_occurrence(doc, ["pattern"], place_rule(Filters(sites=("b.example",))))
    assert inside.host_page_url == "https://b.example/page-1.html"
    # none holds both (a pinned image): the best of all places
    neither = place_rule(Filters(license="public", sites=("b.example",)))
    assert best_occurrence(doc, ["pattern"], neither) == doc.occurrences[0]
