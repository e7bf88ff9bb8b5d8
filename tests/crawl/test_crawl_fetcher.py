"""Fetcher edge cases on a mock transport: streamed size cap, 429 + Retry-After, redirects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from pixsearch.crawl.fetcher import Fetcher, FetchFailed, FetchSettings


async def _allow(url: str) -> str | None:
    return None


async def _endless() -> AsyncIterator[bytes]:
    for _ in range(10_000):
        yield b"x" * 1024


def _fetch(handler, url: str = "http://site.test/a", **settings) -> object:
    async def go() -> object:
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport) as client:
            options = FetchSettings(user_agent="t", allow_private=True, **settings)
            return await Fetcher(client, options).get(url, _allow)

    return asyncio.run(go())


def test_streamed_body_without_length_is_capped() -> None:
    with pytest.raises(FetchFailed) as caught:
        _fetch(lambda request: httpx.Response(200, content=_endless()), max_bytes=100_000)
    assert caught.value.reason == "too-large"


def test_429_retried_after_retry_after() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, text="ok")

    response = _fetch(handler)
    assert response.status == 200 and len(calls) == 3  # type: ignore[attr-defined]


def test_redirects_are_limited_and_each_hop_checked() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"Location": f"/{n + 1}"})

    with pytest.raises(FetchFailed) as caught:
        _fetch(loop, "http://site.test/0")
    assert caught.value.reason == "too-many-redirects"

    async def deny_three(url: str) -> str | None:
        return "robots" if url.endswith("/3") else None

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(loop)) as client:
            fetcher = Fetcher(client, FetchSettings(user_agent="t", allow_private=True))
            await fetcher.get("http://site.test/0", deny_three)

    with pytest.raises(FetchFailed) as caught:
        asyncio.run(go())
    assert caught.value.reason == "robots"


def test_unsafe_destination_refused_without_allow_private() -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await Fetcher(client, FetchSettings(user_agent="t")).get("http://127.0.0.1:9/", _allow)

    with pytest.raises(FetchFailed) as caught:
        asyncio.run(go())
    assert caught.value.reason == "unsafe-destination"


def test_every_hop_is_normalised_before_it_is_fetched() -> None:
    """Numeric hosts in one spelling (what httpx parses), user info refused."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/hop":
            return httpx.Response(302, headers={"Location": "http://0x7f.1:8080/end"})
        return httpx.Response(200, text="ok")

    _fetch(handler, "http://0177.0.0.1/hop")
    assert seen == ["http://127.0.0.1/hop", "http://127.0.0.1:8080/end"]
    for url in ("http://a@site.test/", "http://0999.1/", "http://[::1%25lo]/"):
        with pytest.raises(FetchFailed) as caught:
            _fetch(handler, url)
        assert caught.value.reason == "bad-url"
