"""The "visual" analyzer: tags and embeddings on real photos, and tags reaching the text index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Clause, StoreQuery, TextQuery
from pixsearch.index.tagwords import TAG_THRESHOLD, tags_text, word_table
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.ingest.understand import understand
from pixsearch.models.tagwords import tags_from_probs


def photo(name: str) -> Image.Image:
    image = Image.fromarray(getattr(data, name)()).convert("RGB")
    image.thumbnail((474, 474))  # what the pipeline hands analyzers
    return image


def tag_words(name: str) -> list[str]:
    return [word for word, _ in understand(photo(name), ("visual",)).tags]


def test_tabby_is_a_cat_and_an_animal() -> None:
    seen = understand(photo("chelsea"), ("visual",))
    words = dict(seen.tags)
    assert words["cat"] > 0.8 and words["animal"] > 0.8
    tenths = [int(c * 10) for c in words.values()]  # within a tenth: the specific word first
    assert tenths == sorted(tenths, reverse=True)
    assert list(words)[:2] == ["domestic cat", "cat"]
    assert all(c >= TAG_THRESHOLD for c in words.values()) and len(words) <= 10
    assert seen.embedding is not None and seen.embedding.shape == (1280,)
    assert abs(float(np.linalg.norm(seen.embedding)) - 1.0) < 1e-5


def test_coffee_and_rocket_words() -> None:
    assert {"espresso", "beverage"} <= set(tag_words("coffee"))
    assert "missile" in tag_words("rocket")
    assert "animal" not in tag_words("coffee")


def test_confidence_sums_over_classes_and_ancestors() -> None:
    probs = np.zeros(1000, dtype=np.float32)
    probs[[281, 282, 285]] = 0.1  # tabby, tiger cat, Egyptian cat: none a tag alone
    probs[207] = 0.5  # golden retriever
    tags = dict(tags_from_probs(probs))
    assert tags["cat"] == pytest.approx(0.3, abs=1e-4)
    assert tags["animal"] == pytest.approx(0.8, abs=1e-4)
    assert "tabby" not in tags and "golden retriever" in tags


def test_a_diffuse_guess_gives_no_broad_words() -> None:
    # Uniform probabilities put 0.4 on "animal" (398 of 1000 classes): not evidence.
    assert tags_from_probs(np.full(1000, 0.001, dtype=np.float32)) == ()
    probs = np.full(1000, 0.0005, dtype=np.float32)
    probs[817] = 0.5  # sports car
    assert "animal" not in dict(tags_from_probs(probs))


def test_synonyms_share_one_tag_and_all_reach_the_text() -> None:
    probs = np.zeros(1000, dtype=np.float32)
    probs[967] = 0.9  # espresso, whose only ancestor word below "beverage" is "coffee"
    tags = tags_from_probs(probs)
    assert [w for w, _ in tags].count("espresso") == 1 and "coffee" not in dict(tags)
    assert "coffee" in tags_text(tags) and "espresso" in tags_text(tags)
    assert tags_text((("espresso", 0.05),)) == ""
    assert len(word_table().words) > 1000


def test_usearch_then_onnxruntime_does_not_crash() -> None:
    # pixsearch installs a hook so usearch never loads before onnxruntime (models/loadorder.py).
    code = "import pixsearch, usearch.index, onnxruntime; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0 and b"ok" in done.stdout


def test_unlabelled_photo_is_found_by_its_tags(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.jpg"
    Image.fromarray(data.chelsea()).save(path, quality=90)
    outcome = process_file(path, PipelineConfig(analyzers=("visual",)))
    assert isinstance(outcome, Processed) and outcome.embedding is not None
    store = EmbeddedStore(tmp_path / "index", writable=True)
    indexer = Indexer(store)
    indexer.handle(outcome)
    indexer.commit()
    for word in ("cat", "animal", "feline"):
        query = StoreQuery(TextQuery(required=((Clause((word,)),),)), limit=10)
        assert store.search(query).total == 1, word
    assert store.search(StoreQuery(TextQuery(required=((Clause(("car",)),),)))).total == 0
    store.close()
