"""Visually similar images and products: the nearest neighbours of a picture's embedding.

The store answers the vector search (filters, safeSearch and a custom
instance's slice apply inside it, one image per near-duplicate group); this
module turns hits into displayable neighbours, shown and counted as search
shows its results (places.py): at a place that holds every page-level filter at
once (scope.PlaceRule), from a group member that passes the file-level ones,
with pagesIncludingCount and availableSizesCount of what the same filters let
through. A neighbour with no such place is skipped. For products it keeps those
whose shown page sells something.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from pixsearch.index.store import Filters, ReadStore, StoreHit
from pixsearch.records import ImageDocument, Occurrence
from pixsearch.search import places
from pixsearch.search.scope import place_rule

MAX_SIMILAR = 30
MAX_PRODUCTS = 10
MIN_SIMILARITY = 0.3  # below this cosine a "similar" image shares little but its colours
# How many more hits are asked for, in turn, when some have no place the filters let
# through (a slice or site: matched only their image URL): they take no slot.
ASK_MORE = (1, 4, 16)

Placer = Callable[[ImageDocument], Occurrence | None]


@dataclass(frozen=True, slots=True)
class Neighbour:
    doc: ImageDocument
    occurrence: Occurrence  # the place shown for it (a product's: the page with offers)
    score: float  # cosine similarity to the picture
    sizes: int = 1
    pages: int = 1
    offers: list[dict[str, str]] = field(default_factory=list)


class SimilarFinder:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def images(
        self,
        vector: np.ndarray,
        *,
        filters: Filters,
        exclude_group: int | None,
        offset: int = 0,
        count: int = MAX_SIMILAR,
    ) -> list[Neighbour]:
        """Similar images, best first, none from the picture's own near-duplicate group."""
        found = self._find(vector, filters, exclude_group, offset + count, products=False)
        return found[offset:]

    def products(
        self, vector: np.ndarray, *, filters: Filters, exclude_group: int | None
    ) -> list[Neighbour]:
        """Similar images shown on pages that offer them for sale (schema.org Product offers).

        The index marks such images with imageType "shopping", so the store's filtered
        search finds them however rare they are (exactly, when few images are for sale).
        """
        shopping = replace(filters, image_type="shopping")
        return self._find(vector, shopping, exclude_group, MAX_PRODUCTS, products=True)

    def _find(
        self,
        vector: np.ndarray,
        filters: Filters,
        exclude_group: int | None,
        wanted: int,
        *,
        products: bool,
    ) -> list[Neighbour]:
        """The first `wanted` neighbours that have a place to show, with their counts."""
        placer = _placer(filters, products=products)
        shown: list[tuple[StoreHit, ImageDocument, Occurrence]] = []
        for factor in ASK_MORE:
            k = wanted * factor
            hits = self.store.similar(vector, k=k, filters=filters, exclude_group=exclude_group)
            close = [h for h in hits if h.score >= MIN_SIMILARITY]
            shown = self._placed(close, filters, placer)
            if len(shown) >= wanted or len(close) < k:  # enough, or nothing more to ask
                break
        shown = shown[:wanted]
        counts = places.group_counts(self.store, filters, [doc for _, doc, _ in shown])
        out = []
        for hit, doc, place in shown:
            counted = counts.get(doc.group_id, places.Counts(1, 1))
            offers = list(place.offers) if products else []
            out.append(Neighbour(doc, place, hit.score, counted.sizes, counted.pages, offers))
        return out

    def _placed(
        self, hits: Sequence[StoreHit], filters: Filters, placer: Placer
    ) -> list[tuple[StoreHit, ImageDocument, Occurrence]]:
        """Each hit with the member and place to show, in order; a hit with none is left out.

        The store matched a group by one member, possibly by a place the filters do
        not let through as a whole (its image URL inside a slice, a licence on one
        page and the site on another); another member of its group may still hold them.
        """
        docs = {d.doc_id: d for d in self.store.get([h.doc_id for h in hits])}
        chosen: dict[int, tuple[ImageDocument, Occurrence]] = {}
        for hit in hits:
            doc = docs.get(hit.doc_id)
            place = placer(doc) if doc is not None else None
            if doc is not None and place is not None:
                chosen[hit.doc_id] = (doc, place)
        orphans = sorted({h.group_id for h in hits if h.doc_id not in chosen})
        by_group = places.visible_members(self.store, filters, orphans, {}) if orphans else {}
        out = []
        for hit in hits:
            if hit.doc_id in chosen:
                doc, place = chosen[hit.doc_id]
                out.append((hit, doc, place))
                continue
            for member in by_group.get(hit.group_id, []):
                place = placer(member)
                if place is not None:
                    out.append((hit, member, place))
                    break
        return out


def _placer(filters: Filters, *, products: bool) -> Placer:
    """A document's place to show under `filters`, None when it has none.

    Of the places holding the page-level filters: for a product the first that sells
    it; else a web page when there is one (a link people can follow), else the first.
    """
    holds = place_rule(filters).holds

    def place_of(doc: ImageDocument) -> Occurrence | None:
        held = [o for o in doc.occurrences if holds(doc, o)]
        if products:
            return next((o for o in held if o.offers), None)
        return next((o for o in held if o.host_page_url), held[0] if held else None)

    return place_of
