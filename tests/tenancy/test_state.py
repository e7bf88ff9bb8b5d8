"""The service database: one schema, versioned, and files from before versioning still open."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from pixsearch.config import Settings
from pixsearch.tenancy.instances import SqliteInstanceStore
from pixsearch.tenancy.keys import SqliteKeyStore, hash_key
from pixsearch.tenancy.limits import SqliteLimiter
from pixsearch.tenancy.querylog import SqliteQueryLog
from pixsearch.tenancy.state import SCHEMA_VERSION, ServiceDb, StateError, version_of
from pixsearch.wiring import build_tenancy

# service.db as the stores of the last unversioned release wrote it, statement for statement
# (keys as first released: the limit columns came later and were added on open).
OLD_TABLES = (
    "CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE,"
    " hint TEXT NOT NULL, created TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    " expires TEXT)",
    "CREATE TABLE IF NOT EXISTS instances (config_id TEXT PRIMARY KEY, body TEXT NOT NULL,"
    " updated TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rate_window (key_name TEXT PRIMARY KEY,"
    " second INTEGER NOT NULL, calls INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS usage (key_name TEXT NOT NULL, day TEXT NOT NULL,"
    " calls INTEGER NOT NULL DEFAULT 0, throttled INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (key_name, day)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS query_log (day TEXT NOT NULL, market TEXT NOT NULL,"
    " scope TEXT NOT NULL, query TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY (day, market, scope, query))",
)
OLD_KEY = "psk_" + "o" * 43
KEY_COLUMNS = [
    "name", "hint", "created", "enabled", "expires", "key_hash",
    "allowed_instances", "qps", "monthly_quota",
]  # fmt: skip


def old_service_db(path: Path, *, with_limit_columns: bool) -> None:
    with sqlite3.connect(path) as conn:
        for statement in OLD_TABLES:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO keys VALUES ('old', ?, 'psk_oooo', '2025-01-01T00:00:00+00:00', 1, NULL)",
            (hash_key(OLD_KEY),),
        )
        if with_limit_columns:
            conn.execute("ALTER TABLE keys ADD COLUMN allowed_instances TEXT NOT NULL DEFAULT ''")
            conn.execute("ALTER TABLE keys ADD COLUMN qps INTEGER")
            conn.execute("ALTER TABLE keys ADD COLUMN monthly_quota INTEGER")
            conn.execute("UPDATE keys SET qps=7, allowed_instances='shop' WHERE name='old'")
        body = {"config_id": "shop", "sites": ["shop.example"], "defaults": {"mkt": "en-GB"}}
        conn.execute("INSERT INTO instances VALUES ('shop', ?, '2025-01-01')", (json.dumps(body),))
        conn.execute("INSERT INTO usage VALUES ('old', '2025-01-02', 5, 1)")
        conn.execute("INSERT INTO query_log VALUES ('2025-01-02', 'en-US', '', 'red fox', 3)")


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_a_new_file_gets_every_table_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "service.db"
    ServiceDb(path)
    with sqlite3.connect(path) as conn:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert version_of(conn) == SCHEMA_VERSION
    assert tables == {"keys", "instances", "rate_window", "usage", "query_log"}
    assert sorted(columns(path, "keys")) == sorted(KEY_COLUMNS)
    assert columns(path, "query_log") == ["day", "market", "scope", "query", "count"]
    assert columns(path, "usage") == ["key_name", "day", "calls", "throttled"]


@pytest.mark.parametrize("with_limit_columns", [False, True])
def test_files_from_before_versioning_open_and_keep_their_rows(
    tmp_path: Path, with_limit_columns: bool
) -> None:
    path = tmp_path / "service.db"
    old_service_db(path, with_limit_columns=with_limit_columns)
    db = ServiceDb(path)
    with sqlite3.connect(path) as conn:
        assert version_of(conn) == SCHEMA_VERSION
    keys = SqliteKeyStore(db)
    info = keys.lookup(OLD_KEY)
    assert info is not None and info.name == "old" and info.enabled
    if with_limit_columns:
        assert (info.qps, info.allowed_instances) == (7, ("shop",))
    else:
        assert (info.qps, info.monthly_quota, info.allowed_instances) == (None, None, ())
    assert keys.set_limits("old", monthly_quota=10)  # the added columns are writable
    instance = SqliteInstanceStore(db).load("shop")
    assert instance is not None and instance.defaults == {"mkt": "en-GB"}
    assert [(d.day, d.calls, d.throttled) for d in SqliteLimiter(db).usage("old")] == [
        ("2025-01-02", 5, 1)
    ]
    assert SqliteQueryLog(db).popular(market="en-US", now=None)[0][0] == "red fox"
    assert sorted(columns(path, "keys")) == sorted(KEY_COLUMNS)


def test_workers_opening_an_old_file_together_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    old_service_db(path, with_limit_columns=False)
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            ServiceDb(path)
        except BaseException as exc:  # collected: a thread's exception would vanish
            failures.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert SqliteKeyStore(ServiceDb(path)).get("old") is not None


def test_a_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    ServiceDb(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="newer release"):
        ServiceDb(path)


def test_nothing_is_written_until_tenancy_is_built(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    settings = Settings.load(index_dir=index_dir, rate_limit_backend="sqlite")
    assert not index_dir.exists()
    tenancy = build_tenancy(settings)
    assert {p.name for p in index_dir.iterdir()} <= {
        "service.db",
        "service.db-wal",
        "service.db-shm",
    }
    key = tenancy.keys.create("first")
    assert tenancy.keys.lookup(key) is not None
    assert tenancy.limiter.hit("first", qps=None, monthly_quota=None).allowed
