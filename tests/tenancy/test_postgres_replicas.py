"""Two servers sharing one PostgreSQL, as two ingress replicas on two machines would.

Each `pixsearch serve` process has its own connections; only the database is
shared. A key's monthly quota and QPS limit must hold across both: a limit kept
per server would let twice the calls through. (One worker each: several workers
of one server sharing the state is what tests/api/test_limits.py checks on SQLite,
and forked workers' connections are checked in test_postgres_state.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pixsearch.config import Settings
from pixsearch.tenancy.backends import open_state
from pixsearch.tenancy.keys import KeyStore
from tests.bursts import assert_limit_held
from tests.conftest import start_server, stop_server
from tests.postgres import PostgresServer

Replicas = tuple[str, str, dict[str, str], Path]  # two base URLs, their state settings, index


@pytest.fixture(scope="module")
def replicas(corpus: tuple[Path, Path], postgres: PostgresServer) -> Iterator[Replicas]:
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"replicas_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = make_conninfo(postgres.url(), options=f"-c search_path={schema}")
    env = {"PIXSEARCH_STATE_BACKEND": "postgres", "PIXSEARCH_POSTGRES_URL": url}
    _, index_dir = corpus
    first, first_base = start_server(index_dir, env=env)
    try:
        second, second_base = start_server(index_dir, env=env)
    except BaseException:
        stop_server(first)
        raise
    try:
        yield first_base, second_base, env, index_dir
    finally:
        stop_server(second)
        stop_server(first)


def keys_of(env: dict[str, str]) -> KeyStore:
    settings = Settings.load(state_backend="postgres", postgres_url=env["PIXSEARCH_POSTGRES_URL"])
    return open_state(settings).key_store()


def search(base: str, key: str) -> httpx.Response:
    return httpx.get(
        base + "/v7.0/images/search",
        params={"q": "circle"},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )


def pixsearch(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pixsearch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=True,
    )
    return done.stdout


def test_the_monthly_quota_holds_across_both_replicas(replicas: Replicas) -> None:
    first, second, env, index_dir = replicas
    name = f"q-{uuid.uuid4().hex[:8]}"
    keys = keys_of(env)
    key = keys.create(name, monthly_quota=10)
    keys.close()
    bases = [first, second] * 10  # 20 calls, alternating, four at a time
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda base: search(base, key), bases))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 10 and codes.count(403) == 10, codes
    refused = next(a for a in answers if a.status_code == 403)
    assert refused.json()["errors"][0]["code"] == "RateLimitExceeded"
    assert int(refused.headers["Retry-After"]) >= 1
    # One usage ledger, whichever replica answered and whichever machine asks.
    shown = pixsearch(env, "keys", "usage", name, "--index", str(index_dir))
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    row = next(line for line in shown.splitlines() if today in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [today, "10", "10"]


def test_the_qps_limit_holds_across_both_replicas(replicas: Replicas) -> None:
    first, second, env, _ = replicas
    keys = keys_of(env)
    key = keys.create(f"b-{uuid.uuid4().hex[:8]}", qps=5)
    keys.close()
    # A limit kept per replica would let up to twice qps through in a second.
    assert_limit_held([first, second], key, qps=5)
