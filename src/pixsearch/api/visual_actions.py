"""The tags and actions of a visual search answer, built from a picture's insights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixsearch.api import wire
from pixsearch.api.context import ApiContext
from pixsearch.api.insight_modules import (
    Scope,
    places,
    render_neighbour,
    render_offers,
    render_recipes,
    similar_images,
    similar_products,
)
from pixsearch.api.routes_search import render_result
from pixsearch.api.urls import Urls
from pixsearch.search import collections as pagefacts
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result

if TYPE_CHECKING:
    from pixsearch.api.routes_visualsearch import KnowledgeRequest

MAX_RELATED = 8
OCR_TAG = "##TextRecognition"  # internal tag name: clients never show it as a title


def knowledge_tags(
    ctx: ApiContext, urls: Urls, insights: Insights, scope: Scope, knowledge: KnowledgeRequest
) -> list[wire.JSON]:
    """The default tag (all actions), then a text-recognition tag when there is text."""
    q = insights.best_query or ""
    if knowledge.skill == "SimilarImages":
        actions = [visual_search_action(ctx, urls, q, insights, scope, knowledge)]
    elif knowledge.skill == "SimilarProducts":
        actions = [products_action(ctx, urls, q, insights, scope)]
    else:
        actions = [
            image_by_id(ctx, urls, q, insights, scope),
            best_query_action(urls, insights),
            pages_action(ctx, urls, q, insights, scope),
            visual_search_action(ctx, urls, q, insights, scope, knowledge),
            products_action(ctx, urls, q, insights, scope),
            shopping_action(insights),
            recipes_action(urls, insights),
            related_action(urls, insights),
        ]
    tags = [wire.image_tag(display_name="", actions=[a for a in actions if a is not None])]
    text = " ".join(str(getattr(insights.facts, "ocr_text", "") or "").split())
    if text:
        found = wire.action("TextResults", display_name=text[:500])
        tags.append(wire.image_tag(display_name=OCR_TAG, actions=[found], sources=["OCR"]))
    return tags


def image_by_id(
    ctx: ApiContext, urls: Urls, q: str, insights: Insights, scope: Scope
) -> wire.JSON | None:
    """The input picture's own ImageObject, when it is indexed."""
    doc = insights.doc
    if doc is None or doc.image_id != insights.image_id or not insights.pages:
        return None
    page = insights.pages[0]
    result = Result(doc, page.occurrence, 0.0, insights.sizes, len(insights.pages))
    image = render_result(ctx, urls, q, result, scope.custom_config)
    return wire.action("ImageById", image=image)


def best_query_action(urls: Urls, insights: Insights) -> wire.JSON | None:
    query = insights.best_query
    if not query:
        return None
    return wire.action(
        "BestRepresentativeQuery",
        display_name=query,
        web_search_url=urls.web_search(query),
        service_url=urls.api_search(query),
    )


def pages_action(
    ctx: ApiContext, urls: Urls, q: str, insights: Insights, scope: Scope
) -> wire.JSON | None:
    if not insights.pages:
        return None
    counts = (insights.sizes, len(insights.pages))
    value = [
        render_result(ctx, urls, q, Result(p.doc, p.occurrence, 0.0, *counts), scope.custom_config)
        for p in insights.pages
    ]
    return wire.action("PagesIncluding", data=wire.module_data(value))


def visual_search_action(
    ctx: ApiContext,
    urls: Urls,
    q: str,
    insights: Insights,
    scope: Scope,
    knowledge: KnowledgeRequest,
) -> wire.JSON | None:
    """Similar images, paged by the request's offset and count (nextOffset continues)."""
    found = similar_images(ctx, insights, scope, offset=knowledge.offset, count=knowledge.count)
    if not found and knowledge.skill is None:
        return None
    value = [render_neighbour(ctx, urls, q, n, scope) for n in found]
    data = wire.module_data(
        value, offset=knowledge.offset, next_offset=knowledge.offset + len(value)
    )
    return wire.action("VisualSearch", data=data, top=knowledge.skill is None)


def products_action(
    ctx: ApiContext, urls: Urls, q: str, insights: Insights, scope: Scope
) -> wire.JSON | None:
    found = similar_products(ctx, insights, scope)
    if not found:
        return None
    value = [render_neighbour(ctx, urls, q, n, scope, product=True) for n in found]
    return wire.action("ProductVisualSearch", data=wire.module_data(value))


def shopping_action(insights: Insights) -> wire.JSON | None:
    offers = render_offers(pagefacts.offers(places(insights)))
    if not offers:
        return None
    return wire.action("ShoppingSources", data=wire.aggregate_offer(offers))


def recipes_action(urls: Urls, insights: Insights) -> wire.JSON | None:
    recipes = render_recipes(urls, insights)
    return wire.action("Recipes", data=wire.module(recipes)) if recipes else None


def related_action(urls: Urls, insights: Insights) -> wire.JSON | None:
    """Searches for the picture's tags: its pages' words, then the classifier's."""
    words: list[str] = []
    for tag, _ in [*insights.tags, *insights.facts.tags]:
        if tag != insights.best_query and tag not in words:
            words.append(tag)
    words = words[:MAX_RELATED]
    if not words:
        return None
    value = [
        wire.query(w, web_search_url=urls.web_search(w), search_link=urls.api_search(w))
        for w in words
    ]
    return wire.action("RelatedSearches", data=wire.module(value))
