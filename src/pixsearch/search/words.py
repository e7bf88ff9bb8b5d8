"""Content words of a caption or title: what names a picture, without the glue words."""

from __future__ import annotations

import re

from pixsearch.index.store import STOPWORDS

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


def content_words(text: str) -> list[str]:
    """Lower-cased words of `text`, without stopwords, digits and single letters."""
    return [
        w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS and len(w) > 1
    ]
