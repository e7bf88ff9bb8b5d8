"""The in-memory store against the embedded one: same corpus, same answers where the seam promises.

Ranking is each backend's own (BM25 against a plain term count), so searches
are compared as sets of matches and totals, not as orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.memory import MemoryStore
from pixsearch.index.store import (
    Clause,
    Filters,
    Picture,
    Range,
    ReadStore,
    SiteBoost,
    StoreQuery,
    TextQuery,
)
from pixsearch.records import ImageDocument
from tests.index.helpers import make_doc

CAT_HASH = 0x0F0F_0F0F_0F0F_0F0F
# (caption, width, height, licence, page): two black cats share a hash (one group).
CORPUS: tuple[tuple[str, int, int, str | None, str | None], ...] = (
    ("red kite over the hill", 1200, 800, "cc0", "https://a.example.com/birds/1.html"),
    ("blue kite on the beach", 400, 400, "cc-by-nc", "https://a.example.com/birds/2.html"),
    ("red car in the city", 640, 480, None, "https://www.b.example.org/cars.html"),
    ("old red barn", 150, 300, "cc-by", "https://b.example.org/farm.html"),
    ("sunset over the sea", 1920, 1080, None, None),
    ("sunset over the hill", 300, 200, "cc-by-nd", "https://c.example.net/sky.html"),
    ("nude figure study", 800, 1000, None, "https://c.example.net/art.html"),
    ("black cat asleep", 500, 500, None, "https://a.example.com/pets.html"),
    ("black cat on a sofa", 250, 250, None, "https://b.example.org/pets.html"),
    ("harbour at night", 1024, 768, "cc0", "https://a.example.com/sea/harbour.html"),
)


def corpus() -> list[ImageDocument]:
    docs = []
    for n, (caption, width, height, license, page) in enumerate(CORPUS, start=1):
        phash = CAT_HASH if caption.startswith("black cat") else None
        doc = make_doc(n, caption, width=width, height=height, license=license, page=page)
        docs.append(replace(doc, facts=replace(doc.facts, phash=phash or doc.facts.phash)))
    return docs


def vectors() -> np.ndarray:
    rows = np.random.default_rng(5).normal(size=(len(CORPUS), 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReadStore, ReadStore]]:
    root = tmp_path_factory.mktemp("agree")
    writer = EmbeddedStore(root, writable=True)
    memory = MemoryStore()
    for doc, vector in zip(corpus(), vectors(), strict=True):
        writer.add(doc, None, vector)
        writer.add_vector(doc.doc_id, vector)
        memory.add(replace(doc), vector=vector)
    writer.commit()
    writer.close()
    yield EmbeddedStore(root), memory


def words(*groups: str, excluded: tuple[str, ...] = ()) -> TextQuery:
    """Each argument a required group; "a|b" an OR, "a b" a phrase."""
    required = tuple(
        tuple(Clause(tuple(alt.split())) for alt in group.split("|")) for group in groups
    )
    return TextQuery(required=required, excluded=tuple(Clause((w,)) for w in excluded))


QUERIES: tuple[tuple[TextQuery, Filters], ...] = (
    (words("red"), Filters()),
    (words("kite|cat"), Filters()),
    (words("red kite"), Filters()),
    (words("sunset", excluded=("sea",)), Filters()),
    (words("cat", "black"), Filters()),
    (words(), Filters(aspect="wide")),
    (words(), Filters(aspect="tall")),
    (words(), Filters(size="large")),
    (words(), Filters(size="small")),
    (words(), Filters(license="public")),
    (words(), Filters(license="share")),
    (words(), Filters(color="blue", image_type="photo")),
    (words(), Filters(width=Range(low=500, high=1200))),
    (words(), Filters(sites=("a.example.com",))),
    (words(), Filters(sites=("example.org",))),
    (words("red"), Filters(excluded_sites=("b.example.org",))),
    (words(), Filters(url_prefixes=("a.example.com/birds/",))),
    (words(), Filters(excluded_url_prefixes=("https://a.example.com/",))),
    (words(), Filters(exclude_adult=("text",))),
    (words(), Filters(exclude_adult=("text",), adult_hosts=("c.example.net",))),
    (words(), Filters(scope_sites=("c.example.net",), scope_prefixes=("a.example.com/sea/",))),
    (words("sunset|cat"), Filters(file_size=Range(high=1006))),
)


@pytest.mark.parametrize(("text", "filters"), QUERIES)
def test_matches_and_totals_agree(
    stores: tuple[ReadStore, ReadStore], text: TextQuery, filters: Filters
) -> None:
    query = StoreQuery(text, filters, limit=100)
    found = [store.search(query) for store in stores]
    assert {h.doc_id for h in found[0].hits} == {h.doc_id for h in found[1].hits}
    assert found[0].total == found[1].total == len(found[0].hits)
    groups = [{h.doc_id: (h.group_id, h.site, h.published) for h in r.hits} for r in found]
    assert groups[0] == groups[1]
    priors = [{h.doc_id: h.prior for h in r.hits} for r in found]
    assert priors[1] == pytest.approx(priors[0])


def test_pages_keep_the_total(stores: tuple[ReadStore, ReadStore]) -> None:
    for store in stores:
        seen: list[int] = []
        for offset in (0, 3, 6, 9):
            result = store.search(StoreQuery(words(), limit=3, offset=offset))
            assert result.total == len(CORPUS)
            seen += [h.doc_id for h in result.hits]
        assert sorted(seen) == list(range(1, len(CORPUS) + 1))
        probe = store.search(StoreQuery(words("red"), limit=1, count=False))
        assert probe.total == len(probe.hits) == 1


def test_boosts_reorder_without_adding(stores: tuple[ReadStore, ReadStore]) -> None:
    boost = (SiteBoost("b.example.org", 100.0),)
    for store in stores:
        result = store.search(StoreQuery(words("red"), boosts=boost))
        assert result.total == 3 and result.hits[0].doc_id in (3, 4)


def test_groups_agree(stores: tuple[ReadStore, ReadStore]) -> None:
    embedded, memory = stores
    cats = [h.group_id for h in memory.search(StoreQuery(words("cat"))).hits]
    assert len(set(cats)) == 1  # the two black cats look alike: one group
    group_ids = list(range(1, len(CORPUS) + 1))
    assert embedded.group_counts(group_ids) == memory.group_counts(group_ids)
    assert memory.group_counts(cats) == {cats[0]: (2, 2)}
    for group_id in group_ids:
        assert embedded.group_members(group_id) == memory.group_members(group_id)
    pages = ["https://a.example.com/pets.html", "https://nowhere.example/", "x"]
    assert embedded.page_image_counts(pages) == memory.page_image_counts(pages)


def test_lookups_agree(stores: tuple[ReadStore, ReadStore]) -> None:
    embedded, memory = stores
    docs = corpus()
    assert [d.image_id for d in embedded.get([3, 99, 1])] == [
        d.image_id for d in memory.get([3, 99, 1])
    ]
    found = memory.get_by_image_id(docs[4].image_id.lower())
    assert found is not None and found.doc_id == 5
    assert embedded.near_duplicates(CAT_HASH ^ 0b111, "", max_distance=6) == (
        memory.near_duplicates(CAT_HASH ^ 0b111, "", max_distance=6)
    )
    picture = Picture(CAT_HASH, "")
    assert embedded.duplicate_of(picture, max_distance=6) == 8
    assert memory.duplicate_of(picture, max_distance=6) == 8
    assert memory.changed_since(0) == embedded.changed_since(0) == list(range(1, 11))
    assert memory.changed_since(memory.generation) == []


def test_term_statistics_agree(stores: tuple[ReadStore, ReadStore]) -> None:
    embedded, memory = stores
    assert dict(embedded.terms()) == dict(memory.terms())
    assert dict(memory.terms(adult=True)) == dict(embedded.terms(adult=True))
    assert dict(memory.terms(adult=True))["nude"] == 1
    assert memory.stats()["images"] == embedded.stats()["images"] == len(CORPUS)


def test_visual_neighbours_agree(stores: tuple[ReadStore, ReadStore]) -> None:
    memory = stores[1]
    rows = vectors()
    for store in stores:
        hits = store.similar(rows[0], k=3)
        assert hits[0].doc_id == 1 and hits[0].score > 0.95
        assert len({h.group_id for h in hits}) == 3
        wide = store.similar(rows[0], k=10, filters=Filters(aspect="wide"), exclude_group=1)
        assert 1 not in {h.doc_id for h in wide}
        assert all(h.doc_id in (3, 5, 6, 10) for h in wide)
    stored = memory.vector(2)
    assert stored is not None and float(stored @ rows[1]) == pytest.approx(1.0)


def test_text_and_clip_vectors() -> None:
    rows = vectors()
    store = MemoryStore()
    for n in range(1, 4):
        store.add(make_doc(n, f"caption {n}"), text_vector=rows[n], clip_vector=rows[-n])
    assert store.vector_count("text") == store.vector_count("clip") == 3
    assert store.neighbours("text", rows[2], k=1) == [(2, pytest.approx(1.0))]
    assert store.neighbours("clip", rows[-3], k=2)[0] == (3, pytest.approx(1.0))
    assert store.thumbnail("0" * 64) is None
    assert store.generation == 3 and not store.refresh()
