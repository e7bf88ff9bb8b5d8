"""The service state by name: `Settings.state_backend` picks where tenancy keeps it.

Keys, custom instances, rate-limit windows and usage, and the query log are
one state that the CLI, the admin API and every server worker share. A
backend is a ServiceState that builds each store over itself: "sqlite" (the
default: service.db beside the index, for one machine; state.py) or
"postgres" (one database for server replicas on several machines;
postgres_stores.py, loaded only when named). An unknown name, or a backend
whose package is missing, raises StateUnavailable naming what is known.
"""

from __future__ import annotations

from typing import Protocol

from pixsearch.config import Settings
from pixsearch.registry import Registry, Unavailable
from pixsearch.search.querylog import QueryLog
from pixsearch.tenancy.instances import InstanceStore, SqliteInstanceStore
from pixsearch.tenancy.keys import KeyStore, SqliteKeyStore
from pixsearch.tenancy.querylog import SqliteQueryLog
from pixsearch.tenancy.state import FILE_NAME, ServiceDb


class ServiceState(Protocol):
    """One place the service state lives; it builds each store over itself.

    Rate-limit counters are chosen apart (limits.LIMITERS), as they may live
    elsewhere (Redis); by default they stay with the rest of the state.
    """

    def key_store(self) -> KeyStore: ...

    def instance_store(self) -> InstanceStore: ...

    def query_log(self, *, retention_days: int) -> QueryLog: ...


class StateUnavailable(Unavailable):
    """The configured state backend is unknown, not installed, or cannot be reached."""


# Each factory takes settings=.
STATE_BACKENDS: Registry[ServiceState] = Registry(
    "state backend",
    {
        "sqlite": "pixsearch.tenancy.backends:sqlite_state",
        "postgres": "pixsearch.tenancy.postgres_stores:postgres_state",
    },
    error=StateUnavailable,
)


def open_state(settings: Settings) -> ServiceState:
    """The backend `settings.state_backend` names, its schema brought up to date.

    StateUnavailable for an unknown name or a missing package; an error while
    opening SQLite passes as it is (an unwritable index directory stays an OSError).
    """
    return STATE_BACKENDS.factory(settings.state_backend)(settings=settings)


class SqliteState:
    """The service state in `service.db`: each store has a connection of its own."""

    def __init__(self, db: ServiceDb) -> None:
        self.db = db

    def key_store(self) -> SqliteKeyStore:
        return SqliteKeyStore(self.db)

    def instance_store(self) -> SqliteInstanceStore:
        return SqliteInstanceStore(self.db)

    def query_log(self, *, retention_days: int) -> SqliteQueryLog:
        return SqliteQueryLog(self.db, retention_days=retention_days)


def sqlite_state(*, settings: Settings) -> SqliteState:
    """The "sqlite" entry of STATE_BACKENDS: service.db inside the index directory."""
    return SqliteState(ServiceDb(settings.index_dir / FILE_NAME))
