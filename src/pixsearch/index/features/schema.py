"""Feature records and their Parquet columns: what the pipeline found about one image.

A ``FeatureRecord`` is everything an index needs to hold an image without
decoding it or running a model again: its facts (the analyzers' findings
included: tags, faces, adult score, OCR text), the places it was found with
their text, when it was first seen, its visual and CLIP embeddings. Its
thumbnail lives apart, in the feature folder's content-addressed store
(features/folder.py), named by the image's sha256.

The fact columns follow ``ImageFacts``' declared types, so a new fact gets a
column without code here (an unknown kind of type fails at import, not in a
file). Reading fills the default of a fact whose column a file lacks: feature
shards written before the fact was added still load. Dates are ISO strings and
occurrences their JSON (as the embedded store keeps them), so every record
reads back equal to what was written, naive and aware dates alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from pixsearch.index.factrows import occurrence_from_dict
from pixsearch.records import ImageDocument, ImageFacts, Occurrence

FORMAT = b"pixsearch-features/1"  # in each file's schema metadata
FORMAT_KEY = b"pixsearch"


@dataclass(slots=True, eq=False)
class FeatureRecord:
    """One distinct image (one sha256) with the places it was found."""

    facts: ImageFacts
    occurrences: list[Occurrence]
    first_seen: datetime | None = None  # None: the index build stamps its own time
    embedding: np.ndarray | None = None  # visual embedding (float32), similar images
    clip_embedding: np.ndarray | None = None  # CLIP image vector (float32)
    has_thumbnail: bool = True  # the feature folder's thumbnail store holds one

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureRecord):
            return NotImplemented
        return (
            self.facts == other.facts
            and self.occurrences == other.occurrences
            and self.first_seen == other.first_seen
            and self.has_thumbnail == other.has_thumbnail
            and _same_vector(self.embedding, other.embedding)
            and _same_vector(self.clip_embedding, other.clip_embedding)
        )

    def document(self, first_seen: datetime) -> ImageDocument:
        """A new document of this image for a store's ``add`` (the store numbers it)."""
        return ImageDocument(
            facts=self.facts,
            occurrences=list(self.occurrences),
            first_seen=self.first_seen or first_seen,
        )


def _same_vector(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


# -- fact columns, by declared type --------------------------------------------

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]


_REQUIRED: Any = object()  # the default of a fact without one: every file must have it


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    type: pa.DataType
    encode: Encode | None = None  # fact → Arrow value; None: as is
    decode: Decode | None = None  # Arrow value → fact; None: as is
    default: Any = _REQUIRED


def _json_tuples(raw: str | None) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(item) for item in orjson.loads(raw)) if raw else ()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _fact_column(declared: dataclasses.Field[Any]) -> _Column:
    kind = str(declared.type)
    default = _REQUIRED if declared.default is dataclasses.MISSING else declared.default
    if declared.name == "phash":  # 64 unsigned bits
        return _Column(declared.name, pa.uint64(), default=default)
    simple = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "float": pa.float64()}
    if kind in simple:
        return _Column(declared.name, simple[kind], default=default)
    if kind == "tuple[str, ...]":
        return _Column(declared.name, pa.list_(pa.string()), None, tuple, default)
    if kind.startswith("tuple[tuple"):
        return _Column(
            declared.name, pa.string(), lambda v: orjson.dumps(v).decode(), _json_tuples, default
        )
    if kind == "datetime | None":
        return _Column(declared.name, pa.string(), _iso, _from_iso, default)
    raise TypeError(f"ImageFacts.{declared.name}: no Parquet column for type {kind}")


FACT_COLUMNS: tuple[_Column, ...] = tuple(_fact_column(f) for f in dataclasses.fields(ImageFacts))

SCHEMA = pa.schema(
    [pa.field(c.name, c.type) for c in FACT_COLUMNS]
    + [
        pa.field("occurrences", pa.list_(pa.string())),  # each the JSON of an Occurrence
        pa.field("first_seen", pa.string()),
        pa.field("embedding", pa.binary()),  # float32, native little-endian
        pa.field("clip_embedding", pa.binary()),
        pa.field("has_thumbnail", pa.bool_()),
    ],
    metadata={FORMAT_KEY: FORMAT},
)


