"""One compact record per image: what a result page reads instead of rows.

A result page used to rebuild each hit from its ``images`` row (30 fact
columns, each decoded by type) and its ``occurrences`` rows (one JSON document
each): about 25 µs a hit, most of a search. The writer now also stores each
image, as committed, as one orjson array in the ``records`` table; a page
decodes one blob per hit, and the decoded parts of hot images stay in a
bounded LRU that a new generation empties.

The record holds exactly what reading the rows gives (``canonical`` sends the
facts through the row encoding first), so either path returns equal documents;
the rows stay the authority. A record is used only when it was written by a
generation the reader sees and with the fact layout this code has; otherwise,
and for images written before records existed, the rows are read.
"""

from __future__ import annotations

import dataclasses
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

from pixsearch.records import ImageDocument, ImageFacts, Occurrence

_FACTS = dataclasses.fields(ImageFacts)
# Records name their fact layout: one written before a fact was added, removed or
# moved is not decoded positionally into the wrong field, but read from the rows.
LAYOUT = zlib.crc32(repr([(f.name, str(f.type)) for f in _FACTS]).encode())
# Decoded images kept per store: 2.7 KB each (tracemalloc at 1M), 171 MiB per process when
# full. 16,384 held a third of what bench/http_load.py's mixed pages show at 1,000,000
# documents (44,972 images), and an LRU cycled by a working set larger than itself
# hits almost never: 23 decodes a request. With this and metadb.GROUP_CACHE_SIZE at
# 65,536 an in-process search there took 3.5 ms of CPU instead of 4.6 (session 22).
CACHE_SIZE = 65536

K = TypeVar("K")
V = TypeVar("V")


class GenerationCache(Generic[K, V]):
    """A bounded LRU whose entries hold for one committed generation only.

    Locked: a value decoded for one generation must never land in the cache of
    the next, whichever threads look up, decode and store concurrently.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.gen = -1
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, gen: int, keys: Iterable[K]) -> dict[K, V]:
        """The cached values of `keys` at generation `gen` (moving the cache to it)."""
        with self._lock:
            if gen != self.gen:
                self._entries.clear()
                self.gen = gen
                return {}
            entries, found = self._entries, {}
            for key in keys:
                value = entries.get(key)
                if value is not None:
                    entries.move_to_end(key)
                    found[key] = value
            return found

    def through(
        self, gen: int, keys: Sequence[K], compute: Callable[[list[K]], dict[K, V]]
    ) -> dict[K, V]:
        """The values of `keys` at generation `gen`: the cached ones, and the others from
        `compute(missing)`, kept for the next caller."""
        found = self.lookup(gen, keys)
        missing = [key for key in keys if key not in found]
        if missing:
            fresh = compute(missing)
            self.store(gen, fresh)
            found.update(fresh)
        return found

    def store(self, gen: int, values: dict[K, V]) -> None:
        """Keep `values`, read at generation `gen`, unless the cache has moved on."""
        with self._lock:
            if gen != self.gen or self.size <= 0:
                return
            self._entries.update(values)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@dataclasses.dataclass(slots=True)
class Decoded:
    """An image's record, decoded: what documents of it are made of."""

    facts: ImageFacts
    first_seen: datetime
    group_id: int
    occurrences: tuple[Occurrence, ...]

    def document(self, doc_id: int) -> ImageDocument:
        """A new document; its occurrences are shared with the cache and read-only.

        Nothing downstream edits an occurrence it was given (a slice of a
        document is a new one); copying them would cost a third of a page.
        """
        return ImageDocument(
            self.facts, list(self.occurrences), self.first_seen, self.group_id, doc_id
        )


def decoded_of(doc: ImageDocument) -> Decoded:
    return Decoded(doc.facts, doc.first_seen, doc.group_id, tuple(doc.occurrences))


def encode(doc: ImageDocument, facts: ImageFacts) -> bytes:
    """`doc` as stored: `facts` as the rows give them back, one occurrence per source."""
    stored: dict[str, Occurrence] = {}
    for occurrence in doc.occurrences:  # a later one of the same source replaces it in place
        stored[occurrence.source] = occurrence
    values = [getattr(facts, f.name) for f in _FACTS]
    return orjson.dumps(
        [LAYOUT, values, doc.first_seen.isoformat(), doc.group_id, list(stored.values())]
    )


def decode(data: bytes, occurrence: Callable[[dict[str, Any]], Occurrence]) -> Decoded | None:
    """The record's parts, or None when it was written for another fact layout."""
    layout, values, first_seen, group_id, occurrences = orjson.loads(data)
    if layout != LAYOUT:
        return None
    for i, convert in _CONVERTERS:
        values[i] = convert(values[i])
    return Decoded(
        ImageFacts(*values),
        datetime.fromisoformat(first_seen),
        group_id,
        tuple(map(occurrence, occurrences)),
    )


def places(data: bytes) -> tuple[int, list[tuple[str, str]]] | None:
    """The record's group and the (page URL, page title) of each place, nothing built
    (site chrome reads these for every image); None for another fact layout."""
    layout, _, _, group_id, occurrences = orjson.loads(data)
    if layout != LAYOUT:
        return None
    return group_id, [
        (o["host_page_url"] or "", o["text"].get("page_title", "")) for o in occurrences
    ]


def _converter(field: dataclasses.Field[Any]) -> Callable[[Any], Any] | None:
    """How a JSON value becomes the fact; None where JSON already gives it as is."""
    kind = str(field.type)
    if field.name == "captured_at":
        return lambda raw: datetime.fromisoformat(raw) if raw else None
    if kind == "float":
        return float
    if kind.startswith("tuple[tuple"):
        return lambda raw: tuple(map(tuple, raw))
    if kind.startswith("tuple"):
        return tuple
    return None


_CONVERTERS = [(i, c) for i, f in enumerate(_FACTS) if (c := _converter(f)) is not None]
