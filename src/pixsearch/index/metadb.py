"""SQLite metadata: images, their occurrences, and the commit journal.

Every row carries the generation that wrote it. Readers see rows up to the
last committed generation; a writer that died mid-generation is rolled back
or forward on the next open (see EmbeddedStore.recover).

Result pages read each image's committed record (index/docrecords.py) rather
than its rows when there is one; the rows stay the authority.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

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
    occurrence_from_dict,
    occurrence_from_json,
    row_to_doc,
    to_unsigned,
)
from pixsearch.index.store import PagePlaces, places_of
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
GROUP_CACHE_SIZE = 65536  # as many groups as docrecords.CACHE_SIZE images (an int and a pair each)
# The writer checkpoints its WAL when it holds this many pages (4 KiB: 256 MiB), not
# SQLite's 1,000 (see MetaDB._space_checkpoints).
WAL_PAGES = 65536
_INSERT_IMAGE = (
    f"INSERT INTO images (doc_id, image_id, {FACT_COLUMNS}, first_seen, group_id, gen) "
    f"VALUES (?, ?, {', '.join('?' for _ in FACT_FIELDS)}, ?, ?, ?)"
)


class MetaDB:
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
            self.conn.executescript(SCHEMA)
        self._add_missing_fact_columns()
        self.decoded: GenerationCache[int, Decoded] = GenerationCache(record_cache)
        self._groups: GenerationCache[int, tuple[int, int]] = GenerationCache(GROUP_CACHE_SIZE)
        self._has_records = False
        self._records_gen = -1  # the generation _has_records was probed at
        self._next_id: int | None = None  # the next image's doc_id, in a write transaction

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

    # -- reads -----------------------------------------------------------------

    def fetch(self, doc_ids: Sequence[int], *, max_gen: int | None) -> list[ImageDocument]:
        """Documents by doc_id in the given order; `max_gen` None means pending rows too."""
        if max_gen is None:
            return self._fetch_rows(doc_ids, max_gen)
        if max_gen != self._records_gen:
            self._has_records = self._records_table()
            self._records_gen = max_gen
        found = self.decoded.lookup(max_gen, doc_ids)
        missing = [d for d in doc_ids if d not in found]
        if missing:
            decoded = self._decode(missing, max_gen)
            self.decoded.store(max_gen, decoded)
            found.update(decoded)
        return [found[d].document(d) for d in doc_ids if d in found]

    def _decode(self, doc_ids: list[int], max_gen: int) -> dict[int, Decoded]:
        """Visible images by their records; by their rows where a record is missing or newer."""
        out: dict[int, Decoded] = {}
        if self._has_records:
            rows = self._record_rows(doc_ids, max_gen)
            for doc_id, gen, data in rows:
                if data is not None and gen <= max_gen:
                    decoded = docrecords.decode(data, occurrence_from_dict)
                    if decoded is not None:
                        out[doc_id] = decoded
            doc_ids = [d for d, _, _ in rows if d not in out]
        for doc in self._fetch_rows(doc_ids, max_gen):
            out[doc.doc_id] = docrecords.decoded_of(doc)
        return out

    def pages_of(self, doc_ids: Sequence[int], *, max_gen: int) -> list[PagePlaces]:
        """Each visible image's group and (page URL, page title) places, by its record
        where it has one (nothing decoded, the cache of documents left alone)."""
        if max_gen != self._records_gen:
            self._has_records = self._records_table()
            self._records_gen = max_gen
        out: list[PagePlaces] = []
        rest = list(doc_ids)
        if self._has_records and rest:
            rows, rest = self._record_rows(rest, max_gen), []
            for doc_id, gen, data in rows:
                found = docrecords.places(data) if data is not None and gen <= max_gen else None
                if found is None:
                    rest.append(doc_id)
                else:
                    out.append(found)
        out.extend(map(places_of, self._fetch_rows(rest, max_gen)))
        return out

    def _record_rows(self, doc_ids: Sequence[int], max_gen: int) -> list[tuple[int, Any, Any]]:
        """(doc_id, record generation, record) of each visible image; both None where it
        has no record."""
        marks = ", ".join("?" for _ in doc_ids)
        return self.conn.execute(
            f"SELECT i.doc_id, r.gen, r.data FROM images i LEFT JOIN records r USING (doc_id) "
            f"WHERE i.doc_id IN ({marks}) AND i.gen<=? "
            "AND (i.deleted_gen IS NULL OR i.deleted_gen>?)",
            (*doc_ids, max_gen, max_gen),
        ).fetchall()

    def _records_table(self) -> bool:
        """Whether this database has records yet (a reader never creates the table)."""
        probe = "SELECT 1 FROM sqlite_master WHERE type='table' AND name='records'"
        return self.conn.execute(probe).fetchone() is not None

    def _fetch_rows(self, doc_ids: Sequence[int], max_gen: int | None) -> list[ImageDocument]:
        if not doc_ids:
            return []
        marks = ", ".join("?" for _ in doc_ids)
        limit = max_gen if max_gen is not None else 1 << 62
        rows = self.conn.execute(
            f"SELECT doc_id, {FACT_COLUMNS}, first_seen, group_id FROM images "
            f"WHERE doc_id IN ({marks}) AND gen<=? AND (deleted_gen IS NULL OR deleted_gen>?)",
            (*doc_ids, limit, limit),
        ).fetchall()
        occurrences = self._occurrences([r[0] for r in rows], limit)
        docs = {r[0]: row_to_doc(r, occurrences.get(r[0], [])) for r in rows}
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
            out.setdefault(doc_id, []).append(occurrence_from_json(data))
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
        out = self._groups.lookup(max_gen, group_ids)
        missing = [g for g in group_ids if g not in out]
        if missing:
            counted = self._count_groups(missing, max_gen)
            self._groups.store(max_gen, counted)
            out.update(counted)
        return out

    def _count_groups(self, group_ids: Sequence[int], max_gen: int) -> dict[int, tuple[int, int]]:
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
            yield to_unsigned(phash), doc_id, group_id, layout

    def dark_looks(self) -> Iterable[tuple[int, str]]:
        """(doc_id, look over black) of every live transparent image that has one."""
        yield from self.conn.execute(
            "SELECT doc_id, dark_look FROM images WHERE deleted_gen IS NULL AND dark_look != ''"
        )

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

    def count_analyzed(self, *, max_gen: int) -> dict[str, int]:
        """Visible images each analyzer ran on, by its name."""
        rows = self.conn.execute(
            "SELECT analyzed, count(*) FROM images WHERE gen<=? AND deleted_gen IS NULL"
            " GROUP BY analyzed",
            (max_gen,),
        )
        counts: dict[str, int] = {}
        for joined, n in rows:
            for name in filter(None, (joined or "").split(",")):
                counts[name] = counts.get(name, 0) + n
        return counts


def _record(doc: ImageDocument) -> bytes:
    # The facts as their row gives them back, so both paths read equal documents.
    return docrecords.encode(doc, as_stored(doc.facts))
