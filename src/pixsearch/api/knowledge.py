"""The knowledgeRequest part of a visual search: its JSON, checked, as a KnowledgeRequest.

imageInfo holds a url, an imageInsightsToken or a cropArea; knowledgeRequest
holds filters.site and invokedSkills with offset/count for paging one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from pixsearch.api import errors
from pixsearch.search.measure import Crop

MAX_COUNT = 150
# What a visual search answer is made of; an invoked skill asks for its module alone.
MODULES = frozenset({"SimilarImages", "SimilarProducts", "ShoppingSources", "Recipes"})
SKILLS = ("SimilarImages", "SimilarProducts")


@dataclass(frozen=True, slots=True)
class KnowledgeRequest:
    url: str | None = None
    token: str | None = None
    crop: Crop | None = None
    site: str | None = None
    skill: str | None = None  # "SimilarImages" | "SimilarProducts": one paged module only
    offset: int = 0
    count: int = 30

    @property
    def modules(self) -> frozenset[str]:
        """The insights modules whose data the answer shows."""
        return frozenset({self.skill}) if self.skill else MODULES


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
    if skill is not None and skill not in SKILLS:
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
