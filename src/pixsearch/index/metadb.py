"""SQLite metadata: images, their occurrences, and the commit journal.

Every row carries the generation that wrote it. Readers see rows up to the
last committed generation; a writer that died mid-generation is rolled back
or forward on the next open (see EmbeddedStore.recover).

This module opens the database, keeps the journal and writes; the reads, which
each name the generation they see, are its base class (index/metareads.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import orjson

from pixsearch.index import docrecords
from pixsearch.index.docrecords import Decoded, GenerationCache
from pixsearch.index.factrows import (
    FACT_COLUMNS,
    FACT_DDL,
    FACT_FIELDS,
    affinity,
    as_stored,
    facts_to_row,
)
from pixsearch.index.metareads import MetaReads
from pixsearch.records import ImageDocument, Occurrence

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS images (
    doc_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL UNIQUE,
    {FACT_DDL},
    first_seen TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    gen INTEGER NOT NULL,
    deleted_gen INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS images_sha ON images(sha256);
CREATE INDEX IF NOT EXISTS images_group ON images(group_id);
-- Every commit purges the images its deletions reached (finish_generation): with
-- this index (of deleted rows only) it reads those, not the whole table.
CREATE INDEX IF NOT EXISTS images_deleted ON images(deleted_gen) WHERE deleted_gen IS NOT NULL;
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
CREATE TABLE IF NOT EXISTS records (
    doc_id INTEGER PRIMARY KEY,
    gen INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""
# How long a reader that finds meta.db without tables waits for its writer to make them.
SCHEMA_WAIT = 1.0
GROUP_CACHE_SIZE = 65536  # as many groups as docrecords.CACHE_SIZE images (an int and a pair each)
# The writer checkpoints its WAL when it holds this many pages (4 KiB: 256 MiB), not
# SQLite's 1,000 (see MetaDB._space_checkpoints).
WAL_PAGES = 65536
_INSERT_IMAGE = (
    f"INSERT INTO images (doc_id, image_id, {FACT_COLUMNS}, first_seen, group_id, gen) "
    f"VALUES (?, ?, {', '.join('?' for _ in FACT_FIELDS)}, ?, ?, ?)"
)


class MetaDB(MetaReads):
    """`record_cache`: decoded images kept for result pages (0: decode every time)."""

    def __init__(
        self, path: Path, *, readonly: bool = False, record_cache: int = docrecords.CACHE_SIZE
    ) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # Result pages read ~35 random rows: map the file and keep a larger page
        # cache, so a search costs no read() system calls once the pages are warm.
        self.conn.execute("PRAGMA mmap_size=4294967296")
        self.conn.execute("PRAGMA cache_size=-65536")
        self._writes = not readonly
        if not readonly:
            self._space_checkpoints()
            self._create_tables()
        elif not self._has_tables() and not self._tables_appear(SCHEMA_WAIT):
            # A file without tables that no writer is filling (one died before it could):
            # an empty index, made here as a reader makes one when meta.db is missing.
            self._create_tables()
        self._add_missing_fact_columns()
        self.decoded: GenerationCache[int, Decoded] = GenerationCache(record_cache)
        self._groups: GenerationCache[int, tuple[int, int]] = GenerationCache(GROUP_CACHE_SIZE)
        self._has_records = False
        self._records_gen = -1  # the generation _has_records was probed at
        self._next_id: int | None = None  # the next image's doc_id, in a write transaction

    def _create_tables(self) -> None:
        # One transaction: a reader that opens the file while its writer is creating it
        # finds every table or none.
        self.conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")

    def _has_tables(self) -> bool:
        found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        return self.conn.execute(found).fetchone() is not None

    def _tables_appear(self, seconds: float) -> bool:
        """Whether the tables appear within `seconds`: a writer that has just created the
        file makes them at once. A reader does not make them itself while a writer may be
        at work, since it would then wait for the writer's transactions."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.01)
            if self._has_tables():
                return True
        return False

    def _space_checkpoints(self) -> None:
        """Checkpoint the WAL every WAL_PAGES pages instead of at nearly every commit.

        A commit of 2,000 images dirties about 8,000 pages (34 MB of WAL at 700,000
        images), most of them leaves of the indexes on random keys (image_id, sha256,
        host_page_url); with SQLite's default of 1,000 pages every commit was also a
        checkpoint: all of them copied into meta.db and fsynced while the writer waited.
        Spaced, a leaf that several commits touched is copied once, and there is one
        fsync per ~8 commits. Readers read the pages still in the WAL from it (as they
        did between checkpoints before); closing the writer checkpoints what is left
        (`close`), readers or not.
        """
        self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")

    def _add_missing_fact_columns(self) -> None:
        """Indexes made before a fact was added to ImageFacts get its column (empty)."""
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(images)")}
        if not present:
            return
        for name in FACT_FIELDS:
            if name not in present:
                # another process may have added it a moment ago
                with contextlib.suppress(sqlite3.OperationalError):
                    self.conn.execute(f"ALTER TABLE images ADD COLUMN {name} {affinity(name)}")

    def close(self) -> None:
        if self._writes:
            # SQLite folds the WAL in only when the last connection closes, and a server
            # beside an ingest keeps its readers open: without this, batch after batch
            # of ingest would grow the WAL (up to WAL_PAGES) under every search. PASSIVE
            # copies what no reader still needs and waits for none.
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
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
            self.conn.execute(f"DELETE FROM records WHERE doc_id IN ({doomed})", (gen,))
            self.conn.execute(
                "DELETE FROM images WHERE deleted_gen IS NOT NULL AND deleted_gen<=?", (gen,)
            )

    def rollback_generation(self, gen: int) -> None:
        """Undo every row write of an uncommitted generation."""
        with self.conn:
            self.conn.execute("DELETE FROM occurrences WHERE gen>=?", (gen,))
            # an older image whose record this generation rewrote falls back to its rows
            self.conn.execute("DELETE FROM records WHERE gen>=?", (gen,))
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
        """Insert an image's row; its doc_id (its own group unless it joins one)."""
        doc_id = self._next_doc_id()
        self.conn.execute(
            _INSERT_IMAGE,
            (
                doc_id,
                doc.image_id,
                *facts_to_row(doc.facts).values(),
                doc.first_seen.isoformat(),
                doc.group_id or doc_id,
                gen,
            ),
        )
        self._next_id = doc_id + 1
        return doc_id

    def _next_doc_id(self) -> int:
        # The id SQLite itself would give (the largest rowid + 1), known before the
        # insert so that a new group's id can go into the same row. Read once per
        # transaction: inside one, only this writer's inserts change it.
        if self._next_id is None:
            row = self.conn.execute("SELECT coalesce(max(doc_id), 0) + 1 FROM images").fetchone()
            self._next_id = int(row[0])
        return self._next_id

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

    def write_records(self, docs: Iterable[ImageDocument], *, gen: int) -> None:
        """Store each document's record as of generation `gen` (inside its transaction)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO records (doc_id, gen, data) VALUES (?, ?, ?)",
            ((doc.doc_id, gen, _record(doc)) for doc in docs),
        )

    def mark_deleted(self, doc_id: int, *, gen: int) -> None:
        self.conn.execute("UPDATE images SET deleted_gen=? WHERE doc_id=?", (gen, doc_id))

    def begin(self) -> None:
        self.conn.execute("BEGIN")
        self._next_id = None

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self._next_id = None


def _record(doc: ImageDocument) -> bytes:
    # The facts as their row gives them back, so both paths read equal documents.
    return docrecords.encode(doc, as_stored(doc.facts))
