"""GET|POST /v7.0/images/details (and /bing/v7.0/images/details): image insights.

The image is named by insightsToken or id, fetched from imgUrl, or sent as the
request body (multipart form with an `image` part, or raw image bytes). The crop
parameters cal, cat, car, cab select a region of it first; the region is what
gets measured and embedded, so similar images follow the crop too. What the
picture is and what its modules hold comes from search/visual.py.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors, wire
from pixsearch.api.auth import admit, identify
from pixsearch.api.context import ApiContext
from pixsearch.api.errors import BingError
from pixsearch.api.fetchimage import fetch_image
from pixsearch.api.insight_modules import render_modules
from pixsearch.api.insight_scope import insight_scope
from pixsearch.api.multipart import read_parts
from pixsearch.api.params import Params
from pixsearch.api.render import Renderer
from pixsearch.api.responses import bing_json
from pixsearch.api.tokens import TokenClaims
from pixsearch.observe.metrics import stage
from pixsearch.search.insights import Insights
from pixsearch.search.measure import Crop, UnreadablePicture, measure
from pixsearch.search.visual import NoPixels, PictureInsights, UnknownImage

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


async def images_details(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    key = identify(request, ctx.keys) if ctx.settings.require_key else None
    params = Params(request.query_params)
    claims = verify_token(ctx, params)
    custom_config = claims.custom_config if claims else None
    if key is not None:
        admit(key, ctx.limiter, custom_config=custom_config)
    modules = parse_modules(params.text("modules"))
    crop = parse_crop(params)
    scope = insight_scope(ctx, params.enum("safeSearch") or "Moderate", custom_config)
    ctx.refresh()
    assert ctx.pictures is not None  # build_context makes it
    pictures = ctx.pictures
    if request.method == "POST":
        data = await read_upload(request, ctx.settings.max_upload_bytes)
        insights = await insights_for_bytes(pictures, data, crop, modules)
    elif not claims and not params.text("id") and params.text("imgUrl"):
        data = await fetch_image(params.text("imgUrl") or "", ctx.settings)
        insights = await insights_for_bytes(pictures, data, crop, modules, parameter="imgUrl")
    else:
        insights = await insights_for_reference(pictures, params, claims, crop, modules)
    with stage("insights"):
        insights = pictures.visible(scope.confine(insights), scope.filters)
        found = pictures.gather(insights, modules, scope.filters)
    with stage("render"):
        renderer = Renderer(ctx.urls(request), ctx.signer, custom_config=custom_config)
        q = params.text("q") or insights.best_query or ""
        payloads = render_modules(renderer, q, modules, found)
        return bing_json(request, render(renderer, q, insights, modules, payloads))


async def insights_for_bytes(
    pictures: PictureInsights,
    data: bytes,
    crop: Crop | None,
    modules: set[str],
    *,
    parameter: str = "image",
) -> Insights:
    """Measure (and embed) an uploaded or fetched picture; it gets a reusable token."""
    try:
        measured = await run_in_threadpool(measure, data, crop, modules)
    except UnreadablePicture as exc:
        raise _bad_image(str(exc), parameter) from None
    return pictures.of_measured(measured)


def verify_token(ctx: ApiContext, params: Params) -> TokenClaims | None:
    token = params.text("insightsToken")
    if not token:
        return None
    claims = ctx.signer.verify(token)
    if claims is None:
        raise errors.invalid("insightsToken", token, "The token is not valid.")
    return claims


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
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                break
        data = bytes(received)
    if not data:
        raise errors.missing("image")
    if len(data) > limit:
        raise _bad_image(f"The image is larger than {limit} bytes.")
    return data


async def insights_for_reference(
    pictures: PictureInsights,
    params: Params,
    claims: TokenClaims | None,
    crop: Crop | None,
    modules: set[str],
) -> Insights:
    token = params.text("insightsToken")
    image_id = claims.image_id if claims else params.text("id")
    if not image_id:
        raise errors.missing("insightsToken")
    try:
        if crop is not None:
            pixels = pictures.pixels_to_crop(image_id)
            if pixels is not None:
                return await insights_for_bytes(pictures, pixels, crop, modules)
        return pictures.of_image(image_id)
    except NoPixels:
        raise errors.invalid("id", image_id, "The image has no stored pixels to crop.") from None
    except UnknownImage:
        raise errors.invalid(
            "insightsToken" if token else "id", token or image_id, "No such image."
        ) from None


def render(
    renderer: Renderer, q: str, insights: Insights, modules: set[str], payloads: wire.JSON
) -> wire.JSON:
    best = None
    if "BRQ" in modules and insights.best_query:
        best = wire.query(
            insights.best_query,
            web_search_url=renderer.urls.web_search(insights.best_query),
            search_link=renderer.urls.api_search(insights.best_query),
        )
    return wire.image_insights(
        token=renderer.token(insights.image_id),
        best_query=best,
        caption=insights.caption if "Caption" in modules else None,
        pages_including=renderer.pages(q, insights) if "PagesIncluding" in modules else None,
        tags=[t for t, _ in insights.tags] if "Tags" in modules else None,
        modules=payloads,
    )


def _bad_image(why: str, parameter: str = "image") -> BingError:
    return errors.invalid(parameter, "", why)
