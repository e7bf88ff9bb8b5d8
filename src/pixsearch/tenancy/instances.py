"""Custom search instances: a named slice of the index with pins, boosts and defaults.

An instance is stored as one JSON document per customConfig id in the
service database, so the CLI, the admin API and every worker process share
it. Workers cache an instance for CACHE_SECONDS: an edit is served everywhere
within that time, without a restart.

Which preset query parameters are valid is the HTTP API's knowledge (its
parameter parser and market list), so the API and the CLI pass a
`DefaultsCheck` to `parse_instance` when they read a definition from a user.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from pixsearch.index import attributes
from pixsearch.index.store import Filters
from pixsearch.tenancy.state import ServiceDb

CACHE_SECONDS = 1.0
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DEFAULT_PARAMS = {
    # query parameters an instance may preset; the caller's own value wins
    "mkt",
    "safeSearch",
    "aspect",
    "color",
    "freshness",
    "imageContent",
    "imageType",
    "license",
    "size",
    "minWidth",
    "maxWidth",
    "minHeight",
    "maxHeight",
    "minFileSize",
    "maxFileSize",
}


class InstanceError(ValueError):
    """An instance definition that cannot be used, with the reason."""


# Raises InstanceError for preset query parameters a search would refuse.
DefaultsCheck = Callable[[Mapping[str, str]], None]


@dataclass(frozen=True, slots=True)
class Pin:
    query: str  # matched case- and space-insensitively
    image_id: str
    position: int  # 1-based place on the first page


@dataclass(frozen=True, slots=True)
class Instance:
    config_id: str
    name: str = ""
    sites: tuple[str, ...] = ()  # a host and all its subdomains
    hosts: tuple[str, ...] = ()  # exactly this host
    url_prefixes: tuple[str, ...] = ()  # pages or images under this URL prefix
    excluded_sites: tuple[str, ...] = ()
    excluded_url_prefixes: tuple[str, ...] = ()
    pins: tuple[Pin, ...] = ()
    boosted_sites: tuple[str, ...] = ()
    demoted_sites: tuple[str, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)

    def slice_filters(self, base: Filters) -> Filters:
        """`base` narrowed to this instance's slice (one OR over its hosts and prefixes)."""
        return replace(
            base,
            scope_sites=self.sites,
            scope_prefixes=self.url_prefixes + tuple(f"{h}/" for h in self.hosts),
            excluded_sites=base.excluded_sites + self.excluded_sites,
            excluded_url_prefixes=base.excluded_url_prefixes + self.excluded_url_prefixes,
        )

    def contains_url(self, url: str) -> bool:
        """Whether a page or image URL lies inside the slice (for picking what to show)."""
        prefixes = set(attributes.url_prefixes(url))
        host = url_host(url)
        hosts = set(attributes.host_suffixes(host)) if host else set()
        if hosts & set(self.excluded_sites):
            return False
        if prefixes & {attributes.normalize_prefix(p) for p in self.excluded_url_prefixes}:
            return False
        if not (self.sites or self.hosts or self.url_prefixes):
            return True
        scope = {attributes.normalize_prefix(p) for p in self.url_prefixes}
        scope |= {f"{h}/" for h in self.hosts}
        return bool(hosts & set(self.sites) or prefixes & scope)

    def pins_for(self, q: str) -> list[Pin]:
        wanted = normalize_query(q)
        return sorted((p for p in self.pins if p.query == wanted), key=lambda p: p.position)

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["pins"] = [asdict(p) for p in self.pins]
        return body


def is_config_id(text: str) -> bool:
    """Whether `text` can name an instance (stores look nothing else up)."""
    return bool(_ID.match(text))


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def normalize_query(q: str) -> str:
    return " ".join(q.lower().split())


