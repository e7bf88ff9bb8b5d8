"""What search needs of a query log: recording searches and ranking popular ones.

Trending and suggestions read it; the store behind it (tenancy's SQLite log,
or another) is chosen by the wiring root. Queries are kept normalised, with
daily counts and nothing about who asked.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

MAX_QUERY_CHARS = 100


def normalise(query: str) -> str:
    """The form a query is counted under: lower case, single spaces, at most MAX_QUERY_CHARS."""
    return re.sub(r"\s+", " ", query.strip().lower())[:MAX_QUERY_CHARS]


class QueryLog(Protocol):
    def record(
        self, query: str, *, market: str, scope: str = "", now: datetime | None = None
    ) -> None:
        """Count one search of `query` (normalised) in `market` and `scope` today."""
        ...

    def popular(
        self,
        *,
        market: str,
        scope: str = "",
        half_life_days: float = 7.0,
        limit: int = 50,
        now: datetime | None = None,
    ) -> list[tuple[str, float]]:
        """(query, decayed count), best first: a search today weighs twice one a half-life ago.

        `scope` is "" for the plain API, else a custom instance id.
        """
        ...

    def close(self) -> None: ...
