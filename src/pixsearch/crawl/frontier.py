"""The crawl's durable state in SQLite (crawl.db): the URL frontier, the fetch log, image refs.

Writes accumulate in one transaction that the crawler commits right after the index
commits (see Crawler.checkpoint). A kill -9 therefore loses the same window in both:
what is marked done here is always in the index, and what the index lacks is fetched
again on the next run.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from pixsearch.records import Occurrence

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls(
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,          -- page | image | sitemap
    prio INTEGER NOT NULL,       -- image 0, sitemap 1, page 2: the order work is taken in
    depth INTEGER NOT NULL,
    state TEXT NOT NULL,         -- queued | done | failed
    reason TEXT,                 -- why it failed, or what happened (not-modified, noindex)
    status INTEGER,
    sha256 TEXT,                 -- images: the content indexed
    etag TEXT,
    last_modified TEXT,
    fetched_at REAL
);
-- Serves next_batch's ORDER BY without sorting the queue (rowid is the index's tail).
CREATE INDEX IF NOT EXISTS urls_queue ON urls(state, prio, depth);
CREATE TABLE IF NOT EXISTS refs(
    image_url TEXT NOT NULL,
    page_url TEXT NOT NULL,
    data BLOB NOT NULL,          -- the Occurrence, as JSON
    PRIMARY KEY(image_url, page_url)
);
"""
PRIORITY = {"image": 0, "sitemap": 1, "page": 2}


@dataclass(frozen=True, slots=True)
class Task:
    url: str
    kind: str
    depth: int
    etag: str | None = None
    last_modified: str | None = None


class Frontier:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level="DEFERRED")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.conn.commit()

    def add(self, url: str, kind: str, depth: int) -> bool:
        """Queue a URL once, ever; False when it was known already."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO urls(url, kind, prio, depth, state) "
            "VALUES (?, ?, ?, ?, 'queued')",
            (url, kind, PRIORITY[kind], depth),
        )
        return cursor.rowcount > 0

    def next_batch(self, limit: int, skip: set[str], *, pages: bool = True) -> list[Task]:
        """Queued work: images first (they free memory and finish pages), then shallow pages."""
        where = "state='queued'" + ("" if pages else " AND prio<2")
        rows = self.conn.execute(
            f"SELECT url, kind, depth, etag, last_modified FROM urls WHERE {where} "
            "ORDER BY prio, depth, rowid LIMIT ?",
            (limit + len(skip),),
        ).fetchall()
        return [Task(*row) for row in rows if row[0] not in skip][:limit]

    def finish(
        self,
        url: str,
        state: str,
        *,
        reason: str | None = None,
        status: int | None = None,
        sha256: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE urls SET state=?, reason=?, status=?, sha256=coalesce(?, sha256), "
            "etag=coalesce(?, etag), last_modified=coalesce(?, last_modified), fetched_at=? "
            "WHERE url=?",
            (state, reason, status, sha256, etag, last_modified, time.time(), url),
        )

    def state_of(self, url: str) -> tuple[str, str | None] | None:
        row = self.conn.execute("SELECT state, sha256 FROM urls WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def add_ref(self, image_url: str, occurrence: Occurrence) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO refs(image_url, page_url, data) VALUES (?, ?, ?)",
            (image_url, occurrence.host_page_url or "", orjson.dumps(occurrence)),
        )

    def refs_for(self, image_url: str) -> list[Occurrence]:
        rows = self.conn.execute("SELECT data FROM refs WHERE image_url=?", (image_url,))
        return [occurrence_from_json(data) for (data,) in rows]

    def requeue_pages(self) -> int:
        """--recrawl: fetch done pages again (conditionally, with their ETag/Last-Modified)."""
        cursor = self.conn.execute(
            "UPDATE urls SET state='queued' WHERE kind IN ('page', 'sitemap') AND state='done'"
        )
        self.conn.commit()
        return cursor.rowcount

    def counts(self) -> Counter[str]:
        """'page:done' → n, 'image:queued' → n, ..."""
        rows = self.conn.execute("SELECT kind, state, count(*) FROM urls GROUP BY kind, state")
        return Counter({f"{kind}:{state}": n for kind, state, n in rows})

    def failures(self) -> Counter[str]:
        rows = self.conn.execute(
            "SELECT kind, reason, count(*) FROM urls WHERE state='failed' GROUP BY kind, reason"
        )
        return Counter({f"{kind}:{reason}": n for kind, reason, n in rows})

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        """Close, dropping what was not committed: crawl.db must never call a URL done that
        the index did not commit (an index commit that failed is not followed by ours)."""
        self.conn.close()


def occurrence_from_json(data: bytes) -> Occurrence:
    raw = orjson.loads(data)
    published = raw.get("date_published")
    raw["date_published"] = datetime.fromisoformat(published) if published else None
    return Occurrence(**raw)
