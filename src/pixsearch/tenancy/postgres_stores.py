"""Keys, instances and the query log in PostgreSQL: the "postgres" state backend.

Same contracts and answers as the SQLite stores (keys.py, instances.py,
querylog.py), over the tables of postgres_state.py. Each store has its own
Session (a connection per process, opened on first use), as each SQLite store
has its own connection. The rate limiter is postgres_limits.py.
"""

from __future__ import annotations

import hmac
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
from pixsearch.tenancy.keys import (
    CACHE_SECONDS,
    COLUMNS,
    KeyInfo,
    hash_key,
    key_info,
    limit_changes,
    new_key,
)
from pixsearch.tenancy.postgres_state import Connection, PostgresDb, Session

_CACHE_ENTRIES = 10_000  # a cache this full is emptied, as the SQLite stores do


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


class PostgresKeyStore:
    """Keys in the `keys` table; only their SHA-256 is stored, as in SQLite."""

    def __init__(self, db: PostgresDb) -> None:
        self.session = db.session()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, KeyInfo | None]] = {}

    def create(
        self,
        name: str,
        *,
        expires: datetime | None = None,
        allowed_instances: tuple[str, ...] = (),
        qps: int | None = None,
        monthly_quota: int | None = None,
    ) -> str:
        key = new_key()
        row = (
            name,
            hash_key(key),
            key[:8],
            datetime.now(UTC).isoformat(timespec="seconds"),
            expires.isoformat() if expires else None,
            ",".join(allowed_instances),
            qps,
            monthly_quota,
        )
        statement = (
            "INSERT INTO keys (name, key_hash, hint, created, expires, allowed_instances, qps,"
            " monthly_quota) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING"
        )
        if not _changed(self.session, statement, row):
            raise ValueError(f"a key named {name!r} exists already")
        return key

    def install(self, name: str, key: str, *, qps: int | None, monthly_quota: int | None) -> None:
        """Store a key its owner derived, or bring its record up to date (enabled left alone)."""
        row = (
            name,
            hash_key(key),
            key[:8],
            datetime.now(UTC).isoformat(timespec="seconds"),
            qps,
            monthly_quota,
        )
        self.session.run(
            lambda conn: conn.execute(
                "INSERT INTO keys (name, key_hash, hint, created, qps, monthly_quota)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
                " key_hash=excluded.key_hash, hint=excluded.hint, qps=excluded.qps,"
                " monthly_quota=excluded.monthly_quota",
                row,
            )
        )

    def set_limits(
        self,
        name: str,
        *,
        allowed_instances: tuple[str, ...] | None = None,
        qps: int | None = None,
        monthly_quota: int | None = None,
        clear_qps: bool = False,
        clear_quota: bool = False,
    ) -> bool:
        changes = limit_changes(
            allowed_instances=allowed_instances,
            qps=qps,
            monthly_quota=monthly_quota,
            clear_qps=clear_qps,
            clear_quota=clear_quota,
        )
        if not changes:
            return self.get(name) is not None
        assignments = ", ".join(f"{column}=%s" for column in changes)  # names from limit_changes
        return _changed(
            self.session, f"UPDATE keys SET {assignments} WHERE name=%s", (*changes.values(), name)
        )

    def get(self, name: str) -> KeyInfo | None:
        row = self.session.run(
            lambda conn: conn.execute(
                f"SELECT {COLUMNS} FROM keys WHERE name=%s", (name,)
            ).fetchone()
        )
        return key_info(row) if row else None

    def revoke(self, name: str) -> bool:
        return _changed(self.session, "DELETE FROM keys WHERE name=%s", (name,))

    def set_enabled(self, name: str, enabled: bool) -> bool:
        return _changed(self.session, "UPDATE keys SET enabled=%s WHERE name=%s", (enabled, name))

    def list(self) -> list[KeyInfo]:
        rows = self.session.run(
            lambda conn: conn.execute(
                f'SELECT {COLUMNS} FROM keys ORDER BY name COLLATE "C"'
            ).fetchall()
        )
        return [key_info(r) for r in rows]

    def lookup(self, key: str) -> KeyInfo | None:
        """The key's record if it exists (enabled or not), else None; cached CACHE_SECONDS."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
            if cached and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        row = self.session.run(
            lambda conn: conn.execute(
                f"SELECT {COLUMNS}, key_hash FROM keys WHERE key_hash=%s", (digest,)
            ).fetchone()
        )
        info = key_info(row) if row and hmac.compare_digest(row[-1], digest) else None
        with self._lock:
            if len(self._cache) > _CACHE_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (now, info)
        return info

    def close(self) -> None:
        self.session.close()


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
            if len(self._cache) > _CACHE_ENTRIES:
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
