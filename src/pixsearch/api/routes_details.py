"""GET|POST /v7.0/images/details (and /bing/v7.0/images/details): image insights.

The image is named by insightsToken or id, fetched from imgUrl, or sent as the
request body (multipart form with an `image` part, or raw image bytes). The crop
parameters cal, cat, car, cab select a region of it first; the region is what
gets measured and embedded, so similar images follow the crop too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors, wire
from pixsearch.api.auth import admit, identify
from pixsearch.api.context import ApiContext
from pixsearch.api.errors import BingError
from pixsearch.api.fetchimage import fetch_image
from pixsearch.api.insight_modules import (
    Scope,
    analyzers_for,
    render_modules,
    scope_for,
    with_vector,
)
from pixsearch.api.multipart import read_parts
from pixsearch.api.params import Params
from pixsearch.api.responses import bing_json
from pixsearch.api.routes_custom import in_slice
from pixsearch.api.routes_search import render_result
from pixsearch.api.tokens import TokenClaims
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import process_bytes
from pixsearch.records import ImageFacts, Occurrence, Rejection
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result

MODULES = (
    "All",
    "BRQ",
    "Caption",
    "Collections",
    "PagesIncluding",
    "RecognizedEntities",
    "RelatedSearches",
    "ShoppingSources",
    "SimilarImages",
    "SimilarProducts",
    "Tags",
    "Recipes",
)
_BY_LOWER = {m.lower(): m for m in MODULES}
_CONFIG = PipelineConfig()


@dataclass(frozen=True, slots=True)
class Crop:
    left: float
    top: float
    right: float
    bottom: float


async def images_details(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    key = identify(request, ctx.keys) if ctx.settings.require_key else None
    params = Params(request.query_params)
    claims = verify_token(ctx, params)
    scope = claims.custom_config if claims else None
    if key is not None:
        admit(key, ctx.limiter, custom_config=scope)
    modules = parse_modules(params.text("modules"))
    crop = parse_crop(params)
    visibility = scope_for(ctx, params.enum("safeSearch") or "Moderate", scope)
    ctx.refresh()
    if request.method == "POST":
        data = await read_upload(request, ctx.settings.max_upload_bytes)
        insights = await insights_for_bytes(ctx, data, crop, modules)
    elif not claims and not params.text("id") and params.text("imgUrl"):
        data = await fetch_image(params.text("imgUrl") or "", ctx.settings)
        insights = await insights_for_bytes(ctx, data, crop, modules, parameter="imgUrl")
    else:
        insights = await insights_for_reference(ctx, params, claims, crop, modules)
    if scope:
        insights = confine(ctx, scope, insights)
    return bing_json(request, render(ctx, request, params, insights, modules, visibility))


async def insights_for_bytes(
    ctx: ApiContext, data: bytes, crop: Crop | None, modules: set[str], *, parameter: str = "image"
) -> Insights:
    """Measure (and embed) an uploaded or fetched picture; it gets a reusable token."""
    analyzers = await run_in_threadpool(analyzers_for, modules)  # the first call loads models
    facts, vector, thumb = await run_in_threadpool(measure_upload, data, crop, analyzers, parameter)
    ctx.uploads.put(facts, vector)
    # embedding and thumbnail let a crop the hash misses find its original, as at ingest
    return with_vector(ctx.insights.for_picture(facts, vector, thumb), vector)


def verify_token(ctx: ApiContext, params: Params) -> TokenClaims | None:
    token = params.text("insightsToken")
    if not token:
        return None
    claims = ctx.signer.verify(token)
    if claims is None:
        raise errors.invalid("insightsToken", token, "The token is not valid.")
    return claims


def confine(ctx: ApiContext, scope: str, insights: Insights) -> Insights:
    """A token from a custom search reveals only pages inside that instance's slice."""
    instance = ctx.instances.get(scope) if ctx.instances else None
    if instance is None:
        raise errors.invalid("insightsToken", scope, "The token's instance no longer exists.")
    pages = []
    for page in insights.pages:
        kept = in_slice(instance, page.doc)
        if kept is not None and page.occurrence in kept.occurrences:
            pages.append(page)
    if insights.doc is not None and in_slice(instance, insights.doc) is None:
        raise errors.invalid("insightsToken", scope, "No such image.")
    return replace(insights, pages=pages, caption=None if not pages else insights.caption)


def parse_modules(raw: str | None) -> set[str]:
    names = [m.strip() for m in (raw or "All").split(",") if m.strip()] or ["All"]
    chosen = set()
    for name in names:
        canonical = _BY_LOWER.get(name.lower())
        if canonical is None:
            raise errors.invalid("modules", raw or "", f"Allowed values: {', '.join(MODULES)}.")
        chosen.add(canonical)
    if "RecognizedEntities" in chosen and len(chosen) > 1:
        raise errors.invalid("modules", raw or "", "RecognizedEntities must be requested alone.")
    if "All" in chosen:
        chosen = set(MODULES) - {"All", "RecognizedEntities"}
    return chosen


