"""The near-duplicate table's vectorised probe finds exactly what a full scan finds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pixsearch.index.dupes import DuplicateIndex, _bit_count, hamming


def scan(
    entries: dict[int, tuple[int, int]], phash: int, max_distance: int
) -> tuple[int, int, int] | None:
    """The closest (distance, doc_id, group) within max_distance, by looking at every entry."""
    found = [
        (hamming(stored, phash), doc_id, group)
        for doc_id, (stored, group) in entries.items()
        if hamming(stored, phash) <= max_distance
    ]
    return min(found) if found else None


def test_the_probe_equals_a_full_scan() -> None:
    rng = random.Random(11)
    index = DuplicateIndex(6)
    entries: dict[int, tuple[int, int]] = {}
    bases = [rng.getrandbits(64) for _ in range(40)]
    for doc_id in range(1, 3001):  # families of near copies among random hashes
        base = rng.choice(bases)
        flips = rng.sample(range(64), rng.randint(0, 9))
        phash = base ^ sum(1 << b for b in flips) if rng.random() < 0.6 else rng.getrandbits(64)
        group = doc_id if rng.random() < 0.5 else rng.randint(1, doc_id)
        index.add(phash, doc_id, group)
        entries[doc_id] = (phash, group)
    for doc_id in rng.sample(sorted(entries), 300):  # removed ones must not be found
        index.remove(doc_id)
        del entries[doc_id]
    hits = 0
    for _ in range(2000):
        base = rng.choice(bases)
        query = base ^ sum(1 << b for b in rng.sample(range(64), rng.randint(0, 8)))
        expected = scan(entries, query, 6)
        assert index.nearest(query) == expected
        assert index.group_for(query) == (expected[2] if expected else None)
        hits += expected is not None
    assert hits > 1000
    assert len(index) == len(entries)


def test_bit_counts_without_numpy_2(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.array([0, 1, 0xFF, (1 << 64) - 1, 0x8000_0000_0000_0001], dtype=np.uint64)
    expected = [0, 1, 8, 64, 2]
    assert _bit_count(values).tolist() == expected
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # numpy 1.26 has none
    assert _bit_count(values).tolist() == expected
