from __future__ import annotations

import os

import pytest
from PIL import Image

from pixsearch.ingest.sniff import SNIFF_BYTES, sniff


@pytest.mark.parametrize(
    ("pil_format", "expected", "mode"),
    [
        ("JPEG", "jpeg", "RGB"),
        ("PNG", "png", "RGBA"),
        ("GIF", "gif", "P"),
        ("WEBP", "webp", "RGB"),
        ("BMP", "bmp", "RGB"),
        ("TIFF", "tiff", "RGB"),
    ],
)
def test_real_files_are_recognised(kit, pil_format: str, expected: str, mode: str) -> None:
    data = kit.encode(Image.new(mode, (8, 8)), pil_format)
    assert sniff(data[:SNIFF_BYTES]) == expected


def test_big_endian_tiff() -> None:
    assert sniff(b"MM\x00*\x00\x00\x00\x08") == "tiff"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello, this is text and not a png",
        b"BM" + b"\x00" * 16,  # "BM" with an impossible DIB header size
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"\xff\xd8",  # too short to be a JPEG
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_non_images_are_not_recognised(head: bytes) -> None:
    assert sniff(head) is None


def test_random_bytes_are_not_recognised() -> None:
    data = bytes(range(7, 7 + 64)) + os.urandom(64)
    assert sniff(data) is None
