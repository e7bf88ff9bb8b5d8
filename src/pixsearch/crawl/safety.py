"""Network safety: refuse private, loopback, link-local and other non-public destinations."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

RESOLVE_TTL = 60.0  # seconds a host's verdict is reused: one lookup per host, not per request
_verdicts: dict[tuple[str, int], tuple[float, str | None]] = {}


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address the crawler must not reach."""


class Unresolvable(UnsafeDestination):
    """The host has no address: a DNS failure, not a safety verdict (so not cached)."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_host(host: str, port: int, *, allow_private: bool) -> None:
    """Raise UnsafeDestination unless every address of `host` is public.

    Checked after DNS resolution, so a public name pointing at 127.0.0.1 is refused
    too. (A resolver answering differently at connect time could still race this;
    the check narrows the window rather than closing it.)
    """
    if allow_private:
        return
    cached = _verdicts.get((host, port))
    if cached is not None and cached[0] > time.monotonic():
        if cached[1]:
            raise UnsafeDestination(cached[1])
        return
    try:
        await _resolve_and_check(host, port)
    except Unresolvable:
        raise
    except UnsafeDestination as exc:
        _verdicts[(host, port)] = (time.monotonic() + RESOLVE_TTL, str(exc))
        raise
    _verdicts[(host, port)] = (time.monotonic() + RESOLVE_TTL, None)


async def _resolve_and_check(host: str, port: int) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = str(info[4][0])
        if not is_public(address):
            raise UnsafeDestination(f"{host} resolves to non-public address {address}")
