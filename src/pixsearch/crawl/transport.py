"""The HTTP client every outbound fetch uses: it connects only to addresses it has checked.

httpx resolves a host itself when it opens a connection, after and apart from any
check made before the request: the DNS-rebinding window. Here the connection pool's
network backend is replaced by one that resolves through ``safety.resolve_checked``
and dials the returned address, so the address checked is the address reached. TLS
still verifies the certificate against the URL's host name (httpcore passes it as
SNI whatever address the socket went to), and keep-alive connections stay per origin.

Environment proxies (HTTP_PROXY and friends) are not used: a proxy would resolve
the host again, out of reach of the check. docs/security.md lists the fetches.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from pixsearch.crawl.safety import resolve_checked


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, dialling the checked addresses of a host in turn."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked(host, port, allow_private=self.allow_private)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:  # ::1 then 127.0.0.1 for localhost: the first that answers
            try:
                stream: httpcore.AsyncNetworkStream = await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return stream
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve_checked never returns no address
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (same request and error mapping) over a CheckedBackend pool."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx offers no parameter for the network backend; its transport sends
        # every request through this one attribute (httpx 0.28-0.29).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(allow_private=allow_private),
        )


def checked_client(
    *,
    allow_private: bool,
    timeout: float,
    headers: dict[str, str],
    max_connections: int = 16,
) -> httpx.AsyncClient:
    """An AsyncClient for Fetcher: checked connections, no redirects of its own, no proxies."""
    limits = httpx.Limits(max_connections=max_connections)
    return httpx.AsyncClient(
        transport=CheckedTransport(allow_private=allow_private, limits=limits),
        headers=headers,
        follow_redirects=False,  # Fetcher.get follows them, checking every hop
        timeout=timeout,
        trust_env=False,
    )
