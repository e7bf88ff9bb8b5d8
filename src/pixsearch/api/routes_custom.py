"""GET /bingcustomsearch/v7.0/images/search and /v7.0/custom/images/search.

A custom search is an ordinary image search narrowed to an instance's slice
inside the index query, reordered by its boosts, with its pins placed on the
first page. Whatever is shown is confined to the slice: an image found on
several sites shows only its places inside the slice, so one tenant never
sees another tenant's URLs through a shared image.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors
from pixsearch.api.auth import admit, identify
from pixsearch.api.clientinfo import client_info
from pixsearch.api.context import ApiContext
from pixsearch.api.instances import Instance
from pixsearch.api.markets import market_for
from pixsearch.api.params import CUSTOM_CONFIG as CUSTOM_CONFIG_PARAM
from pixsearch.api.params import Params, parse_search
from pixsearch.api.responses import bing_json
from pixsearch.api.routes_search import log_query, render_answer
from pixsearch.index.store import SiteBoost
from pixsearch.records import ImageDocument
from pixsearch.search.service import Result, SearchPage, best_occurrence

BOOST = 2.0  # added to a boosted site's score (BM25 scores here are mostly 1-20)
CUSTOM_CONFIG = CUSTOM_CONFIG_PARAM.name


async def custom_images_search(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    config_id = (Params(request.query_params).text(CUSTOM_CONFIG) or "").strip()
    # As API management does: who is calling (401) before what they ask for (400).
    key = identify(request, ctx.keys) if ctx.settings.require_key else None
    if not config_id:
        raise errors.missing(CUSTOM_CONFIG)
    if key is not None:
        admit(key, ctx.limiter, custom_config=config_id)
    instance = ctx.instances.get(config_id) if ctx.instances else None
    if instance is None:
        raise errors.invalid(CUSTOM_CONFIG, config_id, "No custom search instance has this id.")
    query = with_defaults(request.query_params, instance)
    params = parse_search(query)
    market = market_for(query, request.headers.get("accept-language"))
    request.state.client = client_info(request.headers)  # checked, kept on the request only
    ctx.refresh()
    search = replace(
        params.request,
        filters=instance.slice_filters(params.request.filters),
        boosts=boosts_of(instance),
        pin_image_id=_inside(ctx, instance, params.request.pin_image_id),
    )
    page = confine(instance, ctx.search.search(search))
    if search.offset == 0:
        page = place_pins(ctx, instance, search.q, page, search.count)
    log_query(ctx, search.q, page, market=market, scope=config_id)
    body = render_answer(ctx, ctx.urls(request), search.q, page, custom_config=config_id)
    return bing_json(request, body, market=market)


def with_defaults(given: object, instance: Instance) -> dict[str, str]:
    """The request's parameters over the instance's defaults (names case-insensitive)."""
    items = dict(given.items())  # type: ignore[attr-defined]
    present = {name.lower() for name in items}
    merged: dict[str, str] = {}
    for name, value in instance.defaults.items():
        # a caller's cc replaces the instance's market instead of clashing with it
        if name.lower() not in present and not (name == "mkt" and "cc" in present):
            merged[name] = value
    merged.update(items)
    return merged


def boosts_of(instance: Instance) -> tuple[SiteBoost, ...]:
    return tuple(SiteBoost(h, BOOST) for h in instance.boosted_sites) + tuple(
        SiteBoost(h, -BOOST) for h in instance.demoted_sites
    )


def _inside(ctx: ApiContext, instance: Instance, image_id: str | None) -> str | None:
    """The id= image, only if it lies in the slice (else it would leak other sites)."""
    if not image_id:
        return None
    doc = ctx.store.get_by_image_id(image_id)
    return image_id if doc is not None and in_slice(instance, doc) is not None else None


def in_slice(instance: Instance, doc: ImageDocument) -> ImageDocument | None:
    """`doc` with only its places inside the slice, or None when it has none."""
    kept = [
        o
        for o in doc.occurrences
        if any(instance.contains_url(u) for u in (o.host_page_url, o.content_url) if u)
    ]
    if not kept:
        return None
    return doc if len(kept) == len(doc.occurrences) else replace(doc, occurrences=kept)


def pages_of(doc: ImageDocument) -> int:
    return len({o.host_page_url or o.source for o in doc.occurrences})


def confine(instance: Instance, page: SearchPage) -> SearchPage:
    words = [w.lower() for w in page.parsed.words]
    results = []
    for result in page.results:
        doc = in_slice(instance, result.doc)
        if doc is not None:
            # counts from the whole near-duplicate group would reveal pages outside the slice
            results.append(
                replace(
                    result,
                    doc=doc,
                    occurrence=best_occurrence(doc, words),
                    pages=pages_of(doc),
                )
            )
    return replace(page, results=results)


def place_pins(
    ctx: ApiContext, instance: Instance, q: str, page: SearchPage, count: int
) -> SearchPage:
    results = list(page.results)
    words = [w.lower() for w in page.parsed.words]
    for pin in instance.pins_for(q):
        found = ctx.store.get_by_image_id(pin.image_id)
        doc = in_slice(instance, found) if found is not None else None
        if doc is None:
            continue  # a pin outside the slice (or deleted) is skipped, never shown
        results = [r for r in results if r.doc.group_id != doc.group_id]
        pinned = Result(
            doc=doc, occurrence=best_occurrence(doc, words), score=0.0, pages=pages_of(doc)
        )
        results.insert(min(pin.position - 1, len(results)), pinned)
    return replace(page, results=results[:count])
