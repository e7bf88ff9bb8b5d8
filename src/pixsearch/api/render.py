"""Search and insights records as Bing answers: the renderers several routes share.

A Renderer carries what every rendered image needs: the URLs this server mints
and the signer of its imageInsightsTokens, which name the custom instance the
image was found through so that insights stay inside that slice. The
`pixsearch search` command renders with it too, without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pixsearch.api import wire
from pixsearch.api.tokens import TokenClaims, TokenSigner
from pixsearch.api.urls import Urls
from pixsearch.search.adult import has_adult_intent
from pixsearch.search.collections import Collection, Offer, Recipe, to_offer
from pixsearch.search.explain import explain_result
from pixsearch.search.insights import Insights
from pixsearch.search.service import Result, SearchPage
from pixsearch.search.similar import Neighbour


@dataclass(frozen=True, slots=True)
class Renderer:
    urls: Urls
    signer: TokenSigner
    custom_config: str | None = None  # the instance searched; its tokens name it

    def token(self, image_id: str) -> str:
        return self.signer.sign(TokenClaims(image_id=image_id, custom_config=self.custom_config))

    def answer(self, q: str, page: SearchPage) -> wire.JSON:
        """The Images answer of a search page."""
        return wire.images_answer(
            original_query=q,
            read_link=self.urls.api_search(q),
            web_search_url=self.urls.web_search(q),
            total=page.total_estimated,
            next_offset=page.next_offset,
            current_offset=page.current_offset,
            value=[
                self.result(q, r, explain=_explanation(page, r, i))
                for i, r in enumerate(page.results, start=1)
            ],
            # Present only when true, as the reference's optional field is.
            extras={"adult_intent": True} if has_adult_intent(page.parsed.words) else None,
        )

    def result(self, q: str, result: Result, *, explain: wire.JSON | None = None) -> wire.JSON:
        doc, facts = result.doc, result.doc.facts
        image_id = facts.image_id
        return wire.image_object(
            name=result.occurrence.title or image_id,
            image_id=image_id,
            urls=self.urls.for_result(q, doc, result.occurrence),
            width=facts.width,
            height=facts.height,
            content_size=facts.content_size,
            encoding_format=facts.encoding_format,
            date_published=doc.date_published,
            thumb_size=(facts.thumb_width, facts.thumb_height),
            accent_color=facts.accent_color,
            token=self.token(image_id),
            insights={
                "pages_including": result.pages,
                "available_sizes": result.sizes,
                # pages selling or cooking it; absent (not 0) when none, as the reference omits them
                "shopping_sources": sum(1 for o in doc.occurrences if o.offers) or None,
                "recipe_sources": sum(1 for o in doc.occurrences if o.recipe) or None,
            },
            explain=explain,
        )

    def pages(self, q: str, insights: Insights) -> list[wire.JSON]:
        """The pages including the picture, as images whose badges agree with the insights
        (every page counted, also those past the listed ones)."""
        counts = (insights.sizes, max(insights.page_count, len(insights.pages)))
        return [self.result(q, Result(p.doc, p.occurrence, 0.0, *counts)) for p in insights.pages]

    def neighbour(self, q: str, n: Neighbour, *, product: bool = False) -> wire.JSON:
        """A similar image; a similar product also carries its offers."""
        out = self.result(q, Result(n.doc, n.occurrence, n.score, n.sizes, n.pages))
        if product and n.offers:
            page = n.occurrence.host_page_url or n.occurrence.content_url or ""
            priced = offers(to_offer(o, name=n.occurrence.title, url=page) for o in n.offers)
            metadata = out.setdefault("insightsMetadata", {})
            metadata.update(
                wire.insights_metadata(
                    aggregate_offer=wire.aggregate_offer(priced, name=n.occurrence.title),
                    shopping_sources=len(priced),
                )
            )
        return out


def _explanation(page: SearchPage, result: Result, position: int) -> wire.JSON | None:
    if result.explain is None:
        return None
    return explain_result(result, page.parsed.words, page.current_offset + position)


def offers(found: Iterable[Offer]) -> list[wire.JSON]:
    return [
        wire.offer(
            name=o.name,
            url=o.url,
            seller=o.seller,
            price=o.price,
            currency=o.currency,
            availability=o.availability,
        )
        for o in found
    ]


def recipes(urls: Urls, found: Iterable[Recipe]) -> list[wire.JSON]:
    return [
        wire.recipe(
            name=r.name,
            url=r.url,
            thumbnail_url=urls.thumbnail(r.thumbnail_sha),
            description=r.description,
            times=(r.cook_time, r.prep_time, r.total_time),
            rating=r.rating,
        )
        for r in found
    ]


def collections(urls: Urls, found: Iterable[Collection]) -> list[wire.JSON]:
    return [
        wire.image_gallery(
            name=c.name,
            url=c.url,
            thumbnail_url=urls.thumbnail(c.thumbnail_sha),
            source=c.source,
            images=c.images,
            description=c.description,
        )
        for c in found
    ]
