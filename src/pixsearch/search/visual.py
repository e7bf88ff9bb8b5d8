"""Insights and visual search: from a picture to what the index knows about it.

A picture arrives three ways: an indexed image named by id or token, an upload
remembered from earlier (its token), or bytes to measure (an upload, a fetched
URL, the crop of an indexed image's stored pixels; measure.py). Insights
(insights.py) are built over the index, then narrowed to what the caller's
scope (scope.py) shows, and the modules' data is gathered under that same
scope: similar images and products from the picture's embedding; collections,
offers and recipes from the pages it may see; face regions from its pixels.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field, replace

from pixsearch.index.store import Filters, ReadStore
from pixsearch.search import collections as pagefacts
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.insights import Insights, InsightsService, narrowed
from pixsearch.search.measure import Measured, Vector, embed_thumbnail
from pixsearch.search.places import for_copies, passing
from pixsearch.search.scope import place_rule, scoped_filters
from pixsearch.search.similar import MAX_SIMILAR, Neighbour, SimilarFinder
from pixsearch.search.uploads import UploadCache

Box = tuple[float, float, float, float]


class UnknownImage(LookupError):
    """No indexed image and no remembered upload has this id."""


class NoPixels(LookupError):
    """An indexed image without stored pixels, so it cannot be cropped."""


@dataclass(slots=True)
class ModuleData:
    """The data of the insights modules asked for; the others stay empty."""

    similar_images: list[Neighbour] = field(default_factory=list)
    similar_products: list[Neighbour] = field(default_factory=list)
    collections: list[pagefacts.Collection] = field(default_factory=list)
    offers: list[pagefacts.Offer] = field(default_factory=list)
    recipes: list[pagefacts.Recipe] = field(default_factory=list)
    faces: list[Box] = field(default_factory=list)


class PictureInsights:
    def __init__(
        self,
        store: ReadStore,
        insights: InsightsService,
        uploads: UploadCache,
        policy: AdultPolicy,
    ) -> None:
        self.store = store
        self.insights = insights
        self.uploads = uploads
        self.policy = policy  # the server's safe-search settings, as search applies them

    def of_measured(self, measured: Measured) -> Insights:
        """Insights of a measured picture, remembered so that its token works later."""
        self.uploads.put(measured.facts, measured.vector)
        # embedding and thumbnail let a crop the hash misses find its original, as at ingest
        found = self.insights.for_picture(measured.facts, measured.vector, measured.thumbnail)
        return _with_vector(found, measured.vector)

    def of_image(self, image_id: str) -> Insights:
        """Insights of an indexed image or of a remembered upload; UnknownImage if neither."""
        image_id = image_id.strip().upper()
        doc = self.store.get_by_image_id(image_id)
        if doc is not None:
            return self.insights.for_document(doc)
        facts = self.uploads.get(image_id)
        if facts is None:
            raise UnknownImage(image_id)
        return _with_vector(self.insights.for_picture(facts), self.uploads.vector(facts.image_id))

    def pixels_to_crop(self, image_id: str) -> bytes | None:
        """An indexed image's stored pixels; None for an upload (cropped when it was sent)."""
        doc = self.store.get_by_image_id(image_id.strip().upper())
        if doc is None:
            return None
        thumb = self.store.thumbnail(doc.facts.sha256)
        if thumb is None:
            raise NoPixels(image_id)
        return thumb

    def visible(self, insights: Insights, filters: Filters) -> Insights:
        """Only what the scope shows, so insights hide what search hides: the places of
        members that pass `filters`, each holding their page-level parts (a licence,
        a slice) itself, with pages and sizes counted as search counts them."""
        filters = scoped_filters(filters, self.policy)
        ids = sorted({page.doc.doc_id for page in insights.places})
        if not ids:
            return insights
        shown = passing(self.store, filters, ids)
        doc = insights.doc
        copies = for_copies(filters, doc) if doc is not None and doc.doc_id in shown else filters
        if copies is not filters:
            shown = passing(self.store, copies, ids)  # its copies, as search counts them
        holds = place_rule(filters).holds
        return narrowed(
            insights,
            lambda page: page.doc.doc_id in shown and holds(page.doc, page.occurrence),
        )

    def gather(
        self,
        insights: Insights,
        modules: Set[str],
        filters: Filters,
        *,
        offset: int = 0,
        count: int = MAX_SIMILAR,
    ) -> ModuleData:
        """The data of `modules` under `filters` (SimilarImages paged by offset and count)."""
        filters = scoped_filters(filters, self.policy)
        places = [(page.doc, page.occurrence) for page in insights.pages]
        data = ModuleData()
        if modules & {"SimilarImages", "SimilarProducts"}:
            vector = self.picture_vector(insights)
            own = insights.doc.group_id if insights.doc is not None else None
            finder = SimilarFinder(self.store)
            if vector is not None and "SimilarImages" in modules:
                data.similar_images = finder.images(
                    vector, filters=filters, exclude_group=own, offset=offset, count=count
                )
            if vector is not None and "SimilarProducts" in modules:
                data.similar_products = finder.products(vector, filters=filters, exclude_group=own)
        if "Collections" in modules:
            data.collections = pagefacts.collections(self.store, places)
        if "ShoppingSources" in modules:
            data.offers = pagefacts.offers(places)
        if "Recipes" in modules:
            data.recipes = pagefacts.recipes(places)
        if "RecognizedEntities" in modules:
            data.faces = pagefacts.face_regions(insights.facts)
        return data

    def picture_vector(self, insights: Insights) -> Vector | None:
        """The picture's embedding: measured, stored, or made from its stored thumbnail."""
        if insights.vector is not None:
            return insights.vector
        doc = insights.doc
        if doc is None or doc.image_id != insights.image_id:
            return None
        stored = self.store.vector(doc.doc_id)
        if stored is not None:
            return stored
        thumb = self.store.thumbnail(doc.facts.sha256)
        return embed_thumbnail(thumb) if thumb else None


def _with_vector(insights: Insights, vector: Vector | None) -> Insights:
    return replace(insights, vector=vector) if vector is not None else insights
