"""Content words of a caption or title: what names a picture, without the glue words."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
# Words that say nothing about a picture; kept short on purpose (English UI default).
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "a an and are as at be by for from has have in is it its of on or over that the this "
        "to was were with without jpg jpeg png gif webp img image images photo picture pic dsc"
    ).split()
)


def content_words(text: str) -> list[str]:
    """Lower-cased words of `text`, without stopwords, digits and single letters."""
    return [
        w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS and len(w) > 1
    ]