def to_table(
    records: Sequence[FeatureRecord], *, metadata: dict[bytes, bytes] | None = None
) -> pa.Table:
    """Records as one Arrow table of SCHEMA (with `metadata` added to the schema's)."""
    columns: list[pa.Array] = []
    for column in FACT_COLUMNS:
        values = [getattr(r.facts, column.name) for r in records]
        if column.encode is not None:
            values = [column.encode(v) for v in values]
        columns.append(pa.array(values, type=column.type))
    columns += [
        pa.array(
            [[orjson.dumps(o).decode() for o in r.occurrences] for r in records],
            type=pa.list_(pa.string()),
        ),
        pa.array([_iso(r.first_seen) for r in records], type=pa.string()),
        pa.array([_vector_bytes(r.embedding) for r in records], type=pa.binary()),
        pa.array([_vector_bytes(r.clip_embedding) for r in records], type=pa.binary()),
        pa.array([r.has_thumbnail for r in records], type=pa.bool_()),
    ]
    schema = SCHEMA.with_metadata({**(SCHEMA.metadata or {}), **(metadata or {})})
    return pa.Table.from_arrays(columns, schema=schema)


def _vector_bytes(vector: np.ndarray | None) -> bytes | None:
    if vector is None:
        return None
    return np.ascontiguousarray(vector, dtype="<f4").reshape(-1).tobytes()


def _vector(raw: bytes | None) -> np.ndarray | None:
    return np.frombuffer(raw, dtype="<f4").astype(np.float32) if raw is not None else None


def from_table(table: pa.Table) -> Iterator[FeatureRecord]:
    """The records of a table of SCHEMA (or of an older one lacking some fact columns)."""
    if table.schema.metadata is None or table.schema.metadata.get(FORMAT_KEY) != FORMAT:
        raise ValueError("not a pixsearch feature table (format metadata missing or newer)")
    rows = table.num_rows
    facts_columns = [_fact_values(table, column, rows) for column in FACT_COLUMNS]
    occurrences = table.column("occurrences").to_pylist()
    first_seen = table.column("first_seen").to_pylist()
    embeddings = table.column("embedding").to_pylist()
    clips = table.column("clip_embedding").to_pylist()
    thumbs = table.column("has_thumbnail").to_pylist()
    for i, values in enumerate(zip(*facts_columns, strict=True)):
        yield FeatureRecord(
            facts=ImageFacts(*values),
            occurrences=[occurrence_from_dict(orjson.loads(o)) for o in occurrences[i]],
            first_seen=_from_iso(first_seen[i]),
            embedding=_vector(embeddings[i]),
            clip_embedding=_vector(clips[i]),
            has_thumbnail=bool(thumbs[i]),
        )


def _fact_values(table: pa.Table, column: _Column, rows: int) -> list[Any]:
    if column.name not in table.column_names:
        if column.default is _REQUIRED:
            raise ValueError(f"feature table lacks the required fact column {column.name!r}")
        return [column.default] * rows
    values = table.column(column.name).to_pylist()
    return [column.decode(v) for v in values] if column.decode is not None else values


GROUP_COLUMNS = ("sha256", "phash", "color_layout", "dark_look", "has_thumbnail", "embedding")


@dataclass(frozen=True, slots=True)
class Look:
    """What near-duplicate grouping reads of an image (no text, no occurrences)."""

    sha256: str
    phash: int
    color_layout: str
    has_thumbnail: bool
    embedding: np.ndarray | None = field(default=None, compare=False)
    dark_look: str = ""  # ImageFacts.dark_look: a transparent picture's look over black


def looks_of(table: pa.Table) -> Iterator[Look]:
    """The Looks of a table read with ``columns=GROUP_COLUMNS``."""
    names = table.column_names
    layouts = table.column("color_layout").to_pylist() if "color_layout" in names else None
    darks = table.column("dark_look").to_pylist() if "dark_look" in names else None
    shas = table.column("sha256").to_pylist()
    hashes = table.column("phash").to_pylist()
    thumbs = table.column("has_thumbnail").to_pylist()
    embeddings = table.column("embedding").to_pylist()
    for i, sha in enumerate(shas):
        yield Look(
            sha256=sha,
            phash=hashes[i],
            color_layout=layouts[i] if layouts is not None else "",
            has_thumbnail=bool(thumbs[i]),
            embedding=_vector(embeddings[i]),
            dark_look=(darks[i] or "") if darks is not None else "",
        )
