"""Network safety: refuse private, loopback, link-local and other non-public destinations.

A check and a connection use one resolution. ``resolve_checked`` turns a host
into its addresses and refuses when any is not public; the fetch client
(transport.py) connects to exactly the addresses it returned. A name that
resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
rebinding) cannot slip through, because nothing resolves it a second time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

RESOLVE_TTL = 60.0  # seconds a host's addresses are reused: one lookup per host, not per request
MAX_CACHED = 10_000  # hosts; a crawl of more starts the cache over
_addresses: dict[tuple[str, int], tuple[float, tuple[str, ...]]] = {}

# IPv6 ranges that carry an IPv4 address in their low 32 bits and may reach it:
# IPv4-compatible (deprecated, ::/96) and NAT64 (64:ff9b::/96). ipaddress calls
# ::127.0.0.1 and 64:ff9b::7f00:1 global.
_EMBEDDING_V4 = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address the crawler must not reach."""


class Unresolvable(UnsafeDestination):
    """The host has no address: a DNS failure, not a safety verdict (so not cached)."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _EMBEDDING_V4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


async def check_host(host: str, port: int, *, allow_private: bool) -> None:
    """Raise UnsafeDestination unless every address of `host` is public (always fine
    when `allow_private`, without a lookup)."""
    if not allow_private:
        await resolve_checked(host, port, allow_private=False)


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> tuple[str, ...]:
    """The addresses of `host`, every one public unless `allow_private`.

    Raises Unresolvable when the host has none, UnsafeDestination when any
    address is not public (one bad address is enough: which one a connection
    would use is not ours to choose). Addresses are kept RESOLVE_TTL seconds.
    """
    addresses = await _resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeDestination(f"{host} resolves to non-public address {address}")
    return addresses


async def _resolve(host: str, port: int) -> tuple[str, ...]:
    cached = _addresses.get((host, port))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    addresses = await _lookup(host, port)
    if not addresses:
        raise Unresolvable(f"cannot resolve {host}: no address")
    if len(_addresses) >= MAX_CACHED:
        _addresses.clear()
    _addresses[(host, port)] = (time.monotonic() + RESOLVE_TTL, addresses)
    return addresses


async def _lookup(host: str, port: int) -> tuple[str, ...]:
    """The system resolver's addresses for `host`, in its order, each once."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))
