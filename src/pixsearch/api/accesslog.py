"""One access log line per request, on the "pixsearch.access" logger.

Fields: trace_id (the BingAPIs-TraceId header of the answer), method, route
(the template, never the URL: queries are the users'), status, latency_ms,
result_count (what a handler left in ``request.state.result_count``) and
key_name (what api/auth.py left in ``request.state.key_name``: the key's name,
never the key). The client's address only with the log_client_ip setting.
Silent unless the logger is enabled for INFO (``--log-format json``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixsearch.api.metrics import route_template
from pixsearch.observe.logs import ACCESS_LOGGER

log = logging.getLogger(ACCESS_LOGGER)
TRACE_HEADER = b"bingapis-traceid"  # Starlette sends header names in lower case


class AccessLog:
    def __init__(self, app: ASGIApp, *, client_ip: bool = False) -> None:
        self.app = app
        self.client_ip = client_ip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        # The handlers' request.state is this dict: made here, so it is the same one.
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        status, trace_id = 500, None  # a crash before any answer: the server sends a 500

        async def watch(message: Message) -> None:
            nonlocal status, trace_id
            if message["type"] == "http.response.start":
                status = message["status"]
                trace_id = next(
                    (v.decode("latin-1") for k, v in message["headers"] if k == TRACE_HEADER),
                    None,
                )
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            method, route = scope["method"], route_template(scope)
            fields = {
                "trace_id": trace_id,
                "method": method,
                "route": route,
                "status": status,
                "latency_ms": latency_ms,
                "result_count": state.get("result_count"),
                "key_name": state.get("key_name"),
            }
            if self.client_ip and scope.get("client"):
                fields["client_ip"] = scope["client"][0]
            log.info("%s %s %s %.1f ms", method, route, status, latency_ms, extra=fields)
