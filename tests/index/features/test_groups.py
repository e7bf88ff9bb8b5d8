"""The grouping pass in two phases (pairs by pHash chunk key, then resolution in order)
gives exactly the groups of the ingest's online rule, walked image by image
(tests/index/features/sequential.py), however its pairs are split and run.

Looks with planted copies at every distance, chains, disagreeing layouts, pictures
over black and embedding-only matches, checked by real pixel comparisons of small
thumbnails; real pictures through the real pipeline; the feature folder of
helpers.py's corpus.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pixsearch.index.darklook import SIDE, DarkLook
from pixsearch.index.dupes import hamming
from pixsearch.index.features import pairs
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.features.groups import Mapper, assign_groups
from pixsearch.index.features.pairs import (
    MINE_OVER_BLACK,
    SAME,
    THEIRS_OVER_BLACK,
    find_pairs,
    merge_pairs,
    pair_parts,
)
from pixsearch.index.features.schema import Look
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import Occurrence
from tests.index.features.helpers import thumbnail_jpeg, write_corpus, write_features
from tests.index.features.sequential import sequential_groups

MAX = 6
FULL = (1 << 64) - 1
Thumbnails = Callable[[str], bytes | None]


@dataclass
class Looks:
    """Looks in order and the thumbnails of their images, by sha256."""

    looks: list[Look] = field(default_factory=list)
    thumbnails: dict[str, bytes] = field(default_factory=dict)

    def add(self, phash: int, picture: int | None, **extra: Any) -> Look:
        sha = f"{len(self.looks):064x}"
        if picture is not None:
            self.thumbnails[sha] = PICTURES[picture]
        look = Look(sha, phash, extra.pop("layout", ""), picture is not None, **extra)
        self.looks.append(look)
        return look


PICTURES = [thumbnail_jpeg(seed) for seed in range(40)]  # unlike each other, pixel by pixel


def flipped(value: int, bits: int, rng: np.random.Generator) -> int:
    for bit in rng.choice(64, bits, replace=False).tolist():
        value ^= 1 << bit
    return value


def layout_text(rng: np.random.Generator) -> str:
    return bytes(rng.integers(0, 256, 12, dtype=np.uint8).tolist()).hex()


def far_layout(text: str) -> str:
    """The layout with its first quadrant's red pushed 100 away: layouts_close says no."""
    red = int(text[:2], 16)
    return f"{(red + 100) % 256 if red < 128 else red - 100:02x}{text[2:]}"


def dark_text(phash: int, layout: str, *, opaque: bool, rng: np.random.Generator) -> str:
    # An opaque alpha rebuilds a picture over black as itself: its copy "over black"
    # passes the pixel check when it is the same picture, and a random alpha fails it.
    alpha = np.full((SIDE, SIDE), 255, dtype=np.uint8)
    if not opaque:
        alpha = rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8)
    return DarkLook(phash, layout, alpha).encode()


def vector(rng: np.random.Generator, base: np.ndarray | None = None, noise: float = 0.0) -> Any:
    if base is None:
        return rng.normal(size=16).astype(np.float32)
    return (base + rng.normal(scale=noise, size=16)).astype(np.float32)


def family(out: Looks, rng: np.random.Generator, base: int) -> None:
    """An original and its kin: copies at every distance up to MAX + 1 (some the same
    picture, some not), a chain, a copy whose colours differ, pictures over black and
    copies only embeddings find."""
    picture = int(rng.integers(len(PICTURES)))
    layout = layout_text(rng)
    embedding = vector(rng)
    transparent = rng.random() < 0.3
    dark_hash = int(rng.integers(0, FULL, dtype=np.uint64, endpoint=True))
    dark = dark_text(dark_hash, layout, opaque=rng.random() < 0.7, rng=rng) if transparent else ""
    out.add(base, picture, layout=layout, embedding=embedding, dark_look=dark)
    for distance in range(MAX + 2):
        same = rng.random() < 0.85  # the others hash alike but show another picture
        shown = picture if same else int(rng.integers(len(PICTURES)))
        near = flipped(base, distance, rng)
        out.add(near, shown if rng.random() < 0.9 else None, layout=layout)
        if rng.random() < 0.3:  # a chain: near its parent, maybe not its grandparent
            out.add(flipped(near, int(rng.integers(1, MAX + 1)), rng), picture, layout=layout)
    out.add(flipped(base, 2, rng), picture, layout=far_layout(layout))
    for _ in range(int(rng.integers(0, 3))):  # found by embedding only
        noise = float(rng.choice([0.05, 0.3, 0.6]))
        faraway = int(rng.integers(0, FULL, dtype=np.uint64, endpoint=True))
        out.add(faraway, picture, layout=layout, embedding=vector(rng, embedding, noise))
    if transparent:  # copies over black, and a transparent look-alike of a copy
        for _ in range(int(rng.integers(1, 4))):
            out.add(flipped(dark_hash, int(rng.integers(0, MAX + 1)), rng), picture, layout=layout)
        over = flipped(base, 1, rng)
        look_dark = dark_text(over, layout, opaque=True, rng=rng)
        out.add(flipped(dark_hash, 40, rng), picture, layout=layout, dark_look=look_dark)


