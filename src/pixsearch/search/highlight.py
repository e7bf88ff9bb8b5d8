"""Hit highlighting (textDecorations=true): query words marked in display strings.

Raw format wraps each match in U+E000 ... U+E001, as the reference does; HTML
wraps it in <b> ... </b> and escapes the rest of the text. Matching is by
whole word, ignoring case and accents, the way the index matches words.
"""

from __future__ import annotations

import html
import re
import unicodedata

RAW = ("\ue000", "\ue001")
HTML = ("<b>", "</b>")
_WORD = re.compile(r"[^\W_]+")


def _fold(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def highlight(text: str, words: list[str] | set[str], fmt: str = "Raw") -> str:
    """`text` with every word that folds to one of `words` marked."""
    wanted = {_fold(w) for w in words}
    start, end = HTML if fmt.lower() == "html" else RAW
    escape = html.escape if fmt.lower() == "html" else (lambda s: s)
    out: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        if _fold(match.group()) not in wanted:
            continue
        out.append(escape(text[last : match.start()]))
        out.append(f"{start}{escape(match.group())}{end}")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)
