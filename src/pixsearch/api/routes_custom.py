"""GET /bingcustomsearch/v7.0/images/search and /v7.0/custom/images/search.

A custom search is an ordinary image search narrowed to an instance's slice
(tenancy/slices.py holds the rules: what lies inside, boosts, pins and what a
shown result may reveal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors
from pixsearch.api.auth import admit, identify
from pixsearch.api.clientinfo import client_info
from pixsearch.api.context import ApiContext
from pixsearch.api.markets import market_for
from pixsearch.api.params import CUSTOM_CONFIG as CUSTOM_CONFIG_PARAM
from pixsearch.api.params import Params, parse_search
from pixsearch.api.render import Renderer
from pixsearch.api.responses import bing_json
from pixsearch.observe.metrics import stage
from pixsearch.search.scope import scoped_filters
from pixsearch.search.trending import counts_towards_trending
from pixsearch.tenancy.instances import Instance
from pixsearch.tenancy.slices import boosts_of, confine, pin_inside, place_pins

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
    lookup = ctx.store.get_by_image_id
    search = replace(
        params.request,
        filters=scoped_filters(params.request.filters, ctx.search.adult, within=instance),
        boosts=boosts_of(instance),
        pin_image_id=pin_inside(instance, params.request.pin_image_id, lookup),
    )
    page = confine(instance, ctx.search.search(search))
    if search.offset == 0:
        page = place_pins(instance, page, q=search.q, count=search.count, lookup=lookup)
    if ctx.query_log is not None and counts_towards_trending(page):
        ctx.query_log.record(search.q, market=market, scope=config_id)
    request.state.result_count = len(page.results)  # for the access log
    with stage("render"):
        renderer = Renderer(ctx.urls(request), ctx.signer, custom_config=config_id)
        return bing_json(request, renderer.answer(search.q, page), market=market)


def with_defaults(given: Mapping[str, str], instance: Instance) -> dict[str, str]:
    """The request's parameters over the instance's defaults (names case-insensitive)."""
    items = dict(given.items())
    present = {name.lower() for name in items}
    merged: dict[str, str] = {}
    for name, value in instance.defaults.items():
        # a caller's cc replaces the instance's market instead of clashing with it
        if name.lower() not in present and not (name == "mkt" and "cc" in present):
            merged[name] = value
    merged.update(items)
    return merged
