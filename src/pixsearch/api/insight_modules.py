"""The insights modules beyond pages and text, shared by /images/details and visual search.

SimilarImages and SimilarProducts come from the picture's embedding (none: the
modules are omitted); Collections, ShoppingSources and Recipes from the pages
that include the picture; RecognizedEntities from the face detector's boxes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from pixsearch.api import wire
from pixsearch.api.context import ApiContext
from pixsearch.api.params import excluded_adult
from pixsearch.api.routes_search import render_result
from pixsearch.api.urls import Urls
from pixsearch.index.store import Filters
from pixsearch.ingest.understand import AnalyzerUnavailable, Understanding, load_analyzer
from pixsearch.search import collections as pagefacts
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result
from pixsearch.search.similar import Neighbour, SimilarFinder

log = logging.getLogger("pixsearch.api")
FACE_GROUP = "FaceAnnotations"  # regions without identities: pixsearch recognises no one

_UNAVAILABLE: set[str] = set()


@dataclass(frozen=True, slots=True)
class Scope:
    """What a request may see: safeSearch and a custom instance's slice."""

    filters: Filters
    custom_config: str | None = None


def scope_for(ctx: ApiContext, safe_search: str, custom_config: str | None) -> Scope:
    policy = ctx.search.adult  # the server's threshold and blocklist, as search applies them
    filters = Filters(
        exclude_adult=excluded_adult(safe_search),
        adult_threshold=policy.threshold,
        adult_hosts=policy.hosts,
    )
    instance = ctx.instances.get(custom_config) if ctx.instances and custom_config else None
    if instance is not None:
        filters = instance.slice_filters(filters)
    return Scope(filters=filters, custom_config=custom_config)


