"""SQLite metadata: images, their occurrences, and the commit journal.

Every row carries the generation that wrote it. Readers see rows up to the
last committed generation; a writer that died mid-generation is rolled back
or forward on the next open (see EmbeddedStore.recover).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from pixsearch.records import ImageDocument, ImageFacts, Occurrence

_FACT_FIELDS = [f.name for f in dataclasses.fields(ImageFacts)]
_FACT_COLUMNS = ", ".join(_FACT_FIELDS)
# Column affinity and encoding follow the dataclass's declared type, so a new
# fact cannot get the wrong column: integers and booleans INTEGER, floats REAL,
# tuples of words comma-joined TEXT, nested tuples JSON TEXT, dates ISO TEXT.
_FACT_TYPES = {f.name: str(f.type) for f in dataclasses.fields(ImageFacts)}
_INTEGER_FACTS = {n for n, t in _FACT_TYPES.items() if t in ("int", "bool")}
_REAL_FACTS = {n for n, t in _FACT_TYPES.items() if t == "float"}
_WORD_TUPLES = {n for n, t in _FACT_TYPES.items() if t == "tuple[str, ...]"}
_JSON_FACTS = {n for n, t in _FACT_TYPES.items() if t.startswith("tuple[tuple")}


def _affinity(name: str) -> str:
    if name in _INTEGER_FACTS:
        return "INTEGER"
    return "REAL" if name in _REAL_FACTS else "TEXT"


_FACT_DDL = ",\n    ".join(f"{name} {_affinity(name)}" for name in _FACT_FIELDS)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS images (
    doc_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL UNIQUE,
    {_FACT_DDL},
    first_seen TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    gen INTEGER NOT NULL,
    deleted_gen INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS images_sha ON images(sha256);
CREATE INDEX IF NOT EXISTS images_group ON images(group_id);
CREATE TABLE IF NOT EXISTS occurrences (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    host_page_url TEXT,
    data BLOB NOT NULL,
    gen INTEGER NOT NULL,
    UNIQUE (doc_id, source)
);
CREATE INDEX IF NOT EXISTS occurrences_page ON occurrences(host_page_url);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('committed_gen', '0');
"""

_SIGN_BIT = 1 << 63


def _to_signed(value: int) -> int:
    """SQLite integers are signed 64-bit; a 64-bit hash is stored two's complement."""
    return value - (1 << 64) if value & _SIGN_BIT else value


def _to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


