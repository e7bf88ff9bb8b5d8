"""Keys, instances and the query log in PostgreSQL: the "postgres" state backend.

Same contracts and answers as the SQLite stores (keys.py, instances.py,
querylog.py), over the tables of postgres_state.py. Each store has its own
Session (a connection per process, opened on first use), as each SQLite store
has its own connection. The rate limiter is postgres_limits.py.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pixsearch.config import Settings
from pixsearch.search.querylog import normalise
from pixsearch.tenancy import instances as instance_rules
from pixsearch.tenancy.backends import StateUnavailable
from pixsearch.tenancy.instances import Instance, InstanceError, parse_instance
from pixsearch.tenancy.keys import CACHE_ENTRIES, SqlKeyStore
from pixsearch.tenancy.postgres_state import Connection, PostgresDb, Session


class PostgresState:
    """The service state in one PostgreSQL database (a ServiceState)."""

    def __init__(self, db: PostgresDb) -> None:
        self.db = db

    def key_store(self) -> PostgresKeyStore:
        return PostgresKeyStore(self.db)

    def instance_store(self) -> PostgresInstanceStore:
        return PostgresInstanceStore(self.db)

    def query_log(self, *, retention_days: int) -> PostgresQueryLog:
        return PostgresQueryLog(self.db, retention_days=retention_days)


def postgres_state(*, settings: Settings) -> PostgresState:
    """The "postgres" entry of backends.STATE_BACKENDS: the database `postgres_url` names."""
    if not settings.postgres_url:
        raise StateUnavailable("state backend 'postgres' needs the postgres_url setting")
    return PostgresState(PostgresDb(settings.postgres_url))


class SessionSql:
    """keys.Sql over a Session: ? marks become psycopg's %s, names sort bytewise ("C")."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def changed(self, statement: str, params: tuple[Any, ...]) -> bool:
        return _changed(self.session, _marks(statement), params)

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        found = self.session.run(lambda conn: conn.execute(_marks(statement), params).fetchone())
        return tuple(found) if found is not None else None

    def all(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        ordered = _marks(statement).replace(" ORDER BY name", ' ORDER BY name COLLATE "C"')
        return [tuple(r) for r in self.session.run(lambda c: c.execute(ordered, params).fetchall())]

    def close(self) -> None:
        self.session.close()


def _marks(statement: str) -> str:
    """SQLite's ? placeholders as psycopg's %s (no statement of SqlKeyStore has a literal ?)."""
    return statement.replace("?", "%s")


class PostgresKeyStore(SqlKeyStore):
    """Keys in the `keys` table; only their SHA-256 is stored, as in SQLite."""

    def __init__(self, db: PostgresDb) -> None:
        super().__init__(SessionSql(db.session()))


class PostgresInstanceStore:
    """Instances as JSONB documents in the `instances` table."""

    def __init__(self, db: PostgresDb) -> None:
        self.session = db.session()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Instance | None]] = {}

    def put(self, instance: Instance, *, create: bool | None = None) -> None:
        """Save; create=True refuses an existing id, False refuses a missing one."""
        body = json.dumps(instance.to_json())
        if create is False:
            statement = "UPDATE instances SET body=%s::jsonb, updated=now() WHERE config_id=%s"
            params: tuple[str, str] = (body, instance.config_id)
        else:
            existing = "DO NOTHING" if create else "DO UPDATE SET body=excluded.body, updated=now()"
            statement = (
                "INSERT INTO instances (config_id, body) VALUES (%s, %s::jsonb)"
                f" ON CONFLICT (config_id) {existing}"
            )
            params = (instance.config_id, body)
        if not _changed(self.session, statement, params):  # an upsert always changes a row
            if create:
                raise InstanceError(f"instance {instance.config_id!r} exists already")
            raise KeyError(instance.config_id)

    def delete(self, config_id: str) -> bool:
        return _changed(self.session, "DELETE FROM instances WHERE config_id=%s", (config_id,))

    def load(self, config_id: str) -> Instance | None:
        """Straight from the database (the CLI and admin API read this)."""
        row = self.session.run(
            lambda conn: conn.execute(
                "SELECT body FROM instances WHERE config_id=%s", (config_id,)
            ).fetchone()
        )
        return parse_instance(row[0]) if row else None

    def get(self, config_id: str) -> Instance | None:
        """Cached for instances.CACHE_SECONDS: what the search routes use on every call."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(config_id)
        if cached and now - cached[0] < instance_rules.CACHE_SECONDS:
            return cached[1]
        instance = self.load(config_id) if instance_rules.is_config_id(config_id) else None
        with self._lock:
            if len(self._cache) > CACHE_ENTRIES:
                self._cache.clear()
            self._cache[config_id] = (now, instance)
        return instance

    def list(self) -> list[Instance]:
        rows = self.session.run(
            lambda conn: conn.execute(
                'SELECT body FROM instances ORDER BY config_id COLLATE "C"'
            ).fetchall()
        )
        return [parse_instance(r[0]) for r in rows]

    def close(self) -> None:
        self.session.close()


class PostgresQueryLog:
    """Daily counts in the `query_log` table; nothing about who asked (search.querylog.QueryLog)."""

    def __init__(self, db: PostgresDb, *, retention_days: int = 90) -> None:
        self.session = db.session()
        self.retention = timedelta(days=retention_days)
        self._last_purge: date | None = None

    def record(
        self, query: str, *, market: str, scope: str = "", now: datetime | None = None
    ) -> None:
        text = normalise(query)
        if not text:
            return
        moment = now or datetime.now(UTC)
        day = moment.date()
        purge_before = (moment - self.retention).date() if day != self._last_purge else None
        self._last_purge = day  # once a day per process is enough

        def write(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO query_log VALUES (%s, %s, %s, %s, 1) ON CONFLICT"
                " (day, market, scope, query) DO UPDATE SET count = query_log.count + 1",
                (day, market, scope, text),
            )
            if purge_before is not None:
                conn.execute("DELETE FROM query_log WHERE day < %s", (purge_before,))

        self.session.run(write)

    def popular(
        self,
        *,
        market: str,
        scope: str = "",
        half_life_days: float = 7.0,
        limit: int = 50,
        now: datetime | None = None,
    ) -> list[tuple[str, float]]:
        """(query, decayed count): a search today weighs twice one `half_life_days` ago."""
        today = (now or datetime.now(UTC)).date()
        rows = self.session.run(
            lambda conn: conn.execute(
                "SELECT query, SUM(count * power(0.5, (%s::date - day) / %s::float8)) AS weight"
                " FROM query_log WHERE market=%s AND scope=%s GROUP BY query"
                ' ORDER BY weight DESC, query COLLATE "C" LIMIT %s',
                (today, half_life_days, market, scope, limit),
            ).fetchall()
        )
        return [(str(query), float(weight)) for query, weight in rows]

    def close(self) -> None:
        self.session.close()


def _changed(session: Session, statement: str, params: tuple[Any, ...]) -> bool:
    """Whether `statement` changed a row."""
    return session.run(lambda conn: conn.execute(statement, params).rowcount > 0)
