"""Filters through the search service over the in-memory store: size, colour, licence,
site:, and safeSearch under the default adult policy and a stricter one.

Expectations are read from the scenery's descriptions (tests/search/corpus.py)
with the reference's definitions written out here, and compared by picture
(a near-duplicate group shows once, through any copy that passes).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pixsearch.index.store import Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.scope import excluded_adult
from pixsearch.search.service import SearchRequest, SearchService
from tests.search.corpus import POLICY, SCENERY, Scenery, Spec, scenery

pytestmark = pytest.mark.memory

LEVELS = ("Off", "Moderate", "Strict")


@pytest.fixture(scope="module")
def world() -> Scenery:
    return scenery()


def pictures(world: Scenery, keep: Callable[[Spec], bool], q: str = "") -> set[int]:
    """Group ids of the pictures with a copy that has every word of `q` and is kept."""
    words = q.split()
    return {
        world.docs[s.n].group_id
        for s in SCENERY
        if keep(s) and all(w in s.caption.split() for w in words)
    }


def shown(service: SearchService, q: str, filters: Filters) -> list[int]:
    page = service.search(SearchRequest(q=q, filters=filters, count=100))
    groups = [r.doc.group_id for r in page.results]
    assert len(groups) == len(set(groups))
    return groups


def by_n(world: Scenery, doc_id: int) -> Spec:
    return next(s for s in SCENERY if world.docs[s.n].doc_id == doc_id)


SIZES: dict[str, Callable[[Spec], bool]] = {
    "small": lambda s: max(s.width, s.height) < 200,
    "medium": lambda s: max(s.width, s.height) >= 200 and min(s.width, s.height) < 500,
    "large": lambda s: min(s.width, s.height) >= 500,
    "wallpaper": lambda s: s.width >= 1024 and s.height >= 768 and s.width >= s.height,
}
LICENSES: dict[str, Callable[[Spec], bool]] = {
    "public": lambda s: s.license == "cc0",
    "modifycommercially": lambda s: s.license in ("cc0", "cc-by", "cc-by-sa"),
    "any": lambda s: s.license is not None,
}


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("q", ["", "sunset", "lighthouse"])
def test_size_filter(world: Scenery, size: str, q: str) -> None:
    service = SearchService(world.store)
    found = shown(service, q, Filters(size=size))
    assert set(found) == pictures(world, SIZES[size], q)
    page = service.search(SearchRequest(q=q, filters=Filters(size=size), count=100))
    assert all(SIZES[size](by_n(world, r.doc.doc_id)) for r in page.results)  # the copy shown


@pytest.mark.parametrize("license", sorted(LICENSES))
def test_license_filter(world: Scenery, license: str) -> None:
    found = shown(SearchService(world.store), "", Filters(license=license))
    expected = pictures(world, LICENSES[license])
    assert set(found) == expected and 0 < len(expected) < len(SCENERY)


def test_color_filter(world: Scenery) -> None:
    found = shown(SearchService(world.store), "sunset", Filters(color="orange"))
    expected = pictures(world, lambda s: s.color == "Orange", "sunset")
    assert set(found) == expected and len(expected) >= 3


@pytest.mark.parametrize(
    ("q", "keep"),
    [
        ("sunset site:sea.example", lambda s: s.host == "sea.example"),
        ("sunset -site:sea.example", lambda s: s.host != "sea.example"),
        (
            "dawn site:coast.example site:shore.example",
            lambda s: s.host in ("coast.example", "shore.example"),
        ),
    ],
)
def test_site_operators(world: Scenery, q: str, keep: Callable[[Spec], bool]) -> None:
    word = q.split()[0]
    found = shown(SearchService(world.store), q, Filters())
    assert set(found) == pictures(world, keep, word) != set()


@pytest.mark.parametrize("policy", [AdultPolicy(), POLICY], ids=["default", "stricter"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("q", ["", "sunset", "beach", "lighthouse"])
def test_safe_search_hides_what_the_policy_says(
    world: Scenery, policy: AdultPolicy, level: str, q: str
) -> None:
    service = SearchService(world.store, adult=policy)
    hidden = world.hidden(policy, level)
    filters = Filters(exclude_adult=excluded_adult(level))
    page = service.search(SearchRequest(q=q, filters=filters, count=100))
    assert not {r.doc.doc_id for r in page.results} & hidden
    expected = pictures(world, lambda s: world.docs[s.n].doc_id not in hidden, q)
    assert {r.doc.group_id for r in page.results} == expected


def test_the_stricter_policy_hides_more_at_each_level(world: Scenery) -> None:
    """The policies differ where the corpus says: a 0.3 nudity score and a blocked host."""
    default, stricter = AdultPolicy(), POLICY
    assert world.hidden(default, "Off") == world.hidden(stricter, "Off") == set()
    cabana = {world.docs[17].doc_id, world.docs[24].doc_id}
    assert world.hidden(stricter, "Moderate") - world.hidden(default, "Moderate") == cabana
    blocked = {world.docs[20].doc_id, world.docs[23].doc_id}
    assert world.hidden(stricter, "Strict") - world.hidden(default, "Strict") == cabana | blocked
    for policy in (default, stricter):
        service = SearchService(world.store, adult=policy)
        filters = Filters(exclude_adult=excluded_adult("Moderate"))
        found = service.search(SearchRequest(q="cabana", filters=filters)).results
        assert bool(found) == (policy is default)
