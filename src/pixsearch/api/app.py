"""The composition root of the server: builds the stages once and wires the routes."""

from __future__ import annotations

import gc
import logging
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from pixsearch import __version__
from pixsearch.api import errors
from pixsearch.api.accesslog import AccessLog
from pixsearch.api.context import ApiContext
from pixsearch.api.errors import BingError
from pixsearch.api.metrics import RequestMetrics, metrics_route
from pixsearch.api.openapi import openapi_document
from pixsearch.api.responses import bing_error
from pixsearch.api.routes_admin import admin_routes
from pixsearch.api.routes_custom import custom_images_search
from pixsearch.api.routes_details import images_details
from pixsearch.api.routes_media import image_page, original, thumbnail
from pixsearch.api.routes_page import page_routes
from pixsearch.api.routes_search import images_search
from pixsearch.api.routes_stats import stats
from pixsearch.api.routes_trending import images_trending
from pixsearch.api.routes_visualsearch import visual_search
from pixsearch.api.shardstatus import MissingShardsHeader, readyz
from pixsearch.api.tokens import TokenSigner
from pixsearch.config import Settings
from pixsearch.lifeline import die_with_multiprocessing_parent
from pixsearch.search.uploads import UploadCache
from pixsearch.search.visual import PictureInsights
from pixsearch.wiring import build_searcher, build_tenancy

log = logging.getLogger("pixsearch.api")
MAX_URL = 2048  # the reference's cap; it answers longer URLs with 404, we with 414


def build_context(settings: Settings) -> ApiContext:
    """The search side from the wiring root, with tenancy and uploads on top."""
    root = settings.index_dir
    tenancy = build_tenancy(settings)
    searcher = build_searcher(settings, query_log=tenancy.query_log, serving=True)
    searcher.warm()
    return ApiContext(
        settings=settings,
        store=searcher.store,
        search=searcher.search,
        keys=tenancy.keys,
        signer=TokenSigner.from_file(root / "secret.key"),
        limiter=tenancy.limiter,
        instances=tenancy.instances,
        pictures=PictureInsights(
            searcher.store, searcher.insights, UploadCache(root / "uploads"), searcher.search.adult
        ),
        query_log=tenancy.query_log,
        trending=searcher.trending,
        suggestions=searcher.suggestions,
    )


def tune_collector(young: int) -> None:
    """Run the garbage collector's young passes every `young` allocations (0: left as it is).

    The app factory runs once in each serving process, so this is where a worker is set
    up. Measured at 1M documents under the fresh-draw load (docs/benchmarks.md, session
    29): a median 4.52 -> 4.30 ms of server CPU a request at 20,000.
    """
    if young > 0:
        gc.set_threshold(young, *gc.get_threshold()[1:])


def create_app(settings: Settings | None = None, *, context: ApiContext | None = None) -> Starlette:
    die_with_multiprocessing_parent()  # `serve --workers N`: no worker outlives the supervisor
    settings = settings or Settings.load()
    tune_collector(settings.gc_young)
    ctx = context or build_context(settings)
    static = resources.files("pixsearch.web") / "static"
    routes = [
        *(Route(f"{prefix}/images/search", images_search) for prefix in ("/v7.0", "/bing/v7.0")),
        *(
            Route(f"{prefix}/images/details", images_details, methods=["GET", "POST"])
            for prefix in ("/v7.0", "/bing/v7.0")
        ),
        *(
            Route(f"{prefix}/images/trending", images_trending)
            for prefix in ("/v7.0", "/bing/v7.0")
        ),
        *(
            Route(f"{prefix}/images/visualsearch", visual_search, methods=["POST"])
            for prefix in ("/v7.0", "/bing/v7.0")
        ),
        *(
            Route(path, custom_images_search)
            for path in ("/bingcustomsearch/v7.0/images/search", "/v7.0/custom/images/search")
        ),
        *admin_routes(),
        Route("/th", thumbnail),
        Route("/files/{image_id}", original),
        Route("/images/{image_id}", image_page),
        Route("/openapi.json", lambda r: JSONResponse(openapi_document(__version__))),
        # Cheap on purpose (load balancers poll it): counting a million rows takes 0.4 s.
        Route("/healthz", lambda r: JSONResponse({"ok": True})),
        Route("/readyz", readyz),  # asks every shard of a sharded index
        Route("/stats", stats),
        metrics_route(),
        *page_routes(ctx),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            BingError: _on_bing_error,
            HTTPException: _on_http_error,
            Exception: _on_crash,
        },
    )
    app.state.ctx = ctx
    app.state.static = static
    app.add_middleware(MissingShardsHeader)
    app.add_middleware(_UrlLengthGuard)
    # Added last, so outermost: over-long URLs are counted and logged too.
    if ctx.settings.metrics:
        app.add_middleware(RequestMetrics)
    app.add_middleware(AccessLog, client_ip=ctx.settings.log_client_ip)
    return app


async def _on_bing_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BingError)
    return bing_error(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # Starlette names the route's methods in a set's order; sorted, every worker agrees.
        allow = (exc.headers or {}).get("Allow", "")
        methods = sorted({m.strip() for m in allow.split(",") if m.strip()})
        return bing_error(request, errors.method_not_allowed(request.method, methods))
    if exc.status_code == 404:
        return bing_error(request, errors.not_found(request.url.path))
    headers = dict(exc.headers) if exc.headers else None
    return bing_error(
        request, BingError(exc.status_code, "InvalidRequest", str(exc.detail), headers=headers)
    )


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return bing_error(request, errors.server_error())


class _UrlLengthGuard:
    """Refuse over-long URLs before any route parses them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) + 1
            if length > MAX_URL:
                response = bing_error(Request(scope), errors.uri_too_long(length, MAX_URL))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
