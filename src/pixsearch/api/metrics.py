"""GET /metrics, and the middleware that counts and times every request.

/metrics is guarded like /admin (the admin key in X-Admin-Key; with no admin
key set it answers 404, as it does with the metrics setting off). Requests are
labelled by their route's template (``/images/{image_id}``), never the URL
asked, so a crawler of random paths cannot grow the label set.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixsearch.api import errors
from pixsearch.api.routes_admin import _guard as admin_guard
from pixsearch.observe.metrics import (
    CONTENT_TYPE,
    HTTP_REQUESTS,
    HTTP_SECONDS,
    RATE_LIMITED,
    StoreCollector,
    exposition,
)

UNMATCHED = "(unmatched)"  # no route: a 404, or refused before routing (an over-long URL)
_QUOTA = b'"RateLimitExceeded"'  # the code of both refusals; a 403 with it is the monthly quota


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (Starlette leaves it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def metrics_route() -> Route:
    return Route("/metrics", metrics)


def metrics(request: Request) -> Response:
    # A plain function: Starlette runs it in a thread, and the store's counts take
    # about 0.4 s at a million images, which must not hold the event loop.
    if not request.app.state.ctx.settings.metrics:
        raise errors.not_found(request.url.path)
    ctx = admin_guard(request)
    return Response(exposition(StoreCollector(ctx.store.stats)), media_type=CONTENT_TYPE)


class RequestMetrics:
    """Count and time each HTTP request by route, method and status; count limit refusals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering
        limited = ""

        async def watch(message: Message) -> None:
            nonlocal status, limited
            if message["type"] == "http.response.start":
                status = message["status"]
                limited = "qps" if status == 429 else ""
            elif status == 403 and not limited and _QUOTA in message.get("body", b""):
                limited = "quota"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            labels = (route_template(scope), scope["method"], str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_SECONDS.labels(*labels).observe(time.perf_counter() - started)
            if limited:
                RATE_LIMITED.labels(limited).inc()
