import random

from pixsearch.index.dupes import DuplicateIndex, hamming


def test_finds_every_hash_within_the_distance() -> None:
    rng = random.Random(3)
    index = DuplicateIndex(max_distance=7)
    stored = [rng.getrandbits(64) for _ in range(5000)]
    for doc_id, value in enumerate(stored, start=1):
        index.add(value, doc_id, doc_id)
    for trial in range(300):
        target = rng.randrange(len(stored))
        bits = rng.sample(range(64), rng.randint(0, 7))
        probe = stored[target]
        for bit in bits:
            probe ^= 1 << bit
        found = index.nearest(probe)
        assert found is not None, trial
        assert found[0] <= len(bits)
        assert hamming(stored[found[1] - 1], probe) == found[0]


def test_far_hashes_are_not_duplicates_and_removed_ones_are_gone() -> None:
    index = DuplicateIndex(max_distance=6)
    index.add(0, 1, 1)
    assert index.nearest((1 << 7) - 1) is None  # distance 7
    assert index.group_for(0b111) == 1
    index.remove(1)
    assert index.nearest(0) is None
