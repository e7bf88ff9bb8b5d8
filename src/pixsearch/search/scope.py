"""The one builder of the filters a query runs under: what a caller may see.

Every store query run for a caller gets its Filters here: the search itself, the
one-hit probes that prove a suggestion, trending's tiles and collection titles,
similar images and the pages of insights, visual search. They combine the
request's own filters, its safeSearch level, this server's adult policy (the
nudity threshold and the blocklisted hosts, search/adult.py) and a custom
instance's slice. A query whose filters were built anywhere else could show,
under a non-default policy, an image the search itself hides.

The store matches an image when any of its places (pages) carries the licence,
lies on the site or in the slice, so what is shown of it must be chosen too:
`place_rule(filters).holds` says whether one place holds every page-level filter
at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from pixsearch.index.store import (
    LICENSE_PERMISSIONS,
    Filters,
    host_suffixes,
    normalize_prefix,
    url_prefixes,
)
from pixsearch.records import ImageDocument, Occurrence
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
    if query is not None and (query.sites or query.excluded_sites):
        filters = replace(
            filters,
            sites=filters.sites + query.sites,
            excluded_sites=filters.excluded_sites + query.excluded_sites,
        )
    # Each replace costs ~7 µs on every search, and the filters usually hold the policy
    # already. The very hosts tuple: the query side caches its host lists by identity.
    if filters.adult_threshold == policy.threshold and filters.adult_hosts is policy.hosts:
        return filters
    return replace(filters, adult_threshold=policy.threshold, adult_hosts=policy.hosts)


@dataclass(frozen=True, slots=True)
class PlaceRule:
    """`Filters`' page-level parts, prepared once: licence, publication date, site:,
    URL prefixes and a slice (the file-level ones are the document's own, checked by
    the store, as are the exclusions: one excluded place drops the whole image).

    A place's page is what must lie inside (its image URL only when it has no page),
    and a place without a date of its own has the image's.
    """

    license: str | None
    since: int | None  # Unix seconds
    sites: frozenset[str]
    prefixes: frozenset[str]
    scope: tuple[frozenset[str], frozenset[str]] | None  # a slice's hosts and URL prefixes

    @property
    def everywhere(self) -> bool:
        """Whether every place holds the rule (no page-level filter): no need to ask."""
        return not (self.license or self.since is not None or self.sites or self.prefixes) and (
            self.scope is None
        )

    def holds(self, doc: ImageDocument, place: Occurrence) -> bool:
        allowed = LICENSE_PERMISSIONS.get(place.license or "", ())
        if self.license and self.license not in allowed:
            return False
        if self.since is not None:
            published = place.date_published or doc.date_published
            if int(published.timestamp()) < self.since:
                return False
        if not (self.sites or self.prefixes or self.scope):
            return True
        return self._inside(place.host_page_url or place.content_url)

    def _inside(self, url: str | None) -> bool:
        if url is None:  # a local file lies on no site
            return False
        host = urlsplit(url).hostname
        hosts = set(host_suffixes(host)) if host else set()
        prefixes = set(url_prefixes(url))
        if self.sites and not hosts & self.sites:
            return False
        if self.prefixes and not prefixes & self.prefixes:
            return False
        if self.scope is not None:
            return bool(hosts & self.scope[0] or prefixes & self.scope[1])
        return True


@lru_cache(maxsize=64)
def place_rule(filters: Filters) -> PlaceRule:
    """The page-level parts of `filters` (cached: a search asks once per result)."""
    since = filters.published_since
    scoped = filters.scope_sites or filters.scope_prefixes
    return PlaceRule(
        license=filters.license,
        since=max(int(since.timestamp()), 0) if since is not None else None,
        sites=frozenset(s.lower() for s in filters.sites),
        prefixes=frozenset(normalize_prefix(p) for p in filters.url_prefixes),
        scope=(
            frozenset(s.lower() for s in filters.scope_sites),
            frozenset(normalize_prefix(p) for p in filters.scope_prefixes),
        )
        if scoped
        else None,
    )


def splits_places(filters: Filters) -> bool:
    """Whether an image the store matched may have no place that holds every filter.

    A licence alone never splits: the store matched a place carrying it. A site,
    URL prefix or slice may: the store also matches an image by its image URL, and
    with a licence each may be held by another place. Freshness never does: the
    store keeps an image only when its earliest date is in range.
    """
    return bool(
        filters.sites or filters.url_prefixes or filters.scope_sites or filters.scope_prefixes
    )
