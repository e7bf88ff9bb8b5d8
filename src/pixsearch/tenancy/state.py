"""The service database: the one owner of `service.db`, its schema and its migrations.

Keys, custom instances, rate-limit windows and usage, and the query log share
one SQLite file beside the index, so the CLI, the admin API and every server
worker see the same tenants. Only this module opens it and only this module
creates or changes its tables; the SQLite stores of tenancy/ ask it for their
connections and run their queries against the tables declared here.

The file's version is `PRAGMA user_version`: migration N brings a file from
version N to N+1, run inside one write transaction, so workers starting
together upgrade it once. Files written before the version existed are 0.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

FILE_NAME = "service.db"  # inside the index directory
_BUSY_SECONDS = 30.0  # how long a connection waits for another one's write

# The tables as every release before versioning created them (keys as first released).
_UNVERSIONED_TABLES = (
    """CREATE TABLE IF NOT EXISTS keys (
        name TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        expires TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS instances (
        config_id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rate_window (
        key_name TEXT PRIMARY KEY,
        second INTEGER NOT NULL,
        calls INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS usage (
        key_name TEXT NOT NULL,
        day TEXT NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        throttled INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_name, day)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS query_log (
        day TEXT NOT NULL,
        market TEXT NOT NULL,
        scope TEXT NOT NULL,  -- '' for the plain API, else a custom instance id
        query TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, market, scope, query)
    )""",
)
# Key columns added after the first release, before versioning; old files may lack them.
_KEY_LIMIT_COLUMNS = (
    ("allowed_instances", "TEXT NOT NULL DEFAULT ''"),
    ("qps", "INTEGER"),
    ("monthly_quota", "INTEGER"),
)


class StateError(RuntimeError):
    """The service database cannot be used by this version of pixsearch."""


def _adopt_unversioned(conn: sqlite3.Connection) -> None:
    """0 → 1: any file from before versioning (or a new one) gets every table and column."""
    for statement in _UNVERSIONED_TABLES:
        conn.execute(statement)
    present = {row[1] for row in conn.execute("PRAGMA table_info(keys)")}
    for column, declaration in _KEY_LIMIT_COLUMNS:
        if column not in present:
            conn.execute(f"ALTER TABLE keys ADD COLUMN {column} {declaration}")


# Append only: a released migration never changes, a new schema is a new step.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_adopt_unversioned,)
SCHEMA_VERSION = len(MIGRATIONS)


class ServiceDb:
    """`service.db` at `path`, brought to SCHEMA_VERSION when opened (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self.connect()
        try:
            migrate(conn)
        finally:
            conn.close()

    def connect(self, *, durable: bool = True) -> sqlite3.Connection:
        """A connection of its own for one store (autocommit, WAL, shared across threads).

        durable=False suits counters (limits, the query log): a power cut may lose
        the last moment of them, in exchange for not syncing every write.
        """
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        _enter_wal(conn)
        if not durable:
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn


def _enter_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting out the other connections that are switching it too.

    Leaving a rollback journal for WAL takes an exclusive lock, and SQLite answers
    "database is locked" at once instead of running the busy handler when workers
    open an old file together; so this waits here, as long as the busy timeout.
    """
    deadline = time.monotonic() + _BUSY_SECONDS
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def version_of(conn: sqlite3.Connection) -> int:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    return int(version)


def migrate(conn: sqlite3.Connection) -> int:
    """Run the migrations the file has not had yet; the version it is at afterwards."""
    if version_of(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn.execute("BEGIN IMMEDIATE")  # one process migrates, the others wait and find it done
    try:
        version = version_of(conn)
        if version > SCHEMA_VERSION:
            raise StateError(
                f"service.db is at schema version {version}; this pixsearch knows up to"
                f" {SCHEMA_VERSION} (was it written by a newer release?)"
            )
        for step in MIGRATIONS[version:]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
