"""Per-result ranking explanations for debug=explain (admin only).

The explanation is pixsearch's own extension of the ImageObject, so official
clients ignore it; api/wire.py names the field. Keys here are plain snake_case
and documented in docs/ranking.md.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pixsearch.index.store import static_multiplier
from pixsearch.records import TEXT_FIELDS, ImageDocument
from pixsearch.search.ranking import Explanation
from pixsearch.search.service import Result

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case without accents, as the index analyzer compares words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matched_fields(doc: ImageDocument, words: list[str]) -> dict[str, list[str]]:
    """For each text field of the image, the query words found in it (exact or as a prefix).

    A prefix match stands in for the stemmed field: "dogs" found as "dog…" shows
    why an inflected form matched without re-running the stemmer here.
    """
    wanted = [fold(w) for w in words if _WORD.search(w)]
    out: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        text = " ".join(o.text.get(name, "") for o in doc.occurrences)
        if name == "ocr" and doc.facts.ocr_text:
            text += " " + doc.facts.ocr_text
        tokens = set(_WORD.findall(fold(text)))
        found = [w for w in wanted if w in tokens or any(_shares_stem(w, t) for t in tokens)]
        if found:
            out[name] = found
    return out


def _shares_stem(word: str, token: str) -> bool:
    stem = min(len(word), len(token))
    return stem >= 4 and word[: max(stem - 2, 4)] == token[: max(stem - 2, 4)]


def explain_result(result: Result, words: list[str], position: int) -> dict[str, Any]:
    """The explanation of one shown result; `position` is its 1-based place on the page."""
    note = result.explain or Explanation()
    return {
        "position": position,
        "bm25_score": note.bm25_score,
        "bm25_rank": note.bm25_rank,
        "prior_multiplier": round(note.prior, 4),
        "prior_if_reindexed": round(static_multiplier(result.doc.facts), 4),
        "matched_fields": matched_fields(result.doc, words),
        "semantic_similarity": note.semantic_similarity,
        "semantic_rank": note.semantic_rank,
        "fused_score": note.fused_score,
        "fused_rank": note.fused_rank,
        "final_rank": note.final_rank,
        "diversity_moved": (note.final_rank - note.fused_rank) if note.final_rank else 0,
        "site_penalty": note.site_penalty,
        "fresh_bonus": note.fresh_bonus,
        "site_chrome": note.chrome,
    }
