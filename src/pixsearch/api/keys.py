"""Subscription keys, stored hashed in the service database.

A key is shown once, at creation. The database keeps only its SHA-256 (keys
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
from pathlib import Path

KEY_PREFIX = "psk_"
_CACHE_SECONDS = 2.0  # revocations reach every worker within this time

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    expires TEXT
);
"""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    name: str
    hint: str  # first characters of the key, to tell keys apart in listings
    created: str
    enabled: bool
    expires: str | None

    @property
    def expired(self) -> bool:
        return bool(self.expires) and datetime.fromisoformat(self.expires) <= datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, KeyInfo | None]] = {}

    def create(self, name: str, *, expires: datetime | None = None) -> str:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            self.conn.execute(
                "INSERT INTO keys (name, key_hash, hint, created, expires) VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    hash_key(key),
                    key[:8],
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    expires.isoformat() if expires else None,
                ),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"a key named {name!r} exists already") from None
        return key

    def revoke(self, name: str) -> bool:
        cursor = self.conn.execute("DELETE FROM keys WHERE name=?", (name,))
        return cursor.rowcount > 0

    def set_enabled(self, name: str, enabled: bool) -> bool:
        cursor = self.conn.execute("UPDATE keys SET enabled=? WHERE name=?", (int(enabled), name))
        return cursor.rowcount > 0

    def list(self) -> list[KeyInfo]:
        rows = self.conn.execute(
            "SELECT name, hint, created, enabled, expires FROM keys ORDER BY name"
        ).fetchall()
        return [KeyInfo(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def lookup(self, key: str) -> KeyInfo | None:
        """The key's record if it exists (enabled or not), else None."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
            if cached and now - cached[0] < _CACHE_SECONDS:
                return cached[1]
            row = self.conn.execute(
                "SELECT name, hint, created, enabled, expires, key_hash FROM keys WHERE key_hash=?",
                (digest,),
            ).fetchone()
            info = None
            if row is not None and hmac.compare_digest(row[5], digest):
                info = KeyInfo(row[0], row[1], row[2], bool(row[3]), row[4])
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, info)
            return info

    def close(self) -> None:
        self.conn.close()
