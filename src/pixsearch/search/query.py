"""Parse the user's q into a TextQuery and site filters.

Supported: words, "quoted phrases", -exclusion (of words and phrases), OR
between two items, site:host and -site:host. Other operators of the
reference (filterui:, intitle:, inurl:, filetype: ...) never raise: their
values are searched as plain words or dropped. Nothing here can fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pixsearch.index.store import Clause, TextQuery, tokens

# The weight of a site template word ("Item", a section's or the site's name) in a query
# that holds other words: what it says is which template a page has, not what a picture
# shows, so it may narrow the matches but should barely order them (index/chrome.py).
TEMPLATE_WEIGHT = 0.2
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_HAS_WORD = re.compile(r"\w")
# Operators whose value is just more words to search for.
_WORD_OPERATORS = {"intitle", "inbody", "inanchor", "inurl", "contains"}
# Operators that filter on things pixsearch does not track; dropped safely.
_DROPPED_OPERATORS = {
    "filterui",
    "filetype",
    "ext",
    "language",
    "loc",
    "location",
    "feed",
    "hasfeed",
    "ip",
    "instreamset",
    "url",
    "prefer",
    "imagesize",
    "qft",
}


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: TextQuery
    sites: tuple[str, ...] = ()
    excluded_sites: tuple[str, ...] = ()

    @property
    def words(self) -> list[str]:
        """Every positive word, in order: what suggestions and highlighting look at."""
        return [w for group in self.text.required for c in group for w in c.words]


def parse_query(q: str) -> ParsedQuery:
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    sites: list[str] = []
    excluded_sites: list[str] = []
    join_next = False
    had_text = False
    for raw in _TOKEN.findall(q):
        if raw == "OR":
            join_next = bool(groups)
            continue
        negative = raw.startswith("-") and len(raw) > 1
        token = raw[1:] if negative else raw
        operator, _, value = token.partition(":")
        if value and operator.lower() == "site":
            (excluded_sites if negative else sites).append(value.strip("/").lower())
            continue
        if value and operator.lower() in _DROPPED_OPERATORS:
            continue
        if value and operator.lower() in _WORD_OPERATORS:
            token = value
        had_text = True
        clause = _clause(token)
        if clause is None:
            continue
        if negative:
            excluded.append(clause)
        elif join_next:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        join_next = False
    if not groups and had_text and not excluded:
        groups.append([Clause(())])  # only punctuation: matches nothing, honestly
    text = TextQuery(required=tuple(tuple(g) for g in groups), excluded=tuple(excluded))
    return ParsedQuery(text=text, sites=tuple(sites), excluded_sites=tuple(excluded_sites))


def _clause(token: str) -> Clause | None:
    if token.startswith('"'):
        words = tuple(w for w in token.strip('"').split() if _HAS_WORD.search(w))
    else:
        words = (token,) if _HAS_WORD.search(token) else ()
    return Clause(words) if words else None


def weigh_template_words(text: TextQuery, template: frozenset[str]) -> TextQuery:
    """`text` with each one-word clause that is a template word weighed TEMPLATE_WEIGHT,
    when some other required clause is not one (a query of template words only, the
    site's name, stays as typed). Phrases keep their weight: typed whole, they are
    specific. What matches does not change, only the order."""
    if not template:
        return text

    def is_template(clause: Clause) -> bool:
        found = tokens(clause.words[0]) if len(clause.words) == 1 else []
        return bool(found) and set(found) <= template

    flags = [[is_template(c) for c in group] for group in text.required]
    if all(all(group) for group in flags) or not any(any(group) for group in flags):
        return text
    required = tuple(
        tuple(
            Clause(c.words, c.weight * TEMPLATE_WEIGHT) if flag else c
            for c, flag in zip(group, group_flags, strict=True)
        )
        for group, group_flags in zip(text.required, flags, strict=True)
    )
    return TextQuery(required=required, excluded=text.excluded)
