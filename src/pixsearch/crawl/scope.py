"""Which URLs a crawl may reach: the hosts the user named, then prefixes and patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pixsearch.crawl.urls import host_of


@dataclass(slots=True)
class Scope:
    hosts: set[str] = field(default_factory=set)  # seed hosts, exact
    domains: set[str] = field(default_factory=set)  # --allow-domain: the domain and subdomains
    allow_prefixes: list[str] = field(default_factory=list)
    deny_prefixes: list[str] = field(default_factory=list)
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)

    def host_allowed(self, url: str) -> bool:
        """Network safety's first rule: only hosts the user named are ever contacted."""
        host = host_of(url)
        if host in self.hosts:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def page_allowed(self, url: str) -> bool:
        if not self.host_allowed(url):
            return False
        if any(url.startswith(p) for p in self.deny_prefixes):
            return False
        if self.allow_prefixes and not any(url.startswith(p) for p in self.allow_prefixes):
            return False
        if any(p.search(url) for p in self.exclude):
            return False
        return not self.include or any(p.search(url) for p in self.include)

    def why_not(self, url: str, kind: str) -> str | None:
        """None when `url` may be fetched as `kind`, else the rejection reason."""
        if not self.host_allowed(url):
            return "out-of-scope-host"
        if kind == "page" and not self.page_allowed(url):
            return "out-of-scope"
        return None
