"""The rate limiter in the PostgreSQL service state, for server replicas on several machines.

Same rules and answers as limits.SqliteLimiter: a fixed one-second window per
key (the QPS limit), a per-key per-day usage row (the monthly quota is this
month's accepted calls), refused calls counted as throttled. A call is one
transaction that first locks the key's `rate_window` row (SELECT ... FOR
UPDATE), so the calls of one key take turns across every process and
machine, and two replicas cannot both take its last slot. The clock is the
database server's, the one clock every replica shares.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from pixsearch.config import Settings
from pixsearch.tenancy.backends import ServiceState
from pixsearch.tenancy.limits import DayUsage, Decision, seconds_to_next_month, wrong_state
from pixsearch.tenancy.postgres_state import Connection, PostgresDb
from pixsearch.tenancy.postgres_stores import PostgresState

_LOCK_WINDOW = (
    "SELECT second, calls, extract(epoch FROM clock_timestamp())::float8"
    " FROM rate_window WHERE key_name=%s FOR UPDATE"
)


class PostgresLimiter:
    """Windows and usage in the `rate_window` and `usage` tables of the PostgreSQL state."""

    def __init__(self, db: PostgresDb) -> None:
        self.session = db.session()

    def hit(self, key_name: str, qps: int | None, monthly_quota: int | None) -> Decision:
        return self.session.run(lambda conn: self._hit(conn, key_name, qps, monthly_quota))

    def _hit(self, conn: Connection, key_name: str, qps: int | None, quota: int | None) -> Decision:
        with conn.transaction():
            row = conn.execute(_LOCK_WINDOW, (key_name,)).fetchone()
            if row is None:  # the key's first call: make the row to lock (once, if two race)
                conn.execute(
                    "INSERT INTO rate_window VALUES (%s, 0, 0) ON CONFLICT (key_name) DO NOTHING",
                    (key_name,),
                )
                row = conn.execute(_LOCK_WINDOW, (key_name,)).fetchone()
            assert row is not None  # inserted above, and rows of rate_window are never deleted
            window_second, window_calls, now_s = int(row[0]), int(row[1]), float(row[2])
            # The clock may have been read before the lock was granted: a call admitted after
            # another belongs to that one's second at the earliest, never to an older window.
            second = max(int(now_s), window_second)
            now = datetime.fromtimestamp(now_s, UTC)
            if quota is not None:
                (used,) = conn.execute(
                    "SELECT COALESCE(SUM(calls), 0) FROM usage WHERE key_name=%s AND day>=%s",
                    (key_name, now.date().replace(day=1)),
                ).fetchone() or (0,)
                if used >= quota:
                    _count(conn, key_name, now, throttled=True)
                    return Decision(False, "quota", seconds_to_next_month(now))
            if qps is not None:
                calls = window_calls if window_second == second else 0
                if calls >= qps:
                    _count(conn, key_name, now, throttled=True)
                    return Decision(False, "qps", max(1, math.ceil(second + 1 - now_s)))
                conn.execute(
                    "UPDATE rate_window SET second=%s, calls=%s WHERE key_name=%s",
                    (second, calls + 1, key_name),
                )
            _count(conn, key_name, now, throttled=False)
            return Decision(True)

    def usage(self, key_name: str) -> list[DayUsage]:
        rows = self.session.run(
            lambda conn: conn.execute(
                "SELECT day, calls, throttled FROM usage WHERE key_name=%s ORDER BY day",
                (key_name,),
            ).fetchall()
        )
        return [
            DayUsage(day.isoformat(), int(calls), int(throttled)) for day, calls, throttled in rows
        ]

    def close(self) -> None:
        self.session.close()


def _count(conn: Connection, key_name: str, now: datetime, *, throttled: bool) -> None:
    column = "throttled" if throttled else "calls"
    conn.execute(
        f"INSERT INTO usage (key_name, day, {column}) VALUES (%s, %s, 1)"
        f" ON CONFLICT (key_name, day) DO UPDATE SET {column} = usage.{column} + 1",
        (key_name, now.date()),
    )


def postgres_limiter(*, settings: Settings, state: ServiceState) -> PostgresLimiter:
    """The "postgres" entry of limits.LIMITERS: counters beside the keys in PostgreSQL."""
    if not isinstance(state, PostgresState):
        raise wrong_state("postgres", settings)
    return PostgresLimiter(state.db)
