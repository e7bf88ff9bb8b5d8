"""Spelling correction from the index's own vocabulary (symmetric delete).

Every vocabulary word is stored under each string obtained by deleting one or
two of its letters; a query word generates its own deletes and looks them up,
so candidates within edit distance 2 are found with a few dozen lookups
instead of a walk over the vocabulary. The deletes are kept as sorted 32-bit
hashes in numpy arrays (about 12 bytes each), not as Python strings, so a
200,000-word vocabulary costs tens of megabytes. A hash collision only adds a
candidate, which the exact distance check then drops.

A correction is only a proposal: the search layer applies it when the
original query finds little and the corrected one finds much more.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from pixsearch.index.store import Vocabulary

MAX_TERMS = 200_000  # the most frequent words are correction targets
MIN_TARGET_DF = 2  # a word seen once in a large index may itself be a typo...
SMALL_INDEX = 10_000  # ...but in a small one most words are seen once
MIN_LENGTH = 3  # shorter words are too ambiguous to correct
TWO_EDIT_LENGTH = 5  # words this long may be two edits away; shorter ones one edit
RARE_DF = 2  # a query word found in fewer documents than this is a correction candidate
DOMINANCE = 50  # ...so is one a closer-to-the-vocabulary word outnumbers this many times


@dataclass(frozen=True, slots=True)
class Correction:
    query: str  # the corrected query, as it should be searched
    override: str  # the original with each corrected word '+'-prefixed: forces the original
    words: tuple[tuple[str, str], ...]  # (original word, replacement)


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def _deletes(word: str, distance: int) -> set[str]:
    out = {word}
    for d in range(1, distance + 1):
        if len(word) - d < 1:
            break
        for drop in combinations(range(len(word)), d):
            out.add("".join(c for i, c in enumerate(word) if i not in drop))
    return out


def _max_distance(word: str) -> int:
    return 2 if len(word) >= TWO_EDIT_LENGTH else 1


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        least = MIN_TARGET_DF if vocab.num_docs >= SMALL_INDEX else 1
        targets = [
            i
            for i, t in enumerate(vocab.terms[:MAX_TERMS])
            if vocab.df[i] >= least and len(t) >= MIN_LENGTH and t.isalpha()
        ]
        keys: list[int] = []
        owners: list[int] = []
        for i in targets:
            term = vocab.terms[i]
            for variant in _deletes(term, _max_distance(term)):
                keys.append(_hash(variant))
                owners.append(i)
        order = np.argsort(np.array(keys, dtype=np.uint32), kind="stable")
        self.keys = np.array(keys, dtype=np.uint32)[order]
        self.owners = np.array(owners, dtype=np.int32)[order]
        # Deletes of a word grow with the cube of its length: a word longer than any
        # target by more than two edits can match none, so it is never expanded.
        self.longest = max((len(vocab.terms[i]) for i in targets), default=0)

    def candidates(self, word: str) -> list[tuple[int, int, str]]:
        """(distance, -documents, word) of vocabulary words near `word`, best first."""
        limit = _max_distance(word)
        probes = np.array([_hash(v) for v in _deletes(word, limit)], dtype=np.uint32)
        left = np.searchsorted(self.keys, probes, side="left")
        right = np.searchsorted(self.keys, probes, side="right")
        found = {int(o) for lo, hi in zip(left, right, strict=True) for o in self.owners[lo:hi]}
        out = []
        for i in found:
            term = self.vocab.terms[i]
            if term == word:
                continue
            distance = edit_distance(word, term)
            if distance <= limit:
                out.append((distance, -int(self.vocab.df[i]), term))
        return sorted(out)

    def correct_word(self, word: str, *, avoid: frozenset[str] = frozenset()) -> str | None:
        if len(word) < MIN_LENGTH or len(word) > self.longest + 2 or not word.isalpha():
            return None
        own = self.vocab.freq(word)
        for distance, neg_df, term in self.candidates(word):
            if term in avoid:
                continue
            if own < RARE_DF or -neg_df >= DOMINANCE * own * distance:
                return term
        return None

    def correct(self, q: str, *, avoid: frozenset[str] = frozenset()) -> Correction | None:
        """The query with its unknown or rare plain words corrected; None if nothing changes.

        Operators, phrases, exclusions and '+'-prefixed words are left alone: a
        '+' is how a caller (and alterationOverrideQuery) forces a spelling.
        """
        out: list[str] = []
        override: list[str] = []
        changed: list[tuple[str, str]] = []
        for token in q.split():
            plain = token.isalpha() and token != "OR"
            better = self.correct_word(token.lower(), avoid=avoid) if plain else None
            if better is None:
                out.append(token)
                override.append(token)
            else:
                out.append(better)
                override.append("+" + token)
                changed.append((token, better))
        if not changed:
            return None
        return Correction(" ".join(out), " ".join(override), tuple(changed))
