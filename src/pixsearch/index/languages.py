"""Language-aware parts of the text index: stemmed fields, CJK matching, the site key.

schema.py says what is indexed and why; this module builds the per-document
values of the version-2 fields and the query clauses that read them.
"""

from __future__ import annotations

import tantivy

from pixsearch.index import attributes
from pixsearch.index.schema import (
    BODY_FIELD,
    DEFAULT_LANGUAGE,
    SITE_FIELD,
    STEMMERS,
    build_stem_analyzer,
    is_cjk_token,
    stem_analyzer_name,
    stem_field,
)
from pixsearch.records import BODY_FIELDS, ImageDocument

Occur = tantivy.Occur
Q = tantivy.Query
_ALIASES = {"nb": "no", "nn": "no"}  # Norwegian Bokmål and Nynorsk share one stemmer


def language_of(tag: str | None) -> str | None:
    """The stemmer language of a BCP 47 tag or market ("fr-CA" → "fr"), None if none."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    primary = _ALIASES.get(primary, primary)
    return primary if primary in STEMMERS else None


def register_stemmers(index: tantivy.Index) -> dict[str, tantivy.TextAnalyzer]:
    analyzers = {language: build_stem_analyzer(language) for language in STEMMERS}
    for language, analyzer in analyzers.items():
        index.register_tokenizer(stem_analyzer_name(language), analyzer)
    return analyzers


def add_language_fields(out: tantivy.Document, doc: ImageDocument) -> None:
    """Each occurrence's body text, once more, in the stemmed field of its own language."""
    out.add_unsigned(SITE_FIELD, attributes.site_key(doc))
    for occurrence in doc.occurrences:
        language = language_of(occurrence.language) or DEFAULT_LANGUAGE
        for name, text in occurrence.text.items():
            for _ in range(BODY_FIELDS.get(name, 0) if text else 0):
                out.add_text(stem_field(language), text)


def word_match(
    schema: tantivy.Schema,
    stemmers: dict[str, tantivy.TextAnalyzer],
    tokens: list[str],
    words: tuple[str, ...],
    language: str,
    searcher: tantivy.Searcher | None = None,
) -> tantivy.Query:
    """A clause's body match, or'ed with its stem in the market language's stemmed field.

    Exact forms match both fields and so outrank inflected ones. When the stem
    is in no more documents than the word itself (a word with no inflected
    forms in the index, as most are), the stemmed clause could add no match
    and would only double the postings scored, so it is left out.
    """
    main = body_match(schema, BODY_FIELD, tokens)
    stemmed = stem_match(schema, stemmers, words, language)
    if stemmed is None:
        return main
    if searcher is not None and len(tokens) == 1:
        field, stem = _stem_term(stemmers, words[0], language)
        if searcher.doc_freq(field, stem) <= searcher.doc_freq(BODY_FIELD, tokens[0]):
            return main
    return Q.boolean_query([(Occur.Should, main), (Occur.Should, stemmed)])


def _stem_term(
    stemmers: dict[str, tantivy.TextAnalyzer], word: str, language: str
) -> tuple[str, str]:
    code = language_of(language) or ""
    return stem_field(code), stemmers[code].analyze(word)[0]


def body_match(schema: tantivy.Schema, field: str, tokens: list[str]) -> tantivy.Query:
    """A word's tokens on the body: one term, a phrase, or for a long CJK run its pairs.

    A CJK run typed without spaces ("东京夜景") is usually several words, mostly
    of two characters; demanding the whole string would miss "东京的夜景", so the
    run is cut into consecutive pairs (东京 + 夜景; an odd last character pairs
    with the one before it), each a required phrase, and the whole run is an
    optional phrase that ranks exact occurrences first.
    """
    if len(tokens) == 1:
        return Q.term_query(schema, field, tokens[0])
    words: list[str | tuple[int, str]] = list(tokens)
    phrase = Q.phrase_query(schema, field, words)
    if len(tokens) <= 2 or not all(is_cjk_token(t) for t in tokens):
        return phrase
    starts = [*range(0, len(tokens) - 1, 2)]
    if len(tokens) % 2:
        starts.append(len(tokens) - 2)
    pairs = [(Occur.Must, Q.phrase_query(schema, field, words[i : i + 2])) for i in starts]
    return Q.boolean_query([*pairs, (Occur.Should, phrase)])


def stem_match(
    schema: tantivy.Schema,
    stemmers: dict[str, tantivy.TextAnalyzer],
    words: tuple[str, ...],
    language: str,
) -> tantivy.Query | None:
    """The word's stem in the stemmed field of the query's language; single words only."""
    analyzer = stemmers.get(language_of(language) or "")
    if analyzer is None or len(words) != 1:
        return None
    stems = analyzer.analyze(words[0])
    if len(stems) != 1 or is_cjk_token(stems[0]):
        return None
    return Q.term_query(schema, stem_field(language_of(language) or ""), stems[0])
