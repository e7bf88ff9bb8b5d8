"""The one builder of the filters a query runs under: what a caller may see.

Every store query run for a caller gets its Filters here: the search itself, the
one-hit probes that prove a suggestion, trending's tiles and collection titles,
similar images and the pages of insights, visual search. They combine the
request's own filters, its safeSearch level, this server's adult policy (the
nudity threshold and the blocklisted hosts, search/adult.py) and a custom
instance's slice. A query whose filters were built anywhere else could show,
under a non-default policy, an image the search itself hides.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from pixsearch.index.store import Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.query import ParsedQuery

SAFE_SEARCH = ("Off", "Moderate", "Strict")
# Moderate hides adult pictures; Strict also adult words and blocklisted hosts.
_EXCLUDED: dict[str, tuple[str, ...]] = {
    "off": (),
    "moderate": ("image",),
    "strict": ("image", "text"),
}


class Slice(Protocol):
    """A custom instance's part of the index (tenancy's Instance is one)."""

    def slice_filters(self, base: Filters) -> Filters: ...


def excluded_adult(safe_search: str) -> tuple[str, ...]:
    """The adult kinds a safeSearch level drops (Off, Moderate or Strict, any case)."""
    return _EXCLUDED[safe_search.lower()]


def scoped_filters(
    filters: Filters,
    policy: AdultPolicy,
    *,
    safe_search: str | None = None,
    within: Slice | None = None,
    query: ParsedQuery | None = None,
) -> Filters:
    """`filters` as a store query must run them.

    `safe_search` sets the adult kinds dropped (None keeps those of `filters`),
    `within` narrows to a slice, `query` adds its site: and -site: operators, and
    the policy says what the dropped kinds mean on this server. Applying it twice
    changes nothing but repeated site lists, so any layer may apply it again.
    """
    if safe_search is not None:
        filters = replace(filters, exclude_adult=excluded_adult(safe_search))
    if within is not None:
        filters = within.slice_filters(filters)
    if query is not None:
        filters = replace(
            filters,
            sites=filters.sites + query.sites,
            excluded_sites=filters.excluded_sites + query.excluded_sites,
        )
    return replace(filters, adult_threshold=policy.threshold, adult_hosts=policy.hosts)
