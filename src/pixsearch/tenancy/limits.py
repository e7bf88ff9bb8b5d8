"""Per-key rate limits and usage: the Limiter interface, its backends by name, the SQLite one.

A backend is chosen by `Settings.rate_limit_backend` from LIMITERS: "sqlite"
(the service database beside the index; one machine), "postgres" (the shared
PostgreSQL state; postgres_limits.py) or "redis" (limits_redis.py); the last
two serve several machines and are loaded only when named. Left empty, the
setting means the counters live with the rest of the service state
(`Settings.state_backend`).

In the SQLite backend each accepted call is counted in two places in one
short write transaction: a fixed one-second window per key (the QPS limit)
and a per-key per-day row (usage, and the monthly quota as the sum of this
month's days). The window is the wall-clock second, which every worker on the
machine agrees on, so the limit holds across processes without any
coordination beyond SQLite's write lock. Rejected calls are counted as
throttled and do not use quota.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from pixsearch.config import Settings
from pixsearch.registry import Registry, Unavailable
from pixsearch.tenancy.backends import ServiceState, SqliteState
from pixsearch.tenancy.state import ServiceDb


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""  # "qps" or "quota" when refused
    retry_after: int = 0  # whole seconds, for the Retry-After header


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: str
    calls: int
    throttled: int


class Limiter(Protocol):
    def hit(self, key_name: str, qps: int | None, monthly_quota: int | None) -> Decision:
        """Count one call of `key_name` if its limits allow it now, else refuse it."""
        ...

    def usage(self, key_name: str) -> list[DayUsage]:
        """Calls and refused calls per day (UTC), oldest first."""
        ...

    def close(self) -> None: ...


class LimiterUnavailable(Unavailable):
    """The configured rate-limit backend is unknown or cannot run here."""


# Each factory takes settings= and state= (the service state, whether it uses it or not).
LIMITERS: Registry[Limiter] = Registry(
    "rate limit backend",
    {
        "sqlite": "pixsearch.tenancy.limits:sqlite_limiter",
        "postgres": "pixsearch.tenancy.postgres_limits:postgres_limiter",
        "redis": "pixsearch.tenancy.limits_redis:redis_limiter",
    },
    error=LimiterUnavailable,
)


def open_limiter(settings: Settings, state: ServiceState) -> Limiter:
    """The backend `settings.rate_limit_backend` names, else the one of the state's own name.

    LimiterUnavailable if there is none such, or if it needs a state other than `state`.
    """
    name = settings.rate_limit_backend or settings.state_backend
    return LIMITERS.create(name, settings=settings, state=state)


def wrong_state(name: str, settings: Settings) -> LimiterUnavailable:
    """Counters kept in one backend's tables cannot run over another backend's state."""
    return LimiterUnavailable(
        f"rate limit backend {name!r} keeps its counters in the {name} service state, but"
        f" state_backend is {settings.state_backend!r}: leave rate_limit_backend empty"
        f" (counters with the state) or name {settings.state_backend!r} or 'redis'"
    )


def seconds_to_next_month(now: datetime) -> int:
    first = date(now.year + (now.month == 12), now.month % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    return max(1, math.ceil((start - now).total_seconds()))


class SqliteLimiter:
    """Windows and usage in the `rate_window` and `usage` tables of the service database."""

    def __init__(self, db: ServiceDb) -> None:
        # Counters lost to a power cut cost at most a moment of over-admission.
        self.conn = db.connect(durable=False)
        self._lock = threading.Lock()

    def hit(self, key_name: str, qps: int | None, monthly_quota: int | None) -> Decision:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                # The clock is read once the write lock is held, as the PostgreSQL
                # limiter does: a time read before waiting for another worker's
                # transaction would be a second the window has already left, and
                # writing it back would restart the window and over-admit.
                now_s = time.time()
                decision, second = self._decide(key_name, qps, monthly_quota, now_s)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if not decision.allowed and decision.reason == "qps":
            return Decision(False, "qps", max(1, math.ceil(second + 1 - time.time())))
        return decision

    def _decide(
        self, key_name: str, qps: int | None, quota: int | None, now_s: float
    ) -> tuple[Decision, int]:
        """The decision, and the second of the window it was counted in."""
        now = datetime.fromtimestamp(now_s, UTC)
        day = now.strftime("%Y-%m-%d")
        second = int(now_s)
        if quota is not None:
            (used,) = self.conn.execute(
                "SELECT COALESCE(SUM(calls), 0) FROM usage WHERE key_name=? AND day>=?",
                (key_name, now.strftime("%Y-%m-01")),
            ).fetchone()
            if used >= quota:
                self._count(key_name, day, throttled=True)
                return Decision(False, "quota", seconds_to_next_month(now)), second
        if qps is not None:
            row = self.conn.execute(
                "SELECT second, calls FROM rate_window WHERE key_name=?", (key_name,)
            ).fetchone()
            if row is not None:
                second = max(second, row[0])  # never back to an older window
            calls = row[1] if row and row[0] == second else 0
            if calls >= qps:
                self._count(key_name, day, throttled=True)
                return Decision(False, "qps", 1), second
            self.conn.execute(
                "INSERT INTO rate_window (key_name, second, calls) VALUES (?, ?, ?)"
                " ON CONFLICT(key_name) DO UPDATE SET second=excluded.second,"
                " calls=excluded.calls",
                (key_name, second, calls + 1),
            )
        self._count(key_name, day, throttled=False)
        return Decision(True), second

    def _count(self, key_name: str, day: str, *, throttled: bool) -> None:
        column = "throttled" if throttled else "calls"
        self.conn.execute(
            f"INSERT INTO usage (key_name, day, {column}) VALUES (?, ?, 1)"
            f" ON CONFLICT(key_name, day) DO UPDATE SET {column}={column}+1",
            (key_name, day),
        )

    def usage(self, key_name: str) -> list[DayUsage]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT day, calls, throttled FROM usage WHERE key_name=? ORDER BY day",
                (key_name,),
            ).fetchall()
        return [DayUsage(*row) for row in rows]

    def close(self) -> None:
        self.conn.close()


def sqlite_limiter(*, settings: Settings, state: ServiceState) -> SqliteLimiter:
    if not isinstance(state, SqliteState):
        raise wrong_state("sqlite", settings)
    return SqliteLimiter(state.db)
