"""Insights, visually similar images and products over the in-memory store.

The lighthouse of the scenery has four copies on four pages (one on the
blocklisted host); the coast pictures look like it (close embeddings), among
them the cabana with its 0.3 nudity score. What insights show is compared with
what the descriptions say and with what search shows under the same scope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import STOPWORDS, Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.insights import Insights, InsightsService
from pixsearch.search.scope import excluded_adult, scoped_filters
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.similar import MIN_SIMILARITY, SimilarFinder
from pixsearch.search.uploads import UploadCache
from pixsearch.search.visual import PictureInsights, UnknownImage
from tests.search.corpus import POLICY, SCENERY, Scenery, Spec, picture, scenery, unit

pytestmark = pytest.mark.memory

LIGHTHOUSE = 15


@pytest.fixture(scope="module")
def world() -> Scenery:
    return scenery()


def pictures(world: Scenery, policy: AdultPolicy, tmp_path: Path) -> PictureInsights:
    insights = InsightsService(world.store)
    return PictureInsights(world.store, insights, UploadCache(tmp_path / "uploads"), policy)


def family(n: int) -> list[Spec]:
    """The picture `n` is (or is a copy of), and every copy of it."""
    original = next(s for s in SCENERY if s.n == n).copy_of or n
    return [s for s in SCENERY if original in (s.n, s.copy_of)]


def page_of(spec: Spec, world: Scenery) -> str:
    return world.docs[spec.n].occurrences[0].host_page_url or ""


def scope(level: str) -> Filters:
    return Filters(exclude_adult=excluded_adult(level))


def test_pages_including_every_copy_and_the_search_badge_agree(
    world: Scenery, tmp_path: Path
) -> None:
    found = pictures(world, AdultPolicy(), tmp_path).of_image(world.docs[22].image_id.lower())
    copies = family(22)
    assert found.doc is not None and found.doc.doc_id == world.docs[22].doc_id
    assert found.pages[0].doc.doc_id == found.doc.doc_id  # its own page first
    assert {p.occurrence.host_page_url for p in found.pages} == {page_of(s, world) for s in copies}
    assert found.sizes == len({(s.width, s.height) for s in copies}) == 3
    result = SearchService(world.store).search(SearchRequest(q="lighthouse")).results[0]
    assert result.doc.group_id == found.doc.group_id
    assert result.pages == len(found.pages) == len(copies)
    assert result.sizes == found.sizes


def test_the_best_representative_query_finds_the_picture(world: Scenery, tmp_path: Path) -> None:
    found = pictures(world, AdultPolicy(), tmp_path).of_image(world.docs[LIGHTHOUSE].image_id)
    titles = Counter(s.title or s.caption for s in family(LIGHTHOUSE))
    majority, votes = titles.most_common(1)[0]
    assert votes > 1  # the corpus makes two pages agree
    assert found.best_query == " ".join(w for w in majority.lower().split() if w not in STOPWORDS)
    assert found.best_query is not None
    results = SearchService(world.store).search(SearchRequest(q=found.best_query)).results
    assert results[0].doc.group_id == world.docs[LIGHTHOUSE].group_id


@pytest.mark.parametrize("policy", [AdultPolicy(), POLICY], ids=["default", "stricter"])
@pytest.mark.parametrize("level", ["Off", "Moderate", "Strict"])
def test_insights_show_only_the_pages_search_shows(
    world: Scenery, tmp_path: Path, policy: AdultPolicy, level: str
) -> None:
    service = pictures(world, policy, tmp_path)
    hidden = world.hidden(policy, level)
    for n in (LIGHTHOUSE, 17):  # the lighthouse, and the cabana (hidden by the stricter policy)
        shown = service.visible(service.of_image(world.docs[n].image_id), scope(level))
        expected = {page_of(s, world) for s in family(n) if world.docs[s.n].doc_id not in hidden}
        assert {p.occurrence.host_page_url for p in shown.pages} == expected
        if shown.caption is not None:
            assert shown.caption[1] in expected
        else:
            assert not expected  # only when no page is left to say it
    assert world.hidden(POLICY, "Strict") & {world.docs[s.n].doc_id for s in family(LIGHTHOUSE)}


def expected_neighbours(
    world: Scenery, of: int, hidden: set[int], exclude_group: int
) -> list[tuple[int, float]]:
    """(group, cosine) of the visible pictures like `of`, best first: one copy per group."""
    query = world.vectors[of]
    best: dict[int, float] = {}
    for spec in SCENERY:
        doc = world.docs[spec.n]
        if doc.doc_id in hidden or doc.group_id == exclude_group:
            continue
        cosine = float(unit(world.vectors[spec.n]) @ unit(query))
        best[doc.group_id] = max(best.get(doc.group_id, -1.0), cosine)
    ranked = sorted(best.items(), key=lambda gc: -gc[1])
    return [(g, c) for g, c in ranked if c >= MIN_SIMILARITY]


@pytest.mark.parametrize("policy", [AdultPolicy(), POLICY], ids=["default", "stricter"])
def test_similar_images_leave_out_the_own_group_and_what_is_hidden(
    world: Scenery, tmp_path: Path, policy: AdultPolicy
) -> None:
    service = pictures(world, policy, tmp_path)
    found = service.of_image(world.docs[LIGHTHOUSE].image_id)
    data = service.gather(found, {"SimilarImages"}, scope("Moderate"))
    own = world.docs[LIGHTHOUSE].group_id
    expected = expected_neighbours(world, LIGHTHOUSE, world.hidden(policy, "Moderate"), own)
    assert len(expected) >= 3
    got = [(n.doc.group_id, n.score) for n in data.similar_images]
    assert [g for g, _ in got] == [g for g, _ in expected]
    assert [s for _, s in got] == pytest.approx([c for _, c in expected], abs=1e-5)
    cabana = world.docs[17].group_id
    assert (cabana in {g for g, _ in got}) == (policy != POLICY)
    paged = service.gather(found, {"SimilarImages"}, scope("Moderate"), offset=1, count=2)
    assert [n.doc.doc_id for n in paged.similar_images] == [
        n.doc.doc_id for n in data.similar_images[1:3]
    ]


def test_an_upload_is_matched_to_its_indexed_copies_by_look(world: Scenery) -> None:
    indexed = world.docs[LIGHTHOUSE].facts
    upload = replace(indexed, sha256="f" * 64, width=640, height=480)  # new bytes, same look
    found = InsightsService(world.store).for_picture(upload)
    assert found.image_id == upload.image_id and found.doc is not None
    assert found.doc.group_id == world.docs[LIGHTHOUSE].group_id
    assert len(found.pages) == len(family(LIGHTHOUSE))
    stranger = replace(indexed, sha256="e" * 64, phash=indexed.phash ^ 0xFFFF_FFFF)
    assert InsightsService(world.store).for_picture(stranger).pages == []


def test_an_unknown_image_is_refused(world: Scenery, tmp_path: Path) -> None:
    with pytest.raises(UnknownImage):
        pictures(world, AdultPolicy(), tmp_path).of_image("0" * 40)


def test_similar_products_are_those_offered_for_sale() -> None:
    rng = np.random.default_rng(3)
    look = rng.normal(size=16)
    store = MemoryStore()
    offer = {"name": "Teapot", "price": "20", "priceCurrency": "EUR", "seller": "Pots"}
    docs = [
        picture(1, "blue teapot", host="kitchen.example"),
        picture(2, "blue teapot for sale", host="shop.example", offers=[offer]),
        picture(3, "blue teapot on a table", host="blog.example"),
        picture(4, "green teapot for sale", host="shop.example", offers=[offer]),
    ]
    for n, doc in enumerate(docs):
        store.add(doc, vector=unit(look + (0.2 + 0.1 * n) * rng.normal(size=16)))
    finder = SimilarFinder(store)
    filters = scoped_filters(Filters(), AdultPolicy())
    vector = store.vector(docs[0].doc_id)
    assert vector is not None
    products = finder.products(vector, filters=filters, exclude_group=docs[0].group_id)
    assert [p.doc.doc_id for p in products] == [docs[1].doc_id, docs[3].doc_id]
    assert all(p.offers == [offer] and p.occurrence.offers for p in products)
    images = finder.images(vector, filters=filters, exclude_group=docs[0].group_id)
    assert {n.doc.doc_id for n in images} == {d.doc_id for d in docs[1:]}


def test_a_similar_product_is_shown_on_a_selling_page_the_filters_let_through() -> None:
    """The teapot sells on shop.example and is shown unsold on blog.example: under
    site:blog.example it is matched, but has no page there that sells it."""
    rng = np.random.default_rng(4)
    look = rng.normal(size=16)
    offer = {"name": "Teapot", "price": "20", "priceCurrency": "EUR", "seller": "Pots"}
    query = picture(1, "blue teapot", host="kitchen.example")
    teapot = picture(2, "blue teapot for sale", host="shop.example", offers=[offer])
    teapot.occurrences.append(picture(2, "blue teapot", host="blog.example").occurrences[0])
    store = MemoryStore()
    store.add(query, vector=unit(look))
    store.add(teapot, vector=unit(look + 0.2 * rng.normal(size=16)))
    finder = SimilarFinder(store)

    def shown(site: str, products: bool) -> list[tuple[str, int]]:
        """(host of the page shown, pagesIncludingCount) of each neighbour."""
        filters = scoped_filters(Filters(sites=(site,)), AdultPolicy())
        found = (
            finder.products(unit(look), filters=filters, exclude_group=query.group_id)
            if products
            else finder.images(unit(look), filters=filters, exclude_group=query.group_id)
        )
        return [(urlsplit(n.occurrence.host_page_url or "").hostname or "", n.pages) for n in found]

    assert shown("shop.example", products=True) == [("shop.example", 1)]
    assert shown("blog.example", products=True) == []
    assert shown("blog.example", products=False) == [("blog.example", 1)]


def test_insights_of_a_picture_without_pages_fall_back_to_its_tags() -> None:
    store = MemoryStore()
    doc = picture(1, "", host=None)
    tagged = replace(doc, facts=replace(doc.facts, tags=(("teapot", 0.91), ("kettle", 0.4))))
    tagged.occurrences[0].title = ""
    store.add(tagged)
    found: Insights = InsightsService(store).for_document(tagged)
    assert found.best_query is None and found.tags == [("teapot", 0.91), ("kettle", 0.4)]
