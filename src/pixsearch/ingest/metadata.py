"""Text about an image file: file-name words, embedded EXIF/IPTC/XMP text, sidecars.

Every read is defensive: a malformed tag or sidecar yields nothing, it never
rejects an otherwise good image. Keys of ``Metadata.text`` are names of
``records.TEXT_FIELDS``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

from PIL import Image

from pixsearch.records import TEXT_FIELDS

URL_FOLDERS = 3  # nearest folders whose names describe the file; the rest is install noise
MAX_FIELD_CHARS = 10_000
MAX_SIDECAR_BYTES = 1024 * 1024
MAX_XMP_BYTES = 1024 * 1024
SHORT_TITLE_CHARS = 120  # a .txt sidecar's first line is a title only when this short

_EXIF_IFD = 0x8769
_IMAGE_DESCRIPTION = 0x010E
_XP_TITLE, _XP_COMMENT, _XP_KEYWORDS, _XP_SUBJECT = 0x9C9B, 0x9C9C, 0x9C9E, 0x9C9F
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
# IPTC-IIM (record, dataset) numbers.
_IPTC_OBJECT_NAME = (2, 5)
_IPTC_KEYWORDS = (2, 25)
_IPTC_HEADLINE = (2, 105)
_IPTC_CAPTION = (2, 120)

# Descriptions cameras write by default: noise, not captions.
_CAMERA_BOILERPLATE = frozenset(
    {
        "olympus digital camera",
        "sony dsc",
        "digital camera",
        "konica minolta digital camera",
        "minolta digital camera",
        "exif_jpeg_picture",
        "default",
        "untitled",
        "image",
        "picture",
    }
)
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(slots=True)
class Metadata:
    """What an occurrence says about its image, beyond the pixels."""

    title: str
    text: dict[str, str]
    captured_at: datetime | None = None
    license: str | None = None
    license_url: str | None = None
    content_url: str | None = None
    host_page_url: str | None = None


@dataclass(slots=True)
class _Found:
    """Text gathered from all sources, in priority order, before joining."""

    titles: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # license, license_url, url, page_url


def extract_metadata(
    path: Path,
    *,
    image: Image.Image | None = None,
    exif: Image.Exif | None = None,
    roots: Sequence[str] = (),
) -> Metadata:
    """Metadata of the file at ``path``; ``image`` is the opened Pillow file, if any;
    ``roots`` the folders the ingest was given (``url_words``)."""
    found = _Found()
    captured_at = None
    _guarded(lambda: read_sidecars(path, found))
    if exif is not None:
        _guarded(lambda: read_exif_text(exif, found))
        captured_at = _guarded(lambda: capture_date(exif))
    if image is not None:
        _guarded(lambda: read_xmp(image.info.get("xmp"), found))
        _guarded(lambda: read_iptc(image, found))
    return _assemble(path, found, captured_at, roots)


_T = TypeVar("_T")


def _guarded(read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except Exception:
        return None  # one bad source of text must not cost the image or the other sources


def _assemble(
    path: Path, found: _Found, captured_at: datetime | None, roots: Sequence[str]
) -> Metadata:
    words = url_words(path, roots)
    name_words = split_words(path.stem)
    titles = _distinct(found.titles)
    text = {
        "caption": "\n".join(_distinct(found.captions)),
        "name": "\n".join(titles),
        "keywords": ", ".join(_distinct(found.keywords)),
        "url_words": " ".join(words),
    }
    text = {k: v[:MAX_FIELD_CHARS] for k, v in text.items() if v and k in TEXT_FIELDS}
    links = found.links
    return Metadata(
        title=(titles[0] if titles else " ".join(name_words) or path.name)[:MAX_FIELD_CHARS],
        text=text,
        captured_at=captured_at,
        license=links.get("license"),
        license_url=links.get("license_url"),
        content_url=links.get("url"),
        host_page_url=links.get("page_url"),
    )


def _distinct(values: Iterable[str]) -> list[str]:
    """Cleaned, non-empty values without case-insensitive repeats, order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        clean = " ".join(_CONTROL.sub(" ", value).split())
        key = clean.casefold()
        if clean and key not in seen and key not in _CAMERA_BOILERPLATE:
            seen.add(key)
            out.append(clean)
    return out


# --- file-name words ------------------------------------------------------------