def usable_analyzers(names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `names` that load here; a missing model is logged once, never an error."""
    usable = []
    for name in names:
        if name in _UNAVAILABLE:
            continue
        try:
            load_analyzer(name)
        except AnalyzerUnavailable as exc:
            log.warning("insights without %s: %s", name, exc)
            _UNAVAILABLE.add(name)
            continue
        usable.append(name)
    return tuple(usable)


def analyzers_for(modules: set[str]) -> tuple[str, ...]:
    # The embedding is wanted whatever the modules: it is also what matches a cropped
    # upload to its indexed original, which every module about that original needs.
    wanted = ["visual"]
    if "RecognizedEntities" in modules:
        wanted.append("nudenet")  # the face detector
    return usable_analyzers(tuple(wanted))


def embed_thumbnail(data: bytes) -> np.ndarray | None:
    """The embedding of a stored thumbnail, for an image indexed without the visual analyzer."""
    if not usable_analyzers(("visual",)):
        return None
    import io

    try:
        with Image.open(io.BytesIO(data)) as image:
            seen = Understanding()
            load_analyzer("visual").analyze(image.convert("RGB"), seen)
    except Exception:  # a broken thumbnail or model: the modules are omitted, not a 500
        log.exception("embedding a thumbnail failed")
        return None
    return seen.embedding


def picture_vector(ctx: ApiContext, insights: Insights) -> np.ndarray | None:
    if insights.vector is not None:
        return insights.vector
    doc = insights.doc
    if doc is None or doc.image_id != insights.image_id:
        return None
    stored = ctx.store.vector(doc.doc_id)
    if stored is not None:
        return stored
    thumb = ctx.store.thumbnail(doc.facts.sha256)
    return embed_thumbnail(thumb) if thumb else None


def similar_images(
    ctx: ApiContext, insights: Insights, scope: Scope, *, offset: int = 0, count: int = 30
) -> list[Neighbour]:
    vector = picture_vector(ctx, insights)
    if vector is None:
        return []
    own = insights.doc.group_id if insights.doc is not None else None
    return SimilarFinder(ctx.store).images(
        vector, filters=scope.filters, exclude_group=own, offset=offset, count=count
    )


def similar_products(ctx: ApiContext, insights: Insights, scope: Scope) -> list[Neighbour]:
    vector = picture_vector(ctx, insights)
    if vector is None:
        return []
    own = insights.doc.group_id if insights.doc is not None else None
    return SimilarFinder(ctx.store).products(vector, filters=scope.filters, exclude_group=own)


def render_neighbour(
    ctx: ApiContext, urls: Urls, q: str, n: Neighbour, scope: Scope, *, product: bool = False
) -> wire.JSON:
    result = Result(n.doc, n.occurrence, n.score, n.sizes, n.pages)
    out = render_result(ctx, urls, q, result, scope.custom_config)
    if product and n.offers:
        offers = render_offers(
            pagefacts.to_offer(o, name=n.occurrence.title, url=page_url(n)) for o in n.offers
        )
        metadata = out.setdefault("insightsMetadata", {})
        metadata.update(
            wire.insights_metadata(
                aggregate_offer=wire.aggregate_offer(offers, name=n.occurrence.title),
                shopping_sources=len(offers),
            )
        )
    return out


def page_url(n: Neighbour) -> str:
    return n.occurrence.host_page_url or n.occurrence.content_url or ""


def render_offers(offers: object) -> list[wire.JSON]:
    return [
        wire.offer(
            name=o.name,
            url=o.url,
            seller=o.seller,
            price=o.price,
            currency=o.currency,
            availability=o.availability,
        )
        for o in offers  # type: ignore[attr-defined]
    ]


def places(insights: Insights) -> list[pagefacts.PagePlace]:
    return [(p.doc, p.occurrence) for p in insights.pages]


def render_modules(
    ctx: ApiContext, urls: Urls, q: str, insights: Insights, modules: set[str], scope: Scope
) -> wire.JSON:
    """Payloads of the requested modules that have data, by wire.image_insights' names."""
    out: wire.JSON = {}
    if "SimilarImages" in modules:
        found = similar_images(ctx, insights, scope)
        out["similar_images"] = wire.module(
            [render_neighbour(ctx, urls, q, n, scope) for n in found]
        )
    if "SimilarProducts" in modules:
        found = similar_products(ctx, insights, scope)
        out["similar_products"] = wire.module(
            [render_neighbour(ctx, urls, q, n, scope, product=True) for n in found]
        )
    if "Collections" in modules:
        out["collections"] = wire.module(render_collections(ctx, urls, insights))
    if "ShoppingSources" in modules:
        offers = render_offers(pagefacts.offers(places(insights)))
        out["shopping_sources"] = wire.aggregate_offer(offers) if offers else None
    if "Recipes" in modules:
        out["recipes"] = wire.module(render_recipes(urls, insights))
    if "RecognizedEntities" in modules:
        boxes = pagefacts.face_regions(insights.facts)
        out["entity_groups"] = wire.module([wire.entity_group(FACE_GROUP, boxes)] if boxes else [])
    return out


def render_collections(ctx: ApiContext, urls: Urls, insights: Insights) -> list[wire.JSON]:
    return [
        wire.image_gallery(
            name=c.name,
            url=c.url,
            thumbnail_url=urls.thumbnail(c.thumbnail_sha),
            source=c.source,
            images=c.images,
            description=c.description,
        )
        for c in pagefacts.collections(ctx.store, places(insights))
    ]


def render_recipes(urls: Urls, insights: Insights) -> list[wire.JSON]:
    return [
        wire.recipe(
            name=r.name,
            url=r.url,
            thumbnail_url=urls.thumbnail(r.thumbnail_sha),
            description=r.description,
            times=(r.cook_time, r.prep_time, r.total_time),
            rating=r.rating,
        )
        for r in pagefacts.recipes(places(insights))
    ]


def with_vector(insights: Insights, vector: np.ndarray | None) -> Insights:
    return replace(insights, vector=vector) if vector is not None else insights
