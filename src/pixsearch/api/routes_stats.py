"""GET /stats: the index's counts, and how much of it each image analyzer covered.

An index built where a default model was missing lacks tags, similar images or
safe search for the pictures ingested then; an operator sees it here, as the
fraction of images each analyzer ran on, next to the analyzers this server's
settings name (listed even when they ran on nothing).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pixsearch.api.context import ApiContext
from pixsearch.index.store import ANALYZED_PREFIX


async def stats(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    counts = await run_in_threadpool(ctx.store.stats)  # a count over every row: off the loop
    configured = ctx.settings.analyzer_names
    if ctx.settings.clip_model_dir and "clip" not in configured:
        configured += ("clip",)
    return JSONResponse(with_coverage(counts, configured))


def with_coverage(counts: Mapping[str, int], configured: tuple[str, ...]) -> dict[str, object]:
    """The store's counts, its per-analyzer ones gathered under "analyzers" with fractions."""
    plain = {k: v for k, v in counts.items() if not k.startswith(ANALYZED_PREFIX)}
    ran = {k[len(ANALYZED_PREFIX) :]: v for k, v in counts.items() if k.startswith(ANALYZED_PREFIX)}
    images = plain.get("images", 0)
    analyzers = {
        name: {
            "images": ran.get(name, 0),
            "fraction": round(ran.get(name, 0) / images, 4) if images else 0.0,
            "configured": name in configured,
        }
        for name in sorted(set(ran) | set(configured))
    }
    return {**plain, "analyzers": analyzers}
