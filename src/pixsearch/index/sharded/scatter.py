"""Asking N shards at once, within a deadline, and noting which ones did not answer.

A shard that fails or is still silent when the deadline passes is left out
of the answer instead of failing it: the request goes on with the other
shards' results and the shard is noted, both in the shard's health record
and in the current request's set of missing shards (``watching_shards``),
which the HTTP layer turns into a response header. Nothing here knows HTTP:
the set lives in a context variable that any caller may open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LOG_EVERY = 10.0  # seconds between two warnings about the same shard
RETRY_AFTER = 5.0  # seconds a failed shard is left out at once, before it is asked again

_missing: ContextVar[set[str] | None] = ContextVar("pixsearch_missing_shards", default=None)


@contextmanager
def watching_shards() -> Iterator[set[str]]:
    """The names of the shards left out of answers made inside the block (one request)."""
    missing: set[str] = set()
    token = _missing.set(missing)
    try:
        yield missing
    finally:
        _missing.reset(token)


class ShardUnavailable(RuntimeError):
    """A shard did not answer: no live replica, a timeout, or a failure on its side."""


@dataclass(frozen=True, slots=True)
class ShardState:
    """What the last probe of a shard found (``ShardedStore.health``)."""

    name: str
    ok: bool
    generation: int
    error: str = ""


class Scatter:
    """Runs one call per shard on a thread pool and gathers the answers of those that made it.

    `timeout` bounds the whole gather; a shard's own client may give up sooner
    (a Ray shard client does, and cancels its request). A shard that failed is
    left out at once for `retry_after` seconds (then asked again), so a request,
    which makes several lookups, waits for a dead shard once, not once per
    lookup; a probe (``ShardedStore.health``) asks it anyway. With `inline`, a call
    on a single shard runs in the caller's thread (a local shard's lookup needs
    no pool); clients that must not block an event loop, which the API's
    thread may be running, go through the pool always.
    """

    def __init__(
        self,
        names: list[str],
        *,
        timeout: float,
        inline: bool = True,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self.names = names
        self.timeout = timeout
        self.inline = inline
        self.retry_after = retry_after
        self._down_until: dict[int, float] = {}
        self._pool = ThreadPoolExecutor(
            max_workers=max(8, 4 * len(names)), thread_name_prefix="shard"
        )
        self._warned: dict[int, float] = {}
        self.last_error: dict[int, str] = {}

    def on(
        self,
        shards: Iterable[int],
        call: Callable[[int], T],
        *,
        probe: bool = False,
        timeout: float | None = None,
    ) -> dict[int, T]:
        """call(shard) for each shard, by shard; the shards that failed are left out.

        A `probe` asks shards that failed recently too (and clears them when they answer).
        `timeout` replaces the usual one (for bulk reads: a vocabulary's terms).
        """
        targets = list(shards)
        if not probe:
            now = time.monotonic()
            down = [s for s in targets if self._down_until.get(s, 0.0) > now]
            for shard in down:
                self._note_missing(shard)
            targets = [s for s in targets if s not in down]
        if not targets:
            return {}
        if len(targets) == 1 and self.inline:
            return self._inline(targets[0], call)
        limit = self.timeout if timeout is None else timeout
        futures = {shard: self._pool.submit(call, shard) for shard in targets}
        wait(futures.values(), timeout=limit)
        out: dict[int, T] = {}
        for shard, future in futures.items():
            if not future.done():
                future.cancel()
                self.failed(shard, f"no answer in {limit:g} s")
            elif (error := future.exception()) is not None:
                self.failed(shard, _describe(error))
            else:
                out[shard] = future.result()
                self._answered(shard)
        return out

    def _inline(self, shard: int, call: Callable[[int], T]) -> dict[int, T]:
        try:
            result = call(shard)
        except Exception as error:  # any shard failure degrades the answer; never fails it
            self.failed(shard, _describe(error))
            return {}
        self._answered(shard)
        return {shard: result}

    def _answered(self, shard: int) -> None:
        self.last_error.pop(shard, None)
        self._down_until.pop(shard, None)

    def _note_missing(self, shard: int) -> None:
        missing = _missing.get()
        if missing is not None:
            missing.add(self.names[shard])

    def failed(self, shard: int, reason: str) -> None:
        """Note that `shard` is missing from the current answer, and left out for a while."""
        self._note_missing(shard)
        self.last_error[shard] = reason
        now = time.monotonic()
        self._down_until[shard] = now + self.retry_after
        if now - self._warned.get(shard, -LOG_EVERY) >= LOG_EVERY:
            self._warned[shard] = now
            log.warning("shard %s left out of an answer: %s", self.names[shard], reason)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
