"""Spelling correction and suggestion lists in the Images answer (issue 6).

Kept apart from routes_search so the search route only calls two functions:
`search_with_spelling` instead of the plain search, and `add_suggestions` on
the rendered answer.
"""

from __future__ import annotations

from functools import partial

from pixsearch.api import wire
from pixsearch.api.context import ApiContext
from pixsearch.api.urls import Urls
from pixsearch.search.highlight import highlight
from pixsearch.search.service import SearchPage, SearchRequest
from pixsearch.search.suggest import Spelling, Suggestion, Suggestions


def search_with_spelling(ctx: ApiContext, request: SearchRequest) -> tuple[SearchPage, Spelling]:
    """The page for the request, or for its spelling correction when that finds far more."""
    if ctx.suggestions is None:
        return ctx.search.search(request), Spelling()
    return ctx.suggestions.search(request)


def add_suggestions(
    ctx: ApiContext,
    urls: Urls,
    answer: wire.JSON,
    request: SearchRequest,
    page: SearchPage,
    spelling: Spelling,
    *,
    market: str,
    decorations: bool = False,
    text_format: str = "Raw",
    scope: str = "",
) -> wire.JSON:
    """Adds alteredQuery / alterationOverrideQuery and the suggestion lists to `answer`."""
    searched = spelling.altered or request.q
    found = Suggestions()
    if ctx.suggestions is not None and page.current_offset == 0:
        found = ctx.suggestions.suggest(request, page, searched, market=market, scope=scope)
    words = page.parsed.words
    mark = partial(highlight, words=words, fmt=text_format) if decorations else None

    def query(s: Suggestion, *, marked: bool = False) -> wire.JSON:
        display = mark(s.display) if mark is not None and marked else s.display
        return wire.suggestion_query(
            text=s.text,
            display=display,
            web_search_url=urls.web_search(s.text),
            search_link=urls.api_search(s.text),
            thumbnail_url=urls.thumbnail(s.image.facts.sha256) if s.image else None,
        )

    extras: wire.JSON = {
        "altered_query": spelling.altered,
        "alteration_override_query": spelling.override,
        "expansions": [query(s) for s in found.expansions],
        "pivots": [
            wire.pivot_suggestions(pivot, [query(s) for s in ss]) for pivot, ss in found.pivots
        ],
        "similar": [query(s) for s in found.similar],
        "related": [query(s, marked=True) for s in found.related],
    }
    return wire.extend_images_answer(answer, extras, mark)
