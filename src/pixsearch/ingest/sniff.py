"""Detect an image format from its magic bytes; the file extension is never trusted."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("jpeg", "png", "gif", "webp", "bmp", "tiff")

# Bytes needed to recognise every supported format.
SNIFF_BYTES = 32

# BITMAPINFOHEADER sizes Pillow can read; "BM" alone is too weak a signature.
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def sniff(head: bytes) -> str | None:
    """Return the format name ("jpeg", "png", ...) of ``head`` or None if unknown."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None
