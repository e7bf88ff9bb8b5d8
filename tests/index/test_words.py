"""Words written for speed agree with their definitions: tokens with the runs of
_TOKEN, the adult-word check with a token-by-token look."""

from __future__ import annotations

import random
import unicodedata

from pixsearch.index.words import (
    _TOKEN,
    ADULT_PREFIXES,
    ADULT_WORDS,
    is_adult_text,
    is_adult_word,
    tokens,
)

PIECES = [
    *sorted(ADULT_WORDS),
    *ADULT_PREFIXES,
    "pornhub",
    "xxxvideos",
    "NSFWart",
    "Nüde",
    "NAKED",
    "pörn",
    "ｘｘｘ",  # full-width letters fold to xxx under NFKD
    "sexporn",  # an adult prefix inside a word, not at its start
    "unnude",
    "nude_photo",
    "xxx123",
    "123xxx",
    "nudes2",
    "ΣΟΦΙΑ",
    "東京",
    "café",
    "sunset",
    "golden",
    "retriever",
    "breast",
    "_",
    "-",
    "/",
    ".",
    "é",
    " ",
    "\n",
    "\t",
]


def defined_tokens(text: str) -> list[str]:
    """The definition of a token: a run of _TOKEN in the text folded as the index folds it."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return _TOKEN.findall("".join(c for c in folded if not unicodedata.combining(c)))


def reference(texts: list[str]) -> bool:
    """The definition: any token of any text is an adult word."""
    return any(is_adult_word(w) for text in texts if text for w in defined_tokens(text))


def test_tokens_are_the_runs_of_the_token_pattern() -> None:
    rng = random.Random(5)
    ascii_chars = [chr(c) for c in range(128)]
    for _ in range(3000):
        text = "".join(rng.choice(ascii_chars) for _ in range(rng.randint(0, 40)))
        assert tokens(text) == defined_tokens(text), repr(text)
        mixed = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
        assert tokens(mixed) == defined_tokens(mixed), repr(mixed)
    assert tokens("Nüde_Photo-2\x1fA\tb") == ["nude", "photo", "2", "a", "b"]


def test_the_fast_check_agrees_with_the_token_definition() -> None:
    rng = random.Random(17)
    cases = 0
    adult = 0
    for _ in range(4000):
        texts = [
            "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
            for _ in range(rng.randint(0, 4))
        ]
        expected = reference(texts)
        assert is_adult_text(texts) is expected, texts
        cases += 1
        adult += expected
    assert 0.2 < adult / cases < 0.9  # both answers were exercised


def test_words_glued_across_texts_do_not_count() -> None:
    assert not is_adult_text(["por", "n"]) and not reference(["por", "n"])
    assert is_adult_text(["a photo", "xxx_rated"])
    assert is_adult_text(["Nüde beach"]) and is_adult_text(["ＮＵＤＥ"])
    assert not is_adult_text(["sexporn", "unnude", ""])
    assert not is_adult_text([])