class MetaDB:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # Result pages read ~35 random rows: map the file and keep a larger page
        # cache, so a search costs no read() system calls once the pages are warm.
        self.conn.execute("PRAGMA mmap_size=4294967296")
        self.conn.execute("PRAGMA cache_size=-65536")
        if not readonly:
            self.conn.executescript(SCHEMA)
        self._add_missing_fact_columns()

    def _add_missing_fact_columns(self) -> None:
        """Indexes made before a fact was added to ImageFacts get its column (empty)."""
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(images)")}
        if not present:
            return
        for name in _FACT_FIELDS:
            if name not in present:
                # another process may have added it a moment ago
                with contextlib.suppress(sqlite3.OperationalError):
                    self.conn.execute(f"ALTER TABLE images ADD COLUMN {name} {_affinity(name)}")

    def close(self) -> None:
        self.conn.close()

    # -- generations -----------------------------------------------------------

    def committed_gen(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key='committed_gen'").fetchone()
        return int(row[0]) if row else 0

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def finish_generation(self, gen: int) -> None:
        """Mark `gen` committed and drop rows whose deletion it committed."""
        with self.conn:
            self.conn.execute("UPDATE meta SET value=? WHERE key='committed_gen'", (str(gen),))
            doomed = "SELECT doc_id FROM images WHERE deleted_gen IS NOT NULL AND deleted_gen<=?"
            self.conn.execute(f"DELETE FROM occurrences WHERE doc_id IN ({doomed})", (gen,))
            self.conn.execute(
                "DELETE FROM images WHERE deleted_gen IS NOT NULL AND deleted_gen<=?", (gen,)
            )

    def rollback_generation(self, gen: int) -> None:
        """Undo every row write of an uncommitted generation."""
        with self.conn:
            self.conn.execute("DELETE FROM occurrences WHERE gen>=?", (gen,))
            self.conn.execute("DELETE FROM images WHERE gen>=?", (gen,))
            self.conn.execute("UPDATE images SET deleted_gen=NULL WHERE deleted_gen>=?", (gen,))

    def pending_generation(self, committed: int) -> bool:
        probe = (
            "SELECT 1 FROM images WHERE gen>?1 OR deleted_gen>?1 "
            "UNION ALL SELECT 1 FROM occurrences WHERE gen>?1 LIMIT 1"
        )
        return self.conn.execute(probe, (committed,)).fetchone() is not None

    # -- writes ----------------------------------------------------------------

    def insert_image(self, doc: ImageDocument, *, gen: int) -> int:
        row = _facts_to_row(doc.facts)
        placeholders = ", ".join("?" for _ in _FACT_FIELDS)
        cursor = self.conn.execute(
            f"INSERT INTO images (image_id, {_FACT_COLUMNS}, first_seen, group_id, gen) "
            f"VALUES (?, {placeholders}, ?, ?, ?)",
            (doc.image_id, *row.values(), doc.first_seen.isoformat(), doc.group_id, gen),
        )
        doc_id = int(cursor.lastrowid or 0)
        if not doc.group_id:
            self.conn.execute("UPDATE images SET group_id=? WHERE doc_id=?", (doc_id, doc_id))
        return doc_id

    def upsert_occurrence(
        self, doc_id: int, occurrence: Occurrence, *, gen: int, new_image: bool = False
    ) -> bool:
        """Record an occurrence; False when exactly this one is already stored."""
        data = orjson.dumps(occurrence)  # orjson serialises dataclasses natively, fast
        if not new_image:
            row = self.conn.execute(
                "SELECT data FROM occurrences WHERE doc_id=? AND source=?",
                (doc_id, occurrence.source),
            ).fetchone()
            if row is not None and bytes(row[0]) == data:
                return False
        self.conn.execute(
            "INSERT INTO occurrences (doc_id, source, host_page_url, data, gen) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc_id, source) "
            "DO UPDATE SET data=excluded.data, host_page_url=excluded.host_page_url, "
            "gen=excluded.gen",
            (doc_id, occurrence.source, occurrence.host_page_url, data, gen),
        )
        return True

    def mark_deleted(self, doc_id: int, *, gen: int) -> None:
        self.conn.execute("UPDATE images SET deleted_gen=? WHERE doc_id=?", (gen, doc_id))

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    # -- reads -----------------------------------------------------------------

    def fetch(self, doc_ids: Sequence[int], *, max_gen: int | None) -> list[ImageDocument]:
        """Documents by doc_id in the given order; `max_gen` None means pending rows too."""
        if not doc_ids:
            return []
        marks = ", ".join("?" for _ in doc_ids)
        limit = max_gen if max_gen is not None else 1 << 62
        rows = self.conn.execute(
            f"SELECT doc_id, {_FACT_COLUMNS}, first_seen, group_id FROM images "
            f"WHERE doc_id IN ({marks}) AND gen<=? AND (deleted_gen IS NULL OR deleted_gen>?)",
            (*doc_ids, limit, limit),
        ).fetchall()
        occurrences = self._occurrences([r[0] for r in rows], limit)
        docs = {r[0]: _row_to_doc(r, occurrences.get(r[0], [])) for r in rows}
        return [docs[d] for d in doc_ids if d in docs]

    def _occurrences(self, doc_ids: list[int], max_gen: int) -> dict[int, list[Occurrence]]:
        if not doc_ids:
            return {}
        marks = ", ".join("?" for _ in doc_ids)
        out: dict[int, list[Occurrence]] = {}
        for doc_id, data in self.conn.execute(
            f"SELECT doc_id, data FROM occurrences WHERE doc_id IN ({marks}) AND gen<=? "
            "ORDER BY id",
            (*doc_ids, max_gen),
        ):
            out.setdefault(doc_id, []).append(_occurrence_from_json(data))
        return out

    def changed_since(self, gen: int, *, max_gen: int) -> list[int]:
        """Images whose row or any occurrence was written by a generation in (gen, max_gen]."""
        rows = self.conn.execute(
            "SELECT doc_id FROM images WHERE gen>?1 AND gen<=?2 "
            "UNION SELECT doc_id FROM occurrences WHERE gen>?1 AND gen<=?2",
            (gen, max_gen),
        )
        return sorted(row[0] for row in rows)

    def page_image_counts(self, urls: Sequence[str], *, max_gen: int) -> dict[str, int]:
        """Distinct images on each of these pages (relatedCollections: pages with many)."""
        if not urls:
            return {}
        marks = ", ".join("?" for _ in urls)
        rows = self.conn.execute(
            "SELECT host_page_url, COUNT(DISTINCT doc_id) FROM occurrences "
            f"WHERE host_page_url IN ({marks}) AND gen<=? GROUP BY host_page_url",
            (*urls, max_gen),
        )
        return {url: count for url, count in rows}

    def doc_id_for(self, column: str, value: str, *, max_gen: int | None) -> int | None:
        assert column in ("image_id", "sha256")
        limit = max_gen if max_gen is not None else 1 << 62
        row = self.conn.execute(
            f"SELECT doc_id FROM images WHERE {column}=? AND gen<=? "
            "AND (deleted_gen IS NULL OR deleted_gen>?)",
            (value, limit, limit),
        ).fetchone()
        return int(row[0]) if row else None

    def group_counts(self, group_ids: Sequence[int], *, max_gen: int) -> dict[int, tuple[int, int]]:
        """Per near-duplicate group: (distinct sizes, distinct pages) of its visible images.

        These are availableSizesCount and pagesIncludingCount; a local file's page
        is the image's own page, so copies of one file in two folders count once.
        """
        if not group_ids:
            return {}
        marks = ", ".join("?" for _ in group_ids)
        rows = self.conn.execute(
            "SELECT i.group_id, count(DISTINCT i.width || 'x' || i.height), "
            "count(DISTINCT coalesce(o.host_page_url, 'local:' || i.doc_id)) "
            "FROM images i JOIN occurrences o ON o.doc_id = i.doc_id "
            f"WHERE i.group_id IN ({marks}) AND i.gen<=?1 AND i.deleted_gen IS NULL "
            "AND o.gen<=?1 GROUP BY i.group_id".replace("?1", "?"),
            (*group_ids, max_gen, max_gen),
        )
        return {int(g): (int(sizes), int(pages)) for g, sizes, pages in rows}

    def group_members(self, group_id: int, *, max_gen: int, limit: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT doc_id FROM images WHERE group_id=? AND gen<=? AND deleted_gen IS NULL "
            "ORDER BY width * height DESC LIMIT ?",
            (group_id, max_gen, limit),
        )
        return [int(r[0]) for r in rows]

    def hashes(self, *, max_gen: int | None = None) -> Iterable[tuple[int, int, int, str]]:
        """(phash, doc_id, group_id, colour layout) of every live image, for near-duplicates."""
        limit = max_gen if max_gen is not None else 1 << 62
        for phash, doc_id, group_id, layout in self.conn.execute(
            "SELECT phash, doc_id, group_id, color_layout FROM images "
            "WHERE deleted_gen IS NULL AND gen<=?",
            (limit,),
        ):
            yield _to_unsigned(phash), doc_id, group_id, layout

    def count_images(self, *, max_gen: int) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM images WHERE gen<=? AND deleted_gen IS NULL", (max_gen,)
        ).fetchone()
        return int(row[0])

    def count_occurrences(self, *, max_gen: int) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM occurrences WHERE gen<=?", (max_gen,)
        ).fetchone()
        return int(row[0])


