"""X-MSEdge-ClientIP and X-Search-Location: parsed, validated, never fatal, never stored.

Bing uses both for location and safe-search hints. pixsearch ranks no local
content, so it only checks them the way Bing does: a malformed value is
dropped as if it had not been sent (no error), and valid values live on the
request only (request.state.client), never in a log or a database.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.datastructures import Headers

# key → (low, high) of the reference's X-Search-Location keys with numeric values
_RANGES: dict[str, tuple[float, float]] = {
    "lat": (-90.0, 90.0),
    "long": (-180.0, 180.0),
    "re": (0.0, float("inf")),
    "ts": (0.0, float("inf")),
    "head": (0.0, 360.0),
    "sp": (0.0, float("inf")),
    "alt": (-float("inf"), float("inf")),
    "are": (0.0, float("inf")),
}
_REQUIRED = ("lat", "long", "re")


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    long: float
    radius_m: float
    display: str | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    location: Location | None = None


def client_info(headers: Headers) -> ClientInfo:
    return ClientInfo(
        ip=parse_client_ip(headers.get("x-msedge-clientip")),
        location=parse_location(headers.get("x-search-location")),
    )


def parse_client_ip(raw: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not raw:
        return None
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        return None


def parse_location(raw: str | None) -> Location | None:
    """lat:47.6;long:-122.1;re:22[;ts:..;head:..;sp:..;alt:..;are:..;disp:City, State]."""
    if not raw or len(raw) > 1000:
        return None
    values: dict[str, float] = {}
    display = None
    for part in raw.split(";"):
        key, sep, value = part.partition(":")
        key = key.strip().lower()
        if not sep:
            return None
        if key == "disp":
            display = value.strip() or None
            continue
        if key not in _RANGES or key in values:
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        low, high = _RANGES[key]
        if not low <= number <= high or number != number:  # the second test catches NaN
            return None
        values[key] = number
    if any(key not in values for key in _REQUIRED):
        return None
    if ("head" in values and not values.get("sp")) or ("are" in values and "alt" not in values):
        return None
    return Location(values["lat"], values["long"], values["re"], display)
