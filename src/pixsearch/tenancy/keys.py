"""Subscription keys: the KeyStore interface and its store in the service database.

SqlKeyStore runs the same statements in SQLite (SqliteKeyStore, here) and in
PostgreSQL (postgres_stores.PostgresKeyStore), each through its own Sql.

A key is shown once, at creation. The store keeps only its SHA-256 (keys
are 256-bit random, so a plain hash suffices: there is nothing to brute
force), and verification compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pixsearch.tenancy.state import ServiceDb

KEY_PREFIX = "psk_"
CACHE_SECONDS = 2.0  # revocations reach every worker within this time
CACHE_ENTRIES = 10_000  # a cache this full is emptied
# The columns key_info reads, in its order, in the SQLite and the PostgreSQL tables alike.
COLUMNS = "name, hint, created, enabled, expires, allowed_instances, qps, monthly_quota"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    name: str
    hint: str  # first characters of the key, to tell keys apart in listings
    created: str
    enabled: bool
    expires: str | None
    # customConfig ids this key may search; empty means any (and the plain endpoint)
    allowed_instances: tuple[str, ...] = ()
    qps: int | None = None  # None: no per-second limit
    monthly_quota: int | None = None  # None: unlimited calls per calendar month (UTC)

    def may_use(self, custom_config: str | None) -> bool:
        if not self.allowed_instances:
            return True
        return custom_config is not None and custom_config in self.allowed_instances

    @property
    def expired(self) -> bool:
        if not self.expires:
            return False
        return datetime.fromisoformat(self.expires) <= datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def limit_changes(
    *,
    allowed_instances: tuple[str, ...] | None,
    qps: int | None,
    monthly_quota: int | None,
    clear_qps: bool,
    clear_quota: bool,
) -> dict[str, object]:
    """Column → new value for KeyStore.set_limits (None leaves a limit, clear_* removes it)."""
    changes: dict[str, object] = {}
    if allowed_instances is not None:
        changes["allowed_instances"] = ",".join(allowed_instances)
    if qps is not None or clear_qps:
        changes["qps"] = None if clear_qps else qps
    if monthly_quota is not None or clear_quota:
        changes["monthly_quota"] = None if clear_quota else monthly_quota
    return changes


class KeyStore(Protocol):
    """Where keys live: shared by the CLI, the admin API and every server worker."""

    def create(
        self,
        name: str,
        *,
        expires: datetime | None = None,
        allowed_instances: tuple[str, ...] = (),
        qps: int | None = None,
        monthly_quota: int | None = None,
    ) -> str:
        """A new random key called `name` (ValueError if the name is taken), shown only here."""
        ...

    def install(self, name: str, key: str, *, qps: int | None, monthly_quota: int | None) -> None:
        """Store a key its owner derived, or bring its record up to date."""
        ...

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
        """Change the given limits; False if there is no key `name`."""
        ...

    def get(self, name: str) -> KeyInfo | None: ...

    def revoke(self, name: str) -> bool: ...

    def set_enabled(self, name: str, enabled: bool) -> bool: ...

    def list(self) -> list[KeyInfo]: ...

    def lookup(self, key: str) -> KeyInfo | None:
        """The record of a presented key (enabled or not), else None; may be seconds stale."""
        ...

    def close(self) -> None: ...


class Sql(Protocol):
    """One database's way of running the statements of SqlKeyStore (written with ? marks)."""

    def changed(self, statement: str, params: tuple[Any, ...]) -> bool:
        """Run a write; whether it changed a row."""
        ...

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None: ...

    def all(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


class SqliteSql:
    """Sql over one SQLite connection, which the threads of a worker take turns on."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def changed(self, statement: str, params: tuple[Any, ...]) -> bool:
        with self._lock:
            return self.conn.execute(statement, params).rowcount > 0

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self.conn.execute(statement, params).fetchone()
            return row

    def all(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.conn.execute(statement, params).fetchall()

    def close(self) -> None:
        self.conn.close()


class SqlKeyStore:
    """Keys in the `keys` table, the same statements in SQLite and PostgreSQL alike.

    Names sort bytewise in both (SQLite's BINARY collation; "C" in PostgreSQL,
    which sql.all applies), so listings agree.
    """

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
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
            " monthly_quota) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING"
        )
        if not self.sql.changed(statement, row):
            raise ValueError(f"a key named {name!r} exists already")
        return key

    def install(self, name: str, key: str, *, qps: int | None, monthly_quota: int | None) -> None:
        """Store a key its owner derived (the search page's), or bring its record up to date.

        Whether it is enabled is left alone, so `pixsearch keys disable` stays in force.
        """
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self.sql.changed(
            "INSERT INTO keys (name, key_hash, hint, created, qps, monthly_quota)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
            " key_hash=excluded.key_hash, hint=excluded.hint, qps=excluded.qps,"
            " monthly_quota=excluded.monthly_quota",
            (name, hash_key(key), key[:8], created, qps, monthly_quota),
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
        """Change the given limits only (None leaves a limit as it is; clear_* removes it)."""
        changes = limit_changes(
            allowed_instances=allowed_instances,
            qps=qps,
            monthly_quota=monthly_quota,
            clear_qps=clear_qps,
            clear_quota=clear_quota,
        )
        if not changes:
            return self.get(name) is not None
        assignments = ", ".join(f"{column}=?" for column in changes)  # names from limit_changes
        return self.sql.changed(
            f"UPDATE keys SET {assignments} WHERE name=?", (*changes.values(), name)
        )

    def get(self, name: str) -> KeyInfo | None:
        row = self.sql.one(f"SELECT {COLUMNS} FROM keys WHERE name=?", (name,))
        return key_info(row) if row else None

    def revoke(self, name: str) -> bool:
        return self.sql.changed("DELETE FROM keys WHERE name=?", (name,))

    def set_enabled(self, name: str, enabled: bool) -> bool:
        return self.sql.changed("UPDATE keys SET enabled=? WHERE name=?", (enabled, name))

    def list(self) -> list[KeyInfo]:
        return [key_info(r) for r in self.sql.all(f"SELECT {COLUMNS} FROM keys ORDER BY name")]

    def lookup(self, key: str) -> KeyInfo | None:
        """The key's record if it exists (enabled or not), else None; cached CACHE_SECONDS."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        row = self.sql.one(f"SELECT {COLUMNS}, key_hash FROM keys WHERE key_hash=?", (digest,))
        info = key_info(row) if row and hmac.compare_digest(row[-1], digest) else None
        with self._lock:
            if len(self._cache) > CACHE_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (now, info)
        return info

    def close(self) -> None:
        self.sql.close()


class SqliteKeyStore(SqlKeyStore):
    """Keys in the `keys` table of the service database."""

    def __init__(self, db: ServiceDb) -> None:
        super().__init__(SqliteSql(db.connect()))


def key_info(row: tuple[Any, ...]) -> KeyInfo:
    """A KeyInfo from a row that starts with COLUMNS."""
    allowed = tuple(part for part in (row[5] or "").split(",") if part)
    return KeyInfo(row[0], row[1], row[2], bool(row[3]), row[4], allowed, row[6], row[7])
