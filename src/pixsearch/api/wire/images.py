"""Bing field names of the Images answer, errors, queries and trending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pixsearch.api.errors import BingError

JSON = dict[str, Any]
EXPLAIN_FIELD = "pixsearchExplain"  # extension field of an ImageObject under debug=explain
# Results of the shapes below, kept: every image of every page formats its date and its
# page's address again, about a tenth of a served page's CPU at 1,000,000 documents.
SHAPES_KEPT = 65536


@lru_cache(maxsize=SHAPES_KEPT)
def bing_datetime(moment: datetime) -> str:
    """Bing's timestamp shape: 2014-11-02T12:00:00.0000000Z (UTC, 7 fraction digits)."""
    utc = moment.astimezone(UTC) if moment.tzinfo not in (None, UTC) else moment
    # isoformat, not strftime: a year before 1000 keeps its four digits ('0999-...'), where
    # strftime gives '999-...', which is not ISO 8601
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "0Z"


@lru_cache(maxsize=SHAPES_KEPT)
def display_url(url: str) -> str:
    parts = urlsplit(url)
    shown = (parts.netloc + parts.path).removeprefix("www.")
    return shown if len(shown) <= 80 else shown[:77] + "..."


def image_object(
    *,
    name: str,
    image_id: str,
    urls: JSON,
    width: int,
    height: int,
    content_size: int,
    encoding_format: str,
    date_published: datetime,
    thumb_size: tuple[int, int],
    accent_color: str,
    token: str,
    insights: JSON | None = None,
    explain: JSON | None = None,
) -> JSON:
    """An ImageObject. `urls` holds web_search, thumbnail, content and host_page URLs."""
    out: JSON = {
        "webSearchUrl": urls["web_search"],
        "name": name,
        "thumbnailUrl": urls["thumbnail"],
        "datePublished": bing_datetime(date_published),
        "isFamilyFriendly": True,
        "contentUrl": urls["content"],
        "hostPageUrl": urls["host_page"],
        "contentSize": f"{content_size} B",
        "encodingFormat": encoding_format,
        "hostPageDisplayUrl": display_url(urls["host_page"]),
        "width": width,
        "height": height,
        "thumbnail": {"width": thumb_size[0], "height": thumb_size[1]},
        "imageInsightsToken": token,
        "imageId": image_id,
        "accentColor": accent_color,
    }
    if insights:
        out["insightsMetadata"] = insights_metadata(**insights)
    if explain is not None:
        # Not a Bing field: pixsearch's debug=explain extension, ignored by official clients.
        out[EXPLAIN_FIELD] = explain
    return out


def insights_metadata(
    *,
    pages_including: int | None = None,
    available_sizes: int | None = None,
    shopping_sources: int | None = None,
    recipe_sources: int | None = None,
    aggregate_offer: JSON | None = None,
) -> JSON:
    counts: JSON = {
        "shoppingSourcesCount": shopping_sources,
        "recipeSourcesCount": recipe_sources,
        "pagesIncludingCount": pages_including,
        "availableSizesCount": available_sizes,
        "aggregateOffer": aggregate_offer,
    }
    return {k: v for k, v in counts.items() if v is not None}


def images_answer(
    *,
    original_query: str,
    read_link: str,
    web_search_url: str,
    total: int,
    next_offset: int,
    current_offset: int,
    value: list[JSON],
    extras: JSON | None = None,
) -> JSON:
    """The Images answer of /images/search.

    `extras` may carry query_context additions and the suggestion lists
    (expansions, pivots, similar, related) already rendered as Query objects.
    """
    out: JSON = {
        "_type": "Images",
        "readLink": read_link,
        "webSearchUrl": web_search_url,
        "queryContext": {"originalQuery": original_query},
        "totalEstimatedMatches": total,
        "nextOffset": next_offset,
        "currentOffset": current_offset,
        "value": value,
    }
    return extend_images_answer(out, extras) if extras else out


def extend_images_answer(
    answer: JSON, extras: JSON, mark: Callable[[str], str] | None = None
) -> JSON:
    """Adds query-context fields and suggestion lists to an Images answer, in place.

    `mark`, when given, rewrites each image's name (hit highlighting).
    """
    for key, wire_key in _CONTEXT_KEYS:
        if extras.get(key) is not None:
            answer["queryContext"][wire_key] = extras[key]
    for key, wire_key in _SUGGESTION_LISTS:
        if extras.get(key):
            answer[wire_key] = extras[key]
    if mark is not None:
        for image in answer["value"]:
            image["name"] = mark(image["name"])
    return answer


_CONTEXT_KEYS = (
    ("altered_query", "alteredQuery"),
    ("alteration_override_query", "alterationOverrideQuery"),
    ("adult_intent", "adultIntent"),
)
# Suggestion lists of the Images answer: extras key -> wire name (omitted when empty).
_SUGGESTION_LISTS = (
    ("expansions", "queryExpansions"),
    ("pivots", "pivotSuggestions"),
    ("similar", "similarTerms"),
    ("related", "relatedSearches"),
)


def suggestion_query(
    *, text: str, display: str, web_search_url: str, search_link: str, thumbnail_url: str | None
) -> JSON:
    """A Query of a suggestion list; expansions and pivots show only the changed word."""
    out: JSON = {
        "text": text,
        "displayText": display,
        "webSearchUrl": web_search_url,
        "searchLink": search_link,
    }
    if thumbnail_url:
        out["thumbnail"] = {"thumbnailUrl": thumbnail_url}
    return out


def pivot_suggestions(pivot: str, suggestions: list[JSON]) -> JSON:
    return {"pivot": pivot, "suggestions": suggestions}


def error_response(error: BingError) -> JSON:
    entry: JSON = {"code": error.code, "message": error.message}
    optional = {
        "subCode": error.sub_code,
        "moreDetails": error.more_details,
        "parameter": error.parameter,
        "value": error.value,
    }
    entry.update({k: v for k, v in optional.items() if v is not None})
    return {"_type": "ErrorResponse", "errors": [entry]}


def query(text: str, *, web_search_url: str, search_link: str | None = None) -> JSON:
    out: JSON = {"text": text, "displayText": text, "webSearchUrl": web_search_url}
    if search_link:
        out["searchLink"] = search_link
    return out


def trending_tile_image(
    *, urls: JSON, image_id: str, width: int, height: int, thumb_size: tuple[int, int]
) -> JSON:
    """The reduced ImageObject of a trending tile."""
    return {
        "thumbnailUrl": urls["thumbnail"],
        "contentUrl": urls["content"],
        "width": width,
        "height": height,
        "thumbnail": {"width": thumb_size[0], "height": thumb_size[1]},
        "imageId": image_id,
    }


def trending_images(categories: list[tuple[str, list[tuple[JSON, JSON]]]]) -> JSON:
    """TrendingImages: categories of (title, [(query, image)])."""
    return {
        "_type": "TrendingImages",
        "categories": [
            {"title": title, "tiles": [{"query": q, "image": image} for q, image in tiles]}
            for title, tiles in categories
        ],
    }