def split_words(text: str) -> list[str]:
    """Words of a name: split on non-alphanumerics, camelCase and letter/digit boundaries.

    Pure-digit tokens (counters, dates) are dropped: "IMG_2034-beachSunset" gives
    ["IMG", "beach", "Sunset"].
    """
    words: list[str] = []
    for chunk in re.findall(r"[^\W_]+", text):
        words.extend(w for w in _split_chunk(chunk) if not w.isdigit())
    return words


def _split_chunk(chunk: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for i in range(1, len(chunk)):
        prev, cur = chunk[i - 1], chunk[i]
        nxt = chunk[i + 1] if i + 1 < len(chunk) else ""
        boundary = (
            (prev.isdigit() != cur.isdigit())
            or (prev.islower() and cur.isupper())
            or (prev.isupper() and cur.isupper() and nxt.islower())
        )
        if boundary:
            parts.append(chunk[start:i])
            start = i
    parts.append(chunk[start:])
    return parts


def url_words(path: Path, roots: Sequence[str] = ()) -> list[str]:
    """Lower-case words of the nearest folders (outermost first) and the file's stem.

    Under one of `roots`, only the folders from that root's own name down count: what
    lies above the folder a user ingested (/home/alice, a temporary folder's random
    name) names the machine, and would join every picture's text and meaning.
    """
    folders = _folder_names(path.parent)
    if roots:  # absolute, as roots_of gives them and distributors send paths
        whole = _folder_names(Path(os.path.abspath(path)).parent)
        under = [r for r in map(_folder_names, map(Path, roots)) if whole[: len(r)] == r]
        if under:
            folders = whole[max(len(max(under, key=len)) - 1, 0) :]
    names = [*folders[-URL_FOLDERS:], path.stem]
    return [w.lower() for name in names for w in split_words(name)]


def _folder_names(folder: Path) -> list[str]:
    return [p for p in folder.parts if p not in ("/", "\\") and not p.endswith(":\\")]


# --- EXIF and IPTC ----------------------------------------------------------------


def read_exif_text(exif: Image.Exif, found: _Found) -> None:
    """ImageDescription and the Windows XP* tags of IFD0."""
    found.titles.extend(_xp_text(exif.get(_XP_TITLE)))
    found.captions.extend(_text_values(exif.get(_IMAGE_DESCRIPTION)))
    found.captions.extend(_xp_text(exif.get(_XP_COMMENT)))
    found.captions.extend(_xp_text(exif.get(_XP_SUBJECT)))
    for value in _xp_text(exif.get(_XP_KEYWORDS)):
        found.keywords.extend(k.strip() for k in value.split(";"))


def _xp_text(value: Any) -> list[str]:
    """XP* tags are UTF-16LE bytes (sometimes delivered as a tuple of ints)."""
    if isinstance(value, tuple):
        value = bytes(v & 0xFF for v in value if isinstance(v, int))
    if isinstance(value, bytes):
        return [value.decode("utf-16-le", errors="replace").rstrip("\x00")]
    return _text_values(value)


def _text_values(value: Any) -> list[str]:
    if isinstance(value, bytes):
        return [_decode_bytes(value)]
    if isinstance(value, str):
        return [value.rstrip("\x00")]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _text_values(v)]
    return []


def _decode_bytes(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").rstrip("\x00")
    except UnicodeDecodeError:
        return raw.decode("latin-1").rstrip("\x00")


def capture_date(exif: Image.Exif) -> datetime | None:
    """EXIF DateTimeOriginal as UTC (its OffsetTimeOriginal if given, else taken as UTC)."""
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL)
    if raw is None:
        return None
    stamp = _text_values(raw)[0].strip() if _text_values(raw) else ""
    try:
        naive = datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and friends
    if naive.year < 1826:  # before the first photograph: a broken clock
        return None
    return naive.replace(tzinfo=_offset(sub.get(_OFFSET_TIME_ORIGINAL))).astimezone(UTC)


def _offset(raw: Any) -> timezone:
    values = _text_values(raw)
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", values[0].strip()) if values else None
    if not match:
        return UTC
    sign = -1 if match.group(1) == "-" else 1
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    if minutes > 18 * 60:
        return UTC
    return timezone(sign * timedelta(minutes=minutes))


