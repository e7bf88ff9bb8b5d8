"""The embedder registry and the clip-onnx embedder, on a tiny CLIP-shaped model pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixsearch.models.clip_onnx import ClipOnnx
from pixsearch.models.efficientnet import FEATURE_DIM
from pixsearch.models.embedder import (
    EmbedderUnavailable,
    ImageEmbedder,
    TextEmbedder,
    clip_options,
    image_embedder,
    load_embedder,
    text_embedder,
)
from tests.models.tiny_clip import DIM, write_tiny_clip


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_clip(tmp_path_factory.mktemp("clip"))


def test_clip_matches_words_to_pictures(clip_dir: Path) -> None:
    clip = ClipOnnx(clip_dir)
    assert clip.dim == DIM and clip.config.image_size == 32
    colours = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}
    pictures = clip.embed_images([Image.new("RGB", (90, 60), c) for c in colours.values()])
    texts = clip.embed_texts([f"a photo red {w}" if w == "red" else w for w in colours])
    assert pictures.shape == texts.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-6)
    best = (texts @ pictures.T).argmax(axis=1)
    assert best.tolist() == [0, 1, 2]
    # Padding to the longest text of a batch must not change a shorter one.
    assert np.allclose(clip.embed_texts(["green"])[0], texts[1], atol=1e-6)
    assert clip.embed_texts([]).shape == (0, DIM)


def test_clip_by_name_from_settings(clip_dir: Path) -> None:
    clip = load_embedder("clip-onnx", **clip_options(str(clip_dir)))
    assert isinstance(clip, ImageEmbedder) and isinstance(clip, TextEmbedder)
    with pytest.raises(EmbedderUnavailable, match="clip_model_dir"):
        clip_options("")


def test_clip_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match=r"image_model\.onnx"):
        load_embedder("clip-onnx", model_dir=tmp_path)


def test_registry() -> None:
    assert image_embedder("efficientnet").dim == FEATURE_DIM
    with pytest.raises(EmbedderUnavailable, match="does not embed texts"):
        text_embedder("efficientnet")
    with pytest.raises(EmbedderUnavailable, match="known: clip-onnx, efficientnet, minilm"):
        load_embedder("word2vec")


def test_visual_analyzer_shares_the_registry_instance() -> None:
    from pixsearch.models.visual import VisualAnalyzer

    assert VisualAnalyzer().model is image_embedder("efficientnet")
