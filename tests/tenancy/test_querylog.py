"""Each backend's query log behind trending: decayed counts, retention, nothing about who asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixsearch.search.querylog import MAX_QUERY_CHARS, QueryLog, normalise
from pixsearch.tenancy.backends import ServiceState
from tests.tenancy.conftest import Rows


def test_query_log_decays_and_keeps_no_client_data(state: ServiceState, rows: Rows) -> None:
    log: QueryLog = state.query_log(retention_days=30)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for _ in range(4):
        log.record("Old  Favourite", market="en-US", now=now - timedelta(days=14))
    for _ in range(2):
        log.record("new thing", market="en-US", now=now)
    ranked = log.popular(market="en-US", now=now)
    assert [q for q, _ in ranked] == ["new thing", "old favourite"]  # 2 today > 4 × 1/4
    log.record("x", market="en-US", now=now + timedelta(days=40))  # purges past retention
    assert "old favourite" not in dict(log.popular(market="en-US", now=now))
    # day, market, scope, query, count: nothing else is kept
    assert [row[1:] for row in rows("query_log")] == [("en-US", "", "x", 1)]


def test_scopes_are_kept_apart_and_queries_normalised(state: ServiceState) -> None:
    log = state.query_log(retention_days=90)
    log.record("  Red   FOX ", market="en-US", scope="shop")
    log.record("   ", market="en-US")  # nothing to count
    assert log.popular(market="en-US") == []
    assert [q for q, _ in log.popular(market="en-US", scope="shop")] == ["red fox"]
    assert len(normalise("a" * 500)) == MAX_QUERY_CHARS
