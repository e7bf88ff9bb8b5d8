"""Near-duplicate lookup over 64-bit perceptual hashes by multi-index hashing.

The hash is cut into four 16-bit chunks, each with its own table. Probing each
chunk exactly and with every one-bit flip finds every stored hash within
Hamming distance 7 (pigeonhole: at distance ≤ 7 some chunk differs in ≤ 1 bit),
and each probe touches about N / 65536 entries, so lookups stay fast at
millions of images.

A 5 % crop is a 5 % zoom: it moves the hash by a median of 8 bits (corner crops 14),
beyond what the table finds; so do small copies of symmetric drawings (a flag's 150 px
thumbnail: 18 bits), whose many near-median DCT terms flip. Images with a visual
embedding get a second way in: a stored image whose embedding is close (from the
vector index) is a duplicate if the two thumbnails, once aligned, show the same picture
(index/alignment.py: one picture is compared with windows of the other covering 90-100 %
of its sides, and the best window's normalised correlation must leave at most
MAX_MISMATCH). The same pixel check vetoes hash matches, so sibling drawings (the 2 of
hearts and the 2 of diamonds) that hash alike stay apart. Measured in docs/quality.md
(issues 4 and 16).

Transparency is flattened over white before hashing, so a copy a site flattened over
black hashes unlike its original. A transparent picture's look over black
(index/darklook.py) is kept in a second table; a pair across the two is checked against
the transparent one's thumbnail rebuilt over black (`DuplicateIndex._across`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from operator import itemgetter

import numpy as np

from pixsearch.index.alignment import (
    FINE_MAX_MISMATCH,
    MAX_ASPECT_CHANGE,
    MAX_MISMATCH,
    Verify,
)
from pixsearch.index.darklook import DarkLook

CHUNKS = 4
CHUNK_BITS = 16
_MASK = (1 << CHUNK_BITS) - 1


# pHash sees only luminance: a red and an orange circle on white hash alike. A
# copy (resized, recompressed, lightly cropped) keeps where its colours sit, so two
# images are duplicates only if the mean colours of their quadrants agree too.
MAX_LAYOUT_DISTANCE = 24  # RGB distance allowed in the worst quadrant (copies: < 10)

Layout = tuple[int, ...] | None  # 12 channel means, or None when unknown


# Embedding path (fitted on bench/quality_images.py's 458 originals and their copies).
MIN_SIMILARITY = 0.8  # cosine of the visual embeddings (5 % crops: >= 0.84 bar one 0.66)
# Small copies of drawings (a 150 px thumbnail of a flag, a 25 % icon) sit lower: the
# model sees them blurred. Between this and MIN_SIMILARITY a pair must also agree in
# colour layout, which a light and a dark variant of one wallpaper do not (issue 16,
# bench/quality_file_facts.py).
COPY_MIN_SIMILARITY = 0.6
# ... and their aligned pixels agree more closely than MAX_MISMATCH asks: two frames of
# one drawn boat capsizing, copied as JPEGs over black, came within 0.028.
COPY_MAX_MISMATCH = 0.02
DUP_NEIGHBOURS = 8  # nearest vectors the ingest checks when no hash matches


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def parse_layout(text: str | None) -> Layout:
    if not text or len(text) != 24:
        return None
    try:
        return tuple(int(text[i : i + 2], 16) for i in range(0, 24, 2))
    except ValueError:
        return None


def layouts_close(a: Layout, b: Layout) -> bool:
    """True when the quadrant colours agree, or when either is unknown (old rows)."""
    if a is None or b is None:
        return True
    for q in range(0, 12, 3):
        d = [a[q + i] - b[q + i] for i in range(3)]
        if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] > MAX_LAYOUT_DISTANCE**2:
            return False
    return True


def is_near_duplicate(
    phash_a: int,
    layout_a: Layout,
    phash_b: int,
    layout_b: Layout,
    max_distance: int,
    *,
    similarity: float | None = None,
    pixels: Verify | None = None,
) -> bool:
    """The near-duplicate decision, the only one (ingest grouping, uploads, benchmarks).

    * pHashes within max_distance bits and colour layouts agreeing, unless the
      thumbnails are known (`pixels`) and do not show the same picture, neither at
      32 px nor at the finer look that keeps thin lines (`Alignment.fine_mismatch`);
    * or, for a crop or small copy the hash misses: visual embeddings at least
      MIN_SIMILARITY alike (COPY_MIN_SIMILARITY with known colour layouts agreeing),
      aspect ratios within MAX_ASPECT_CHANGE and the aligned thumbnails agreeing.

    `pixels` is called only when needed (at most once) and may return None (a
    thumbnail missing): then hash matches stand and embedding matches do not.
    """
    if hamming(phash_a, phash_b) <= max_distance and layouts_close(layout_a, layout_b):
        seen = pixels() if pixels is not None else None
        return (
            seen is None
            or seen.mismatch() <= MAX_MISMATCH
            or seen.fine_mismatch() <= FINE_MAX_MISMATCH
        )
    allowed = _allowed_mismatch(similarity, layout_a, layout_b)
    if allowed is None or pixels is None:
        return False
    seen = pixels()
    return (
        seen is not None and seen.aspect_change <= MAX_ASPECT_CHANGE and seen.mismatch() <= allowed
    )


def _allowed_mismatch(similarity: float | None, layout_a: Layout, layout_b: Layout) -> float | None:
    """How far the aligned pixels of a pair the hash does not match may differ; None
    when the embeddings are too far apart to compare them at all."""
    if similarity is None or similarity < COPY_MIN_SIMILARITY:
        return None
    if similarity >= MIN_SIMILARITY:
        return MAX_MISMATCH
    known = layout_a is not None and layout_b is not None
    return COPY_MAX_MISMATCH if known and layouts_close(layout_a, layout_b) else None


def over_black_match(
    found: list[tuple[int, int, np.ndarray, bool]], verify: Callable[[int], Verify]
) -> tuple[int, int] | None:
    """(distance, doc_id) of the first pair across black whose pixels agree, of `found`:
    (distance, doc_id, alpha, mine), looks over black met before own looks over black
    (`mine`) of the same doc_id, as `DuplicateIndex._across` gathers them. Shared with
    features/groups.py, which gathers the same pairs for a whole build at once."""
    # the closest few only: a dark picture may meet many looks over black by hash
    for distance, doc_id, alpha, mine in sorted(found, key=itemgetter(0, 1))[:DUP_NEIGHBOURS]:
        seen = verify(doc_id)()
        if seen is None:
            continue
        transparent = seen.a if mine else seen.b
        if seen.over_black_mismatch(alpha, transparent=transparent) <= COPY_MAX_MISMATCH:
            return distance, doc_id
    return None


def chunk_values(hashes: np.ndarray) -> np.ndarray:
    """(CHUNKS, n) int64: the table keys of each uint64 hash, as `_chunks` cuts one."""
    values = np.asarray(hashes, dtype=np.uint64)
    shifts = np.arange(CHUNKS, dtype=np.uint64)[:, None] * np.uint64(CHUNK_BITS)
    return ((values[None, :] >> shifts) & np.uint64(_MASK)).astype(np.int64)


def bit_counts(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (of two hashes' xor: their distance), in any shape."""
    values = np.ascontiguousarray(values, dtype=np.uint64)
    return _bit_count(values.reshape(-1)).reshape(values.shape)


