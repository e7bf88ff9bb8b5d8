"""The tags and actions of a visual search answer, rendered from a picture's insights."""

from __future__ import annotations

from pixsearch.api import render, wire
from pixsearch.api.knowledge import KnowledgeRequest
from pixsearch.api.render import Renderer
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result
from pixsearch.search.visual import ModuleData

MAX_RELATED = 8
OCR_TAG = "##TextRecognition"  # internal tag name: clients never show it as a title


def knowledge_tags(
    renderer: Renderer, insights: Insights, data: ModuleData, knowledge: KnowledgeRequest
) -> list[wire.JSON]:
    """The default tag (all actions), then a text-recognition tag when there is text."""
    q = insights.best_query or ""
    if knowledge.skill == "SimilarImages":
        actions = [visual_search_action(renderer, q, data, knowledge)]
    elif knowledge.skill == "SimilarProducts":
        actions = [products_action(renderer, q, data)]
    else:
        actions = [
            image_by_id(renderer, q, insights),
            best_query_action(renderer, insights),
            pages_action(renderer, q, insights),
            visual_search_action(renderer, q, data, knowledge),
            products_action(renderer, q, data),
            shopping_action(data),
            recipes_action(renderer, data),
            related_action(renderer, insights),
        ]
    tags = [wire.image_tag(display_name="", actions=[a for a in actions if a is not None])]
    text = " ".join(str(getattr(insights.facts, "ocr_text", "") or "").split())
    if text:
        found = wire.action("TextResults", display_name=text[:500])
        tags.append(wire.image_tag(display_name=OCR_TAG, actions=[found], sources=["OCR"]))
    return tags


def image_by_id(renderer: Renderer, q: str, insights: Insights) -> wire.JSON | None:
    """The input picture's own ImageObject, when it is indexed."""
    doc = insights.doc
    if doc is None or doc.image_id != insights.image_id or not insights.pages:
        return None
    page = insights.pages[0]
    result = Result(doc, page.occurrence, 0.0, insights.sizes, max(insights.page_count, 1))
    return wire.action("ImageById", image=renderer.result(q, result))


def best_query_action(renderer: Renderer, insights: Insights) -> wire.JSON | None:
    query = insights.best_query
    if not query:
        return None
    return wire.action(
        "BestRepresentativeQuery",
        display_name=query,
        web_search_url=renderer.urls.web_search(query),
        service_url=renderer.urls.api_search(query),
    )


def pages_action(renderer: Renderer, q: str, insights: Insights) -> wire.JSON | None:
    if not insights.pages:
        return None
    return wire.action("PagesIncluding", data=wire.module_data(renderer.pages(q, insights)))


def visual_search_action(
    renderer: Renderer, q: str, data: ModuleData, knowledge: KnowledgeRequest
) -> wire.JSON | None:
    """Similar images, paged by the request's offset and count (nextOffset continues)."""
    found = data.similar_images
    if not found and knowledge.skill is None:
        return None
    value = [renderer.neighbour(q, n) for n in found]
    paged = wire.module_data(
        value, offset=knowledge.offset, next_offset=knowledge.offset + len(value)
    )
    return wire.action("VisualSearch", data=paged, top=knowledge.skill is None)


def products_action(renderer: Renderer, q: str, data: ModuleData) -> wire.JSON | None:
    if not data.similar_products:
        return None
    value = [renderer.neighbour(q, n, product=True) for n in data.similar_products]
    return wire.action("ProductVisualSearch", data=wire.module_data(value))


def shopping_action(data: ModuleData) -> wire.JSON | None:
    offers = render.offers(data.offers)
    if not offers:
        return None
    return wire.action("ShoppingSources", data=wire.aggregate_offer(offers))


def recipes_action(renderer: Renderer, data: ModuleData) -> wire.JSON | None:
    recipes = render.recipes(renderer.urls, data.recipes)
    return wire.action("Recipes", data=wire.module(recipes)) if recipes else None


def related_action(renderer: Renderer, insights: Insights) -> wire.JSON | None:
    """Searches for the picture's tags: its pages' words, then the classifier's."""
    words: list[str] = []
    for tag, _ in [*insights.tags, *insights.facts.tags]:
        if tag != insights.best_query and tag not in words:
            words.append(tag)
    words = words[:MAX_RELATED]
    if not words:
        return None
    urls = renderer.urls
    value = [
        wire.query(w, web_search_url=urls.web_search(w), search_link=urls.api_search(w))
        for w in words
    ]
    return wire.action("RelatedSearches", data=wire.module(value))
