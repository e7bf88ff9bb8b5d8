"""Spelling, the vocabulary's neighbour lists and hit highlighting, on real data structures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixsearch.index import vocabulary
from pixsearch.index.store import Vocabulary
from pixsearch.search.highlight import highlight
from pixsearch.search.spelling import Speller, edit_distance

pytestmark = pytest.mark.memory

WORDS = {
    "sunset": 120,
    "sunrise": 80,
    "mountain": 200,
    "mountains": 60,
    "beach": 300,
    "bench": 40,
    "photograph": 90,
    "cat": 500,
    "sunsett": 1,  # a typo in the index itself: never a correction target
}


def make_vocabulary() -> Vocabulary:
    terms = sorted(WORDS, key=lambda t: -WORDS[t])
    near = np.zeros((0, 0), np.int32)
    return Vocabulary(
        generation=1,
        num_docs=1000,
        terms=terms,
        df=np.array([WORDS[t] for t in terms], dtype=np.int64),
        adult=frozenset(),
        near=near,
        near_score=near.astype(np.float32),
    )


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert edit_distance("sunset", "sunset") == 0
    assert edit_distance("snuset", "sunset") == 1  # transposition
    assert edit_distance("sunst", "sunset") == 1
    assert edit_distance("sinsot", "sunset") == 2
    assert edit_distance("", "abc") == 3


def test_speller_corrects_by_distance_then_frequency() -> None:
    speller = Speller(make_vocabulary())
    assert speller.correct_word("sunst") == "sunset"
    assert speller.correct_word("snuset") == "sunset"
    assert speller.correct_word("mountian") == "mountain"
    assert speller.correct_word("photgraph") == "photograph"
    assert speller.correct_word("beach") is None  # known words stay
    assert speller.correct_word("xyzzy") is None  # nothing close
    assert speller.correct_word("ct") is None  # too short to guess


def test_correction_keeps_operators_and_forced_words() -> None:
    speller = Speller(make_vocabulary())
    fix = speller.correct("sunst beach")
    assert fix is not None
    assert fix.query == "sunset beach"
    assert fix.override == "+sunst beach"  # the form that forces the original
    assert speller.correct("+sunst beach") is None
    assert speller.correct('"sunst" site:example.com -mountian') is None
    avoided = speller.correct("sunst", avoid=frozenset({"sunset"}))
    assert avoided is None or avoided.query != "sunset"


SEEN = {  # sampled documents whose captions hold each word; "usehold" only in file names
    "tabby": 40,
    "cat": 300,
    "cut": 320,
    "hat": 30,
    "red": 500,
    "circle": 20,
    "house": 60,
}
PAIRS = {"tabby cat": 30, "red circle": 12}


def sampled_vocabulary() -> Vocabulary:
    """A vocabulary as index/vocabulary.py builds it: with describing-text counts."""
    df = {**SEEN, "usehold": 90}
    terms = sorted(df, key=lambda t: -df[t])
    near = np.zeros((0, 0), np.int32)
    return Vocabulary(
        generation=1,
        num_docs=1000,
        terms=terms,
        df=np.array([df[t] for t in terms], dtype=np.int64),
        adult=frozenset(),
        near=near,
        near_score=near.astype(np.float32),
        seen=dict(SEEN),
        pairs=dict(PAIRS),
        sampled=1000,
    )


def test_a_word_is_corrected_among_correct_ones_by_the_words_beside_it() -> None:
    speller = Speller(sampled_vocabulary())
    fix = speller.correct("red cirlce")
    assert fix is not None and fix.query == "red circle" and fix.override == "red +cirlce"
    # "cxt" is one edit from "cat" and from the more frequent "cut": "tabby" decides.
    tabby = speller.correct("tabby cxt")
    assert tabby is not None and tabby.query == "tabby cat"


def test_frequent_words_and_file_name_pieces_are_never_corrections() -> None:
    speller = Speller(sampled_vocabulary())
    assert speller.correct("hat") is None  # frequent: a word, though "cat" is ten times more
    assert speller.correct("red hat") is None
    # "usehold" is indexed (from file names) but no caption says it: not a target.
    assert speller.correct_word("usehol") != "usehold"


def test_vocabulary_file_round_trip(tmp_path: Path) -> None:
    sampled = sampled_vocabulary()
    vocabulary.save(sampled, tmp_path / "vocabulary-2.npz")
    again = vocabulary.load(tmp_path / "vocabulary-2.npz")
    assert again is not None
    assert (again.seen, again.pairs, again.sampled) == (SEEN, PAIRS, 1000)
    vocab = make_vocabulary()
    vocab.near = np.array([[1, 2], [0, 2], [0, 1]] + [[0, 1]] * (len(vocab.terms) - 3), np.int32)
    vocab.near_score = np.full(vocab.near.shape, 0.5, np.float32)
    path = tmp_path / "vocabulary-1.npz"
    vocabulary.save(vocab, path)
    loaded = vocabulary.load(path)
    assert loaded is not None
    assert loaded.terms == vocab.terms and loaded.freq("beach") == 300
    assert loaded.neighbours({vocab.terms[0]: 1.0}, k=2, exclude=set()) == vocab.terms[1:3]


def test_highlight_marks_whole_words_in_both_formats() -> None:
    assert highlight("Red circle on white", ["red", "circle"]) == (
        "\ue000Red\ue001 \ue000circle\ue001 on white"
    )
    assert highlight("Café <b>red</b>", ["cafe"], "HTML") == "<b>Café</b> &lt;b&gt;red&lt;/b&gt;"
    assert highlight("redder reds", ["red"]) == "redder reds"
