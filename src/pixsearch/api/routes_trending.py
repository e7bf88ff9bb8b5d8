"""GET /v7.0/images/trending (and /bing/v7.0/images/trending).

Only mkt, cc, setLang and safeSearch apply, as the reference says; a
customConfig, when given, limits trending to that instance's slice and its
own users' searches.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors, wire
from pixsearch.api.auth import authorize
from pixsearch.api.context import ApiContext
from pixsearch.api.markets import market_for
from pixsearch.api.params import CUSTOM_CONFIG, Params
from pixsearch.api.responses import bing_json
from pixsearch.api.urls import Urls
from pixsearch.index.store import Filters
from pixsearch.search.scope import scoped_filters
from pixsearch.search.trending import Category


async def images_trending(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    params = Params(request.query_params)
    scope = (params.text(CUSTOM_CONFIG.name) or "").strip()
    if ctx.settings.require_key:
        authorize(request, ctx.keys, ctx.limiter, custom_config=scope or None)
    market = market_for(request.query_params, request.headers.get("accept-language"))
    params.enum("safeSearch")  # validated as everywhere; trending is adult-free at any level
    instance = None
    if scope:
        instance = ctx.instances.get(scope) if ctx.instances else None
        if instance is None:
            raise errors.invalid(
                CUSTOM_CONFIG.name, scope, "No custom search instance has this id."
            )
    filters = scoped_filters(Filters(), ctx.search.adult, safe_search="Strict", within=instance)
    ctx.refresh()
    assert ctx.trending is not None
    categories = ctx.trending.categories(market=market, filters=filters, scope=scope)
    return bing_json(request, render_trending(ctx.urls(request), categories), market=market)


def render_trending(urls: Urls, categories: list[Category]) -> wire.JSON:
    return wire.trending_images(
        [
            (
                category.title,
                [
                    (
                        wire.query(tile.query, web_search_url=urls.web_search(tile.query)),
                        wire.trending_tile_image(
                            urls=urls.for_result(
                                tile.query, tile.result.doc, tile.result.occurrence
                            ),
                            image_id=tile.result.doc.image_id,
                            width=tile.result.doc.facts.width,
                            height=tile.result.doc.facts.height,
                            thumb_size=(
                                tile.result.doc.facts.thumb_width,
                                tile.result.doc.facts.thumb_height,
                            ),
                        ),
                    )
                    for tile in category.tiles
                ],
            )
            for category in categories
        ]
    )
