"""schema.org facts from JSON-LD blocks: images, licence, dates, Product offers, Recipe facts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

IMAGE_TYPES = {"ImageObject", "Product", "Recipe", "Article", "NewsArticle", "BlogPosting"}
RECIPE_KEYS = (
    "name",
    "recipeYield",
    "totalTime",
    "cookTime",
    "prepTime",
    "recipeCategory",
    "recipeCuisine",
)


@dataclass(slots=True)
class LdImage:
    url: str
    caption: str = ""
    name: str = ""
    license_url: str | None = None


@dataclass(slots=True)
class LdFacts:
    images: list[LdImage] = field(default_factory=list)
    license_url: str | None = None
    date_published: str | None = None
    offers: list[dict[str, str]] = field(default_factory=list)
    recipe: dict[str, Any] | None = None


def parse_blocks(blocks: list[str]) -> LdFacts:
    """Facts from the text of every ld+json script; broken JSON is skipped, not fatal."""
    facts = LdFacts()
    for block in blocks:
        try:
            data = orjson.loads(block.strip().encode())
        except orjson.JSONDecodeError:
            continue
        for node in _nodes(data):
            _absorb(node, facts)
    return facts


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every typed object, through lists and @graph."""
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    return {str(k) for k in kind} if isinstance(kind, list) else {str(kind)}


def _absorb(node: dict[str, Any], facts: LdFacts) -> None:
    types = _types(node)
    license_url = _text(node.get("license")) or None
    if license_url and facts.license_url is None and "ImageObject" not in types:
        facts.license_url = license_url
    if facts.date_published is None and _text(node.get("datePublished")):
        facts.date_published = _text(node.get("datePublished"))
    if "ImageObject" in types:
        facts.images.extend(_images(node))
    elif types & IMAGE_TYPES:
        facts.images.extend(_images(node.get("image")))
    if "Product" in types:
        facts.offers.extend(_offers(node.get("offers")))
    if "Recipe" in types and facts.recipe is None:
        facts.recipe = _recipe(node)


def _images(value: Any) -> Iterator[LdImage]:
    if isinstance(value, str):
        yield LdImage(url=value)
    elif isinstance(value, list):
        for item in value:
            yield from _images(item)
    elif isinstance(value, dict):
        url = _text(value.get("contentUrl")) or _text(value.get("url"))
        if url:
            yield LdImage(
                url=url,
                caption=_text(value.get("caption")) or _text(value.get("description")),
                name=_text(value.get("name")),
                license_url=_text(value.get("license")) or None,
            )


def _offers(value: Any) -> Iterator[dict[str, str]]:
    if isinstance(value, list):
        for item in value:
            yield from _offers(item)
        return
    if not isinstance(value, dict):
        return
    if "AggregateOffer" in _types(value) and "offers" in value:
        yield from _offers(value["offers"])
    seller = value.get("seller")
    offer = {
        "price": _text(value.get("price") or value.get("lowPrice")),
        "currency": _text(value.get("priceCurrency")),
        "seller": _text(seller.get("name")) if isinstance(seller, dict) else _text(seller),
        "availability": _text(value.get("availability")).rsplit("/", 1)[-1],
    }
    if any(offer.values()):
        yield offer


def _recipe(node: dict[str, Any]) -> dict[str, Any]:
    recipe: dict[str, Any] = {k: _text(node.get(k)) for k in RECIPE_KEYS if node.get(k)}
    ingredients = node.get("recipeIngredient")
    if isinstance(ingredients, list):
        recipe["ingredients"] = [_text(i) for i in ingredients if _text(i)][:100]
    rating = node.get("aggregateRating")
    if isinstance(rating, dict) and rating.get("ratingValue") is not None:
        recipe["rating"] = _text(rating.get("ratingValue"))
    return recipe


def _text(value: Any) -> str:
    """A plain string from a JSON-LD value (string, number, {"@id"}/{"url"} object, list)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return _text(value.get("@id") or value.get("url") or value.get("name"))
    if isinstance(value, list) and value:
        return _text(value[0])
    return ""
