"""GET /v7.0/images/search (and the SDKs' /bing/v7.0/images/search)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api.auth import authorize
from pixsearch.api.clientinfo import client_info
from pixsearch.api.context import ApiContext
from pixsearch.api.markets import market_for
from pixsearch.api.params import parse_search
from pixsearch.api.render import Renderer
from pixsearch.api.responses import bing_json
from pixsearch.api.suggestions import add_suggestions
from pixsearch.observe.metrics import stage
from pixsearch.search.suggest import Suggestions, search_with_spelling
from pixsearch.search.trending import counts_towards_trending


async def images_search(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    if ctx.settings.require_key:
        authorize(request, ctx.keys, ctx.limiter)
    params = parse_search(request.query_params)
    market = market_for(request.query_params, request.headers.get("accept-language"))
    request.state.client = client_info(request.headers)  # checked, kept on the request only
    ctx.refresh()
    explain = params.debug == "Explain" and _is_admin(request, ctx)
    searched = replace(params.request, language=market, explain=explain)
    page, spelling = search_with_spelling(ctx.search, ctx.suggestions, searched)
    q = spelling.altered or params.request.q  # the query actually searched
    if ctx.query_log is not None and counts_towards_trending(page):
        ctx.query_log.record(q, market=market)
    request.state.result_count = len(page.results)  # for the access log
    found = Suggestions()
    if ctx.suggestions is not None:
        found = ctx.suggestions.suggest(searched, page, q, market=market)
    with stage("render"):
        renderer = Renderer(ctx.urls(request), ctx.signer)
        body = renderer.answer(params.request.q, page)
        add_suggestions(
            renderer.urls,
            body,
            page,
            spelling,
            found,
            decorations=params.text_decorations,
            text_format=params.text_format,
        )
        return bing_json(request, body, market=market)


def _is_admin(request: Request, ctx: ApiContext) -> bool:
    """Whether the call carries the admin key (X-Admin-Key); never an error, only a yes or no."""
    expected = ctx.settings.admin_key
    given = request.headers.get("x-admin-key", "")
    if not expected or not given:
        return False
    # Equal-length digests keep the comparison constant-time, as routes_admin does.
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )
