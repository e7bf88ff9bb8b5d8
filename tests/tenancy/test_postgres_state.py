"""The PostgreSQL service state: schema and migrations, choosing it by setting, connections
across threads, forks and server restarts, and the limiter's last slot taken once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixsearch.config import Settings
from pixsearch.tenancy.backends import StateUnavailable, open_state
from pixsearch.tenancy.limits import Limiter, LimiterUnavailable, open_limiter
from pixsearch.tenancy.state import StateError
from pixsearch.wiring import build_tenancy

psycopg = pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install '.[postgres]')"
)

from pixsearch.tenancy.postgres_limits import PostgresLimiter  # noqa: E402  (needs psycopg)
from pixsearch.tenancy.postgres_state import SCHEMA_VERSION, PostgresDb  # noqa: E402
from pixsearch.tenancy.postgres_stores import PostgresKeyStore, PostgresState  # noqa: E402


def pg_settings(url: str, **more: object) -> Settings:
    return Settings.load(state_backend="postgres", postgres_url=url, **more)


def test_a_new_database_gets_every_table_at_the_current_version(postgres_url: str) -> None:
    PostgresDb(postgres_url)
    PostgresDb(postgres_url)  # a second opening finds it done
    with psycopg.connect(postgres_url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        versions = conn.execute("SELECT version FROM schema_version").fetchall()
    assert tables == {"schema_version", "keys", "instances", "rate_window", "usage", "query_log"}
    assert versions == [(SCHEMA_VERSION,)]


def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            PostgresDb(postgres_url)
        except BaseException as exc:  # collected: a thread's exception would vanish
            failures.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_database_from_a_newer_release_is_refused(postgres_url: str) -> None:
    PostgresDb(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(StateError, match="newer release"):
        PostgresDb(postgres_url)


def test_the_backend_is_chosen_by_setting(postgres_url: str, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    tenancy = build_tenancy(pg_settings(postgres_url, index_dir=index_dir))
    assert isinstance(tenancy.keys, PostgresKeyStore)
    assert isinstance(tenancy.limiter, PostgresLimiter)  # counters with the state by default
    key = tenancy.keys.create("first")
    assert tenancy.keys.lookup(key) is not None
    assert tenancy.limiter.hit("first", qps=None, monthly_quota=None).allowed
    assert not index_dir.exists()  # nothing beside the index: the state is in the database
    with pytest.raises(StateUnavailable, match=r"unknown state backend 'mysql'.*postgres"):
        open_state(Settings.load(state_backend="mysql"))
    with pytest.raises(StateUnavailable, match="needs the postgres_url setting"):
        open_state(Settings.load(state_backend="postgres", postgres_url=""))


def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = "postgresql://pixsearch:s3cret-pw@127.0.0.1:1/pixsearch"
    with pytest.raises(StateUnavailable, match="cannot connect") as raised:
        open_state(pg_settings(url))
    assert "s3cret-pw" not in str(raised.value)
    with pytest.raises(StateUnavailable, match="neither") as raised:
        open_state(pg_settings("host=127.0.0.1 password=s3cret-pw port"))
    assert "s3cret-pw" not in str(raised.value)


def test_limit_counters_follow_the_state_unless_told(postgres_url: str, tmp_path: Path) -> None:
    state = open_state(pg_settings(postgres_url))
    with pytest.raises(LimiterUnavailable, match="state_backend is 'postgres'"):
        open_limiter(pg_settings(postgres_url, rate_limit_backend="sqlite"), state)
    sqlite_state = open_state(Settings.load(index_dir=tmp_path, state_backend="sqlite"))
    with pytest.raises(LimiterUnavailable, match="state_backend is 'sqlite'"):
        open_limiter(Settings.load(rate_limit_backend="postgres"), sqlite_state)
    pytest.importorskip("redis")
    # Keys in PostgreSQL, counters in Redis is allowed: it gets as far as reaching Redis.
    nowhere = "redis://127.0.0.1:1/0"
    with pytest.raises(LimiterUnavailable, match="cannot reach"):
        open_limiter(
            pg_settings(postgres_url, rate_limit_backend="redis", redis_url=nowhere), state
        )


def test_the_sqlite_default_does_not_load_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys; from pixsearch.config import Settings; "
        "from pixsearch.wiring import build_tenancy; "
        f"build_tenancy(Settings.load(index_dir={str(tmp_path)!r})); "
        "print('psycopg' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXSEARCH_STATE")}
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert shown.stdout.split() == ["False"]


@pytest.fixture
def limiters(postgres_url: str) -> Iterator[list[Limiter]]:
    """Eight limiters with a connection each, as eight replicas' workers would have."""
    settings = pg_settings(postgres_url)
    opened = [open_limiter(settings, open_state(settings)) for _ in range(8)]
    yield opened
    for limiter in opened:
        limiter.close()


def test_the_last_quota_slot_is_taken_once(limiters: list[Limiter]) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(limiters))

    def calls(limiter: Limiter) -> None:
        barrier.wait()
        for _ in range(5):
            decision = limiter.hit("shared", qps=None, monthly_quota=13)
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=calls, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 13 and len(allowed) == 40
    ((_, used, throttled),) = [(u.day, u.calls, u.throttled) for u in limiters[0].usage("shared")]
    assert (used, throttled) == (13, 27)


def backend_pid(keys: PostgresKeyStore) -> int:
    """The server process behind the store's connection in this process."""
    row = keys.sql.one("SELECT pg_backend_pid()")
    assert row is not None
    return int(row[0])


def test_a_forked_worker_opens_its_own_connection(postgres_url: str) -> None:
    keys = open_state(pg_settings(postgres_url)).key_store()
    assert isinstance(keys, PostgresKeyStore)
    keys.create("before-fork")
    parent = backend_pid(keys)  # the parent's connection is open now
    pid = os.fork()
    if pid == 0:  # the child: its calls must not go through the parent's socket
        ok = backend_pid(keys) != parent and keys.get("before-fork") is not None
        keys.create("in-child")
        keys.close()  # as a worker stopping would: the parent's connection stays open
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert backend_pid(keys) == parent and keys.get("in-child") is not None
    keys.close()


def test_a_dropped_connection_is_replaced(postgres_url: str) -> None:
    state = open_state(pg_settings(postgres_url))
    assert isinstance(state, PostgresState)
    keys = state.key_store()
    keys.create("a")
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a server restart would
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'pixsearch' AND pid <> pg_backend_pid()"
        )
    assert keys.get("a") is not None
    keys.close()
