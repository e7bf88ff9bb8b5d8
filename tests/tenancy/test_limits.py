"""Rate limits: each state backend's limiter's decisions and usage, and backends by name."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixsearch.config import Settings
from pixsearch.tenancy.backends import ServiceState, SqliteState, open_state
from pixsearch.tenancy.limits import (
    LimiterUnavailable,
    SqliteLimiter,
    open_limiter,
    seconds_to_next_month,
)
from pixsearch.tenancy.state import ServiceDb


@pytest.fixture
def db(tmp_path: Path) -> SqliteState:
    return SqliteState(ServiceDb(tmp_path / "service.db"))


def test_monthly_quota_then_refusals_counted_as_throttled(
    settings: Settings, state: ServiceState
) -> None:
    limiter = open_limiter(settings, state)
    decisions = [limiter.hit("k", qps=None, monthly_quota=2) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, False, False]
    assert decisions[2].reason == "quota" and decisions[2].retry_after >= 1
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert [(u.day, u.calls, u.throttled) for u in limiter.usage("k")] == [(today, 2, 2)]
    assert limiter.usage("other") == []
    limiter.close()


def test_qps_window_is_shared_by_every_limiter_of_the_state(settings: Settings) -> None:
    # Each opens the state as a worker process (or another machine) would.
    first, second = (open_limiter(settings, open_state(settings)) for _ in range(2))
    time.sleep(1.02 - time.time() % 1)  # a fresh second, so all four calls share one
    answers = [limiter.hit("k", qps=2, monthly_quota=None) for limiter in (first, second) * 2]
    assert [a.allowed for a in answers] == [True, True, False, False]
    assert answers[2].reason == "qps" and answers[2].retry_after == 1
    first.close()
    second.close()


def test_seconds_to_next_month() -> None:
    assert seconds_to_next_month(datetime(2025, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_to_next_month(datetime(2025, 2, 1, tzinfo=UTC)) == 28 * 86400


def test_backends_by_name(db: SqliteState) -> None:
    assert isinstance(open_limiter(Settings(rate_limit_backend="sqlite"), db), SqliteLimiter)
    assert isinstance(open_limiter(Settings(), db), SqliteLimiter)  # the state's own
    with pytest.raises(LimiterUnavailable, match=r"unknown rate limit backend 'memcached'.*redis"):
        open_limiter(Settings(rate_limit_backend="memcached"), db)
    pytest.importorskip("redis")
    # Pinged when opened: a server without its Redis says so when it starts.
    with pytest.raises(LimiterUnavailable, match=r"cannot reach redis://127.0.0.1:1/0"):
        open_limiter(Settings(rate_limit_backend="redis", redis_url="redis://127.0.0.1:1/0"), db)


def test_the_sqlite_backend_does_not_load_the_redis_one() -> None:
    code = (
        "import sys, pixsearch.tenancy.limits; "
        "print('pixsearch.tenancy.limits_redis' in sys.modules, 'redis' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["False", "False"]
