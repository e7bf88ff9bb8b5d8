"""Two thumbnails aligned and compared: the pixel check of the near-duplicate rule.

One picture is compared with windows of the other covering 90-100 % of its sides
(a crop on all sides, or from one side), and the best window's normalised
correlation of 32x32 RGB box samples (index/boxsample.py, every window of a picture
at once) must leave at most MAX_MISMATCH; a copy smaller
than the sample is also compared at its own resolution, and a transparent picture
can be compared as it looks over black (index/darklook.py). A pair whose hashes
already match gets a second, finer look (`Alignment.fine_mismatch`) when the 32x32
check refuses it: thin lines are averaged away at 32 px. The decision that uses it
is `dupes.is_near_duplicate`.
"""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from pixsearch.index.boxsample import Box, box_samples
from pixsearch.index.darklook import over_black

MAX_ASPECT_CHANGE = 0.11  # |log| of the aspect ratios' quotient: a 10 % cut from one side
MAX_MISMATCH = 0.03  # 1 - correlation of the aligned 32x32 RGB samples (copies: median 0.001)
ALIGN_SIDE = 32
ALIGN_SCALES = (1.0, 0.975, 0.95, 0.925, 0.9)  # window side / picture side
# (width, height) scales of the windows tried, largest first: a crop on all sides (both
# scales alike) or from one side only (one scale 1), down to 90 % of a side.
ALIGN_WINDOWS = tuple(
    pair for s in ALIGN_SCALES for pair in ([(s, s)] if s == 1.0 else [(s, s), (s, 1.0), (1.0, s)])
)
ALIGN_STEPS = 4  # window positions per axis: 0, 1/4 ... 1 of the free margin
# A copy with a side under this is also compared at its own resolution (_same_detail).
COARSE_BELOW = 2 * ALIGN_SIDE

# The finer look. At 32 px the thin lines of a drawing are averaged into a faint grey, and
# what is left to correlate is how a copy's maker filtered them (lighter, thicker, shifted
# by a pixel): small copies of a dog drawn in straight lines or of tux paint coins are
# refused at 0.03-0.047. At FINE_SIDE the lines survive and a blur of FINE_BLUR pixels
# absorbs one-pixel shifts. Whole pictures only (no crop windows), so the aspect ratios
# must agree closely. Chosen on the tune half of bench/quality_file_facts.py's copy
# families: the nearest different pictures the hash matched and the 32 px check refused
# came within 0.030 (a bare and a decorated Christmas tree), copies down to 0.006.
FINE_SIDE = 128
FINE_BLUR = 1.5
FINE_MAX_MISMATCH = 0.02
FINE_MAX_ASPECT_CHANGE = 0.02

Verify = Callable[[], "Alignment | None"]  # lazily: the pixel comparison of a pair, if known


