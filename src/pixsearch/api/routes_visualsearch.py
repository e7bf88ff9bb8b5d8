"""POST /v7.0/images/visualsearch (and /bing/v7.0/…): ImageKnowledge, tags with actions.

The body is multipart: a `knowledgeRequest` part holding JSON (imageInfo with a
url, an imageInsightsToken or a cropArea; filters.site; invokedSkills with
offset/count for paging) and/or an `image` part. Exactly one image source is
allowed. The answer is one default tag (displayName "", no box) whose actions
are what pixsearch knows about the picture, best first, and a `##TextRecognition`
tag when the picture has recognised text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pixsearch.api import errors, wire
from pixsearch.api.auth import admit, identify
from pixsearch.api.context import ApiContext
from pixsearch.api.fetchimage import fetch_image
from pixsearch.api.insight_modules import Scope, scope_for
from pixsearch.api.multipart import read_parts
from pixsearch.api.params import Params
from pixsearch.api.responses import bing_json
from pixsearch.api.routes_details import Crop, confine, insights_for_bytes
from pixsearch.api.tokens import TokenClaims
from pixsearch.api.visual_actions import knowledge_tags
from pixsearch.search.insights import Insights

MODULES = {"PagesIncluding", "SimilarImages", "SimilarProducts", "ShoppingSources", "Recipes"}
MAX_COUNT = 150


@dataclass(frozen=True, slots=True)
class KnowledgeRequest:
    url: str | None = None
    token: str | None = None
    crop: Crop | None = None
    site: str | None = None
    skill: str | None = None  # "SimilarImages" | "SimilarProducts": one paged module only
    offset: int = 0
    count: int = 30


async def visual_search(request: Request) -> Response:
    ctx: ApiContext = request.app.state.ctx
    key = identify(request, ctx.keys) if ctx.settings.require_key else None
    params = Params(request.query_params)
    safe = params.enum("safeSearch") or "Moderate"
    knowledge, image = await read_body(request, ctx.settings.max_upload_bytes)
    claims = _verify(ctx, knowledge.token) if knowledge.token else None
    scope = claims.custom_config if claims else None
    if key is not None:
        admit(key, ctx.limiter, custom_config=scope)
    visibility = scope_for(ctx, safe, scope)
    if knowledge.site:
        visibility = Scope(replace(visibility.filters, sites=(knowledge.site,)), scope)
    ctx.refresh()
    insights = await _insights(ctx, knowledge, image, claims)
    if scope:
        insights = confine(ctx, scope, insights)
    tags = knowledge_tags(ctx, ctx.urls(request), insights, visibility, knowledge)
    token = ctx.token_for(insights.image_id, scope)
    return bing_json(request, wire.image_knowledge(token=token, tags=tags))


async def _insights(
    ctx: ApiContext, knowledge: KnowledgeRequest, image: bytes | None, claims: TokenClaims | None
) -> Insights:
    modules = MODULES | {"Tags"}
    if image is not None:
        return await insights_for_bytes(ctx, image, knowledge.crop, modules)
    if knowledge.url:
        data = await fetch_image(knowledge.url, ctx.settings, parameter="imageInfo.url")
        return await insights_for_bytes(
            ctx, data, knowledge.crop, modules, parameter="imageInfo.url"
        )
    assert claims is not None
    doc = ctx.store.get_by_image_id(claims.image_id)
    if doc is not None and knowledge.crop is None:
        return ctx.insights.for_document(doc)
    if doc is not None:
        thumb = ctx.store.thumbnail(doc.facts.sha256)
        if thumb is None:
            raise errors.invalid("imageInfo.cropArea", "", "The image has no stored pixels.")
        return await insights_for_bytes(ctx, thumb, knowledge.crop, modules)
    facts = ctx.uploads.get(claims.image_id)
    if facts is None:
        raise errors.invalid(
            "imageInfo.imageInsightsToken", knowledge.token or "", "No such image."
        )
    insights = ctx.insights.for_picture(facts)
    vector = ctx.uploads.vector(facts.image_id)
    return replace(insights, vector=vector) if vector is not None else insights


def _verify(ctx: ApiContext, token: str) -> TokenClaims:
    claims = ctx.signer.verify(token)
    if claims is None:
        raise errors.invalid("imageInfo.imageInsightsToken", token, "The token is not valid.")
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


def parse_knowledge(text: str) -> KnowledgeRequest:
    if not text.strip():
        return KnowledgeRequest()
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise errors.invalid("knowledgeRequest", text[:200], "Expected a JSON object.") from None
    if not isinstance(body, dict):
        raise errors.invalid("knowledgeRequest", text[:200], "Expected a JSON object.")
    info = _object(body, "imageInfo")
    inner = _object(body, "knowledgeRequest")
    skills = inner.get("invokedSkills") or []
    skill = skills[0] if isinstance(skills, list) and skills else None
    if skill is not None and skill not in ("SimilarImages", "SimilarProducts"):
        raise errors.invalid("knowledgeRequest.invokedSkills", str(skill), "Unknown skill.")
    return KnowledgeRequest(
        url=_string(info, "url"),
        token=_string(info, "imageInsightsToken"),
        crop=_crop(info.get("cropArea")),
        site=_string(_object(inner, "filters"), "site"),
        skill=skill,
        offset=_integer(inner, "offset", 0, 10_000),
        count=_integer(inner, "count", 30, MAX_COUNT),
    )


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise errors.invalid(name, str(value)[:200], "Expected a JSON object.")
    return value


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.invalid(name, str(value)[:200], "Expected a string.")
    return value


def _integer(body: dict[str, Any], name: str, default: int, high: int) -> int:
    value = body.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.invalid(
            f"knowledgeRequest.{name}", str(value)[:50], "Expected a number."
        ) from None
    if not 0 <= number <= high:
        raise errors.invalid(f"knowledgeRequest.{name}", str(value), f"Expected 0 to {high}.")
    return number


def _crop(value: Any) -> Crop | None:
    if value is None:
        return None
    names = ("left", "top", "right", "bottom")
    if not isinstance(value, dict) or any(not isinstance(value.get(n), int | float) for n in names):
        raise errors.invalid(
            "imageInfo.cropArea", str(value)[:200], "Needs top, left, right, bottom."
        )
    left, top, right, bottom = (float(value[n]) for n in names)
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise errors.invalid(
            "imageInfo.cropArea", str(value)[:200], "Expected 0 <= left < right <= 1."
        )
    return Crop(left, top, right, bottom)