def parse_crop(params: Params) -> Crop | None:
    names = ("cal", "cat", "car", "cab")
    raw = {name: params.text(name) for name in names}
    if all(v in (None, "") for v in raw.values()):
        return None
    values = {}
    defaults = {"cal": 0.0, "cat": 0.0, "car": 1.0, "cab": 1.0}  # the whole image
    for name, text in raw.items():
        try:
            values[name] = float(text) if text not in (None, "") else defaults[name]
        except ValueError:
            raise errors.invalid(name, text or "", "Expected a number from 0.0 to 1.0.") from None
        if not 0.0 <= values[name] <= 1.0:
            raise errors.invalid(name, text or "", "Expected a number from 0.0 to 1.0.")
    if values["cal"] >= values["car"] or values["cat"] >= values["cab"]:
        raise errors.invalid("cal", raw["cal"] or "", "The crop rectangle is empty.")
    crop_type = (params.text("ct") or "Rectangular").strip()
    if crop_type.lower() not in ("rectangular", "0"):
        raise errors.invalid("ct", crop_type, "The only crop type is Rectangular.")
    return Crop(values["cal"], values["cat"], values["car"], values["cab"])


async def read_upload(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _bad_image(f"The image is larger than {limit} bytes.")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        # Any single part, with or without a filename (a part without one would reach
        # Starlette's form parser as text and lose its bytes).
        parts = [p for p in await read_parts(request, limit + 64 * 1024) if p.data]
        upload = next((p for p in parts if p.name == "image"), parts[0] if parts else None)
        if upload is None:
            raise errors.missing("image")
        data = bytes(upload.data)
    else:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                break
        data = bytes(data)
    if not data:
        raise errors.missing("image")
    if len(data) > limit:
        raise _bad_image(f"The image is larger than {limit} bytes.")
    return data


def measure_upload(
    data: bytes, crop: Crop | None, analyzers: tuple[str, ...] = (), parameter: str = "image"
) -> tuple[ImageFacts, np.ndarray | None, bytes]:
    if crop is not None:
        data = crop_bytes(data, crop, parameter)
    config = replace(_CONFIG, analyzers=analyzers)
    result = process_bytes(data, Occurrence(source="upload"), config)
    if isinstance(result, Rejection) and result.reason == "crashed" and analyzers:
        # A model failing at run time costs its modules, not the whole answer.
        result = process_bytes(data, Occurrence(source="upload"), _CONFIG)
    if isinstance(result, Rejection):
        raise _bad_image(f"The image could not be read ({result.reason}).", parameter)
    return result.facts, result.embedding, result.thumbnail


def crop_bytes(data: bytes, crop: Crop, parameter: str = "image") -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            w, h = image.size
            box = (
                round(crop.left * w),
                round(crop.top * h),
                max(round(crop.right * w), round(crop.left * w) + 1),
                max(round(crop.bottom * h), round(crop.top * h) + 1),
            )
            region = image.convert("RGB").crop(box)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise _bad_image("The image could not be read.", parameter) from None
    out = io.BytesIO()
    region.save(out, "PNG")
    return out.getvalue()


async def insights_for_reference(
    ctx: ApiContext,
    params: Params,
    claims: TokenClaims | None,
    crop: Crop | None,
    modules: set[str],
) -> Insights:
    token = params.text("insightsToken")
    image_id = claims.image_id if claims else params.text("id")
    if not image_id:
        raise errors.missing("insightsToken")
    doc = ctx.store.get_by_image_id(image_id.strip().upper())
    if doc is None:
        facts = ctx.uploads.get(image_id.strip().upper())
        if facts is None:
            raise errors.invalid(
                "insightsToken" if token else "id", token or image_id, "No such image."
            )
        vector = ctx.uploads.vector(facts.image_id)
        return with_vector(ctx.insights.for_picture(facts), vector)
    if crop is not None:
        thumb = ctx.store.thumbnail(doc.facts.sha256)
        if thumb is None:
            raise errors.invalid("id", image_id, "The image has no stored pixels to crop.")
        return await insights_for_bytes(ctx, thumb, crop, modules)
    return ctx.insights.for_document(doc)


def render(
    ctx: ApiContext,
    request: Request,
    params: Params,
    insights: Insights,
    modules: set[str],
    visibility: Scope,
) -> wire.JSON:
    scope = visibility.custom_config
    urls = ctx.urls(request)
    q = params.text("q") or insights.best_query or ""
    pages = None
    counts = (insights.sizes, len(insights.pages))  # the badges agree with this answer
    if "PagesIncluding" in modules:
        pages = [
            render_result(ctx, urls, q, Result(p.doc, p.occurrence, 0.0, *counts), scope)
            for p in insights.pages
        ]
    best = None
    if "BRQ" in modules and insights.best_query:
        best = wire.query(
            insights.best_query,
            web_search_url=urls.web_search(insights.best_query),
            search_link=urls.api_search(insights.best_query),
        )
    return wire.image_insights(
        token=ctx.token_for(insights.image_id, scope),
        best_query=best,
        caption=insights.caption if "Caption" in modules else None,
        pages_including=pages,
        tags=[t for t, _ in insights.tags] if "Tags" in modules else None,
        modules=render_modules(ctx, urls, q, insights, modules, visibility),
    )


def _bad_image(why: str, parameter: str = "image") -> BingError:
    return errors.invalid(parameter, "", why)
