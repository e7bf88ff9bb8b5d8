"""POST /v7.0/images/visualsearch (and /bing/v7.0/…): ImageKnowledge, tags with actions.

The body is multipart: a `knowledgeRequest` part holding JSON (api/knowledge.py)
and/or an `image` part. Exactly one image source is allowed. The answer is one
default tag (displayName "", no box) whose actions are what pixsearch knows
about the picture, best first, and a `##TextRecognition` tag when the picture
has recognised text.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors, wire
from pixsearch.api.auth import admit, identify
from pixsearch.api.context import ApiContext
from pixsearch.api.fetchimage import fetch_image
from pixsearch.api.insight_scope import insight_scope
from pixsearch.api.knowledge import KnowledgeRequest, parse_knowledge
from pixsearch.api.multipart import read_parts
from pixsearch.api.params import Params
from pixsearch.api.render import Renderer
from pixsearch.api.responses import bing_json
from pixsearch.api.tokens import TokenClaims
from pixsearch.api.visual_actions import knowledge_tags
from pixsearch.observe.metrics import stage
from pixsearch.search.insights import Insights
from pixsearch.search.measure import UnreadablePicture, measure
from pixsearch.search.visual import NoPixels, PictureInsights, UnknownImage

TOKEN = "imageInfo.imageInsightsToken"


async def visual_search(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    key = identify(request, ctx.keys) if ctx.settings.require_key else None
    params = Params(request.query_params)
    safe = params.enum("safeSearch") or "Moderate"
    knowledge, image = await read_body(request, ctx.settings.max_upload_bytes)
    claims = _verify(ctx, knowledge.token) if knowledge.token else None
    custom_config = claims.custom_config if claims else None
    if key is not None:
        admit(key, ctx.limiter, custom_config=custom_config)
    scope = insight_scope(ctx, safe, custom_config)
    ctx.refresh()
    assert ctx.pictures is not None  # build_context makes it
    insights = await _insights(ctx.pictures, ctx, knowledge, image, claims)
    # filters.site narrows the similar images and products, not the pages of the picture
    similar = replace(scope.filters, sites=(knowledge.site,)) if knowledge.site else scope.filters
    with stage("insights"):
        insights = ctx.pictures.visible(scope.confine(insights), scope.filters)
        data = ctx.pictures.gather(
            insights, knowledge.modules, similar, offset=knowledge.offset, count=knowledge.count
        )
    with stage("render"):
        renderer = Renderer(ctx.urls(request), ctx.signer, custom_config=custom_config)
        tags = knowledge_tags(renderer, insights, data, knowledge)
        return bing_json(
            request, wire.image_knowledge(token=renderer.token(insights.image_id), tags=tags)
        )


async def _insights(
    pictures: PictureInsights,
    ctx: ApiContext,
    knowledge: KnowledgeRequest,
    image: bytes | None,
    claims: TokenClaims | None,
) -> Insights:
    if image is not None:
        return await _measured(pictures, image, knowledge, "image")
    if knowledge.url:
        data = await fetch_image(knowledge.url, ctx.settings, parameter="imageInfo.url")
        return await _measured(pictures, data, knowledge, "imageInfo.url")
    assert claims is not None  # read_body allows no request without an image source
    try:
        if knowledge.crop is not None:
            pixels = pictures.pixels_to_crop(claims.image_id)
            if pixels is not None:
                return await _measured(pictures, pixels, knowledge, "image")
        return pictures.of_image(claims.image_id)
    except NoPixels:
        raise errors.invalid("imageInfo.cropArea", "", "The image has no stored pixels.") from None
    except UnknownImage:
        raise errors.invalid(TOKEN, knowledge.token or "", "No such image.") from None


async def _measured(
    pictures: PictureInsights, data: bytes, knowledge: KnowledgeRequest, parameter: str
) -> Insights:
    try:
        measured = await run_in_threadpool(measure, data, knowledge.crop, knowledge.modules)
    except UnreadablePicture as exc:
        raise errors.invalid(parameter, "", str(exc)) from None
    return pictures.of_measured(measured)


def _verify(ctx: ApiContext, token: str) -> TokenClaims:
    claims = ctx.signer.verify(token)
    if claims is None:
        raise errors.invalid(TOKEN, token, "The token is not valid.")
    return claims


async def read_body(request: Request, limit: int) -> tuple[KnowledgeRequest, bytes | None]:
    """The knowledge request and the image part, checked: exactly one image source."""
    declared = request.headers.get("content-length")
    cap = limit + 64 * 1024  # the image plus the knowledge request and multipart framing
    if declared and declared.isdigit() and int(declared) > cap:
        raise errors.invalid("image", "", f"The image is larger than {limit} bytes.")
    parts = await read_parts(request, cap)
    text = next((p.text() for p in parts if p.name == "knowledgeRequest"), "")
    knowledge = parse_knowledge(text)
    images = [p for p in parts if p.name != "knowledgeRequest" and p.data]
    picked = next((p for p in images if p.name == "image"), images[0] if images else None)
    image = bytes(picked.data) if picked is not None else None
    if image is not None and len(image) > limit:
        raise errors.invalid("image", "", f"The image is larger than {limit} bytes.")
    sources = sum(x is not None and x != "" for x in (image, knowledge.url, knowledge.token))
    if sources == 0:
        raise errors.missing("image")
    if sources > 1:
        raise errors.invalid("image", "", "Send exactly one of image, imageInfo.url and token.")
    return knowledge, image
