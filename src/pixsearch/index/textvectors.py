"""The text vectors' writer: a sentence embedding of each image's text, after each commit.

BM25 finds the words typed; these vectors let a query find the meaning, so
"puppy" reaches a picture described as "young dog" (384 bytes per image at 384
dimensions, in ``textvectors/``: index/derived.py). The embedding model belongs
to models/; it is handed in as ``EmbedTexts``, so the index never loads one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from pixsearch.index.derived import DerivedVectors, folder_of
from pixsearch.index.store import ReadStore
from pixsearch.records import ImageDocument

TEXT_CHARS = 400  # MiniLM reads 128 word pieces here; the start of the text matters most
# The fields that say what the picture shows, best first; the section's text around
# it ("context") is left out: it is long, often about something else, and would blur
# the vector. "near" is the image's own card or list item (crawl/nearby.py): short,
# and often the only words about a picture that has no alt text.
EMBEDDED_FIELDS = ("caption", "name", "near", "keywords", "tags", "page_title", "url_words")

# Texts in, one L2-normalised float32 row per text out (the sentence embedder's embed_texts).
EmbedTexts = Callable[[list[str]], np.ndarray]


def image_text(doc: ImageDocument) -> str:
    """The text embedded for an image: its describing fields, each distinct phrase once."""
    seen: set[str] = set()
    phrases: list[str] = []
    for name in EMBEDDED_FIELDS:
        for occurrence in doc.occurrences:
            text = " ".join(occurrence.text.get(name, "").split()).rstrip(" .")
            if text and text.lower() not in seen:
                seen.add(text.lower())
                phrases.append(text)
    return ". ".join(phrases)[:TEXT_CHARS]


def embed_documents(
    docs: Iterable[ImageDocument], vectors: DerivedVectors, embed: EmbedTexts, *, batch: int = 64
) -> int:
    """Add the text vectors of the images not in `vectors` yet; the count added."""
    added = 0
    pending: list[ImageDocument] = []
    for doc in docs:
        if doc.doc_id not in vectors and image_text(doc):
            pending.append(doc)
        if len(pending) >= batch:
            added += _embed_batch(pending, vectors, embed)
            pending = []
    if pending:
        added += _embed_batch(pending, vectors, embed)
    return added


def _embed_batch(docs: list[ImageDocument], vectors: DerivedVectors, embed: EmbedTexts) -> int:
    rows = embed([image_text(d) for d in docs])
    vectors.add([d.doc_id for d in docs], rows)
    return len(docs)


def update_text_vectors(
    store: ReadStore, index_dir: Path, embed: EmbedTexts, *, batch: int = 500
) -> int:
    """(Re)embed the images committed since the vectors' own generation; the count embedded.

    Run after each ingestion commit. The vector file is named by the store
    generation it covers, so a run killed between the index commit and this
    save is caught up by the next one: nothing is missed, nothing redone twice.
    An image given a new occurrence is embedded again, since its text grew.
    """
    vectors = DerivedVectors(folder_of(index_dir, "text"), writable=True)
    target = store.generation
    if vectors.gen >= target:
        return 0
    changed = store.changed_since(max(vectors.gen, 0))
    added = 0
    for start in range(0, len(changed), batch):
        docs = store.get(changed[start : start + batch])
        for doc in docs:
            if doc.doc_id in vectors:
                vectors.remove(doc.doc_id)
        added += embed_documents(docs, vectors, embed)
    vectors.save(target)
    return added


class TextVectorSync:
    """The ingestion side: after every commit, bring textvectors/ up to the new generation."""

    def __init__(self, store: ReadStore, index_dir: Path, embed: EmbedTexts) -> None:
        self.store = store
        self.index_dir = index_dir
        self.embed = embed

    def __call__(self) -> None:
        update_text_vectors(self.store, self.index_dir, self.embed)
