"""Request parameters into a search request: the parts with a rule of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixsearch.api.params import parse_search


def test_freshness_requests_within_a_minute_share_their_filters() -> None:
    # The filters key the kept answers: a boundary to the microsecond made every
    # freshness request a new key, so no such request was ever served from them.
    asked = [
        parse_search({"q": "lighthouse", "freshness": "Month"}, now=now).request
        for now in (
            datetime(2026, 12, 7, 10, 41, 0, tzinfo=UTC),
            datetime(2026, 12, 7, 10, 41, 17, 512_000, tzinfo=UTC),
            datetime(2026, 12, 7, 10, 41, 59, 999_999, tzinfo=UTC),
        )
    ]
    assert asked[0] == asked[1] == asked[2]
    assert hash(asked[0].filters) == hash(asked[2].filters)
    since = asked[0].filters.published_since
    assert since == datetime(2026, 11, 7, 10, 41, tzinfo=UTC)  # 30 days before 10:41:00


def test_freshness_moves_on_with_the_minute() -> None:
    def since(now: datetime) -> datetime | None:
        return parse_search({"q": "x", "freshness": "Day"}, now=now).request.filters.published_since

    before = since(datetime(2026, 12, 7, 10, 41, 59, tzinfo=UTC))
    after = since(datetime(2026, 12, 7, 10, 42, 0, tzinfo=UTC))
    assert before is not None and after is not None
    assert after - before == timedelta(minutes=1)
    assert after == datetime(2026, 12, 6, 10, 42, tzinfo=UTC)
    assert since(datetime(2026, 12, 7, 10, 42, tzinfo=UTC)) == after
    assert parse_search({"q": "x"}).request.filters.published_since is None
