"""A crowded cluster (hundreds of look-alike hashes: placeholders, flat colours) keeps
the pair finder's memory bounded (each image's best `pairs.KEEP` pairs of each class)
and the groups exactly the online rule's, the resolution going past the kept pairs
when they are all refused."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from pixsearch.index.features import direct, groups, pairs
from pixsearch.index.features.groups import assign_groups
from pixsearch.index.features.pairs import (
    DISTANCE,
    KIND,
    SAME,
    FoundPairs,
    J,
    K,
    find_pairs,
    merge_pairs,
    pair_parts,
)
from tests.index.features import sequential
from tests.index.features.sequential import sequential_groups
from tests.index.features.test_groups import MAX, Looks, brute_force, dark_text, flipped


def flat(colour: np.ndarray) -> str:
    """The colour layout of a picture of one colour: its four quadrants alike."""
    return bytes(np.tile(colour, 4).tolist()).hex()


def cluster(seed: int, n: int) -> Looks:
    """`n` images whose hashes are within 2 bits of one base (4 of one another), in 8
    flat colours, showing 6 common pictures (and a few rare ones) that hash alike but
    differ by their pixels: of an image's 64 nearest, ~8 agree in colour, and all of
    those show another picture for about a quarter of the images. A fifth are
    transparent, their looks over black near the base too, in 4 more colours: an image
    showing a rare picture finds no copy by hash, then tries pairs across black, fewer
    than 8 of its kept ones agreeing in colour."""
    rng = np.random.default_rng(seed)
    base = int(rng.integers(0, 1 << 63))
    colours = rng.integers(0, 256, (8, 3), dtype=np.uint8)
    dark_colours = np.concatenate([colours, rng.integers(0, 256, (4, 3), dtype=np.uint8)])
    out = Looks()
    for _ in range(n):
        # of test_groups.PICTURES (unlike each other): a few common, some rare
        picture = int(rng.integers(6) if rng.random() < 0.95 else rng.integers(6, 40))
        layout = flat(colours[rng.integers(len(colours))])
        dark = ""
        if rng.random() < 0.2:
            dark_layout = flat(dark_colours[rng.integers(len(dark_colours))])
            dark_hash = flipped(base, int(rng.integers(0, 3)), rng)
            dark = dark_text(dark_hash, dark_layout, opaque=True, rng=rng)
        phash = flipped(base, int(rng.integers(0, 3)), rng)
        out.add(phash, picture, layout=layout, dark_look=dark)
    return out


def test_a_crowded_cluster_groups_as_the_online_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    data = cluster(21, 600)
    calls: Counter[str] = Counter()
    measured = {"same": direct.Direct.same, "across": direct.Direct.across}

    def counted(name: str) -> Any:
        def call(self: direct.Direct, *args: Any) -> Any:
            found = measured[name](self, *args)
            calls[name] += 1
            calls[f"{name} found"] += len(found) > 0
            return found

        return call

    for name in measured:
        monkeypatch.setattr(direct.Direct, name, counted(name))
    # every thumbnail decoded once (the cache changes no answer, only the time)
    monkeypatch.setattr(groups, "THUMB_CACHE", 1000)
    monkeypatch.setattr(sequential, "THUMB_CACHE", 1000)
    expected = sequential_groups(data.looks, data.thumbnails.get, max_distance=MAX)
    got = assign_groups(data.looks, data.thumbnails.get, max_distance=MAX, parts=3)
    assert got == expected
    # images went past their kept pairs, by hash and across black
    assert calls["same found"] > 50 and calls["across found"] > 5, calls
    assert len(set(expected.values())) < 150  # most joined an earlier one


def top_pairs(expected: set[Any], keep: int) -> tuple[set[Any], set[int], set[int]]:
    """Of brute-force pairs, each image's best `keep` of each class, and the images cut."""
    by_group: dict[tuple[int, bool], list[Any]] = {}
    for row in expected:
        by_group.setdefault((row[0], row[3] != SAME), []).append(row)
    kept, cut_same, cut_across = set(), set(), set()
    for (k, across), rows in by_group.items():
        kept.update(sorted(rows, key=lambda r: (r[2], r[1], r[3]))[:keep])
        if len(rows) > keep:
            (cut_across if across else cut_same).add(k)
    return kept, cut_same, cut_across


@pytest.mark.parametrize("compact_rows", [50, 1 << 21])
def test_the_best_pairs_of_each_image_are_kept(
    monkeypatch: pytest.MonkeyPatch, compact_rows: int
) -> None:
    # Parts cut as they go (every 50 rows, or once at the end), the merge cuts the union:
    # exactly each image's best `keep` of each class, and the images that had more.
    monkeypatch.setattr(pairs, "COMPACT_ROWS", compact_rows)
    rng = np.random.default_rng(22)
    base = np.full(400, 0xF0F0_0F0F_3C3C_C3C3, dtype=np.uint64)
    noise = np.array([flipped(0, int(d), rng) for d in rng.integers(0, 4, 400)], dtype=np.uint64)
    hashes = np.concatenate([base ^ noise, rng.integers(0, 1 << 63, 600, dtype=np.uint64)])
    hashes = hashes[rng.permutation(len(hashes))]
    has_dark = rng.random(len(hashes)) < 0.3
    dark = hashes[rng.permutation(len(hashes))] ^ np.uint64(0b101)
    everything = brute_force(hashes, dark, has_dark, MAX)
    for keep in (1, 5, 40):
        kept, cut_same, cut_across = top_pairs(everything, keep)
        assert len(cut_same) > 100 and len(cut_across) > 50
        for parts in (1, 3):
            inputs = pair_parts(hashes, dark, has_dark, MAX, parts, keep=keep)
            found = [find_pairs(part) for part in inputs]
            merged = merge_pairs(found + found[:1])  # a part given twice counts once
            assert {tuple(row) for row in merged.rows.tolist()} == kept
            assert merged.cut_same.tolist() == sorted(cut_same)
            assert merged.cut_across.tolist() == sorted(cut_across)
            assert_in_order(merged)


def assert_in_order(found: FoundPairs) -> None:
    rows = found.rows
    key = [rows[:, K], rows[:, KIND] != SAME, rows[:, DISTANCE], rows[:, J], rows[:, KIND]]
    order = np.lexsort(key[::-1])
    assert (order == np.arange(len(rows))).all()


def test_a_part_holds_at_most_keep_rows_of_an_image() -> None:
    # 3,000 images of one hash (a blank placeholder): 4.5 M pairs unbounded.
    hashes = np.full(3000, 0x0123_4567_89AB_CDEF, dtype=np.uint64)
    nothing = np.zeros(3000, dtype=bool)
    (part,) = pair_parts(hashes, hashes, nothing, MAX, 1)
    found = find_pairs(part)
    keep = pairs.KEEP
    assert len(found.rows) <= keep * 3000
    assert len(found.rows) == sum(min(k, keep) for k in range(3000))
    assert found.cut_same.tolist() == list(range(keep + 1, 3000))
    assert len(found.cut_across) == 0
    # each image keeps its first `keep` earlier ones: distance 0, the smallest j
    assert (found.rows[:, J] < keep).all() and (found.rows[:, DISTANCE] == 0).all()
