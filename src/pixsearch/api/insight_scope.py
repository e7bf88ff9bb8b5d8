"""What an insights or visual search request may see: its safeSearch and its token's slice.

A token minted by a custom search names that instance; insights through it
show only pages inside the instance's slice, and a token whose instance is
gone, or whose image lies outside it, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixsearch.api import errors
from pixsearch.api.context import ApiContext
from pixsearch.index.store import Filters
from pixsearch.search.insights import Insights
from pixsearch.search.scope import scoped_filters
from pixsearch.tenancy.instances import Instance
from pixsearch.tenancy.slices import confine_insights


@dataclass(frozen=True, slots=True)
class InsightScope:
    filters: Filters  # every query for the modules runs under these
    custom_config: str | None = None
    instance: Instance | None = None

    def confine(self, insights: Insights) -> Insights:
        """`insights` without pages outside the token's slice (unchanged without one)."""
        if not self.custom_config:
            return insights
        if self.instance is None:
            raise errors.invalid(
                "insightsToken", self.custom_config, "The token's instance no longer exists."
            )
        kept = confine_insights(self.instance, insights)
        if kept is None:
            raise errors.invalid("insightsToken", self.custom_config, "No such image.")
        return kept


def insight_scope(ctx: ApiContext, safe_search: str, custom_config: str | None) -> InsightScope:
    instance = ctx.instances.get(custom_config) if ctx.instances and custom_config else None
    filters = scoped_filters(Filters(), ctx.search.adult, safe_search=safe_search, within=instance)
    return InsightScope(filters=filters, custom_config=custom_config, instance=instance)
