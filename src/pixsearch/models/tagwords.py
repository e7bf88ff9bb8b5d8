"""ImageNet class probabilities -> tag words with confidences (the visual analyzer's tags).

A word's confidence is the summed probability of every class that carries it
(index/tagwords.py holds the class → word table), so "cat" collects tabby + tiger
cat + Egyptian cat + Persian, and an unlabelled tabby photo is findable as "cat"
and as "animal".
"""

from __future__ import annotations

import numpy as np

from pixsearch.index.tagwords import TAG_THRESHOLD, word_table

MAX_TAGS = 10


def tags_from_probs(
    probs: np.ndarray, threshold: float = TAG_THRESHOLD, limit: int = MAX_TAGS
) -> tuple[tuple[str, float], ...]:
    """Words whose confidence reaches ``threshold``, most confident first, at most ``limit``."""
    table = word_table()
    confidence = table.confidence(probs)
    # A broad word collects mass from a diffuse guess: "animal" covers 398 classes, so
    # a model that knows nothing still gives it ~0.4. It must beat its coverage by
    # ``threshold``, as a one-class word must beat ~0 (moon and galaxy photos were
    # tagged "animal" 0.5 without this).
    keep = np.flatnonzero(confidence - table.coverage >= threshold)
    # By tenths of confidence, and within a tenth the word of fewest classes first: a tabby
    # shows "domestic cat, cat, feline" before "carnivore, mammal, animal", all ~0.94.
    order = sorted(
        keep, key=lambda i: (-int(confidence[i] * 10), table.coverage[i], -confidence[i])
    )
    return tuple((table.words[i], round(float(confidence[i]), 4)) for i in order[:limit])
