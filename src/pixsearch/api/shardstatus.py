"""Shard state over HTTP: the shards an answer was made without, and /readyz.

A sharded store answers without a shard that fails or times out
(index/sharded/scatter.py); the response then names the missing shards in
``X-Pixsearch-Missing-Shards`` (comma-separated) so that a client or a proxy
can tell a partial answer from a whole one. ``/readyz`` asks every shard now
(``/healthz`` stays free of any lookup, for load balancers that poll it).
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixsearch.api.context import ApiContext
from pixsearch.index.sharded.merge import ShardedStore
from pixsearch.index.sharded.scatter import watching_shards

HEADER = "X-Pixsearch-Missing-Shards"


class MissingShardsHeader:
    """Adds the header naming the shards left out of this request's answers, if any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with watching_shards() as missing:

            async def send_noting(message: Message) -> None:
                if message["type"] == "http.response.start" and missing:
                    MutableHeaders(scope=message).append(HEADER, ",".join(sorted(missing)))
                await send(message)

            await self.app(scope, receive, send_noting)


async def readyz(request: Request) -> Response:
    """200 with every shard's state ("degraded" when some do not answer); 503 when none does."""
    ctx: ApiContext = request.app.state.ctx
    if not isinstance(ctx.store, ShardedStore):
        return JSONResponse({"status": "ok", "shards": []})
    states = await run_in_threadpool(ctx.store.health)
    live = sum(state.ok for state in states)
    status = "ok" if live == len(states) else "degraded" if live else "down"
    body = {"status": status, "shards": [asdict(state) for state in states]}
    return JSONResponse(body, status_code=503 if status == "down" else 200)
