"""URL normalisation, so one resource is fetched (and keyed) once, and URL words for ranking."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"[A-Za-z]{2,}|\d{3,}")
# URL words that carry no meaning about the image.
_NOISE = frozenset({"http", "https", "www", "com", "org", "net", "jpg", "jpeg", "png", "gif"}) | {
    "webp",
    "bmp",
    "tif",
    "tiff",
    "images",
    "image",
    "img",
    "static",
    "uploads",
    "media",
    "assets",
    "files",
}


def normalize(url: str, base: str | None = None) -> str | None:
    """Absolute, canonical http(s) URL without fragment; None for anything else.

    Lower-cased scheme and host, default port dropped, empty path → "/", percent
    escapes made canonical, so /a%2fb and /a%2Fb key the same resource.
    """
    url = url.strip()
    if not url or url.startswith(("data:", "javascript:", "mailto:", "blob:", "#")):
        return None
    try:
        absolute = urljoin(base, url) if base else url
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _canonical_quote(parts.path or "/", safe="/:@!$&'()*+,;=-._~")
    query = _canonical_quote(parts.query, safe="=&/:@!$'()*+,;-._~?")
    return urlunsplit((scheme, netloc, path, query, ""))


def _canonical_quote(text: str, *, safe: str) -> str:
    # Unquote then quote: escapes come out upper-case and unreserved chars plain.
    # %2F and %26 stay escaped because they change meaning when decoded.
    keep = {"%2F": "\x00", "%2f": "\x00", "%26": "\x01", "%3D": "\x02", "%3d": "\x02"}
    for escaped, marker in keep.items():
        text = text.replace(escaped, marker)
    out = quote(unquote(text), safe=safe + "%")
    return out.replace("%00", "%2F").replace("%01", "%26").replace("%02", "%3D")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def url_words(url: str) -> str:
    """Words of an image URL path: /photos/red-fox_2019.jpg → "photos red fox 2019"."""
    path = unquote(urlsplit(url).path)
    words = [w.lower() for w in _WORD.findall(path) if w.lower() not in _NOISE]
    return " ".join(dict.fromkeys(words))
