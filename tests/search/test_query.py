import pytest

from pixsearch.index.store import Clause
from pixsearch.search.query import TEMPLATE_WEIGHT, parse_query, weigh_template_words

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


def test_template_words_are_weighed_down_only_beside_other_words() -> None:
    template = frozenset({"clipart", "acme"})

    def weights(q: str) -> list[list[float]]:
        text = weigh_template_words(parse_query(q).text, template)
        return [[c.weight for c in group] for group in text.required]

    low = TEMPLATE_WEIGHT
    assert weights("Clipart lighthouse") == [[low], [1.0]]
    assert weights("lighthouse clipart OR boat") == [[1.0], [low, 1.0]]
    assert weights("acme clipart") == [[1.0], [1.0]]  # template words only: as typed
    assert weights('"acme clipart" lighthouse') == [[1.0], [1.0]]  # a phrase is specific
    text = weigh_template_words(parse_query("clipart -acme boat").text, template)
    assert text.excluded == (Clause(("acme",)),)  # exclusions untouched
