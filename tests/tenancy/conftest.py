"""The service state under test: each store contract runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pixsearch.config import Settings
from pixsearch.tenancy.backends import ServiceState, SqliteState, open_state
from tests.postgres import PostgresServer, start_postgres

Rows = Callable[[str], list[tuple[Any, ...]]]  # a table's rows, read behind the stores' back


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL for the session (skips when it cannot be had)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgres]')")
    server = start_postgres()
    if isinstance(server, str):
        pytest.skip(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def postgres_url(postgres: PostgresServer) -> str:
    """A URL whose connections work in a schema of their own, new for each test."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return make_conninfo(postgres.url(), options=f"-c search_path={schema}")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of a fresh service state on `backend` (its counters with it)."""
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    return Settings.load(
        index_dir=tmp_path / "index",
        state_backend=backend,
        postgres_url=url,
        rate_limit_backend="",
    )


@pytest.fixture()
def state(settings: Settings) -> ServiceState:
    return open_state(settings)


@pytest.fixture()
def rows(state: ServiceState, settings: Settings) -> Rows:
    def read(table: str) -> list[tuple[Any, ...]]:
        query = f"SELECT * FROM {table}"
        if isinstance(state, SqliteState):
            with sqlite3.connect(state.db.path) as conn:
                return conn.execute(query).fetchall()
        import psycopg

        with psycopg.connect(settings.postgres_url) as conn:
            return conn.execute(query).fetchall()

    return read
