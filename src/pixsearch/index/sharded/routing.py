"""Which shard a document lives on, and how shard-local ids become global ones.

A document goes to the shard of its near-duplicate group, so a group never
spans shards: collapsing, ``pagesIncludingCount`` and ``availableSizesCount``
stay exact per shard. The shard is a stable hash of the group's key (not
Python's ``hash``, which changes per process), so any builder, on any machine,
puts a group where every other builder puts it.

Each shard numbers its documents and groups 1, 2, 3, ... on its own. Served
together, a local id ``i`` of shard ``s`` out of ``n`` is the global id
``i * n + s``: unique, decoded by division, and equal to the local id when
there is one shard (a one-shard index answers with its own ids).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


def shard_of(group_key: int | str, n: int) -> int:
    """The shard (0..n-1) of the near-duplicate group named by `group_key`."""
    if n < 1:
        raise ValueError(f"a sharded index has at least one shard, not {n}")
    digest = hashlib.blake2b(str(group_key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


@dataclass(frozen=True, slots=True)
class ShardIds:
    """Global ids ↔ (shard, local id) for `n` shards."""

    n: int

    def encode(self, shard: int, local: int) -> int:
        return local * self.n + shard

    def shard(self, global_id: int) -> int:
        return global_id % self.n

    def local(self, global_id: int) -> int:
        return global_id // self.n

    def split(self, global_ids: Iterable[int]) -> dict[int, list[int]]:
        """Local ids per shard, each shard's in the order given."""
        out: dict[int, list[int]] = {}
        for global_id in global_ids:
            out.setdefault(global_id % self.n, []).append(global_id // self.n)
        return out
