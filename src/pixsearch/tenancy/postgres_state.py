"""The service state in PostgreSQL: its schema, its migrations, and connections per process.

Server replicas on several machines share one database, so a key, an
instance, a quota or a query counted by one is seen by all. Only this module
creates or changes the tables; the stores (postgres_stores.py,
postgres_limits.py) run their queries against the tables declared here.
Needs the `psycopg` package (pip install 'pixsearch[postgres]').

The schema's version is the one row of `schema_version`: migration N brings
a database from N to N+1. All run in one transaction under an advisory lock
(DDL is transactional in PostgreSQL), so replicas starting together upgrade
it once and a failed step leaves nothing half done.

Connections: each store holds a Session, which opens its connection on first
use in each process and drops (without closing) one inherited through fork,
so a state built before a server forks its workers is safe to use in them.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

try:
    import psycopg
except ImportError as exc:  # an extra, not a dependency: say which one
    raise ImportError(
        f"{exc}: the postgres state backend needs pip install 'pixsearch[postgres]'",
        name="psycopg",
    ) from exc

from pixsearch.tenancy.backends import StateUnavailable
from pixsearch.tenancy.state import StateError

Connection = psycopg.Connection[tuple[Any, ...]]
T = TypeVar("T")

_MIGRATION_LOCK = 0x70697873  # pg_advisory_xact_lock key: "pixs"
CONNECT_TIMEOUT = 10  # seconds

# Version 1, as SQLite's: strings where the stores read strings (created, expires: ISO 8601
# text as written), so both backends answer alike; days as dates. ORDER BY uses COLLATE "C"
# in the stores, the byte order SQLite sorts names in, whatever the database's locale.
_V1 = (
    """CREATE TABLE keys (
        name TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created TEXT NOT NULL,
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        expires TEXT,
        allowed_instances TEXT NOT NULL DEFAULT '',
        qps INTEGER,
        monthly_quota INTEGER
    )""",
    """CREATE TABLE instances (
        config_id TEXT PRIMARY KEY,
        body JSONB NOT NULL,
        updated TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    # One row per key: the current one-second window, and the row a call locks so
    # that two replicas cannot both take a key's last slot.
    """CREATE TABLE rate_window (
        key_name TEXT PRIMARY KEY,
        second BIGINT NOT NULL,
        calls INTEGER NOT NULL
    )""",
    """CREATE TABLE usage (
        key_name TEXT NOT NULL,
        day DATE NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        throttled INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_name, day)
    )""",
    """CREATE TABLE query_log (
        day DATE NOT NULL,
        market TEXT NOT NULL,
        scope TEXT NOT NULL,
        query TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, market, scope, query)
    )""",
    "CREATE INDEX query_log_by_market ON query_log (market, scope)",
)


def _create_v1(conn: Connection) -> None:
    for statement in _V1:
        conn.execute(statement)


# Append only: a released migration never changes, a new schema is a new step.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Connection) -> int:
    """Run the migrations the database has not had yet; the version it is at afterwards."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the PostgreSQL service state is at schema version {version}; this pixsearch"
                f" knows up to {SCHEMA_VERSION} (was it written by a newer release?)"
            )
        for step in MIGRATIONS[version:]:
            step(conn)
        if row is None:
            conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
        else:
            conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
    return SCHEMA_VERSION


class PostgresDb:
    """One PostgreSQL database at `url` (libpq URL or key=value), migrated when opened.

    StateUnavailable when the URL cannot be read or the database not reached;
    the reason never quotes the URL, which may hold a password.
    """

    def __init__(self, url: str) -> None:
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:  # its message may quote the string, password and all
            raise StateUnavailable(
                "postgres_url is neither a postgresql:// URL nor a libpq key=value string"
            ) from None
        self.url = url
        try:
            with self.connect() as conn:
                migrate(conn)
        except psycopg.OperationalError as exc:  # libpq names the host and port, not the password
            raise StateUnavailable(f"state backend 'postgres' cannot connect: {exc}") from exc

    def connect(self) -> Connection:
        """A new connection in autocommit mode; a store's transactions are explicit."""
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="pixsearch"
        )

    def session(self) -> Session:
        return Session(self)


class Session:
    """One store's connection, opened in each process on first use, reopened after a failure.

    Calls from the threads of one process take turns on it: a transaction
    must not have another thread's statements slip into it.
    """

    def __init__(self, db: PostgresDb) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        _SESSIONS.add(self)

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work` on this process's connection; once more on a new one if that one was broken.

        A connection is mostly found broken on its first statement after the
        server restarted or dropped it idle, before anything was done. A write is
        one statement or one transaction (the limiter's), which a broken connection
        rolls back; only one whose commit answer was lost could be done twice (one
        call or search counted twice).
        """
        with self._lock:
            conn = self._connection()
            try:
                return work(conn)
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
                self._conn = None
                conn.close()
            return work(self._connection())

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._db.connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _forget_after_fork(self) -> None:
        # The parent still talks on the inherited socket: closing it here would end the
        # parent's session. Kept referenced so the garbage collector does not warn about it.
        if self._conn is not None:
            _INHERITED.append(self._conn)
        self._conn = None
        self._lock = threading.Lock()  # another thread of the parent may have held it


_SESSIONS: weakref.WeakSet[Session] = weakref.WeakSet()
_INHERITED: list[Connection] = []


def _after_fork_in_child() -> None:
    for session in list(_SESSIONS):
        session._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
