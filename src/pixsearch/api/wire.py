"""The Bing v7 wire format: every Bing JSON field name is written here and only here.

Functions take pixsearch records plus the URLs this server minted for them
and return plain dicts ready for orjson.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pixsearch.api.errors import BingError

JSON = dict[str, Any]


def bing_datetime(moment: datetime) -> str:
    """Bing's timestamp shape: 2014-11-02T12:00:00.0000000Z (UTC, 7 fraction digits)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond * 10:07d}Z"


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
    return out


def insights_metadata(
    *,
    pages_including: int | None = None,
    available_sizes: int | None = None,
    shopping_sources: int | None = None,
    recipe_sources: int | None = None,
) -> JSON:
    counts = {
        "shoppingSourcesCount": shopping_sources,
        "recipeSourcesCount": recipe_sources,
        "pagesIncludingCount": pages_including,
        "availableSizesCount": available_sizes,
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
    """The Images answer of /images/search; `extras` may carry query_context additions."""
    context: JSON = {"originalQuery": original_query}
    for key, wire_key in (
        ("altered_query", "alteredQuery"),
        ("alteration_override_query", "alterationOverrideQuery"),
        ("adult_intent", "adultIntent"),
    ):
        if extras and extras.get(key) is not None:
            context[wire_key] = extras[key]
    return {
        "_type": "Images",
        "readLink": read_link,
        "webSearchUrl": web_search_url,
        "queryContext": context,
        "totalEstimatedMatches": total,
        "nextOffset": next_offset,
        "currentOffset": current_offset,
        "value": value,
    }


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


def image_insights(
    *,
    token: str,
    best_query: JSON | None = None,
    caption: tuple[str, str] | None = None,
    pages_including: list[JSON] | None = None,
    tags: list[str] | None = None,
) -> JSON:
    """An ImageInsights answer; modules without data are omitted, as the reference does."""
    out: JSON = {"_type": "ImageInsights", "imageInsightsToken": token}
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
