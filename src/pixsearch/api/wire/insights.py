"""Bing field names of ImageInsights modules and the Visual Search answer (ImageKnowledge)."""

from __future__ import annotations

from pixsearch.api.wire.images import JSON


def image_insights(
    *,
    token: str,
    best_query: JSON | None = None,
    caption: tuple[str, str] | None = None,
    pages_including: list[JSON] | None = None,
    tags: list[str] | None = None,
    modules: JSON | None = None,
) -> JSON:
    """An ImageInsights answer; modules without data are omitted, as the reference does.

    `modules` holds the other modules' payloads by pixsearch name (similar_images,
    similar_products, collections, shopping_sources, recipes, entity_groups).
    """
    out: JSON = {"_type": "ImageInsights", "imageInsightsToken": token}
    for name, value in (modules or {}).items():
        if value:
            out[_INSIGHT_FIELDS[name]] = value
    if best_query is not None:
        out["bestRepresentativeQuery"] = best_query
    if caption is not None:
        out["imageCaption"] = {
            "caption": caption[0],
            "dataSourceUrl": caption[1],
            "relatedSearches": [],
        }
    if pages_including:
        out["pagesIncluding"] = {"value": pages_including}
    if tags:
        out["imageTags"] = {"value": [{"name": tag} for tag in tags]}
    return out


# -- insights modules and visual search (ImageKnowledge) ------------------------

_INSIGHT_FIELDS = {
    "similar_images": "visuallySimilarImages",
    "similar_products": "visuallySimilarProducts",
    "collections": "relatedCollections",
    "shopping_sources": "shoppingSources",
    "recipes": "recipes",
    "entity_groups": "recognizedEntityGroups",
    "related_searches": "relatedSearches",
}


def module(value: list[JSON]) -> JSON:
    """The `{value: [...]}` wrapper of list modules (empty lists are omitted upstream)."""
    return {"value": value} if value else {}


def image_gallery(
    *, name: str, url: str, thumbnail_url: str, source: str, images: int, description: str
) -> JSON:
    return {
        "_type": "ImageGallery",
        "name": name,
        "url": url,
        "thumbnailUrl": thumbnail_url,
        "description": description,
        "source": source,
        "imagesCount": images,
        "followersCount": 0,
    }


def offer(
    *,
    name: str,
    url: str,
    seller: str,
    price: float | None,
    currency: str,
    availability: str | None,
) -> JSON:
    out: JSON = {
        "_type": "Offer",
        "name": name,
        "url": url,
        "seller": {"_type": "Organization", "name": seller},
        "priceCurrency": currency,
    }
    if price is not None:
        out["price"] = price
    if availability:
        out["availability"] = availability
    return out


def aggregate_offer(offers: list[JSON], *, name: str | None = None) -> JSON:
    """AggregateOffer: the offers, plus their lowest price and count."""
    prices = [o["price"] for o in offers if "price" in o]
    out: JSON = {"_type": "AggregateOffer", "offers": offers, "offerCount": len(offers)}
    if name:
        out["name"] = name
    if prices:
        cheapest = min(range(len(offers)), key=lambda i: offers[i].get("price", float("inf")))
        out["lowPrice"] = min(prices)
        out["priceCurrency"] = offers[cheapest]["priceCurrency"]
    return out


def recipe(
    *,
    name: str,
    url: str,
    thumbnail_url: str,
    description: str,
    times: tuple[str, str, str],
    rating: float | None,
) -> JSON:
    """A Recipe; `times` are ISO-8601 durations (cook, prep, total), empty when unknown."""
    out: JSON = {
        "_type": "Recipe",
        "name": name,
        "url": url,
        "thumbnailUrl": thumbnail_url,
        "description": description,
    }
    for key, value in zip(("cookTime", "prepTime", "totalTime"), times, strict=True):
        if value:
            out[key] = value
    if rating is not None and 1.0 <= rating <= 5.0:
        out["aggregateRating"] = {"_type": "AggregateRating", "ratingValue": rating}
    return out


def normalized_rectangle(box: tuple[float, float, float, float]) -> JSON:
    left, top, right, bottom = (round(v, 4) for v in box)
    return {
        "_type": "NormalizedRectangle",
        "left": left,
        "top": top,
        "right": right,
        "bottom": bottom,
    }


def entity_group(name: str, boxes: list[tuple[float, float, float, float]]) -> JSON:
    """A RecognizedEntityGroup of regions with no identity (`matchingEntities` empty)."""
    return {
        "name": name,
        "recognizedEntityRegions": [
            {"region": normalized_rectangle(box), "matchingEntities": []} for box in boxes
        ],
    }


def image_knowledge(*, token: str, tags: list[JSON]) -> JSON:
    return {"_type": "ImageKnowledge", "image": {"imageInsightsToken": token}, "tags": tags}


def image_tag(
    *,
    display_name: str,
    actions: list[JSON],
    box: tuple[float, float, float, float] | None = None,
    sources: list[str] | None = None,
) -> JSON:
    """An ImageTag; the default tag has display name "" and no bounding box."""
    out: JSON = {"_type": "ImageTag", "displayName": display_name, "actions": actions}
    if box is not None:
        out["boundingBox"] = {"queryRectangle": _quad(box), "displayRectangle": _quad(box)}
    if sources:
        out["sources"] = sources
    return out


def _quad(box: tuple[float, float, float, float]) -> JSON:
    left, top, right, bottom = (round(v, 4) for v in box)

    def point(x: float, y: float) -> JSON:
        return {"_type": "Point2D", "x": x, "y": y}

    return {
        "_type": "NormalizedQuadrilateral",
        "topLeft": point(left, top),
        "topRight": point(right, top),
        "bottomRight": point(right, bottom),
        "bottomLeft": point(left, bottom),
    }


# actionType -> the action's _type (the SDK builds the subclass from it, or drops `data`)
_ACTION_TYPES = {
    "PagesIncluding": "ImageModuleAction",
    "VisualSearch": "ImageModuleAction",
    "ProductVisualSearch": "ImageModuleAction",
    "ShoppingSources": "ImageShoppingSourcesAction",
    "Recipes": "ImageRecipesAction",
    "RelatedSearches": "ImageRelatedSearchesAction",
    "DocumentLevelSuggestions": "ImageRelatedSearchesAction",
}


def action(
    action_type: str,
    *,
    data: JSON | None = None,
    display_name: str | None = None,
    image: JSON | None = None,
    web_search_url: str | None = None,
    service_url: str | None = None,
    top: bool = False,
) -> JSON:
    out: JSON = {"_type": _ACTION_TYPES.get(action_type, "ImageAction"), "actionType": action_type}
    optional = {
        "displayName": display_name,
        "image": image,
        "webSearchUrl": web_search_url,
        "serviceUrl": service_url,
        "data": data,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if top:
        out["isTopAction"] = True
    return out


def module_data(
    value: list[JSON], *, offset: int | None = None, next_offset: int | None = None
) -> JSON:
    """ImageModuleAction data: images, with paging fields for VisualSearch."""
    out: JSON = {"value": value}
    if offset is not None:
        out["currentOffset"] = offset
    if next_offset is not None:
        out["nextOffset"] = next_offset
    return out
