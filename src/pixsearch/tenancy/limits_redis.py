"""The rate limiter on Redis, for several server machines sharing one set of keys.

Same rules and answers as limits.SqliteLimiter (fixed one-second windows,
per-day usage, monthly quota as this month's accepted calls), done in one Lua
script so each call is one atomic round trip. Needs the `redis` package.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

try:
    import redis
except ImportError as exc:  # an extra, not a dependency: say which one
    raise ImportError(
        f"{exc}: the redis rate limiter needs pip install 'pixsearch[redis]'", name="redis"
    ) from exc

from pixsearch.config import Settings
from pixsearch.tenancy.backends import ServiceState
from pixsearch.tenancy.limits import (
    DayUsage,
    Decision,
    LimiterUnavailable,
    seconds_to_next_month,
)

PREFIX = "pixsearch:rl:"
_DAY_TTL = 400 * 86400  # usage history kept a little over a year
_SCRIPT = """
local quota, qps, day = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
redis.call('SADD', KEYS[4], day)
if quota >= 0 then
  if tonumber(redis.call('GET', KEYS[3]) or '0') >= quota then
    redis.call('HINCRBY', KEYS[2], 'throttled', 1)
    return 2
  end
end
if qps >= 0 then
  if tonumber(redis.call('GET', KEYS[1]) or '0') >= qps then
    redis.call('HINCRBY', KEYS[2], 'throttled', 1)
    return 1
  end
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 5)
end
redis.call('HINCRBY', KEYS[2], 'calls', 1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 3000000)
return 0
"""


class RedisLimiter:
    """Windows and usage under PREFIX in one Redis database (`Settings.redis_url`)."""

    def __init__(self, url: str) -> None:
        # A bounded connect: an unreachable host must not hang a search (or the start).
        self.client = redis.Redis.from_url(url, socket_connect_timeout=5)
        self._script = self.client.register_script(_SCRIPT)

    def hit(self, key_name: str, qps: int | None, monthly_quota: int | None) -> Decision:
        now_s = time.time()
        now = datetime.fromtimestamp(now_s, UTC)
        day = now.strftime("%Y-%m-%d")
        base = PREFIX + key_name
        outcome = int(
            self._script(
                keys=[
                    f"{base}:w:{int(now_s)}",
                    f"{base}:d:{day}",
                    f"{base}:m:{now.strftime('%Y-%m')}",
                    f"{base}:days",
                ],
                args=[
                    -1 if monthly_quota is None else monthly_quota,
                    -1 if qps is None else qps,
                    day,
                    _DAY_TTL,
                ],
            )
        )
        if outcome == 2:
            return Decision(False, "quota", seconds_to_next_month(now))
        if outcome == 1:
            return Decision(False, "qps", max(1, math.ceil(int(now_s) + 1 - time.time())))
        return Decision(True)

    def usage(self, key_name: str) -> list[DayUsage]:
        base = PREFIX + key_name
        members = self.client.smembers(f"{base}:days")
        days = sorted(d.decode() if isinstance(d, bytes) else d for d in members)
        out = []
        for day in days:
            counts = self.client.hgetall(f"{base}:d:{day}")
            out.append(
                DayUsage(day, int(counts.get(b"calls", 0)), int(counts.get(b"throttled", 0)))
            )
        return out

    def close(self) -> None:
        self.client.close()


def redis_limiter(*, settings: Settings, state: ServiceState) -> RedisLimiter:
    """The "redis" entry of limits.LIMITERS (keys stay in `state`; counters go to Redis).

    Pinged once here, so a server whose Redis cannot be reached says so when it
    starts, not as a 500 on the first search with a key.
    """
    limiter = RedisLimiter(settings.redis_url)
    try:
        limiter.client.ping()
    except redis.RedisError as exc:
        limiter.close()
        raise LimiterUnavailable(
            f"rate limit backend 'redis' cannot reach {settings.redis_url}: {exc}"
        ) from exc
    return limiter
