"""GET /v7.0/images/search (and the SDKs' /bing/v7.0/images/search)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import wire
from pixsearch.api.auth import authorize
from pixsearch.api.clientinfo import client_info
from pixsearch.api.context import ApiContext
from pixsearch.api.markets import market_for
from pixsearch.api.params import parse_search
from pixsearch.api.responses import bing_json
from pixsearch.api.suggestions import add_suggestions, search_with_spelling
from pixsearch.api.urls import Urls
from pixsearch.search.adult import has_adult_intent
from pixsearch.search.explain import explain_result
from pixsearch.search.service import Result, SearchPage


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
    page, spelling = search_with_spelling(ctx, searched)
    log_query(ctx, spelling.altered or params.request.q, page, market=market)
    urls = ctx.urls(request)
    body = render_answer(ctx, urls, params.request.q, page)
    add_suggestions(
        ctx,
        urls,
        body,
        searched,
        page,
        spelling,
        market=market,
        decorations=params.text_decorations,
        text_format=params.text_format,
    )
    return bing_json(request, body, market=market)


def log_query(ctx: ApiContext, q: str, page: SearchPage, *, market: str, scope: str = "") -> None:
    """A person's search (first page, with results) counts towards trending."""
    if ctx.query_log is not None and page.current_offset == 0 and page.results:
        ctx.query_log.record(q, market=market, scope=scope)


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


def render_answer(
    ctx: ApiContext, urls: Urls, q: str, page: SearchPage, *, custom_config: str | None = None
) -> wire.JSON:
    return wire.images_answer(
        original_query=q,
        read_link=urls.api_search(q),
        web_search_url=urls.web_search(q),
        total=page.total_estimated,
        next_offset=page.next_offset,
        current_offset=page.current_offset,
        value=[
            render_result(ctx, urls, q, r, custom_config, explain=_explanation(page, r, i))
            for i, r in enumerate(page.results, start=1)
        ],
        # Present only when true, as the reference's optional field is.
        extras={"adult_intent": True} if has_adult_intent(page.parsed.words) else None,
    )


def _explanation(page: SearchPage, result: Result, position: int) -> wire.JSON | None:
    if result.explain is None:
        return None
    return explain_result(result, page.parsed.words, page.current_offset + position)


def render_result(
    ctx: ApiContext,
    urls: Urls,
    q: str,
    result: Result,
    custom_config: str | None = None,
    *,
    explain: wire.JSON | None = None,
) -> wire.JSON:
    doc, facts = result.doc, result.doc.facts
    return wire.image_object(
        name=result.occurrence.title or doc.image_id,
        image_id=doc.image_id,
        urls=urls.for_result(q, doc, result.occurrence),
        width=facts.width,
        height=facts.height,
        content_size=facts.content_size,
        encoding_format=facts.encoding_format,
        date_published=doc.date_published,
        thumb_size=(facts.thumb_width, facts.thumb_height),
        accent_color=facts.accent_color,
        # a token from a custom search names its instance, so insights stay in the slice
        token=ctx.token_for(doc.image_id, custom_config),
        insights={
            "pages_including": result.pages,
            "available_sizes": result.sizes,
            # pages selling or cooking it; absent (not 0) when none, as the reference omits them
            "shopping_sources": sum(1 for o in doc.occurrences if o.offers) or None,
            "recipe_sources": sum(1 for o in doc.occurrences if o.recipe) or None,
        },
        explain=explain,
    )
