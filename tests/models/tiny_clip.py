"""A tiny CLIP-shaped ONNX pair and tokenizer, written to a folder: tests control its outputs.

The image tower is the picture's mean colour (after clip.json's 0.5/0.5
normalisation) on axes 0-2: red along axis 0, green 1, blue 2. The text tower
sums one vector per real token: "red" and "tomato" point along axis 0, "green"
and "lawn" along 1, "blue" and "ocean" along 2; "a" and "photo" add a little
of axis 3. So "tomato" finds a red picture with no text saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers

VOCAB = {
    "[PAD]": 0,
    "[UNK]": 1,
    "red": 2,
    "green": 3,
    "blue": 4,
    "a": 5,
    "photo": 6,
    "tomato": 7,
    "lawn": 8,
    "ocean": 9,
}
DIM = 4
IMAGE_SIZE = 32


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
    size = IMAGE_SIZE
    graph = helper.make_graph(
        nodes,
        "tiny_image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, size, size])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", DIM])],
        [numpy_helper.from_array(project, "project")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def text_model() -> onnx.ModelProto:
    """Sum of word vectors over real tokens: "red" (and "tomato") point along axis 0."""
    table = np.zeros((len(VOCAB), DIM), np.float32)
    for word, axis in (("red", 0), ("green", 1), ("blue", 2)):
        table[VOCAB[word], axis] = 1.0
    for word, axis in (("tomato", 0), ("lawn", 1), ("ocean", 2)):
        table[VOCAB[word], axis] = 1.0
    table[VOCAB["a"], 3] = table[VOCAB["photo"], 3] = 0.3  # "a photo": a little of axis 3
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


def write_tiny_clip(folder: Path, **config: object) -> Path:
    """image_model.onnx, text_model.onnx, tokenizer.json and clip.json (``config`` added)."""
    folder.mkdir(parents=True, exist_ok=True)
    save(image_model(), folder / "image_model.onnx")
    save(text_model(), folder / "text_model.onnx")
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    settings = {"image_size": IMAGE_SIZE, "mean": [0.5] * 3, "std": [0.5] * 3, "pad_token": "[PAD]"}
    (folder / "clip.json").write_text(json.dumps({**settings, **config}))
    return folder
