"""Site chrome below every other hit of the rerank window (search/ranking.py)."""

from __future__ import annotations

from pixsearch.index.store import StoreHit
from pixsearch.search.ranking import WINDOW, chrome_last, rerank


def _hits(n: int) -> list[StoreHit]:
    return [StoreHit(doc_id=i, group_id=i, score=100.0 - i, site=i % 3 + 1) for i in range(1, n)]


def test_chrome_goes_after_content_and_each_side_keeps_its_order() -> None:
    hits = _hits(8)
    moved = chrome_last(hits, frozenset({1, 4}))
    assert [h.doc_id for h in moved] == [2, 3, 5, 6, 7, 1, 4]
    assert chrome_last(hits, frozenset({99})) is hits  # nothing to move: no copy


def test_rerank_demotes_chrome_within_the_window_only() -> None:
    hits = _hits(WINDOW + 20)  # the top hit is chrome, and one beyond the window
    chrome = frozenset({1, WINDOW + 10})
    ranked = rerank(hits, [], chrome=chrome)
    order = [h.doc_id for h in ranked.hits]
    assert order.index(1) == WINDOW - 1  # last of the window, above the raw tail
    assert order.index(WINDOW + 10) == WINDOW + 9  # beyond the window the raw order stands
    assert ranked.explanations[1].chrome and not ranked.explanations[2].chrome
    assert rerank(hits, []).hits[0].doc_id == 1  # without chrome: first