def crowded(rng: np.random.Generator, n: int) -> np.ndarray:
    """Hashes whose chunks take few values: full buckets, most pairs far apart."""
    chunks = rng.integers(0, 64, (n, 4)).astype(np.uint64) * np.uint64(997)
    return (chunks << np.arange(0, 64, 16, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)


def planted(seed: int, families: int = 32) -> Looks:
    rng = np.random.default_rng(seed)
    out = Looks()
    bases = crowded(rng, families).tolist()
    for base in bases:
        family(out, rng, int(base))
    for filler in crowded(rng, 150).tolist():
        out.add(int(filler), int(rng.integers(len(PICTURES))), layout=layout_text(rng))
    order = rng.permutation(len(out.looks))
    out.looks = [out.looks[i] for i in order]
    out.looks += [out.looks[i] for i in rng.choice(len(out.looks), 20).tolist()]  # seen again
    return out


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as executor:
        yield executor


def ways(pool: ProcessPoolExecutor) -> list[tuple[int, Mapper | None]]:
    """(parts, mapper): in this process split 1, 3 and 16 ways; in two processes."""
    in_processes: Mapper = lambda fn, items: list(pool.map(fn, items))  # noqa: E731
    return [(1, None), (3, None), (16, None), (5, in_processes)]


def assert_same_groups(
    looks: list[Look], thumbnails: Thumbnails, pool: ProcessPoolExecutor, max_distance: int = MAX
) -> dict[str, str]:
    """`assign_groups` split every way, and keeping 1 or 2 pairs of an image and class
    (most images cut: the resolution measures the rest directly), gives the reference's
    groups."""
    expected = sequential_groups(looks, thumbnails, max_distance=max_distance)
    for parts, mapper in ways(pool):
        got = assign_groups(
            looks, thumbnails, max_distance=max_distance, parts=parts, mapper=mapper
        )
        assert got == expected, (parts, mapper)
    for keep in (1, 2):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pairs, "KEEP", keep)
            for parts, mapper in ways(pool)[1::2]:
                got = assign_groups(
                    looks, thumbnails, max_distance=max_distance, parts=parts, mapper=mapper
                )
                assert got == expected, (keep, parts, mapper)
    return expected


def test_planted_copies_group_as_the_online_rule(pool: ProcessPoolExecutor) -> None:
    data = planted(1)
    groups = assert_same_groups(data.looks, data.thumbnails.get, pool)
    sizes = np.bincount(np.unique(list(groups.values()), return_inverse=True)[1])
    assert sizes.max() > 5 and (sizes == 1).sum() > 100  # groups formed, and loners stayed


def test_distance_layout_and_order_decide() -> None:
    out = Looks()
    rng = np.random.default_rng(3)
    layout = layout_text(rng)
    a = out.add(0x0123_4567_89AB_CDEF, 0, layout=layout)
    edge = out.add(a.phash ^ 0b111111, 0, layout=layout)  # MAX bits: joins
    beyond = out.add(a.phash ^ (0b1111111 << 20), 0, layout=layout)  # MAX + 1: alone
    chain = out.add(edge.phash ^ (0b11 << 40), 0, layout=layout)  # 2 from edge, 8 from a
    other = out.add(a.phash ^ 0b11, 0, layout=far_layout(layout))  # colours differ
    unlike = out.add(a.phash ^ 0b1, 1, layout=layout)  # another picture
    groups = assign_groups(out.looks, out.thumbnails.get)
    assert groups == sequential_groups(out.looks, out.thumbnails.get)
    assert groups[edge.sha256] == groups[chain.sha256] == a.sha256
    assert hamming(chain.phash, a.phash) == MAX + 2
    for alone in (beyond, other, unlike):
        assert groups[alone.sha256] == alone.sha256


def test_too_far_for_the_chunk_tables_is_refused() -> None:
    with pytest.raises(ValueError):
        assign_groups([], lambda sha: None, max_distance=8)


# -- real pictures -----------------------------------------------------------------


def processed(image: Image.Image, fmt: str, name: str) -> Processed:
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    result = process_bytes(out.getvalue(), Occurrence(source=name), PipelineConfig())
    assert isinstance(result, Processed), result
    return result


def drawing(rng: np.random.Generator) -> Image.Image:
    """A blocky picture, most of them with see-through blocks."""
    cells = rng.integers(0, 256, (6, 8, 4), dtype=np.uint8)
    cells[..., 3] = np.where(rng.random((6, 8)) < 0.4, 0, 255) if rng.random() < 0.7 else 255
    return Image.fromarray(cells, "RGBA").resize((320, 240), Image.Resampling.NEAREST)


