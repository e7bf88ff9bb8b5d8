"""Visually similar images and products: the nearest neighbours of a picture's embedding.

The store answers the vector search (filters, safeSearch and a custom
instance's slice apply inside it, one image per near-duplicate group); this
module turns hits into displayable neighbours and, for products, keeps those
whose pages sell something.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pixsearch.index.store import Filters, ReadStore, StoreHit
from pixsearch.records import ImageDocument, Occurrence

MAX_SIMILAR = 30
MAX_PRODUCTS = 10
MIN_SIMILARITY = 0.3  # below this cosine a "similar" image shares little but its colours


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
        hits = self.store.similar(
            vector, k=offset + count, filters=filters, exclude_group=exclude_group
        )
        hits = [h for h in hits if h.score >= MIN_SIMILARITY][offset:]
        return self._neighbours(hits, products=False)

    def products(
        self, vector: np.ndarray, *, filters: Filters, exclude_group: int | None
    ) -> list[Neighbour]:
        """Similar images shown on pages that offer them for sale (schema.org Product offers).

        The index marks such images with imageType "shopping", so the store's filtered
        search finds them however rare they are (exactly, when few images are for sale).
        """
        shopping = replace(filters, image_type="shopping")
        hits = self.store.similar(
            vector, k=MAX_PRODUCTS, filters=shopping, exclude_group=exclude_group
        )
        hits = [h for h in hits if h.score >= MIN_SIMILARITY]
        return self._neighbours(hits, products=True)

    def _neighbours(self, hits: list[StoreHit], *, products: bool) -> list[Neighbour]:
        if not hits:
            return []
        docs = {d.doc_id: d for d in self.store.get([h.doc_id for h in hits])}
        counts = self.store.group_counts([h.group_id for h in hits])
        out = []
        for hit in hits:
            doc = docs.get(hit.doc_id)
            if doc is None or not doc.occurrences:
                continue
            selling = [o for o in doc.occurrences if o.offers]
            if products and not selling:
                continue
            occurrence = selling[0] if products else _shown(doc)
            sizes, pages = counts.get(hit.group_id, (1, 1))
            out.append(
                Neighbour(
                    doc=doc,
                    occurrence=occurrence,
                    score=hit.score,
                    sizes=sizes,
                    pages=pages,
                    offers=list(occurrence.offers) if products else [],
                )
            )
        return out


def _shown(doc: ImageDocument) -> Occurrence:
    """A web page when there is one (a link people can follow), else the first place."""
    for occurrence in doc.occurrences:
        if occurrence.host_page_url:
            return occurrence
    return doc.occurrences[0]
