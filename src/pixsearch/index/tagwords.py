"""The tag words of images: ImageNet classes → words, and the text a tag is indexed as.

``data/imagenet_words.json`` (made by bench/build_imagenet_words.py from WordNet)
gives each of the 1000 classes its own plain words ("tabby", "tabby cat") and
its useful ancestors ("domestic cat", "cat", "feline", "carnivore", "mammal",
"animal"). The visual analyzer (models/tagwords.py) turns class probabilities
into tags with this table; the index makes each confident tag findable by every
word of its synonym group. It lives here, below both, and needs only NumPy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

WORDS_FILE = Path(__file__).with_name("data") / "imagenet_words.json"

# A word becomes a tag when the classes carrying it hold this much probability
# more than their share of the 1000 classes (models/tagwords.py says why). 0.2 keeps
# the right words on the skimage photos (docs/quality.md, "Visual tags") while a
# diffuse guess on an unfamiliar picture (top class ~0.1) adds nothing to the index.
TAG_THRESHOLD = 0.2


@dataclass(frozen=True)
class WordTable:
    """One column per group of synonyms: words carried by exactly the same classes."""

    words: tuple[str, ...]  # each group's first word, the one a tag shows
    synonyms: dict[str, tuple[str, ...]]  # shown word -> all words of its group
    # The sparse class -> word relation as pairs (about 6 words per class).
    pair_class: np.ndarray  # [P] class index
    pair_word: np.ndarray  # [P] word column
    coverage: np.ndarray  # [W] share of the classes that carry each word

    def confidence(self, probs: np.ndarray) -> np.ndarray:
        """[W] summed probability of the classes carrying each word."""
        weights = probs[self.pair_class].astype(np.float64)
        return np.bincount(self.pair_word, weights=weights, minlength=len(self.words))


@cache
def word_table(path: Path = WORDS_FILE) -> WordTable:
    classes = json.loads(path.read_text(encoding="utf-8"))["classes"]
    carriers: dict[str, list[int]] = {}
    for c, (own, hyper) in enumerate(classes):
        for word in [*own, *hyper]:
            if c not in carriers.setdefault(word, []):
                carriers[word].append(c)
    # "bobsled, bobsleigh, bob" or "espresso" + its only ancestor "coffee" would
    # otherwise fill three tag slots with one fact; they share one column.
    groups: dict[tuple[int, ...], list[str]] = {}
    for word, classes_of in carriers.items():
        groups.setdefault(tuple(classes_of), []).append(word)
    pairs = np.array([(c, col) for col, group in enumerate(groups) for c in group], np.int64)
    coverage = np.bincount(pairs[:, 1], minlength=len(groups)) / len(classes)
    words = tuple(group[0] for group in groups.values())
    synonyms = {group[0]: tuple(group) for group in groups.values()}
    return WordTable(words, synonyms, pairs[:, 0], pairs[:, 1], coverage)


def tags_text(tags: tuple[tuple[str, float], ...], threshold: float = TAG_THRESHOLD) -> str:
    """Indexable text for confident tags, each with its synonyms ("bobsled bobsleigh bob")."""
    synonyms = word_table().synonyms
    parts = [
        ", ".join(synonyms.get(word, (word,)))
        for word, confidence in tags
        if confidence >= threshold
    ]
    return "; ".join(parts)
