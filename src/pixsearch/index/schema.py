"""The Tantivy schema and text analysis of the embedded index.

Every filterable attribute is an indexed fast field (numbers) or an indexed
``raw`` keyword field (enumerations), so filters run inside Tantivy.
"""

from __future__ import annotations

import tantivy

from pixsearch.records import SIDE_FIELDS

ANALYZER_NAME = "pix"
BODY_FIELD = "body"  # BM25F: every whole-weight text field, repeated by its weight

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


def build_schema() -> tantivy.Schema:
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
    return builder.build()


def build_analyzer() -> tantivy.TextAnalyzer:
    """Word tokens, lower-cased and accent-folded, the same at index and query time."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )
