"""The Bing v7 wire format: every Bing JSON field name is written in this package and only here.

Functions take pixsearch records plus the URLs this server minted for them
and return plain dicts ready for orjson. `images` holds the search, error,
query and trending objects; `insights` the ImageInsights modules and the
Visual Search answer.
"""

from pixsearch.api.wire.images import (
    EXPLAIN_FIELD,
    JSON,
    bing_datetime,
    display_url,
    error_response,
    extend_images_answer,
    image_object,
    images_answer,
    insights_metadata,
    pivot_suggestions,
    query,
    suggestion_query,
    trending_images,
    trending_tile_image,
)
from pixsearch.api.wire.insights import (
    action,
    aggregate_offer,
    entity_group,
    image_gallery,
    image_insights,
    image_knowledge,
    image_tag,
    module,
    module_data,
    normalized_rectangle,
    offer,
    recipe,
)

__all__ = [
    "EXPLAIN_FIELD",
    "JSON",
    "action",
    "aggregate_offer",
    "bing_datetime",
    "display_url",
    "entity_group",
    "error_response",
    "extend_images_answer",
    "image_gallery",
    "image_insights",
    "image_knowledge",
    "image_object",
    "image_tag",
    "images_answer",
    "insights_metadata",
    "module",
    "module_data",
    "normalized_rectangle",
    "offer",
    "pivot_suggestions",
    "query",
    "recipe",
    "suggestion_query",
    "trending_images",
    "trending_tile_image",
]
