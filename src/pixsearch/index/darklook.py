"""How a transparent picture looks flattened over black, for near-duplicate checks.

The pipeline flattens transparency over white before hashing, so a copy a site
flattened over black (a JPEG of a clip-art PNG on a dark page) hashes unlike its
original: the background flips from white to black. Each transparent picture
therefore keeps a second look, stored as ``ImageFacts.dark_look``: the pHash and
colour layout of its sample over black, and its alpha channel box-sampled to the
size of the thumbnail comparison (index/dupes.py), so that the picture over black
can be rebuilt from its white-flattened thumbnail when a pair must be checked.

Box sampling is linear in the pixels, so the rebuild is exact at sample size:
over white a pixel is ``a·c + (1 - a)·255``, over black ``a·c``; the difference
is ``(1 - a)·255``, whatever the colour ``c``.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass

import numpy as np

SIDE = 32  # side of the alpha sample: alignment.ALIGN_SIDE, the thumbnails' sample side
_HASH_DIGITS = 16
_LAYOUT_DIGITS = 24


@dataclass(frozen=True, slots=True)
class DarkLook:
    phash: int  # pHash of the picture over black
    layout: str  # colour layout over black, 24 hex digits (dupes.parse_layout)
    alpha: np.ndarray  # (SIDE, SIDE) uint8: the thumbnail's alpha, box-sampled

    def encode(self) -> str:
        """The stored text: hash and layout in hex, then the alpha sample, deflated, base64."""
        packed = zlib.compress(np.ascontiguousarray(self.alpha, dtype=np.uint8).tobytes(), 9)
        return f"{self.phash:016x}{self.layout}{base64.b64encode(packed).decode()}"

    @classmethod
    def parse(cls, text: str) -> DarkLook | None:
        """The look stored by `encode`; None for opaque pictures ("") and for damaged text."""
        head = _HASH_DIGITS + _LAYOUT_DIGITS
        if len(text) <= head:
            return None
        try:
            phash = int(text[:_HASH_DIGITS], 16)
            alpha = np.frombuffer(zlib.decompress(base64.b64decode(text[head:])), dtype=np.uint8)
        except (ValueError, binascii.Error, zlib.error):
            return None
        if alpha.size != SIDE * SIDE:
            return None
        return cls(phash, text[_HASH_DIGITS:head], alpha.reshape(SIDE, SIDE))


def over_black(white_sample: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A (SIDE·SIDE·3) sample of a picture flattened over white, as it looks over black."""
    let_through = 255.0 - alpha.astype(np.float32)  # the white each pixel's transparency shows
    rebuilt: np.ndarray = white_sample.reshape(SIDE, SIDE, 3) - let_through[..., None]
    return rebuilt.reshape(-1)
