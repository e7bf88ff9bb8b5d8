"""The Tantivy schema and text analysis of the embedded index.

Every filterable attribute is an indexed fast field (numbers) or an indexed
``raw`` keyword field (enumerations), so filters run inside Tantivy.

Languages (schema version 2). One language-neutral ``body`` field serves every
query: words are lower-cased and accent-folded, and runs of CJK characters are
cut into single characters, so a CJK word in a query becomes a phrase of its
characters (and a long run a conjunction of character-bigram phrases) that finds
the word inside unsegmented text without a dictionary. Stemming is language
specific, so the body text is indexed once more, stemmed, in the ``stem_<lang>``
field of the document's own language (the page language of its first occurrence,
English when unknown). A query adds the stemmed field of its market's language,
so "dogs" finds "dog" in English and "chevaux" finds "cheval" in French. The
cost is one extra frequency-only copy of the body per document (no positions:
phrases stay on ``body``) and one extra posting list per query word; the other
thirteen stem fields stay empty for that document and cost nothing.

Indexes written before version 2 keep their schema and analyzer: Tantivy refuses
to open an index under a different schema, and re-tokenising one half of an
index would make queries disagree with the other half. Re-ingest to upgrade.
"""

from __future__ import annotations

import json
from pathlib import Path

import tantivy

from pixsearch.records import SIDE_FIELDS

ANALYZER_NAME = "pix"
BODY_FIELD = "body"  # BM25F: every whole-weight text field, repeated by its weight
SITE_FIELD = "site"  # fast u64: hash of the image's first host, for diversity (version 2)

# Enumerated attributes stored as exact lower-case keywords; several values
# per document are allowed (an image is both "red" and "coloronly").
KEYWORD_FIELDS: tuple[str, ...] = (
    "aspect",
    "color",
    "image_content",
    "image_type",
    "license",
    "size",
    "adult",
    "host",  # every host of every occurrence, with its parent domains
    "url_prefix",  # every path prefix of every page and image URL
)

NUMERIC_FIELDS: tuple[str, ...] = ("width", "height", "content_size", "published")

# A document whose marker field holds generation G records that commit G
# reached Tantivy: recovery reads it to decide whether to roll forward.
MARKER_FIELD = "marker"

# Market languages (api/markets.py) with a Snowball stemmer in Tantivy. Polish,
# Chinese, Japanese and Korean have none; they are served by `body` alone.
STEMMERS: dict[str, str] = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}
DEFAULT_LANGUAGE = "en"

# Han, kana and Hangul: scripts written without spaces between words (Korean
# attaches particles to words), so single characters are the indexing unit.
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
# Same split as Tantivy's simple tokenizer (alphanumeric runs) except CJK characters.
TOKEN_PATTERN = rf"[{_CJK}]|[[\p{{Alphabetic}}\p{{N}}]--[{_CJK}]]+"


def stem_field(language: str) -> str:
    return f"stem_{language}"


def stem_analyzer_name(language: str) -> str:
    return f"pix_{language}"


def index_version(path: Path) -> int:
    """2 for an index with language fields, 1 for an older one, 2 for a new directory."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return 2
    names = {field["name"] for field in meta.get("schema", [])}
    return 2 if SITE_FIELD in names else 1


def build_schema(version: int = 2) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("doc_id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("group_id", fast=True)
    builder.add_unsigned_field("gen", indexed=True)
    builder.add_unsigned_field(MARKER_FIELD, indexed=True)
    for name in (BODY_FIELD, *SIDE_FIELDS):
        builder.add_text_field(name, tokenizer_name=ANALYZER_NAME, index_option="position")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in NUMERIC_FIELDS:
        builder.add_unsigned_field(name, indexed=True, fast=True)
    builder.add_float_field("prior", fast=True)
    if version >= 2:
        builder.add_unsigned_field(SITE_FIELD, fast=True)
        for language in STEMMERS:
            builder.add_text_field(
                stem_field(language),
                tokenizer_name=stem_analyzer_name(language),
                index_option="freq",
            )
    return builder.build()


def build_analyzer(version: int = 2) -> tantivy.TextAnalyzer:
    """Word tokens, lower-cased and accent-folded, the same at index and query time."""
    tokenizer = (
        tantivy.Tokenizer.regex(TOKEN_PATTERN) if version >= 2 else tantivy.Tokenizer.simple()
    )
    return (
        tantivy.TextAnalyzerBuilder(tokenizer)
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_stem_analyzer(language: str) -> tantivy.TextAnalyzer:
    """Like the body analyzer, stemmed before folding (Snowball expects the accents)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN))
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer(STEMMERS[language]))
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def is_cjk_token(token: str) -> bool:
    """A single CJK character, as the body analyzer emits them."""
    return len(token) == 1 and _is_cjk_char(token)


def _is_cjk_char(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF  # Han extension A
        or 0x4E00 <= code <= 0x9FFF  # Han
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0xF900 <= code <= 0xFAFF  # Han compatibility
        or 0x20000 <= code <= 0x2FA1F  # Han extensions B+
    )
