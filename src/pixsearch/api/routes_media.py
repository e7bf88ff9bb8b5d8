"""Key-less media routes: resized thumbnails, originals of local files, image pages."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from pixsearch.api import errors
from pixsearch.api.context import ApiContext
from pixsearch.api.params import Params
from pixsearch.api.thumbresize import MAX_SIDE, Resize, resize_jpeg

_MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
}
_CACHE = "public, max-age=86400"


async def thumbnail(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    params = Params(request.query_params)
    ident = (params.text("id") or "").removeprefix("OIP.")
    data = ctx.store.thumbnail(ident.lower())
    if data is None:
        raise errors.not_found(request.url.path)
    spec = Resize(
        width=_dimension(params, "w"),
        height=_dimension(params, "h"),
        crop=_dimension(params, "c"),
        pad=(params.text("p") or "1") != "0",
    )
    if not spec.is_identity:
        data = await run_in_threadpool(resize_jpeg, data, spec)
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": _CACHE})
    return Response(data, media_type="image/jpeg", headers={"ETag": etag, "Cache-Control": _CACHE})


def _dimension(params: Params, name: str) -> int | None:
    raw = params.text(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_SIDE:
        raise errors.invalid(name, raw, f"Expected a number from 1 to {MAX_SIDE}.")
    return int(raw)


async def original(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    doc = ctx.store.get_by_image_id(request.path_params["image_id"])
    if doc is None:
        raise errors.not_found(request.url.path)
    for occurrence in doc.occurrences:
        path = Path(occurrence.local_path) if occurrence.local_path else None
        if path is not None and path.is_file():
            media_type = _MEDIA_TYPES.get(doc.facts.encoding_format, "application/octet-stream")
            return FileResponse(path, media_type=media_type, headers={"Cache-Control": _CACHE})
    raise errors.not_found(request.url.path)


async def image_page(request: Request) -> Response:
    """A plain page about one image: the hostPageUrl of local files."""
    ctx: ApiContext = request.app.state.ctx
    doc = ctx.store.get_by_image_id(request.path_params["image_id"])
    if doc is None:
        raise errors.not_found(request.url.path)
    urls = ctx.urls(request)
    occurrence = doc.occurrences[0]
    title = html.escape(occurrence.title or doc.image_id)
    texts = "".join(
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(text)}</dd>"
        for o in doc.occurrences
        for name, text in o.text.items()
        if text
    )
    facts = doc.facts
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        f"<body><h1>{title}</h1><img src='{html.escape(urls.content(doc, occurrence))}' "
        f"alt='{title}' style='max-width:100%'><p>{facts.width} × {facts.height} · "
        f"{html.escape(facts.encoding_format)} · {facts.content_size} bytes</p>"
        f"<dl>{texts}</dl></body></html>"
    )
    return HTMLResponse(body)
