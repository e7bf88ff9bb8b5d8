"""Spelling correction and suggestion lists in the Images answer (issue 6).

search/suggest.py decides the correction and proves the suggestions; this adds
them to the rendered answer under the reference's names (alteredQuery,
alterationOverrideQuery, queryExpansions, pivotSuggestions, similarTerms,
relatedSearches), with hit highlighting when asked for.
"""

from __future__ import annotations

from functools import partial

from pixsearch.api import wire
from pixsearch.api.urls import Urls
from pixsearch.search.highlight import highlight
from pixsearch.search.service import SearchPage
from pixsearch.search.suggest import Spelling, Suggestion, Suggestions


def add_suggestions(
    urls: Urls,
    answer: wire.JSON,
    page: SearchPage,
    spelling: Spelling,
    found: Suggestions,
    *,
    decorations: bool = False,
    text_format: str = "Raw",
) -> wire.JSON:
    """Adds alteredQuery / alterationOverrideQuery and the suggestion lists to `answer`."""
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