def variants(image: Image.Image) -> list[tuple[Image.Image, str]]:
    black = Image.new("RGB", image.size, (0, 0, 0))
    black.paste(image, mask=image.getchannel("A"))
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image, mask=image.getchannel("A"))
    crop = white.crop((8, 6, 312, 234))  # 5 %: the hash moves, the embedding does not
    return [
        (image, "PNG"),
        (black, "JPEG"),
        (white.resize((200, 150)), "JPEG"),
        (crop, "JPEG"),
    ]


def test_real_pictures_over_black_and_cropped_group_as_the_online_rule(
    pool: ProcessPoolExecutor,
) -> None:
    rng = np.random.default_rng(7)
    looks: list[Look] = []
    thumbnails: dict[str, bytes] = {}
    for i in range(12):
        embedding = vector(rng)
        for n, (image, fmt) in enumerate(variants(drawing(rng))):
            result = processed(image, fmt, f"{i}-{n}")
            facts = result.facts
            thumbnails[facts.sha256] = result.thumbnail
            looks.append(
                Look(
                    facts.sha256,
                    facts.phash,
                    facts.color_layout,
                    True,
                    vector(rng, embedding, 0.05),
                    facts.dark_look,
                )
            )
    looks = [looks[i] for i in rng.permutation(len(looks))]
    groups = assert_same_groups(looks, thumbnails.get, pool)
    assert len(set(groups.values())) < 30  # copies, crops and pictures over black joined


def test_the_feature_folder_of_a_real_corpus(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    write_corpus(tmp_path / "pictures")
    folder = FeatureFolder(tmp_path / "features")
    write_features(tmp_path / "pictures", folder)
    looks = list(folder.looks(folder.names()))
    groups = assert_same_groups(looks, folder.thumbnails.get, pool)
    assert len(set(groups.values())) < len(groups)


# -- the pair finder alone -----------------------------------------------------------


def brute_force(hashes: np.ndarray, dark: np.ndarray, has_dark: np.ndarray, most: int) -> set[Any]:
    """Every (k, j, distance, kind) by measuring all pairs."""
    found = set()
    transparent = np.flatnonzero(has_dark)
    for start in range(0, len(hashes), 1000):
        rows = np.arange(start, min(start + 1000, len(hashes)))
        same = np.bitwise_count(hashes[rows, None] ^ hashes[None, :])
        for k, j in zip(*np.nonzero(same <= most), strict=True):
            if j < rows[k]:
                found.add((int(rows[k]), int(j), int(same[k, j]), SAME))
        across = np.bitwise_count(hashes[rows, None] ^ dark[None, transparent])
        for k, t in zip(*np.nonzero(across <= most), strict=True):
            image, other, distance = int(rows[k]), int(transparent[t]), int(across[k, t])
            if image > other:
                found.add((image, other, distance, THEIRS_OVER_BLACK))
            elif image < other:
                found.add((other, image, distance, MINE_OVER_BLACK))
    return found


def test_pairs_are_every_pair_within_the_distance() -> None:
    rng = np.random.default_rng(11)
    hashes = np.concatenate(
        [rng.integers(0, FULL, 14_000, dtype=np.uint64, endpoint=True), crowded(rng, 4000)]
    )
    copies = rng.choice(len(hashes), 2000)
    flips = [flipped(0, int(d), rng) for d in rng.integers(0, 10, 2000)]
    hashes = np.concatenate([hashes, hashes[copies] ^ np.array(flips, dtype=np.uint64)])
    has_dark = rng.random(len(hashes)) < 0.1
    dark = hashes[rng.permutation(len(hashes))] ^ np.uint64(0b1011)
    within_7 = brute_force(hashes, dark, has_dark, 7)
    for most in (7, 3):
        expected = {p for p in within_7 if p[2] <= most}
        for parts in (1, 7):
            found = [find_pairs(p) for p in pair_parts(hashes, dark, has_dark, most, parts)]
            assert sum(len(f.rows) for f in found) == len(expected)  # each once, in one part
            pairs = merge_pairs(found).rows
            assert {tuple(row) for row in pairs.tolist()} == expected
    assert sum(1 for p in within_7 if p[3] == SAME) > 1000
    assert {p[3] for p in within_7} == {SAME, THEIRS_OVER_BLACK, MINE_OVER_BLACK}


def test_pairs_measured_in_small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches cut between runs, and a run (one bucket: 300 copies of one hash, as flat
    # pictures hash alike) longer than a batch, measured whole.
    monkeypatch.setattr(pairs, "BATCH", 100)
    rng = np.random.default_rng(12)
    hashes = np.concatenate([np.full(300, 0xF0F0, dtype=np.uint64), crowded(rng, 2000)])
    hashes = hashes[rng.permutation(len(hashes))]
    has_dark = rng.random(len(hashes)) < 0.2
    dark = hashes ^ np.uint64(1 << 40)
    expected = brute_force(hashes, dark, has_dark, MAX)
    found = [find_pairs(p) for p in pair_parts(hashes, dark, has_dark, MAX, 3, keep=1000)]
    assert sum(len(f.rows) for f in found) == len(expected)
    assert {tuple(row) for row in merge_pairs(found).rows.tolist()} == expected
