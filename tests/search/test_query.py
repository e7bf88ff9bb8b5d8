import pytest

from pixsearch.index.store import Clause
from pixsearch.search.query import parse_query

pytestmark = pytest.mark.memory


def test_words_phrases_exclusions_and_or() -> None:
    parsed = parse_query('red "sports car" -toy -"scale model" boat OR ship')
    assert parsed.text.required == (
        (Clause(("red",)),),
        (Clause(("sports", "car")),),
        (Clause(("boat",)), Clause(("ship",))),
    )
    assert parsed.text.excluded == (Clause(("toy",)), Clause(("scale", "model")))
    assert parsed.words == ["red", "sports", "car", "boat", "ship"]


def test_sites_and_other_operators() -> None:
    parsed = parse_query(
        "cat site:Example.com -site:bad.org filterui:imagesize-large intitle:kitten"
    )
    assert parsed.sites == ("example.com",) and parsed.excluded_sites == ("bad.org",)
    assert parsed.words == ["cat", "kitten"]


def test_nothing_raises_and_punctuation_matches_nothing() -> None:
    for q in ('"', '"open', "OR", "-", "---", "a:b", "site:", "\x00", "((("):
        parse_query(q)
    assert parse_query("!!!").text.required == ((Clause(()),),)
    assert parse_query("OR cat").words == ["cat"]
