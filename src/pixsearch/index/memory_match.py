"""What the in-memory store (index/memory.py) indexes per document, and its matching rules.

Filters are evaluated on the same keyword values the embedded index stores
(index/attributes.py), so both stores agree on what passes; text matching and
scoring are deliberately plain (memory.py says how).
"""

from __future__ import annotations

from dataclasses import dataclass

from pixsearch.index import attributes
from pixsearch.index.priors import prior_multiplier, static_prior
from pixsearch.index.store import Clause, Filters, Range, StoreQuery, TextQuery
from pixsearch.index.tagwords import tags_text
from pixsearch.index.words import tokens
from pixsearch.records import BODY_FIELDS, SIDE_FIELDS, TEXT_FIELDS, ImageDocument

Words = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One document with what matching needs, computed once when it is added."""

    doc: ImageDocument
    gen: int  # the generation (the add) that made it visible
    texts: tuple[tuple[str, Words], ...]  # (field, its words) per indexed text
    keywords: dict[str, frozenset[str]]  # keyword field → values, as the index stores them
    site: int
    published: int
    prior: float

    @classmethod
    def of(cls, doc: ImageDocument, gen: int) -> Entry:
        facts = doc.facts
        texts = [
            (name, tuple(tokens(text)))
            for o in doc.occurrences
            for name, text in o.text.items()
            if text and (BODY_FIELDS.get(name, 0) > 0 or name in SIDE_FIELDS)
        ]
        if facts.ocr_text:
            texts.append(("ocr", tuple(tokens(facts.ocr_text))))
        if facts.tags:
            texts.append(("tags", tuple(tokens(tags_text(facts.tags)))))
        keywords = {
            "aspect": (attributes.aspect_of(facts.width, facts.height),),
            "color": attributes.colors_of(facts),
            "image_type": attributes.image_types_of(doc),
            "image_content": attributes.image_content_of(facts),
            "adult": attributes.adult_of(doc),
            "license": attributes.licenses_of(doc),
            "size": attributes.sizes_of(facts.width, facts.height),
            "host": attributes.hosts_of(doc),
            "url_prefix": attributes.prefixes_of(doc),
        }
        return cls(
            doc=doc,
            gen=gen,
            texts=tuple(texts),
            keywords={name: frozenset(values) for name, values in keywords.items()},
            site=attributes.site_key(doc),
            published=max(int(doc.date_published.timestamp()), 0),
            prior=prior_multiplier(static_prior(facts)),
        )


def _words(clause: Clause) -> Words:
    return tuple(t for word in clause.words for t in tokens(word))


def _count(words: Words, text: Words) -> int:
    """How often `words` occur in a row in `text`."""
    n = len(words)
    return sum(1 for i in range(len(text) - n + 1) if text[i : i + n] == words)


def _found(entry: Entry, words: Words) -> bool:
    return any(_count(words, text) for _, text in entry.texts)


def matches(entry: Entry, query: TextQuery) -> bool:
    """Every required group has a clause found; no excluded clause is."""
    for group in query.required:
        alternatives = [w for w in map(_words, group) if w]
        if not any(_found(entry, words) for words in alternatives):
            return False  # also when the group's words all analysed to nothing
    return not any(_found(entry, w) for w in map(_words, query.excluded) if w)


def score(entry: Entry, query: StoreQuery) -> float:
    """Field-weighted occurrences of the query's words (1 for an empty query), plus boosts."""
    points = 1.0 if query.text.is_empty else 0.0
    for group in query.text.required:
        for clause in group:
            words = _words(clause)
            if words:
                found = sum(TEXT_FIELDS[name] * _count(words, text) for name, text in entry.texts)
                points += clause.weight * found
    hosts = entry.keywords["host"]
    return points + sum(b.weight for b in query.boosts if b.host in hosts)


def passes(entry: Entry, f: Filters) -> bool:
    """Whether the document passes every filter, as index/tantivy_query.py applies them."""
    keys = entry.keywords
    for name in ("aspect", "color", "image_content", "image_type", "license", "size"):
        value = getattr(f, name)
        if value and value not in keys[name]:
            return False
    facts = entry.doc.facts
    for value, rng in ((facts.width, f.width), (facts.height, f.height)):
        if not _within(value, rng):
            return False
    if not _within(facts.content_size, f.file_size):
        return False
    since = f.published_since
    if since is not None and entry.published < max(int(since.timestamp()), 0):
        return False
    return _safe(entry, f) and _placed(entry, f)


def _within(value: int, rng: Range) -> bool:
    return (rng.low is None or value >= rng.low) and (rng.high is None or value <= rng.high)


def _safe(entry: Entry, f: Filters) -> bool:
    """What safeSearch keeps: nudity scores under the threshold, no adult words or hosts."""
    adult = entry.keywords["adult"]
    if "image" in f.exclude_adult and adult & set(attributes.adult_score_terms(f.adult_threshold)):
        return False
    blocked = "text" in adult or bool(entry.keywords["host"] & set(f.adult_hosts))
    return not ("text" in f.exclude_adult and blocked)


def _placed(entry: Entry, f: Filters) -> bool:
    """Sites, URL prefixes and a custom instance's scope."""
    hosts, prefixes = entry.keywords["host"], entry.keywords["url_prefix"]
    if f.sites and not hosts & {s.lower() for s in f.sites}:
        return False
    if hosts & {s.lower() for s in f.excluded_sites}:
        return False
    wanted = {attributes.normalize_prefix(p) for p in f.url_prefixes}
    if wanted and not prefixes & wanted:
        return False
    if prefixes & {attributes.normalize_prefix(p) for p in f.excluded_url_prefixes}:
        return False
    if f.scope_sites or f.scope_prefixes:
        in_sites = hosts & {s.lower() for s in f.scope_sites}
        in_prefixes = prefixes & {attributes.normalize_prefix(p) for p in f.scope_prefixes}
        return bool(in_sites or in_prefixes)
    return True
