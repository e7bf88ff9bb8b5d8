"""The ONNX graph of all-MiniLM-L6-v2, written from its safetensors weights.

A 6-layer BERT (hidden 384, 12 heads, GELU, LayerNorm eps 1e-12) whose token outputs
are mean-pooled over the attention mask. Apart from ``minilm.py`` because onnx takes
seconds to import and is needed only when the cached graph is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS = 6
HEADS = 12
LN_EPS = 1e-12
HIDDEN = 384  # what minilm.DIM says the embeddings are (tests/models/test_minilm.py)


@dataclass
class _Bert:
    """Appends the nodes of one BERT encoder to lists, reading weights by their HF names."""

    weights: dict[str, np.ndarray]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    count: int = 0

    def const(self, value: np.ndarray, prefix: str = "c") -> str:
        self.count += 1
        name = f"{prefix}_{self.count}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def dense(self, x: str, prefix: str) -> str:
        w = self.weights[f"{prefix}.weight"].T.astype(np.float32)  # torch keeps [out, in]
        b = self.weights[f"{prefix}.bias"].astype(np.float32)
        return self.op("Add", [self.op("MatMul", [x, self.const(w)]), self.const(b)])

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.weights[f"{prefix}.weight"], self.weights[f"{prefix}.bias"]
        return self.op(
            "LayerNormalization", [x, self.const(scale), self.const(bias)], axis=-1, epsilon=LN_EPS
        )

    def heads(self, x: str, perm: list[int]) -> str:
        """[n,s,384] -> [n,12,s,32] (perm 0,2,1,3) or keys as [n,12,32,s] (perm 0,2,3,1)."""
        shape = self.const(np.array([0, 0, HEADS, HIDDEN // HEADS], np.int64))
        return self.op("Transpose", [self.op("Reshape", [x, shape])], perm=perm)

    def attention(self, x: str, mask_bias: str, prefix: str) -> str:
        q = self.heads(self.dense(x, f"{prefix}.self.query"), [0, 2, 1, 3])
        k = self.heads(self.dense(x, f"{prefix}.self.key"), [0, 2, 3, 1])
        v = self.heads(self.dense(x, f"{prefix}.self.value"), [0, 2, 1, 3])
        scale = self.const(np.array(1.0 / np.sqrt(HIDDEN // HEADS), np.float32))
        scores = self.op("Add", [self.op("Mul", [self.op("MatMul", [q, k]), scale]), mask_bias])
        context = self.op("MatMul", [self.op("Softmax", [scores], axis=-1), v])
        merged = self.op(
            "Reshape",
            [
                self.op("Transpose", [context], perm=[0, 2, 1, 3]),
                self.const(np.array([0, 0, HIDDEN], np.int64)),
            ],
        )
        out = self.dense(merged, f"{prefix}.output.dense")
        return self.layer_norm(self.op("Add", [out, x]), f"{prefix}.output.LayerNorm")

    def gelu(self, x: str) -> str:
        """Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as BERT's "gelu" is."""
        erf = self.op("Erf", [self.op("Mul", [x, self.const(np.array(2**-0.5, np.float32))])])
        one_plus = self.op("Add", [erf, self.const(np.array(1.0, np.float32))])
        return self.op(
            "Mul", [self.op("Mul", [x, one_plus]), self.const(np.array(0.5, np.float32))]
        )

    def layer(self, x: str, mask_bias: str, index: int) -> str:
        prefix = f"encoder.layer.{index}"
        x = self.attention(x, mask_bias, f"{prefix}.attention")
        hidden = self.gelu(self.dense(x, f"{prefix}.intermediate.dense"))
        out = self.dense(hidden, f"{prefix}.output.dense")
        return self.layer_norm(self.op("Add", [out, x]), f"{prefix}.output.LayerNorm")


def _embeddings(b: _Bert) -> str:
    """Word + position + token-type-0 embeddings, normalised: [n,s,384]."""
    w = b.weights
    # Single sentences only: token type is always 0, so its row folds into positions.
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    length = b.op(
        "Slice",
        [
            b.op("Shape", ["input_ids"]),
            b.const(np.array([1], np.int64)),
            b.const(np.array([2], np.int64)),
        ],
    )
    pos = b.op(
        "Slice", [b.const(positions.astype(np.float32)), b.const(np.array([0], np.int64)), length]
    )
    words = b.op("Gather", [b.const(w["embeddings.word_embeddings.weight"]), "input_ids"])
    return b.layer_norm(b.op("Add", [words, pos]), "embeddings.LayerNorm")


def build_graph(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """``input_ids``, ``attention_mask`` int64 [n,s] -> ``sentence_embedding`` [n,384]."""
    b = _Bert(weights)
    mask = b.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    # Padding gets -10000 before the softmax, as in BERT: exp() makes it ~0.
    big = b.const(np.array(-10000.0, np.float32))
    inverted = b.op("Sub", [b.const(np.array(1.0, np.float32)), mask])
    bias = b.op("Unsqueeze", [b.op("Mul", [inverted, big]), b.const(np.array([1, 2], np.int64))])
    x = _embeddings(b)
    for index in range(LAYERS):
        x = b.layer(x, bias, index)
    # Mean over real tokens only.
    mask3 = b.op("Unsqueeze", [mask, b.const(np.array([2], np.int64))])
    total = b.op(
        "ReduceSum", [b.op("Mul", [x, mask3]), b.const(np.array([1], np.int64))], keepdims=0
    )
    count = b.op("ReduceSum", [mask3, b.const(np.array([1], np.int64))], keepdims=0)
    count = b.op("Max", [count, b.const(np.array(1e-9, np.float32))])
    b.nodes.append(helper.make_node("Div", [total, count], ["sentence_embedding"]))
    ids = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["n", "s"])
        for n in ("input_ids", "attention_mask")
    ]
    out = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["n", HIDDEN])
    graph = helper.make_graph(b.nodes, "all_minilm_l6_v2", ids, [out], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