def parse_instance(
    data: Any, *, config_id: str | None = None, check_defaults: DefaultsCheck | None = None
) -> Instance:
    """An Instance from a decoded YAML/JSON mapping, or InstanceError saying what is wrong.

    `check_defaults` vets the preset query parameters of a definition from a
    user; without it they are taken as they are (read back from the store,
    where only checked definitions are written).
    """
    if not isinstance(data, dict):
        raise InstanceError("an instance must be a mapping")
    known = set(Instance.__dataclass_fields__) | {"id"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InstanceError(f"unknown fields: {', '.join(unknown)}")
    ident = str(config_id or data.get("config_id") or data.get("id") or "")
    if not _ID.match(ident):
        raise InstanceError("config_id must be 1-64 letters, digits, '-' or '_'")
    defaults = _defaults(data.get("defaults") or {}, check_defaults)
    return Instance(
        config_id=ident,
        name=str(data.get("name") or ""),
        sites=_hosts(data, "sites"),
        hosts=_hosts(data, "hosts"),
        url_prefixes=_prefixes(data, "url_prefixes"),
        excluded_sites=_hosts(data, "excluded_sites"),
        excluded_url_prefixes=_prefixes(data, "excluded_url_prefixes"),
        pins=_pins(data.get("pins") or []),
        boosted_sites=_hosts(data, "boosted_sites"),
        demoted_sites=_hosts(data, "demoted_sites"),
        defaults=defaults,
    )


def _defaults(raw: Any, check: DefaultsCheck | None) -> dict[str, str]:
    """Preset query parameters, checked now so a bad one fails here, not on every search."""
    if not isinstance(raw, dict) or not set(raw) <= _DEFAULT_PARAMS:
        raise InstanceError(f"defaults may set only: {', '.join(sorted(_DEFAULT_PARAMS))}")
    defaults = {str(k): str(v) for k, v in raw.items()}
    if check is not None:
        check(defaults)
    return defaults


def _strings(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InstanceError(f"{name} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _hosts(data: dict[str, Any], name: str) -> tuple[str, ...]:
    hosts = [h.lower().rstrip(".") for h in _strings(data, name)]
    for host in hosts:
        if not _HOST.match(host):
            raise InstanceError(f"{name}: {host!r} is not a host name")
    return tuple(dict.fromkeys(hosts))


def _prefixes(data: dict[str, Any], name: str) -> tuple[str, ...]:
    out = []
    for prefix in _strings(data, name):
        normalized = attributes.normalize_prefix(prefix)
        if not _HOST.match(normalized.split("/", 1)[0]):
            raise InstanceError(f"{name}: {prefix!r} is not a URL prefix")
        out.append(normalized)
    return tuple(dict.fromkeys(out))


def _pins(raw: Any) -> tuple[Pin, ...]:
    if not isinstance(raw, list):
        raise InstanceError("pins must be a list")
    pins = []
    for item in raw:
        try:
            query = normalize_query(str(item["query"]))
            image_id = str(item.get("image_id") or item["imageId"]).strip().upper()
            position = int(item.get("position", 1))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InstanceError("each pin needs query, image_id and a position") from None
        if not query or len(image_id) != 40 or not 1 <= position <= 150:
            raise InstanceError(f"pin for {query!r}: need a query, a 40-char id, position 1-150")
        pins.append(Pin(query, image_id, position))
    return tuple(pins)


class InstanceStore(Protocol):
    """Where instances live: shared by the CLI, the admin API and every server worker."""

    def put(self, instance: Instance, *, create: bool | None = None) -> None:
        """Save; create=True raises InstanceError if it exists, False KeyError if it does not."""
        ...

    def delete(self, config_id: str) -> bool: ...

    def load(self, config_id: str) -> Instance | None:
        """The stored definition as it is now."""
        ...

    def get(self, config_id: str) -> Instance | None:
        """What searches use: may be up to CACHE_SECONDS old."""
        ...

    def list(self) -> list[Instance]: ...

    def close(self) -> None: ...


class SqliteInstanceStore:
    """Instances as JSON documents in the `instances` table of the service database."""

    def __init__(self, db: ServiceDb) -> None:
        self.conn = db.connect()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Instance | None]] = {}

    def put(self, instance: Instance, *, create: bool | None = None) -> None:
        """Save; create=True refuses an existing id, False refuses a missing one."""
        exists = self.load(instance.config_id) is not None
        if create is True and exists:
            raise InstanceError(f"instance {instance.config_id!r} exists already")
        if create is False and not exists:
            raise KeyError(instance.config_id)
        self.conn.execute(
            "INSERT INTO instances (config_id, body, updated) VALUES (?, ?, ?)"
            " ON CONFLICT(config_id) DO UPDATE SET body=excluded.body, updated=excluded.updated",
            (
                instance.config_id,
                json.dumps(instance.to_json()),
                datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )

    def delete(self, config_id: str) -> bool:
        return (
            self.conn.execute("DELETE FROM instances WHERE config_id=?", (config_id,)).rowcount > 0
        )

    def load(self, config_id: str) -> Instance | None:
        """Straight from the database (the CLI and admin API read this)."""
        with self._lock:
            row = self.conn.execute(
                "SELECT body FROM instances WHERE config_id=?", (config_id,)
            ).fetchone()
        return parse_instance(json.loads(row[0])) if row else None

    def get(self, config_id: str) -> Instance | None:
        """Cached for CACHE_SECONDS: what the search routes use on every call."""
        now = time.monotonic()
        cached = self._cache.get(config_id)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        instance = self.load(config_id) if is_config_id(config_id) else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[config_id] = (now, instance)
        return instance

    def list(self) -> list[Instance]:
        with self._lock:
            rows = self.conn.execute("SELECT body FROM instances ORDER BY config_id").fetchall()
        return [parse_instance(json.loads(r[0])) for r in rows]

    def close(self) -> None:
        self.conn.close()
