"""Spelling correction from the index's own vocabulary (symmetric delete).

Every vocabulary word is stored under each string obtained by deleting one or
two of its letters; a query word generates its own deletes and looks them up,
so candidates within edit distance 2 are found with a few dozen lookups
instead of a walk over the vocabulary. The deletes are kept as sorted 32-bit
hashes in numpy arrays (about 12 bytes each), not as Python strings, so a
200,000-word vocabulary costs tens of megabytes. A hash collision only adds a
candidate, which the exact distance check then drops.

Which correction, word by word: a noisy channel. Each plain query word keeps
its own spelling or becomes a vocabulary word one or two edits away; each
edit costs a fixed log-probability, and a language model of the collection's
describing text (how many sampled images hold a word, and two words side by
side, in captions, titles and page text) scores the whole query, so "red
cirlce" becomes "red circle" because "red circle" is said, even when "red"
alone would have found plenty. A word that is itself frequent in the
collection is never changed: it is a word, not a typo. The correction is only
a proposal: the search layer applies it when the corrected query also finds
clearly more.
"""

from __future__ import annotations

import math
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
EDIT_COST = 5.0  # -log P(one edit): a word 150 times more frequent pays for one edit...
UNSEEN = 1e-6  # ...and an unseen word counts as this many documents, so it rarely stays
FREQUENT = 3  # a word in at least this many documents (and FREQUENT_SHARE) stays as typed
FREQUENT_SHARE = 2e-4
SMOOTHING = 4.0  # pseudo-documents of the unigram mixed into each pair estimate
MARGIN = math.log(20)  # the corrected query must be this much more likely than the typed one
CANDIDATES = 6  # near words scored per query word


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
        # A sampled vocabulary knows which words its images' describing text holds;
        # an older or hand-made one has only the index's document frequencies.
        self.sampled = bool(vocab.sampled)
        self.total = max(vocab.sampled or vocab.num_docs, 1)
        # A sample of a large index sees a word once for every few documents holding it.
        share = self.total / max(vocab.num_docs, 1)
        least = 1 if self.total < SMALL_INDEX else max(1, round(MIN_TARGET_DF * share))
        self.frequent = max(FREQUENT, FREQUENT_SHARE * self.total)
        self.frequent_df = self.frequent / min(share, 1.0)  # the same, in index documents
        targets = [
            i
            for i, t in enumerate(vocab.terms[:MAX_TERMS])
            if len(t) >= MIN_LENGTH and t.isalpha() and self.count(t) >= least
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
                out.append((distance, -self.count(term), term))
        return sorted(out)

    def correct_word(self, word: str, *, avoid: frozenset[str] = frozenset()) -> str | None:
        """The word a lone query word most likely meant; None if it is best as typed."""
        fix = self.correct(word, avoid=avoid)
        return fix.words[0][1] if fix is not None else None

    def correct(self, q: str, *, avoid: frozenset[str] = frozenset()) -> Correction | None:
        """The query with its likely misspelled plain words corrected; None if nothing changes.

        Operators, phrases, exclusions and '+'-prefixed words are left alone (they
        still count as the words beside the others): a '+' is how a caller (and
        alterationOverrideQuery) forces a spelling.
        """
        tokens = q.split()
        options = [self._options(t, avoid) for t in tokens]
        if all(len(o) == 1 for o in options):
            return None
        best = self._best_path(options)
        typed = [o[0] for o in options]
        if self._path_score(best) - self._path_score(typed) < MARGIN:
            return None
        out: list[str] = []
        override: list[str] = []
        changed: list[tuple[str, str]] = []
        for token, (word, _), (chosen, _) in zip(tokens, typed, best, strict=True):
            if chosen == word:
                out.append(token)
                override.append(token)
            else:
                out.append(chosen)
                override.append("+" + token)
                changed.append((token, chosen))
        return Correction(" ".join(out), " ".join(override), tuple(changed))

    # -- the noisy channel ---------------------------------------------------------

    def _options(self, token: str, avoid: frozenset[str]) -> list[tuple[str, float]]:
        """(word, channel cost) the token may stand for; the token itself first."""
        word = token.lower()
        plain = token.isalpha() and token != "OR"
        if not plain:
            word = token.lstrip("+").lower()
            return [(word if word.isalpha() else "", 0.0)]
        own = [(word, 0.0)]
        if len(word) < MIN_LENGTH or len(word) > self.longest + 2:
            return own
        if self.count(word) >= self.frequent or self.vocab.freq(word) >= self.frequent_df:
            return own  # a frequent word is a word, not a typo (even if only in URLs)
        near = [
            (term, distance * EDIT_COST)
            for distance, _, term in self.candidates(word)
            if term not in avoid
        ]
        near.sort(key=lambda tc: tc[1] - self._unigram(tc[0]))
        return own + near[:CANDIDATES]

    def _unigram(self, word: str) -> float:
        return math.log((self.count(word) or UNSEEN) / self.total)

    def count(self, word: str) -> int:
        """Documents holding the word (sampled describing text, when the vocabulary has it)."""
        return self.vocab.seen.get(word, 0) if self.sampled else self.vocab.freq(word)

    def _follows(self, before: str, word: str) -> float:
        """log P(word | the word before it): pair counts smoothed toward the unigram."""
        if not before:
            return self._unigram(word)
        pair = self.vocab.pairs.get(f"{before} {word}", 0)
        known = self.count(before)
        mixed = (pair + SMOOTHING * math.exp(self._unigram(word))) / (known + SMOOTHING)
        return math.log(mixed)

    def _path_score(self, path: list[tuple[str, float]]) -> float:
        score, before = 0.0, ""
        for word, cost in path:
            if word:
                score += self._follows(before, word) - cost
            before = word
        return score

    def _best_path(self, options: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
        """The most likely choice per word (Viterbi over adjacent pairs)."""
        paths: dict[str, tuple[float, list[tuple[str, float]]]] = {"": (0.0, [])}
        for choices in options:
            step: dict[str, tuple[float, list[tuple[str, float]]]] = {}
            for word, cost in choices:
                gain = -cost
                for before, (score, path) in paths.items():
                    total = score + gain + (self._follows(before, word) if word else 0.0)
                    if word not in step or total > step[word][0]:
                        step[word] = (total, [*path, (word, cost)])
            paths = step
        return max(paths.values(), key=lambda sp: sp[0])[1]
