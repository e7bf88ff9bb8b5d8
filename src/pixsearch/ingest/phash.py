"""64-bit DCT perceptual hash (pHash) and Hamming distance.

The picture is reduced to 32x32 grayscale, transformed with a 2-D DCT-II, and the
8x8 lowest frequencies next to (but excluding) the DC term are compared with their
median: one bit each. Low frequencies survive resizing and recompression, so near
duplicates land within a few bits while unrelated pictures differ in about half.
"""

from __future__ import annotations

import numpy as np

HASH_INPUT = 32  # side of the grayscale square the DCT runs on
HASH_SIDE = 8  # 8x8 coefficients -> 64 bits


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix: coefficients = D @ x, and D @ X @ D.T in two dimensions."""
    k = np.arange(n, dtype=np.float64)[:, None]
    i = np.arange(n, dtype=np.float64)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * (2.0 * i + 1.0) * k / (2.0 * n))
    d[0, :] /= np.sqrt(2.0)
    return d


_DCT = _dct_matrix(HASH_INPUT)
# Only rows/columns 1..8 are kept, so slice the matrix once instead of the result.
_DCT_LOW = np.ascontiguousarray(_DCT[1 : HASH_SIDE + 1, :])
_BIT_WEIGHTS = np.array([1 << (63 - i) for i in range(64)], dtype=np.uint64)


def phash_gray(gray: np.ndarray) -> int:
    """pHash of a (32, 32) grayscale array (any numeric dtype) as an unsigned 64-bit int."""
    if gray.shape != (HASH_INPUT, HASH_INPUT):
        raise ValueError(f"expected a {HASH_INPUT}x{HASH_INPUT} array, got {gray.shape}")
    pixels = gray.astype(np.float64)
    low = _DCT_LOW @ pixels @ _DCT_LOW.T  # the 8x8 block [1:9, 1:9] of the full DCT
    # Round away float noise so a flat picture hashes to 0 instead of to rounding errors.
    low = np.round(low, 6)
    bits = (low > np.median(low)).reshape(-1)
    return int(_BIT_WEIGHTS[bits].sum(dtype=np.uint64))


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of an (H, W, 3) array as float64."""
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def phash_rgb(rgb: np.ndarray) -> int:
    """pHash of an (H, W, 3) array whose sides are multiples of 32 (e.g. a 64x64 sample)."""
    h, w = rgb.shape[:2]
    if h % HASH_INPUT or w % HASH_INPUT:
        raise ValueError(f"sample sides must be multiples of {HASH_INPUT}, got {w}x{h}")
    gray = rgb_to_gray(rgb)
    # Box-average down to 32x32: the same area filter whatever the sample size.
    fy, fx = h // HASH_INPUT, w // HASH_INPUT
    gray = gray.reshape(HASH_INPUT, fy, HASH_INPUT, fx).mean(axis=(1, 3))
    return phash_gray(gray)


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes."""
    return (a ^ b).bit_count()
