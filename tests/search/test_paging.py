"""Duplicate collapsing and paging with nextOffset, over the in-memory store.

The corpus holds more matches than the rerank window, pictures on a few
hosts (so diversity reorders the window) and near-duplicate groups of two and
three copies, one of them with two sizes on the same page. Every expectation
is computed from the pictures' descriptions: which share a hash, their sizes,
their pages.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from pixsearch.records import ImageDocument
from pixsearch.search.ranking import WINDOW
from pixsearch.search.service import Result, SearchRequest, SearchService
from tests.search.corpus import copy_of, memory_store, picture

pytestmark = pytest.mark.memory

HOSTS = ("one.example", "two.example", "three.example", "four.example", "five.example")
PICTURES = WINDOW + 20  # distinct pictures matching "pattern"


def corpus() -> list[ImageDocument]:
    docs = [
        picture(
            n,
            f"pattern number {n}" + (" striped" if n % 3 == 0 else ""),
            width=300 + 7 * n,
            height=200 + 5 * n,
            host=HOSTS[n % len(HOSTS)],
        )
        for n in range(PICTURES)
    ]
    # Copies: every 9th picture twice more, every 13th once more on its own page (two
    # sizes on one page: one page, two sizes).
    for n in range(0, PICTURES, 9):
        docs.append(copy_of(docs[n], 1000 + n, width=2000, height=1500, host="copies.example"))
        docs.append(copy_of(docs[n], 2000 + n, width=150, height=100, host="thumbs.example"))
    for n in range(4, PICTURES, 13):
        page = docs[n].occurrences[0].host_page_url
        docs.append(copy_of(docs[n], 3000 + n, width=90, height=60, host=HOSTS[0], page=page))
    docs.append(picture(9999, "an unrelated harbour", host="one.example"))
    return docs


class Corpus:
    """The store, its service and what the descriptions say about each picture."""

    def __init__(self) -> None:
        self.docs = corpus()
        self.service = SearchService(memory_store(self.docs))
        self.by_id = {d.doc_id: d for d in self.docs}
        family: dict[int, list[ImageDocument]] = defaultdict(list)
        for doc in self.docs:
            family[doc.facts.phash].append(doc)  # same hash: one picture, by construction
        self.family = dict(family)

    def matching(self, word: str) -> list[ImageDocument]:
        return [d for d in self.docs if word in d.occurrences[0].text["caption"].split()]

    def pictures(self, word: str) -> set[int]:
        """The distinct pictures (hashes) with `word` in their caption."""
        return {d.facts.phash for d in self.matching(word)}

    def walk(self, q: str, count: int, **request: object) -> list[list[Result]]:
        """Every page of `q`, following nextOffset until a page comes back empty."""
        pages: list[list[Result]] = []
        offset = 0
        while True:
            page = self.service.search(
                SearchRequest(q=q, count=count, offset=offset, **request)  # type: ignore[arg-type]
            )
            assert page.current_offset == offset
            assert page.total_estimated == len(self.matching(q.split()[0]))
            if not page.results:
                return pages
            assert page.next_offset > offset  # always forward: no page is served twice
            pages.append(page.results)
            offset = page.next_offset


@pytest.fixture(scope="module")
def built() -> Corpus:
    return Corpus()


def flat(pages: list[list[Result]]) -> list[int]:
    return [r.doc.doc_id for page in pages for r in page]


def test_every_picture_once_across_pages_without_gaps(built: Corpus) -> None:
    pages = built.walk("pattern", count=10)
    shown = flat(pages)
    assert len(shown) == len(set(shown))  # no image twice
    hashes = [built.by_id[d].facts.phash for d in shown]
    assert len(hashes) == len(set(hashes))  # no picture twice, through any of its copies
    assert set(hashes) == built.pictures("pattern")  # and none left out
    assert all(len(page) == 10 for page in pages[:-1])  # only the last page is short
    assert len(built.matching("pattern")) > len(hashes) > WINDOW  # copies, beyond the window


def test_pages_of_any_size_make_the_same_list(built: Corpus) -> None:
    whole = flat(built.walk("pattern", count=len(built.docs)))
    assert len(whole) == len(built.pictures("pattern"))
    for count in (1, 7, 33):
        assert flat(built.walk("pattern", count=count)) == whole
    assert flat(built.walk("pattern", count=7)) == whole  # stable when asked again


def test_each_result_counts_its_groups_sizes_and_pages(built: Corpus) -> None:
    results = [r for page in built.walk("pattern", count=50) for r in page]
    grouped = 0
    for result in results:
        family = built.family[result.doc.facts.phash]
        assert result.sizes == len({(d.facts.width, d.facts.height) for d in family})
        assert result.pages == len({d.occurrences[0].host_page_url for d in family})
        grouped += len(family) > 1
    assert grouped == sum(len(f) > 1 for f in built.family.values())
    # a family with a thumbnail on its original's page: two sizes, one page
    assert any((r.sizes, r.pages) == (2, 1) for r in results)


def test_a_group_shows_its_largest_copy_when_priors_decide(built: Corpus) -> None:
    # Without host diversity, which may rightly prefer a smaller copy on a fresh site.
    service = SearchService(built.service.store, diversity=False)
    first = service.search(SearchRequest(q="striped", count=50)).results
    for result in first:
        family = built.family[result.doc.facts.phash]
        # Copies share their text (the same score): the prior (size) picks the one shown.
        assert result.doc.facts.width == max(d.facts.width for d in family)
    assert any(len(built.family[r.doc.facts.phash]) == 3 for r in first)


def test_counting_only_and_offsets_past_the_end(built: Corpus) -> None:
    total = len(built.matching("pattern"))
    counted = built.service.search(SearchRequest(q="pattern", count=0))
    assert counted.results == [] and counted.total_estimated == total
    beyond = built.service.search(SearchRequest(q="pattern", offset=total + 5))
    assert beyond.results == [] and beyond.next_offset >= total + 5
    nothing = built.service.search(SearchRequest(q="zeppelin"))
    assert (nothing.results, nothing.total_estimated) == ([], 0)


def smallest_of_three(built: Corpus) -> ImageDocument:
    family = min((f for f in built.family.values() if len(f) == 3), key=lambda f: f[0].doc_id)
    return min(family, key=lambda d: d.facts.width)


def test_a_pinned_copy_heads_the_first_page_and_its_group_never_returns(built: Corpus) -> None:
    pinned = smallest_of_three(built)
    pages = built.walk("pattern", count=10, pin_image_id=pinned.image_id)
    assert pages[0][0].doc.doc_id == pinned.doc_id
    hashes = [built.by_id[d].facts.phash for d in flat(pages)]
    assert len(hashes) == len(set(hashes))


def test_pinning_leaves_no_gap(built: Corpus) -> None:
    pinned = smallest_of_three(built)
    shown = flat(built.walk("pattern", count=10, pin_image_id=pinned.image_id))
    assert {built.by_id[d].facts.phash for d in shown} == built.pictures("pattern")
