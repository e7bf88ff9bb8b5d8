"""Accent colour, dominant colour name and monochrome test on a small downsample.

All functions take an (H, W, 3) uint8 RGB array (about 64x64 is plenty) and an
optional (H, W) uint8 alpha array; transparent pixels never vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixsearch.records import COLOR_NAMES

# Pixels with less alpha than this are background, not picture.
OPAQUE_ALPHA = 128
# Below this share of opaque pixels the picture is "all transparent": use every pixel.
MIN_OPAQUE_SHARE = 0.01

# Accent colour: most populated cell of a 8x8x8 RGB grid, reported as the cell's mean.
ACCENT_BITS = 3

# Names: neutral backgrounds (walls, sky haze, paper) would otherwise name most
# pictures Gray or White, so a chromatic pixel counts this much more.
CHROMATIC_WEIGHT = 2.0
BLACK_MAX_VALUE = 0.20  # HSV value below which a pixel is Black whatever its hue
NEUTRAL_MAX_SATURATION = 0.15
WHITE_MIN_VALUE = 0.85
GRAY_MIN_VALUE = 0.35  # neutral pixels between Black and this are still Black
BROWN_MAX_VALUE = 0.62  # dark oranges are brown ...
TAN_MAX_SATURATION = 0.45  # ... and so are washed-out ones (tan, beige, khaki)
TAN_MAX_VALUE = 0.90
PINK_MAX_SATURATION = 0.55  # light, washed reds are pink
PINK_MIN_VALUE = 0.70

# Monochrome: near-gray when almost no lit pixel has visible chroma ...
MONO_CHROMA = 24.0  # max-min of RGB, 0..255
MONO_MAX_CHROMATIC_SHARE = 0.03
# ... where "lit" leaves out near-black pixels: their chroma is too small to
# show, so a night sky or a dark forest would otherwise pass as black-and-white;
# and white paper: a drawing's white background would otherwise dilute a small
# coloured part (a red button on a gray camera) under the allowance.
MONO_MIN_LIT_VALUE = 48.0  # max of RGB, 0..255
MONO_PAPER_MIN = 235.0  # min of RGB, 0..255: at or above it a pixel is white paper
MONO_MIN_LIT_SHARE = 0.01  # below this, judge every pixel: the picture is all dark
# ... or tinted (sepia, cyanotype, duotone) when the coloured pixels all share one
# hue (mean resultant length of their hue vectors) and stay moderately saturated.
# Measured on real photographs (bench/quality_images.py): sepia tones reach 0.999+
# and a saturation p90 near 0.6; the most single-hued colour photos (a cat, a
# retina, autumn leaves) stop at 0.992 or go above 0.74 saturation.
TINT_MIN_CHROMA = 12.0
TINT_MIN_HUE_CONCENTRATION = 0.997
TINT_MAX_SATURATION_P90 = 0.70
# A tinted photo has shadows and highlights; a flat pastel graphic does not.
TINT_MIN_VALUE_SPREAD = 0.10
# Toning colours a whole photograph. A drawing of one hue (a red berry, a teal screen,
# a brown box) leaves its paper white or its background transparent: that is a
# coloured object, not a tint. Measured on clip art (bench/quality_file_facts.py).
TINT_MIN_COLOURED_SHARE = 0.80  # of the lit, non-paper pixels

_NAME_INDEX = {name: i for i, name in enumerate(COLOR_NAMES)}


@dataclass(frozen=True, slots=True)
class ColorFacts:
    accent_color: str  # six upper-case hex digits
    color_name: str  # one of COLOR_NAMES
    monochrome: bool
    layout: str = ""  # layout_signature(): mean colour of each quadrant


def analyze_colors(rgb: np.ndarray, alpha: np.ndarray | None = None) -> ColorFacts:
    """Accent colour, dominant colour name and monochrome flag of a small RGB sample."""
    pixels = visible_pixels(rgb, alpha)
    return ColorFacts(
        accent_color=accent_color(pixels),
        color_name=color_name(pixels),
        monochrome=is_monochrome(pixels, cut_out=_cut_out(alpha)),
        layout=layout_signature(rgb),
    )


def layout_signature(rgb: np.ndarray) -> str:
    """Mean RGB of the four quadrants as 24 hex digits.

    The perceptual hash sees only luminance structure, so a red and an orange
    circle on white hash alike; where the colour sits tells them apart, and
    survives resizing and recompression.
    """
    h, w = rgb.shape[0] // 2, rgb.shape[1] // 2
    quadrants = (rgb[:h, :w], rgb[:h, w:], rgb[h:, :w], rgb[h:, w:])
    means = [q.reshape(-1, 3).mean(axis=0) for q in quadrants]
    return "".join(f"{round(float(c)):02X}" for mean in means for c in mean)


def _cut_out(alpha: np.ndarray | None) -> bool:
    """True when some of the picture is transparent: an object cut out of its background."""
    return alpha is not None and bool((alpha < OPAQUE_ALPHA).any())


def visible_pixels(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """(N, 3) uint8 array of the pixels that are part of the picture."""
    flat = np.ascontiguousarray(rgb.reshape(-1, 3), dtype=np.uint8)
    if alpha is None:
        return flat
    opaque = alpha.reshape(-1) >= OPAQUE_ALPHA
    if opaque.mean() < MIN_OPAQUE_SHARE:
        return flat
    return flat[opaque]


def accent_color(pixels: np.ndarray) -> str:
    """Mean colour of the most populated cell of a coarse RGB grid."""
    cells = _cells(pixels, ACCENT_BITS)
    counts = np.bincount(cells, minlength=1 << (3 * ACCENT_BITS))
    members = pixels[cells == int(counts.argmax())]
    r, g, b = (round(float(v)) for v in members.mean(axis=0))
    return f"{r:02X}{g:02X}{b:02X}"


def _cells(pixels: np.ndarray, bits: int) -> np.ndarray:
    """Index of each pixel's cell in a grid of 2**bits levels per channel."""
    q = pixels.astype(np.intp) >> (8 - bits)
    return (q[:, 0] << (2 * bits)) | (q[:, 1] << bits) | q[:, 2]


