"""robots.txt per origin, fetched once and cached, and the hop check built on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pixsearch.crawl.fetcher import Fetcher, FetchFailed, HopCheck
from pixsearch.crawl.robots import Robots, parse_robots
from pixsearch.crawl.scope import Scope
from pixsearch.crawl.urls import host_of, origin_of, path_and_query

MAX_CRAWL_DELAY = 30.0  # a robots.txt asking for more is honoured at this


class RobotsCache:
    def __init__(
        self,
        fetcher: Fetcher,
        agent: str,
        scope: Scope,
        on_sitemap: Callable[[str], None] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.agent = agent
        self.scope = scope
        self.on_sitemap = on_sitemap
        self.cache: dict[str, Robots] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def robots_for(self, url: str) -> Robots:
        origin = origin_of(url)
        if origin in self.cache:
            return self.cache[origin]
        lock = self.locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.cache:
                self.cache[origin] = await self._load(origin)
        return self.cache[origin]

    async def _load(self, origin: str) -> Robots:
        """RFC 9309: 4xx → no rules; 5xx or unreachable → disallow all (for this run)."""
        try:
            response = await self.fetcher.get(origin + "/robots.txt", self._in_scope)
        except FetchFailed as exc:
            unsafe = exc.reason == "unsafe-destination"
            return Robots(deny_all=True, deny_reason=exc.reason if unsafe else "robots-unreachable")
        if response.status >= 500:
            return Robots(deny_all=True, deny_reason="robots-unreachable")
        if response.status >= 400:
            return Robots(allow_all=True)
        robots = parse_robots(response.body.decode("utf-8", "replace"))
        delay = robots.crawl_delay(self.agent)
        if delay is not None:
            self.fetcher.set_delay(host_of(origin), min(delay, MAX_CRAWL_DELAY))
        if self.on_sitemap is not None:
            for sitemap in robots.sitemaps:
                self.on_sitemap(sitemap)
        return robots

    async def _in_scope(self, url: str) -> str | None:
        # robots.txt may redirect (http → https, www): followed within the named hosts only.
        return None if self.scope.host_allowed(url) else "out-of-scope-host"

    async def refusal(self, url: str) -> str | None:
        """None when robots.txt allows `url`, else the reason it is refused."""
        robots = await self.robots_for(url)
        return None if robots.allowed(self.agent, path_and_query(url)) else robots.deny_reason


def hop_check(scope: Scope, robots: RobotsCache, kind: str) -> HopCheck:
    """Every hop of a fetch, redirects included: in scope, then allowed by robots.txt."""

    async def check(url: str) -> str | None:
        reason = scope.why_not(url, kind)
        if reason:
            return reason
        return await robots.refusal(url)

    return check
