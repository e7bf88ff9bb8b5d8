"""URL normalisation, so one resource is fetched (and keyed) once, and URL words for ranking."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"[A-Za-z]{2,}|\d{3,}")
# A host label that makes the host an IPv4 address (WHATWG "ends in a number").
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
_FORBIDDEN_IN_HOST = frozenset(" #%/:<>?@[\\]^|")
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
    escapes made canonical, so /a%2fb and /a%2Fb key the same resource. A URL with
    user info, or a host canonical_host refuses, is None.
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
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None  # user info: parsers disagree on where the host starts (a@b, a\\@b)
    host = canonical_host(parts.hostname)
    if host is None:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _canonical_quote(parts.path or "/", safe="/:@!$&'()*+,;=-._~")
    query = _canonical_quote(parts.query, safe="=&/:@!$'()*+,;-._~?")
    return urlunsplit((scheme, netloc, path, query, ""))


def canonical_host(host: str) -> str | None:
    """One spelling per address, as browsers (WHATWG URL) read hosts; None when unusable.

    A host whose last label is a number is an IPv4 address in any of the forms
    inet_aton takes: 0177.0.0.1 (octal), 0x7f.1 (hex), 2130706433 (one number),
    127.1 (short) all become 127.0.0.1; malformed ones (1.2.3.4.5, 256.1.1.1, 09.1)
    are refused. IPv6 literals come out compressed, IPv4-mapped ones as IPv4. Names
    with characters no host name has (\\ % whitespace, controls) are refused.
    """
    host = host.lower().rstrip(".")
    if not host:
        return None
    if ":" in host:
        if "%" in host:  # a zone id (fe80::1%eth0) names an interface of the fetching machine
            return None
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            return None
        return str(ip.ipv4_mapped or ip)
    if _NUMBER.fullmatch(host.rsplit(".", 1)[-1]):
        return _ipv4(host)
    if any(c in _FORBIDDEN_IN_HOST or not c.isprintable() for c in host):
        return None
    return host


def _ipv4(host: str) -> str | None:
    numbers: list[int] = []
    for label in host.split("."):
        number = _ipv4_number(label)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if len(numbers) > 4 or any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(leading))
    return str(ipaddress.IPv4Address(value))


def _ipv4_number(label: str) -> int | None:
    if label[:2] == "0x":
        digits, base, allowed = label[2:], 16, "0123456789abcdef"
    elif len(label) > 1 and label[0] == "0":
        digits, base, allowed = label[1:], 8, "01234567"
    else:
        digits, base, allowed = label, 10, "0123456789"
    if not label or not all(c in allowed for c in digits):
        return None
    return int(digits, base) if digits else 0


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