def _hsv(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value in [0, 1] of (N, 3) pixels."""
    f = pixels.astype(np.float32)
    r, g, b = f[:, 0], f[:, 1], f[:, 2]
    mx = np.maximum(np.maximum(r, g), b)
    chroma = mx - np.minimum(np.minimum(r, g), b)
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(
        mx == r,
        ((g - b) / safe) % 6.0,
        np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    hue = np.where(chroma > 0, hue * 60.0, 0.0)
    sat = chroma / np.maximum(mx, 1.0)
    return hue, sat, mx / 255.0


_HUE_EDGES = np.array([15, 40, 70, 165, 195, 255, 315, 340], dtype=np.float32)
_HUE_NAMES = np.array(
    [
        _NAME_INDEX[n]
        for n in ("Red", "Orange", "Yellow", "Green", "Teal", "Blue", "Purple", "Pink", "Red")
    ]
)


def pixel_names(pixels: np.ndarray) -> np.ndarray:
    """Index into COLOR_NAMES of every pixel (vectorised HSV rules)."""
    hue, sat, val = _hsv(pixels)
    n = _NAME_INDEX
    # Hue wheel first, then the brown / pink / neutral / dark overrides in that order.
    names = _HUE_NAMES[np.searchsorted(_HUE_EDGES, hue, side="right")]
    earthy = (hue >= 8) & (hue < 45)
    brown = earthy & (
        (val < BROWN_MAX_VALUE) | ((sat < TAN_MAX_SATURATION) & (val < TAN_MAX_VALUE))
    )
    names[brown] = n["Brown"]
    names[((hue < 15) | (hue >= 340)) & (sat < PINK_MAX_SATURATION) & (val >= PINK_MIN_VALUE)] = n[
        "Pink"
    ]
    neutral = sat < NEUTRAL_MAX_SATURATION
    names[neutral] = np.where(val[neutral] >= WHITE_MIN_VALUE, n["White"], n["Gray"])
    names[neutral & (val < GRAY_MIN_VALUE)] = n["Black"]
    names[val < BLACK_MAX_VALUE] = n["Black"]
    return names


# Naming every pixel through HSV costs more than the rest of the pipeline's
# statistics together, so name a 32x32x32 RGB grid once and look pixels up.
_LUT_BITS = 5
_LUT_CENTRES = (
    (np.indices((1 << _LUT_BITS,) * 3).reshape(3, -1).T << (8 - _LUT_BITS)) + (1 << (7 - _LUT_BITS))
).astype(np.uint8)
_NAME_LUT = pixel_names(_LUT_CENTRES)


def color_name(pixels: np.ndarray) -> str:
    """Most frequent colour name, chromatic names weighted up."""
    names = _NAME_LUT[_cells(pixels, _LUT_BITS)]
    counts = np.bincount(names, minlength=len(COLOR_NAMES)).astype(np.float64)
    for neutral in ("Black", "Gray", "White"):
        counts[_NAME_INDEX[neutral]] /= CHROMATIC_WEIGHT
    return COLOR_NAMES[int(counts.argmax())]


def _quantile(values: np.ndarray, q: float) -> float:
    k = min(len(values) - 1, max(0, int(q * (len(values) - 1))))
    return float(np.partition(values, k)[k])


def is_monochrome(pixels: np.ndarray, *, cut_out: bool = False) -> bool:
    """Black-and-white, grayscale, or a photograph toned with a single tint such as sepia.

    A saturated single hue is colour: a tint counts only over (almost) the whole
    picture, and never for a cut-out (`cut_out`: transparent background), which is a
    drawing of a coloured object rather than a toned photograph.
    """
    f = pixels.astype(np.float32)
    r, g, b = f[:, 0], f[:, 1], f[:, 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    chroma = mx - mn
    lit = (mx >= MONO_MIN_LIT_VALUE) & (mn < MONO_PAPER_MIN)
    seen = chroma[lit] if lit.mean() >= MONO_MIN_LIT_SHARE else chroma
    if float((seen > MONO_CHROMA).mean()) <= MONO_MAX_CHROMATIC_SHARE:
        return True
    if cut_out or float((seen > TINT_MIN_CHROMA).mean()) < TINT_MIN_COLOURED_SHARE:
        return False
    if (_quantile(mx, 0.95) - _quantile(mx, 0.05)) / 255.0 < TINT_MIN_VALUE_SPREAD:
        return False
    coloured = chroma > TINT_MIN_CHROMA
    # Opponent-colour vector: its angle is the hue, without the piecewise HSV formula.
    a = r[coloured] - 0.5 * (g[coloured] + b[coloured])
    c = 0.8660254 * (g[coloured] - b[coloured])
    length = np.maximum(np.hypot(a, c), 1e-6)
    concentration = float(np.hypot((a / length).mean(), (c / length).mean()))
    if concentration < TINT_MIN_HUE_CONCENTRATION:
        return False
    saturation = chroma[coloured] / np.maximum(mx[coloured], 1.0)
    return _quantile(saturation, 0.9) <= TINT_MAX_SATURATION_P90
