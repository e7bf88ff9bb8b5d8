"""Near-duplicate lookup over 64-bit perceptual hashes by multi-index hashing.

The hash is cut into four 16-bit chunks, each with its own table. Probing each
chunk exactly and with every one-bit flip finds every stored hash within
Hamming distance 7 (pigeonhole: at distance ≤ 7 some chunk differs in ≤ 1 bit),
and each probe touches about N / 65536 entries, so lookups stay fast at
millions of images.
"""

from __future__ import annotations

from collections import defaultdict

CHUNKS = 4
CHUNK_BITS = 16
_MASK = (1 << CHUNK_BITS) - 1


# pHash sees only luminance: a red and an orange circle on white hash alike. A
# copy (resized, recompressed, lightly cropped) keeps where its colours sit, so two
# images are duplicates only if the mean colours of their quadrants agree too.
MAX_LAYOUT_DISTANCE = 24  # RGB distance allowed in the worst quadrant (copies: < 10)

Layout = tuple[int, ...] | None  # 12 channel means, or None when unknown


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


def _chunks(value: int) -> list[int]:
    return [(value >> (CHUNK_BITS * i)) & _MASK for i in range(CHUNKS)]


class DuplicateIndex:
    """In-memory MIH table of (phash → doc_id, group_id)."""

    def __init__(self, max_distance: int = 6) -> None:
        if max_distance > 2 * CHUNKS - 1:
            raise ValueError(f"max_distance above {2 * CHUNKS - 1} is not guaranteed")
        self.max_distance = max_distance
        self._tables: list[dict[int, list[int]]] = [defaultdict(list) for _ in range(CHUNKS)]
        self._entries: dict[int, tuple[int, int, Layout]] = {}  # doc_id → (phash, group, layout)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, phash: int, doc_id: int, group_id: int, layout: Layout = None) -> None:
        self._entries[doc_id] = (phash, group_id, layout)
        for table, chunk in zip(self._tables, _chunks(phash), strict=True):
            table[chunk].append(doc_id)

    def remove(self, doc_id: int) -> None:
        # Table buckets keep the stale id; lookups skip ids without an entry.
        self._entries.pop(doc_id, None)

    def nearest(self, phash: int, layout: Layout = None) -> tuple[int, int, int] | None:
        """(distance, doc_id, group_id) of the closest stored duplicate within max_distance.

        Stored images whose colour layout disagrees with `layout` do not count.
        """
        best: tuple[int, int, int] | None = None
        for doc_id in self._candidates(phash):
            entry = self._entries.get(doc_id)
            if entry is None:
                continue
            stored, group_id, stored_layout = entry
            distance = hamming(stored, phash)
            if distance > self.max_distance or (
                best is not None and (distance, doc_id) >= best[:2]
            ):
                continue
            if layouts_close(layout, stored_layout):
                best = (distance, doc_id, group_id)
        return best

    def group_for(self, phash: int, layout: Layout = None) -> int | None:
        found = self.nearest(phash, layout)
        return found[2] if found else None

    def _candidates(self, phash: int) -> set[int]:
        seen: set[int] = set()
        for table, chunk in zip(self._tables, _chunks(phash), strict=True):
            for probe in (chunk, *(chunk ^ (1 << bit) for bit in range(CHUNK_BITS))):
                bucket = table.get(probe)
                if bucket:
                    seen.update(bucket)
        return seen