def _row_to_doc(row: tuple[Any, ...], occurrences: list[Occurrence]) -> ImageDocument:
    first_seen, group_id = row[1 + len(_FACT_FIELDS) :]
    return ImageDocument(
        facts=_facts_from_row(row[1 : 1 + len(_FACT_FIELDS)]),
        occurrences=occurrences,
        first_seen=datetime.fromisoformat(first_seen),
        group_id=group_id,
        doc_id=row[0],
    )


def _facts_to_row(facts: ImageFacts) -> dict[str, object]:
    row: dict[str, object] = {name: getattr(facts, name) for name in _FACT_FIELDS}
    row["phash"] = _to_signed(facts.phash)
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


def _nested(raw: object) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(item) for item in orjson.loads(raw)) if raw else ()  # type: ignore[arg-type]


def _reader(name: str) -> Callable[[object], object] | None:
    """How one column's stored value becomes the fact; None where it is stored as is."""
    if name == "phash":
        return lambda raw: _to_unsigned(int(raw))  # type: ignore[call-overload]
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
_READERS = [(i, reader) for i, name in enumerate(_FACT_FIELDS) if (reader := _reader(name))]


def _facts_from_row(values_row: Sequence[object]) -> ImageFacts:
    """Inverse of _facts_to_row; NULLs of columns added after a row was written get defaults."""
    values = list(values_row)
    for i, reader in _READERS:
        values[i] = reader(values[i])
    return ImageFacts(*values)  # type: ignore[arg-type]


def _occurrence_from_json(data: bytes) -> Occurrence:
    raw = orjson.loads(data)
    published = raw.get("date_published")
    raw["date_published"] = datetime.fromisoformat(published) if published else None
    return Occurrence(**raw)
