"""One polite, capped, checked HTTP fetch: redirects hop by hop, retries, per-host delays.

Every hop's URL is normalised first (urls.normalize: numeric hosts in one form,
no user info), its host checked (safety.py) before the request, and the client
from transport.checked_client dials only the addresses that check returned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from pixsearch.crawl.safety import Unresolvable, UnsafeDestination, check_host
from pixsearch.crawl.urls import DEFAULT_PORTS, host_of, normalize

MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
RETRY_STATUSES = {429, 503}


class FetchFailed(Exception):
    def __init__(self, reason: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail, self.status = reason, detail, status


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(slots=True)
class FetchSettings:
    user_agent: str
    timeout: float = 20.0  # per request, connect to last byte
    max_bytes: int = 20 * 1024 * 1024
    delay: float = 0.0  # seconds between requests to one host
    retries: int = 3
    max_retry_wait: float = 60.0  # a Retry-After longer than this is cut to it
    allow_private: bool = False


@dataclass(slots=True)
class HostGate:
    """Spaces requests to one host by its delay; one request at a time per host."""

    delay: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0


# Checked before every hop: (url) → None if allowed, else a rejection reason.
HopCheck = Callable[[str], Awaitable[str | None]]
# One request, no redirect followed, made once the host's gate lets it: (url, headers) →
# Response; raises FetchFailed. The default reads it here (Fetcher.request); a crawl on
# Ray has a worker read it, and keep the body there (crawl/ray_images.py).
Hop = Callable[[str, dict[str, str]], Awaitable[Response]]


class Fetcher:
    def __init__(self, client: httpx.AsyncClient, settings: FetchSettings) -> None:
        self.client = client
        self.settings = settings
        self.gates: dict[str, HostGate] = {}
        self.requests = 0

    def set_delay(self, host: str, delay: float) -> None:
        self.gate(host).delay = max(self.settings.delay, delay)

    def gate(self, host: str) -> HostGate:
        if host not in self.gates:
            self.gates[host] = HostGate(self.settings.delay)
        return self.gates[host]

    async def get(
        self,
        url: str,
        check: HopCheck,
        headers: dict[str, str] | None = None,
        hop: Hop | None = None,
    ) -> Response:
        """Follow at most MAX_REDIRECTS redirects, each hop checked, each request made by
        `hop` (default: `request`) under the host's gate; raise FetchFailed."""
        for _ in range(MAX_REDIRECTS + 1):
            canonical = normalize(url)
            if canonical is None:
                raise FetchFailed("bad-url", url[:300])
            url = canonical
            reason = await check(url)
            if reason:
                raise FetchFailed(reason, url)
            response = await self._with_retries(url, headers or {}, hop or self.request)
            if response.status not in REDIRECTS:
                return response
            target = normalize(response.headers.get("location", ""), url)
            if target is None:
                raise FetchFailed("bad-redirect", response.headers.get("location", ""))
            url = target
        raise FetchFailed("too-many-redirects", url)

    async def _with_retries(self, url: str, headers: dict[str, str], hop: Hop) -> Response:
        attempt = 0
        while True:
            response = await self._once(url, headers, hop)
            if response.status not in RETRY_STATUSES or attempt >= self.settings.retries:
                return response
            attempt += 1
            wait = _retry_after(response.headers.get("retry-after"), 2.0**attempt)
            await asyncio.sleep(min(wait, self.settings.max_retry_wait))

    async def _once(self, url: str, headers: dict[str, str], hop: Hop) -> Response:
        await self.check_host(url)  # early and cached; the connection is checked again
        gate = self.gate(host_of(url))
        async with gate.lock:
            pause = gate.next_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                return await hop(url, headers)
            finally:
                gate.next_at = time.monotonic() + gate.delay

    async def check_host(self, url: str) -> None:
        """Refuse (FetchFailed) a host that does not resolve, or resolves somewhere unsafe."""
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        with _safety_failures():
            await check_host(parts.hostname or "", port, allow_private=self.settings.allow_private)

    async def request(self, url: str, headers: dict[str, str]) -> Response:
        """One request, no redirect followed, within the timeout and the size cap; no gate."""
        try:
            with _safety_failures():  # transport.py checks the address it connects to
                return await asyncio.wait_for(
                    self._stream(url, headers), timeout=self.settings.timeout
                )
        except TimeoutError:
            raise FetchFailed("timeout", f"over {self.settings.timeout}s") from None
        except httpx.HTTPError as exc:
            raise FetchFailed("network", f"{type(exc).__name__}: {exc}"[:300]) from None
        except httpx.InvalidURL as exc:  # what normalize let through and httpx would not
            raise FetchFailed("bad-url", str(exc)[:300]) from None

    async def _stream(self, url: str, headers: dict[str, str]) -> Response:
        """Read at most max_bytes; a larger body (declared or actual) is refused mid-stream."""
        self.requests += 1
        cap = self.settings.max_bytes
        async with self.client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchFailed("too-large", f"{declared} bytes declared", response.status_code)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchFailed("too-large", f"over {cap} bytes", response.status_code)
                chunks.append(chunk)
            return Response(
                url=url,
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=b"".join(chunks),
            )


@contextmanager
def _safety_failures() -> Iterator[None]:
    """The safety module's refusals as FetchFailed."""
    try:
        yield
    except Unresolvable as exc:
        raise FetchFailed("dns-failure", str(exc)) from None
    except UnsafeDestination as exc:
        raise FetchFailed("unsafe-destination", str(exc)) from None


def _retry_after(value: str | None, default: float) -> float:
    """Retry-After as seconds or an HTTP date; the backoff default when absent or bad."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return default
