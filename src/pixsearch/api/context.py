"""The objects every route needs, built once by the composition root."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.requests import Request

from pixsearch.api.tokens import TokenSigner
from pixsearch.api.urls import Urls
from pixsearch.config import Settings
from pixsearch.index.store import ReadStore
from pixsearch.search.querylog import QueryLog
from pixsearch.search.service import SearchService
from pixsearch.search.suggest import SuggestionService
from pixsearch.search.trending import TrendingService
from pixsearch.search.visual import PictureInsights
from pixsearch.tenancy.instances import InstanceStore
from pixsearch.tenancy.keys import KeyStore
from pixsearch.tenancy.limits import Limiter


@dataclass(slots=True)
class ApiContext:
    settings: Settings
    store: ReadStore
    search: SearchService
    keys: KeyStore
    signer: TokenSigner
    limiter: Limiter | None = None
    instances: InstanceStore | None = None
    pictures: PictureInsights | None = None  # insights and visual search, uploads kept
    query_log: QueryLog | None = None
    trending: TrendingService | None = None
    suggestions: SuggestionService | None = None  # spelling and suggestion lists
    _checked_at: float = field(default=0.0)

    def refresh(self) -> None:
        """Pick up new commits, looking at most every refresh_seconds."""
        now = time.monotonic()
        if now - self._checked_at >= self.settings.refresh_seconds:
            self._checked_at = now
            self.store.refresh()

    def urls(self, request: Request) -> Urls:
        if self.settings.public_url:
            return Urls(self.settings.public_url)
        return Urls(f"{request.url.scheme}://{request.url.netloc}")
