"""The query log behind trending, in the service database: queries and daily counts.

No client address, key or id is stored; rows older than the retention period
are deleted as new days are written. Implements search.querylog.QueryLog.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixsearch.search.querylog import normalise
from pixsearch.tenancy.state import ServiceDb


class SqliteQueryLog:
    """Daily counts in the `query_log` table of the service database."""

    def __init__(self, db: ServiceDb, *, retention_days: int = 90) -> None:
        self.conn = db.connect(durable=False)
        self.retention = timedelta(days=retention_days)
        self._last_purge = ""

    def record(
        self, query: str, *, market: str, scope: str = "", now: datetime | None = None
    ) -> None:
        text = normalise(query)
        if not text:
            return
        day = (now or datetime.now(UTC)).date().isoformat()
        self.conn.execute(
            "INSERT INTO query_log VALUES (?, ?, ?, ?, 1) ON CONFLICT (day, market, scope, query) "
            "DO UPDATE SET count = count + 1",
            (day, market, scope, text),
        )
        if day != self._last_purge:  # once a day per process is enough
            self._last_purge = day
            cutoff = ((now or datetime.now(UTC)) - self.retention).date().isoformat()
            self.conn.execute("DELETE FROM query_log WHERE day < ?", (cutoff,))

    def popular(
        self,
        *,
        market: str,
        scope: str = "",
        half_life_days: float = 7.0,
        limit: int = 50,
        now: datetime | None = None,
    ) -> list[tuple[str, float]]:
        """(query, decayed count): a search today weighs twice one `half_life_days` ago."""
        today = (now or datetime.now(UTC)).date()
        weights: dict[str, float] = {}
        for day, query, count in self.conn.execute(
            "SELECT day, query, count FROM query_log WHERE market=? AND scope=?", (market, scope)
        ):
            age = (today - datetime.fromisoformat(day).date()).days
            weights[query] = weights.get(query, 0.0) + count * 0.5 ** (age / half_life_days)
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]

    def close(self) -> None:
        self.conn.close()