class Thumb:
    """A thumbnail decoded for alignment: its whole-picture sample and, lazily, windows."""

    def __init__(self, data: bytes | Image.Image) -> None:
        self.image = data.convert("RGB") if isinstance(data, Image.Image) else _opened(data)
        width, height = self.image.size
        self.aspect = math.log(max(width, 1) / max(height, 1))
        self._pixels = np.asarray(self.image)
        frame = (0.0, 0.0, float(width), float(height))
        plain = box_samples(self._pixels, [frame], ALIGN_SIDE)[0]
        self.plain = plain.astype(np.float32)  # as is: tone, over-black rebuild
        self.whole = _centred(self.plain)
        self._windows: dict[tuple[float, float], np.ndarray] = {(1.0, 1.0): self.whole[None]}
        self._fine: np.ndarray | None = None

    def fine(self) -> np.ndarray:
        """The whole picture at FINE_SIDE, blurred by FINE_BLUR, centred (made once)."""
        if self._fine is None:
            small = self.image.resize((FINE_SIDE, FINE_SIDE), Image.Resampling.BOX)
            blurred = small.filter(ImageFilter.GaussianBlur(FINE_BLUR))
            self._fine = _centred(np.asarray(blurred, dtype=np.float32).reshape(-1))
        return self._fine

    def windows(self, scale: tuple[float, float]) -> np.ndarray:
        """(n, 3·side²) centred samples of the windows of this (width, height) scale,
        on a grid of positions. The first scale asked past the whole picture samples
        every scale at once (index/boxsample.py): a pair that is no copy needs them all."""
        if scale not in self._windows:
            width, height = self.image.size
            boxes = {
                s: window_boxes(width, height, s) for s in ALIGN_WINDOWS if s not in self._windows
            }
            samples = box_samples(
                self._pixels, [b for kept in boxes.values() for b in kept], ALIGN_SIDE
            )
            centred = _centred_rows(samples.astype(np.float32))
            start = 0
            for kind, kept in boxes.items():
                self._windows[kind] = centred[start : start + len(kept)]
                start += len(kept)
        return self._windows[scale]

    def coarsened(self, longest: int) -> Thumb:
        """This picture with its longest side brought down to `longest` pixels."""
        width, height = self.image.size
        scale = longest / max(width, height)
        if scale >= 1.0:
            return self
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return Thumb(self.image.resize(size, Image.Resampling.BOX))


def _opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (ALIGN_SIDE * 4, ALIGN_SIDE * 4))  # JPEG: decode at 1/2..1/8
        image = opened.convert("RGBA") if "A" in opened.getbands() else opened
        if image.mode == "RGBA":
            white = Image.new("RGB", image.size, (255, 255, 255))
            white.paste(image, mask=image.getchannel("A"))
            image = white
        return image.convert("RGB")


def _same_detail(a: Thumb, b: Thumb) -> tuple[Thumb, Thumb] | None:
    """The pair at the smaller one's resolution when a side of it is under COARSE_BELOW.

    A copy near or under the sample's size (a 25-60 px icon) was resampled by its
    maker's filter and is enlarged or barely reduced by ours, so its thin lines come
    out unlike the large picture's: the larger one is brought down to the copy's size
    first, and detail only it has is no difference. None when both are large enough.
    """
    if min(*a.image.size, *b.image.size) >= COARSE_BELOW:
        return None
    side_a, side_b = max(a.image.size), max(b.image.size)
    if side_a == side_b:
        return None  # already alike in detail
    if side_a > side_b:
        return a.coarsened(side_b), b
    return a, b.coarsened(side_a)


def window_boxes(width: int, height: int, scale: tuple[float, float]) -> list[Box]:
    """The windows of one (width, height) scale, on a grid of ALIGN_STEPS positions."""
    w, h = width * scale[0], height * scale[1]
    return [
        ((width - w) * fx, (height - h) * fy, (width - w) * fx + w, (height - h) * fy + h)
        for fx in _spots(scale[0])
        for fy in _spots(scale[1])
    ]


def _spots(scale: float) -> list[float]:
    return [k / ALIGN_STEPS for k in range(ALIGN_STEPS + 1)] if scale < 1.0 else [0.0]


def _centred(sample: np.ndarray) -> np.ndarray:
    sample = sample - sample.mean()
    norm = float(np.linalg.norm(sample))
    return sample / norm if norm > 1e-6 else sample  # a flat picture correlates with nothing


def _centred_rows(samples: np.ndarray) -> np.ndarray:
    """_centred of each row of `samples`, in whole-array steps."""
    samples = samples - samples.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", samples, samples))
    flat = norms <= 1e-6  # a flat window correlates with nothing, as in _centred
    samples /= np.where(flat, 1.0, norms)[:, None]
    return samples