def read_iptc(image: Image.Image, found: _Found) -> None:
    """IPTC-IIM caption, headline, object name and keywords (JPEG APP13, TIFF)."""
    from PIL import IptcImagePlugin

    if image.format not in ("JPEG", "TIFF"):
        return
    info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]
    if not info:
        return
    found.captions.extend(_text_values(info.get(_IPTC_CAPTION)))
    found.captions.extend(_text_values(info.get(_IPTC_HEADLINE)))
    found.titles.extend(_text_values(info.get(_IPTC_OBJECT_NAME)))
    found.keywords.extend(_text_values(info.get(_IPTC_KEYWORDS)))


# --- XMP ------------------------------------------------------------------------


def read_xmp(packet: bytes | str | None, found: _Found) -> None:
    """dc:title, dc:description and dc:subject of a raw XMP packet."""
    root = parse_xmp(packet)
    if root is None:
        return
    found.titles.extend(_xmp_values(root, "title"))
    found.captions.extend(_xmp_values(root, "description"))
    found.keywords.extend(_xmp_values(root, "subject"))


def parse_xmp(packet: bytes | str | None) -> ElementTree.Element | None:
    """Parse an XMP packet, refusing oversize packets and any DTD.

    Without a DOCTYPE there can be no entity declarations, so neither external
    entities nor entity expansion (billion laughs) can happen; expat never fetches
    anything by itself.
    """
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    if not packet or len(packet) > MAX_XMP_BYTES:
        return None
    if b"<!DOCTYPE" in packet.upper() or b"<!ENTITY" in packet.upper():
        return None
    start = packet.find(b"<")
    if start < 0:
        return None
    try:
        return ElementTree.fromstring(packet[start:].rstrip(b"\x00 \t\r\n"))
    except ElementTree.ParseError:
        return None


def _xmp_values(root: ElementTree.Element, name: str) -> list[str]:
    """Values of dc:<name> as elements (rdf:Alt/Bag/Seq of rdf:li) or attributes."""
    values: list[str] = []
    for element in root.iter(_DC + name):
        items = list(element.iter(_RDF + "li"))
        if not items and element.text:
            values.append(element.text)
        # x-default first so that it becomes the title; other languages still search.
        items.sort(key=lambda li: li.get(_XML_LANG) != "x-default")
        values.extend(li.text for li in items if li.text)
    for description in root.iter(_RDF + "Description"):
        attribute = description.get(_DC + name)
        if attribute:
            values.append(attribute)
    return values


# --- sidecars ---------------------------------------------------------------------


def read_sidecars(path: Path, found: _Found) -> None:
    """``<stem>.json`` then ``<stem>.txt`` next to the image; they outrank embedded text."""
    _guarded(lambda: _read_json_sidecar(path.with_suffix(".json"), found))
    _guarded(lambda: _read_txt_sidecar(path.with_suffix(".txt"), found))


def _read_small(path: Path) -> str | None:
    if not path.is_file() or path.stat().st_size > MAX_SIDECAR_BYTES:
        return None
    with path.open("rb") as handle:
        return handle.read(MAX_SIDECAR_BYTES).decode("utf-8", errors="replace")


def _read_txt_sidecar(path: Path, found: _Found) -> None:
    text = _read_small(path)
    if not text or not text.strip():
        return
    first = text.strip().splitlines()[0].strip()
    if len(first) <= SHORT_TITLE_CHARS:
        found.titles.append(first)
    found.captions.append(text.strip())


def _read_json_sidecar(path: Path, found: _Found) -> None:
    text = _read_small(path)
    if not text:
        return
    data = json.loads(text)
    if not isinstance(data, dict):
        return
    found.titles.extend(_strings(data.get("title")))
    found.captions.extend(_strings(data.get("caption")) or _strings(data.get("description")))
    for key in ("keywords", "tags"):
        value = data.get(key)
        found.keywords.extend(_strings(value.split(",") if isinstance(value, str) else value))
    for key in ("license", "license_url", "url", "page_url"):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and _acceptable_link(key, value.strip()):
            found.links[key] = value.strip()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _acceptable_link(key: str, value: str) -> bool:
    """URLs end up in the web UI: only http(s), never javascript: or data:."""
    if key == "license":
        return len(value) <= 64
    return re.match(r"https?://", value, flags=re.IGNORECASE) is not None and len(value) <= 4096
