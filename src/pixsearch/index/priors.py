"""Static priors: a score multiplier per image, computed when it is indexed.

Stored in the index's ``prior`` fast field as p with ``log2(2 + p)`` = the
multiplier (the encoding of Tantivy's ``weight_by_field``, kept so the field
could be used there; it is not, because weighting while collecting scores every
match and defeats top-k pruning). A store hands the decoded multiplier up in
``StoreHit.prior``; the search service applies it in its rerank window. A
multiplier below the neutral 2.0 sinks an image.
"""

from __future__ import annotations

import math

from pixsearch.records import ImageFacts

NEUTRAL = 2.0  # the score multiplier of an ordinary image


def multiplier(facts: ImageFacts) -> float:
    """The static score multiplier of an image: size, then bytes per pixel as a sharpness hint."""
    longest, shortest = max(facts.width, facts.height), min(facts.width, facts.height)
    if longest < 48:  # spacers, bullets, favicons: almost never what a search is after
        return 1.0
    if shortest < 80:  # icons, buttons, badges; 80-150 px drawings and thumbnails are content
        return 1.6
    pixels = facts.width * facts.height
    # Half a megapixel is ordinary; up to 2.2 for 2 MP and more, never below 1.9, so that
    # size decides between copies of one picture and near-ties, not between subjects.
    size = 0.1 * _clamp(math.log2(pixels / 500_000), -1.0, 2.0)
    # A re-encoded, more compressed copy of the same picture has fewer bytes per pixel:
    # in a near-duplicate group the sharper copy should lead (and so be the one shown).
    bits = 8.0 * facts.content_size / max(pixels, 1)
    sharp = 0.02 * _clamp(math.log2(max(bits, 1e-3)), -2.0, 2.0)
    return NEUTRAL + size + sharp


def static_prior(facts: ImageFacts) -> float:
    """The value stored in the ``prior`` field so that log2(2 + prior) == multiplier(facts)."""
    return max(float(2.0 ** multiplier(facts)) - 2.0, 0.0)


def prior_multiplier(stored: float) -> float:
    """The multiplier a stored ``prior`` value encodes (an index without priors stores 0: 1.0)."""
    return math.log2(2.0 + max(stored, 0.0))


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
