"""Shapes of ImageObject fields the official clients parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pixsearch.api.wire import bing_datetime, display_url


def test_timestamps_have_bings_shape_in_utc() -> None:
    moment = datetime(2026, 4, 25, 19, 42, 31, 610486, tzinfo=UTC)
    assert bing_datetime(moment) == "2026-04-25T19:42:31.6104860Z"
    assert bing_datetime(moment.replace(microsecond=0)) == "2026-04-25T19:42:31.0000000Z"
    assert bing_datetime(moment.replace(tzinfo=None)) == "2026-04-25T19:42:31.6104860Z"
    paris = moment.astimezone(timezone(timedelta(hours=2)))
    assert bing_datetime(paris) == "2026-04-25T19:42:31.6104860Z"  # shown in UTC
    # a year before 1000 keeps four digits, as ISO 8601 has it
    assert bing_datetime(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.0000000Z"


def test_display_urls_drop_scheme_and_www_and_stay_short() -> None:
    assert display_url("https://www.example.org/a/b.html?x=1") == "example.org/a/b.html"
    long = "http://example.org/" + "p" * 200
    assert display_url(long) == ("example.org/" + "p" * 200)[:77] + "..."