def _chunks(value: int) -> list[int]:
    return [(value >> (CHUNK_BITS * i)) & _MASK for i in range(CHUNKS)]


_FLIPS = (0, *(1 << bit for bit in range(CHUNK_BITS)))  # a chunk as is, then each one-bit flip
_BIT_COUNTS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _bit_count(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (numpy 2's bitwise_count; a byte table before it)."""
    if hasattr(np, "bitwise_count"):
        counts = np.bitwise_count(values)
    else:
        counts = _BIT_COUNTS[values.view(np.uint8)].reshape(-1, 8).sum(axis=1)
    return np.asarray(counts)


class DuplicateIndex:
    """In-memory MIH table of (phash → doc_id, group_id).

    The chunk tables hold slots of two growing arrays (hash, doc_id). A probe
    gathers its 68 buckets' slots and measures all their distances at once in
    numpy: at a million images that is about 1,000 candidates a probe, which
    cost about 1 ms one by one in Python.
    """

    def __init__(self, max_distance: int = 6) -> None:
        if max_distance > 2 * CHUNKS - 1:
            raise ValueError(f"max_distance above {2 * CHUNKS - 1} is not guaranteed")
        self.max_distance = max_distance
        # chunk → slots, as machine integers (a probe joins its buckets' bytes), in a
        # list by chunk value: one itemgetter call fetches a probe's 17 buckets
        self._tables: list[list[array[int] | None]] = [[None] * (_MASK + 1) for _ in range(CHUNKS)]
        self._entries: dict[int, tuple[int, int, Layout]] = {}  # doc_id → (phash, group, layout)
        self._hashes = np.zeros(1024, dtype=np.uint64)  # by slot
        self._ids = np.zeros(1024, dtype=np.int64)
        self._slots = 0
        # Transparent pictures' looks over black (made on the first), and their alphas.
        self._over_black: DuplicateIndex | None = None
        self._alphas: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self,
        phash: int,
        doc_id: int,
        group_id: int,
        layout: Layout = None,
        dark: DarkLook | None = None,
    ) -> None:
        """Store an image's look; `dark`, a transparent picture's look over black, too."""
        self._entries[doc_id] = (phash, group_id, layout)
        if dark is not None:
            if self._over_black is None:
                self._over_black = DuplicateIndex(self.max_distance)
            self._over_black.add(dark.phash, doc_id, group_id, parse_layout(dark.layout))
            self._alphas[doc_id] = dark.alpha
        slot = self._slots
        if slot == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
            self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
        self._hashes[slot] = phash
        self._ids[slot] = doc_id
        self._slots += 1
        for table, chunk in zip(self._tables, _chunks(phash), strict=True):
            bucket = table[chunk]
            if bucket is None:
                bucket = table[chunk] = array("q")
            bucket.append(slot)

    def remove(self, doc_id: int) -> None:
        # Table buckets keep the stale slot; lookups skip ids without an entry.
        self._entries.pop(doc_id, None)
        if self._alphas.pop(doc_id, None) is not None and self._over_black is not None:
            self._over_black.remove(doc_id)

    def nearest(
        self,
        phash: int,
        layout: Layout = None,
        *,
        verify: Callable[[int], Verify] | None = None,
        dark: DarkLook | None = None,
    ) -> tuple[int, int, int] | None:
        """(distance, doc_id, group_id) of the closest stored duplicate within max_distance.

        Stored images whose colour layout disagrees with `layout` do not count, nor,
        with `verify` (doc_id → its pixel comparison), those whose thumbnails differ.
        With `verify`, a copy flattened over black meets its transparent original too
        (`_across`; `dark` is this image's own look over black, if it is transparent).
        """
        found = []
        for doc_id in self._candidates(phash):
            entry = self._entries.get(doc_id)
            if entry is None:
                continue
            stored, group_id, stored_layout = entry
            distance = hamming(stored, phash)
            if distance <= self.max_distance and layouts_close(layout, stored_layout):
                found.append((distance, doc_id, group_id))
        for distance, doc_id, group_id in sorted(found):
            stored, _, stored_layout = self._entries[doc_id]
            pixels = verify(doc_id) if verify is not None else None
            if is_near_duplicate(
                phash, layout, stored, stored_layout, self.max_distance, pixels=pixels
            ):
                return distance, doc_id, group_id
        return self._across(phash, layout, dark, verify) if verify is not None else None

    def _across(
        self, phash: int, layout: Layout, dark: DarkLook | None, verify: Callable[[int], Verify]
    ) -> tuple[int, int, int] | None:
        """A pair where one picture is transparent and the other a copy of it flattened
        over black: this image against stored looks over black, and its own look over
        black (`dark`) against stored images. The copy must match the transparent one's
        thumbnail rebuilt over black (darklook.py) within COPY_MAX_MISMATCH: black ink
        vanishes over black, so such a pair shows less than a hash match does."""
        found: list[tuple[int, int, np.ndarray, bool]] = []  # distance, doc_id, alpha, mine
        if self._over_black is not None:
            for doc_id in self._over_black._candidates(phash):
                look = self._over_black._entries.get(doc_id)
                if look is not None and doc_id in self._entries and layouts_close(layout, look[2]):
                    found.append((hamming(look[0], phash), doc_id, self._alphas[doc_id], False))
        if dark is not None:
            dark_layout = parse_layout(dark.layout)
            for doc_id in self._candidates(dark.phash):
                entry = self._entries.get(doc_id)
                if entry is not None and layouts_close(dark_layout, entry[2]):
                    found.append((hamming(entry[0], dark.phash), doc_id, dark.alpha, True))
        match = over_black_match(found, verify)
        return (*match, self._entries[match[1]][1]) if match is not None else None

    def group_for(
        self,
        phash: int,
        layout: Layout = None,
        *,
        verify: Callable[[int], Verify] | None = None,
        neighbours: Callable[[], Iterable[tuple[int, float]]] | None = None,
        dark: DarkLook | None = None,
    ) -> int | None:
        """The group a new image joins: its nearest hash duplicate's, else (with
        `neighbours`, its visual nearest as (doc_id, cosine)) the first embedding match's."""
        found = self.nearest(phash, layout, verify=verify, dark=dark)
        if found:
            return found[2]
        if neighbours is None or verify is None:
            return None
        for doc_id, similarity in neighbours():
            entry = self._entries.get(doc_id)
            if entry is None:
                continue
            stored, group_id, stored_layout = entry
            if is_near_duplicate(
                phash,
                layout,
                stored,
                stored_layout,
                self.max_distance,
                similarity=similarity,
                pixels=verify(doc_id),
            ):
                return group_id
        return None

    def _candidates(self, phash: int) -> set[int]:
        """The ids in the probed buckets whose stored hash is within max_distance."""
        joined = b"".join(
            bucket
            for table, chunk in zip(self._tables, _chunks(phash), strict=True)
            for bucket in itemgetter(*[chunk ^ flip for flip in _FLIPS])(table)
            if bucket
        )
        if not joined:
            return set()
        slots = np.frombuffer(joined, dtype=np.int64)
        distances = _bit_count(self._hashes[slots] ^ np.uint64(phash))
        return set(self._ids[slots[distances <= self.max_distance]].tolist())
