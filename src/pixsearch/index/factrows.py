"""How an image's facts and occurrences are stored in SQLite rows, and read back.

Column affinity and encoding follow ImageFacts' declared types (below), so a
new fact gets the right column without code here; the reading side turns the
NULLs of columns added after a row was written into the fact's default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from pixsearch.records import ImageDocument, ImageFacts, Occurrence

FACT_FIELDS = [f.name for f in dataclasses.fields(ImageFacts)]
FACT_COLUMNS = ", ".join(FACT_FIELDS)
# Column affinity and encoding follow the dataclass's declared type, so a new
# fact cannot get the wrong column: integers and booleans INTEGER, floats REAL,
# tuples of words comma-joined TEXT, nested tuples JSON TEXT, dates ISO TEXT.
_FACT_TYPES = {f.name: str(f.type) for f in dataclasses.fields(ImageFacts)}
_INTEGER_FACTS = {n for n, t in _FACT_TYPES.items() if t in ("int", "bool")}
_REAL_FACTS = {n for n, t in _FACT_TYPES.items() if t == "float"}
_WORD_TUPLES = {n for n, t in _FACT_TYPES.items() if t == "tuple[str, ...]"}
_JSON_FACTS = {n for n, t in _FACT_TYPES.items() if t.startswith("tuple[tuple")}


def affinity(name: str) -> str:
    if name in _INTEGER_FACTS:
        return "INTEGER"
    return "REAL" if name in _REAL_FACTS else "TEXT"


FACT_DDL = ",\n    ".join(f"{name} {affinity(name)}" for name in FACT_FIELDS)


_SIGN_BIT = 1 << 63


def to_signed(value: int) -> int:
    """SQLite integers are signed 64-bit; a 64-bit hash is stored two's complement."""
    return value - (1 << 64) if value & _SIGN_BIT else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def row_to_doc(row: tuple[Any, ...], occurrences: list[Occurrence]) -> ImageDocument:
    first_seen, group_id = row[1 + len(FACT_FIELDS) :]
    return ImageDocument(
        facts=facts_from_row(row[1 : 1 + len(FACT_FIELDS)]),
        occurrences=occurrences,
        first_seen=datetime.fromisoformat(first_seen),
        group_id=group_id,
        doc_id=row[0],
    )


def facts_to_row(facts: ImageFacts) -> dict[str, object]:
    row: dict[str, object] = {name: getattr(facts, name) for name in FACT_FIELDS}
    row["phash"] = to_signed(facts.phash)
    row["captured_at"] = facts.captured_at.isoformat() if facts.captured_at else None
    for name in _WORD_TUPLES:
        row[name] = ",".join(row[name])  # type: ignore[arg-type]
    for name in _JSON_FACTS:
        row[name] = orjson.dumps(row[name]).decode()
    return row


# Text facts with a default: they were added to ImageFacts later, so old rows hold NULL.
_LATE_TEXT = {f.name for f in dataclasses.fields(ImageFacts) if f.type == "str" and f.default == ""}


def _words(raw: object) -> tuple[str, ...]:
    return tuple(t for t in str(raw).split(",") if t) if raw else ()


def as_stored(facts: ImageFacts) -> ImageFacts:
    """`facts` as their row gives them back: only comma-joined word tuples can change
    (an empty word or one with a comma in it); every other fact reads back equal."""
    changed = {
        name: words
        for name in _WORD_TUPLES
        if (words := _words(",".join(getattr(facts, name)))) != getattr(facts, name)
    }
    return dataclasses.replace(facts, **changed) if changed else facts  # type: ignore[arg-type]


def _nested(raw: object) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(item) for item in orjson.loads(raw)) if raw else ()  # type: ignore[arg-type]


def _reader(name: str) -> Callable[[object], object] | None:
    """How one column's stored value becomes the fact; None where it is stored as is."""
    if name == "phash":
        return lambda raw: to_unsigned(int(raw))  # type: ignore[call-overload]
    if name == "captured_at":
        return lambda raw: datetime.fromisoformat(str(raw)) if raw else None
    if _FACT_TYPES[name] == "bool":
        return bool
    if name in _REAL_FACTS:
        return lambda raw: float(raw or 0.0)  # type: ignore[arg-type]
    if name in _WORD_TUPLES:
        return _words
    if name in _JSON_FACTS:
        return _nested
    if name in _LATE_TEXT:
        return lambda raw: raw or ""  # NULL in a column added after the row was written
    return None


# Built once: a result page decodes ~35 rows per search, so per-row type dispatch shows.
_READERS = [(i, reader) for i, name in enumerate(FACT_FIELDS) if (reader := _reader(name))]


def facts_from_row(values_row: Sequence[object]) -> ImageFacts:
    """Inverse of facts_to_row; NULLs of columns added after a row was written get defaults."""
    values = list(values_row)
    for i, reader in _READERS:
        values[i] = reader(values[i])
    return ImageFacts(*values)  # type: ignore[arg-type]


def occurrence_from_json(data: bytes) -> Occurrence:
    return occurrence_from_dict(orjson.loads(data))


def occurrence_from_dict(raw: dict[str, Any]) -> Occurrence:
    """An Occurrence from its orjson form (dates as ISO strings)."""
    published = raw.get("date_published")
    raw["date_published"] = datetime.fromisoformat(published) if published else None
    return Occurrence(**raw)
