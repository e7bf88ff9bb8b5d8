"""What a shard client keeps of a shard's answers: bounded, most recently used first.

A round trip to a remote shard costs more than the lookup it carries, so a
client keeps what it fetched for the generation it serves. What a search
brought along before anyone asked for it (its hits' documents, say) waits in a
cache of its own, and moves to the main one when asked for, so that the many
fetched and never shown do not push out those shown.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A dict keeping the `size` most recently stored or read entries (thread-safe:
    a sharded store asks its shards from several threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def update(self, items: dict[K, V]) -> None:
        with self._lock:
            self._entries.update(items)
            for key in items:
                self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def not_kept(kept: LruCache[int, V], ahead: LruCache[int, V], keys: Sequence[int]) -> list[int]:
    """The keys neither kept nor fetched ahead; those fetched ahead are now kept."""
    missing = [key for key in keys if key not in kept]
    found = {key: value for key in missing if (value := ahead.get(key)) is not None}
    kept.update(found)
    return [key for key in missing if key not in found]