class Alignment:
    """Two thumbnails compared: aspect ratios at once, pixels when asked (then cached)."""

    def __init__(self, a: Thumb, b: Thumb) -> None:
        self.a, self.b = a, b
        self.aspect_change = abs(a.aspect - b.aspect)
        self._mismatch: float | None = None

    def mismatch(self) -> float:
        """1 - the best correlation of one picture with a window of the other (ALIGN_WINDOWS).

        Tries the whole pictures first, then smaller windows, and stops as soon as
        one is within MAX_MISMATCH: copies that are not crops cost one comparison.
        """
        if self._mismatch is None:
            self._mismatch = _best_mismatch(self.a, self.b)
            coarse = _same_detail(self.a, self.b) if self._mismatch > MAX_MISMATCH else None
            if coarse is not None:
                self._mismatch = min(self._mismatch, _best_mismatch(*coarse))
        return self._mismatch

    def fine_mismatch(self) -> float:
        """1 - the correlation of the whole pictures at FINE_SIDE, blurred (module note);
        1.0 when their aspect ratios differ by more than FINE_MAX_ASPECT_CHANGE."""
        if self.aspect_change > FINE_MAX_ASPECT_CHANGE:
            return 1.0
        return 1.0 - float(self.a.fine() @ self.b.fine())

    def over_black_mismatch(self, alpha: np.ndarray, *, transparent: Thumb) -> float:
        """1 - the correlation of the opaque one with the transparent one (`transparent`,
        with its DarkLook alpha) as it looks flattened over black; whole pictures only."""
        copy = self.b if transparent is self.a else self.a
        if alpha.shape != (ALIGN_SIDE, ALIGN_SIDE) or self.aspect_change > MAX_ASPECT_CHANGE:
            return 1.0
        return 1.0 - float(_centred(over_black(transparent.plain, alpha)) @ copy.whole)


def _best_mismatch(a: Thumb, b: Thumb) -> float:
    best = 1.0
    for scale in ALIGN_WINDOWS:
        for window_of, whole in ((a, b), (b, a)):
            best = min(best, 1.0 - float((window_of.windows(scale) @ whole.whole).max()))
            if scale == (1.0, 1.0):
                break  # whole against whole is symmetric
        if best <= MAX_MISMATCH:
            break
    return best


class ThumbCache:
    """Decoded thumbnails by image sha256, read through `read`, the last `size` kept.

    Decoding a stored thumbnail and sampling its ~140 windows is nearly all of a pixel
    check, and each new picture is checked against the same few again and again: a
    group's members against its first (features/groups.py), and in a collection of
    look-alike pictures, every new one against the same nearest (import-warc of smooth
    colour fields spent 78 % of the writing process in `Thumb.windows`). A fully
    sampled Thumb holds ~1.7 MB of windows, so `size` bounds the memory.
    """

    def __init__(self, read: Callable[[str], bytes | None], size: int) -> None:
        self.read = read
        self.size = size
        self._kept: OrderedDict[str, Thumb | None] = OrderedDict()

    def get(self, sha256: str) -> Thumb | None:
        if sha256 in self._kept:
            self._kept.move_to_end(sha256)
            return self._kept[sha256]
        thumb = self._kept[sha256] = decode_thumb(self.read(sha256))
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return thumb


def aligner(
    thumbnail: bytes | None, thumb_of: Callable[[int], Thumb | None]
) -> Callable[[int], Verify]:
    """doc_id → Verify for comparing `thumbnail` with stored images' decoded thumbnails."""
    mine: list[Thumb | None] = []

    def own() -> Thumb | None:
        if not mine:
            mine.append(decode_thumb(thumbnail))
        return mine[0]

    def verify_with(doc_id: int) -> Verify:
        def check() -> Alignment | None:
            a = own()
            b = thumb_of(doc_id) if a is not None else None
            return Alignment(a, b) if a is not None and b is not None else None

        return check

    return verify_with


def decode_thumb(data: bytes | None) -> Thumb | None:
    """A stored thumbnail decoded for alignment; None when missing or unreadable."""
    if not data:
        return None
    try:
        return Thumb(data)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
