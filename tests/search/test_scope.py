"""The one builder of a query's filters: safeSearch, the server's policy, a slice, site: words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pixsearch.index.store import Filters
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.query import parse_query
from pixsearch.search.scope import excluded_adult, place_rule, scoped_filters

pytestmark = pytest.mark.memory

POLICY = AdultPolicy(threshold=0.2, hosts=("blocked.example",))


class Slice:
    def slice_filters(self, base: Filters) -> Filters:
        return replace(base, scope_sites=("shop.example",))


def test_safe_search_levels_name_the_adult_kinds_dropped() -> None:
    assert excluded_adult("Off") == ()
    assert excluded_adult("moderate") == ("image",)
    assert excluded_adult("STRICT") == ("image", "text")
    with pytest.raises(KeyError):
        excluded_adult("sometimes")


def test_the_policy_always_applies_and_the_rest_only_when_given() -> None:
    plain = scoped_filters(Filters(color="red", exclude_adult=("image",)), POLICY)
    assert plain == Filters(
        color="red", exclude_adult=("image",), adult_threshold=0.2, adult_hosts=POLICY.hosts
    )
    strict = scoped_filters(Filters(), POLICY, safe_search="Strict", within=Slice())
    assert strict.exclude_adult == ("image", "text") and strict.scope_sites == ("shop.example",)
    assert scoped_filters(strict, POLICY) == strict  # a second pass changes nothing


def test_query_site_operators_join_the_request_sites() -> None:
    parsed = parse_query("boats site:harbour.example -site:spam.example")
    scoped = scoped_filters(Filters(sites=("a.example",)), POLICY, query=parsed)
    assert scoped.sites == ("a.example", "harbour.example")
    assert scoped.excluded_sites == ("spam.example",)


def test_a_rule_holds_everywhere_only_without_page_level_filters() -> None:
    assert place_rule(Filters(color="red", size="large")).everywhere
    for page_level in (
        Filters(license="public"),
        Filters(sites=("a.example",)),
        Filters(url_prefixes=("a.example/x",)),
        Filters(scope_sites=("a.example",)),
        Filters(published_since=datetime(2020, 1, 1, tzinfo=UTC)),
    ):
        assert not place_rule(page_level).everywhere


def test_scoping_keeps_the_filters_when_the_policy_is_theirs() -> None:
    policy = AdultPolicy(threshold=0.3, hosts=("bad.example",))
    scoped = scoped_filters(Filters(color="red"), policy, query=parse_query("cats"))
    assert scoped == Filters(color="red", adult_threshold=0.3, adult_hosts=("bad.example",))
    assert scoped.adult_hosts is policy.hosts  # the query side caches host lists by identity
    assert scoped_filters(scoped, policy) is scoped
