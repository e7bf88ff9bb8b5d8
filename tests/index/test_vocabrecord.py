"""Vocabulary.witness: a sampled document holding every word, found without a search."""

from __future__ import annotations

import numpy as np
import pytest

from pixsearch.index import vocabrecord
from pixsearch.index.store import Vocabulary


def vocabulary(
    lists: dict[str, list[int]], rest: tuple[str, ...] = (), *, shuffled: bool = True
) -> Vocabulary:
    """Words with witness lists first (as the rows of `near` are), then words without.

    The sample holds its documents in rows; `shuffled`, in another order than their ids.
    """
    terms = [*lists, *rest]
    empty = np.zeros((len(lists), 0), np.int32)
    vocab = Vocabulary(
        0, 10_000, terms, np.ones(len(terms), np.int64), frozenset(), empty, empty.astype(float)
    )
    sizes = [len(docs) for docs in lists.values()]
    vocab.witness_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    sampled = sorted({d for docs in lists.values() for d in docs}, key=lambda d: (d % 7, d))
    if not shuffled:
        sampled.sort()
    row = {d: r for r, d in enumerate(sampled)}
    vocab.witness_rows = np.array(
        [r for docs in lists.values() for r in sorted(row[d] for d in docs)], np.uint16
    )
    vocab.witness_ids = np.array(sampled, np.int64)
    return vocab


def test_a_witness_holds_every_word() -> None:
    vocab = vocabulary({"red": [2, 5, 9, 14], "kite": [1, 5, 14], "sea": [3, 4]})
    assert vocab.witness(["red", "kite"]) in (5, 14)  # a document holding both
    assert vocab.witness(["kite", "red", "kite"]) == vocab.witness(["red", "kite"])
    assert vocab.witness(["sea"]) == 3
    assert vocab.witness(["red", "sea"]) is None  # no sampled document holds both
    assert vocab.witness(["red", "kite", "sea"]) is None


def test_no_witness_for_a_word_without_a_list() -> None:
    vocab = vocabulary({"red": [2, 5], "kite": [5]}, rest=("the",))
    assert vocab.witness(["red", "the"]) is None  # a word outside the lists: unknown
    assert vocab.witness(["red", "zebra"]) is None  # not in the vocabulary at all
    assert vocab.witness([]) is None
    none = np.zeros((0, 0), np.float32)
    older = Vocabulary(0, 0, ["red"], np.ones(1, np.int64), frozenset(), none, none)
    assert older.witness(["red"]) is None  # no lists kept: no witness


@pytest.mark.parametrize("at", [0, 63, 64, 300, 999])
def test_a_witness_is_found_past_the_first_chunks(at: int) -> None:
    """Candidates are tried in growing chunks; one deep in the list is still found."""
    common = list(range(0, 3000, 3))  # 1,000 documents
    vocab = vocabulary({"common": common, "rare": [1, common[at], 4000]}, shuffled=False)
    assert vocab.witness(["common", "rare"]) == common[at]
    assert vocab.witness(["rare", "common"]) == common[at]


def test_a_witness_is_found_from_the_smallest_first_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocabrecord, "WITNESS_CHUNK", 2)
    vocab = vocabulary({"a": list(range(0, 100, 2)), "b": [97, 98]}, shuffled=False)
    assert vocab.witness(["a", "b"]) == 98
