"""The embedder registry and the clip-onnx embedder, on a tiny CLIP-shaped model pair."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers

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

VOCAB = {"[PAD]": 0, "[UNK]": 1, "red": 2, "green": 3, "blue": 4, "a": 5, "photo": 6}
DIM = 4


def save(model: onnx.ModelProto, path: Path) -> None:
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def image_model() -> onnx.ModelProto:
    """Mean colour of the picture, projected: a red picture points along axis 0."""
    project = np.zeros((3, DIM), np.float32)
    project[0, 0] = project[1, 1] = project[2, 2] = 1.0
    nodes = [
        helper.make_node("GlobalAveragePool", ["pixel_values"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "project"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 32, 32])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", DIM])],
        [numpy_helper.from_array(project, "project")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def text_model() -> onnx.ModelProto:
    """Sum of word vectors over real tokens: "red" points along axis 0."""
    table = np.zeros((len(VOCAB), DIM), np.float32)
    table[2, 0] = table[3, 1] = table[4, 2] = 1.0
    table[5, 3] = table[6, 3] = 0.3  # "a photo" adds a little of a fourth axis
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["vectors"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["vectors", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["text_embeds"], keepdims=0),
    ]
    ids = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["n", "t"])
        for n in ("input_ids", "attention_mask")
    ]
    inits = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    out = [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", DIM])]
    graph = helper.make_graph(nodes, "tiny_text", ids, out, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    save(image_model(), folder / "image_model.onnx")
    save(text_model(), folder / "text_model.onnx")
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"image_size": 32, "mean": [0.5] * 3, "std": [0.5] * 3, "pad_token": "[PAD]"}
    (folder / "clip.json").write_text(json.dumps(config))
    return folder


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
