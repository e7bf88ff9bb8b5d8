"""The payloads of the /images/details modules beyond pages and text.

The data comes from search/visual.py (similar images and products from the
picture's embedding, collections, offers and recipes from the pages that
include it, face regions from the detector); this names it as the reference
does. A requested module without data is omitted by wire.image_insights.
"""

from __future__ import annotations

from collections.abc import Set

from pixsearch.api import render, wire
from pixsearch.api.render import Renderer
from pixsearch.search.visual import ModuleData

FACE_GROUP = "FaceAnnotations"  # regions without identities: pixsearch recognises no one


def render_modules(renderer: Renderer, q: str, modules: Set[str], data: ModuleData) -> wire.JSON:
    """Payloads of the requested modules, by wire.image_insights' names."""
    urls = renderer.urls
    out: wire.JSON = {}
    if "SimilarImages" in modules:
        out["similar_images"] = wire.module([renderer.neighbour(q, n) for n in data.similar_images])
    if "SimilarProducts" in modules:
        out["similar_products"] = wire.module(
            [renderer.neighbour(q, n, product=True) for n in data.similar_products]
        )
    if "Collections" in modules:
        out["collections"] = wire.module(render.collections(urls, data.collections))
    if "ShoppingSources" in modules:
        offers = render.offers(data.offers)
        out["shopping_sources"] = wire.aggregate_offer(offers) if offers else None
    if "Recipes" in modules:
        out["recipes"] = wire.module(render.recipes(urls, data.recipes))
    if "RecognizedEntities" in modules:
        boxes = data.faces
        out["entity_groups"] = wire.module([wire.entity_group(FACE_GROUP, boxes)] if boxes else [])
    return out
