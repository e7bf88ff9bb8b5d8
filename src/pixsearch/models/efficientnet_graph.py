"""The ONNX graph of EfficientNet-Lite0, written from the PyTorch checkpoint's weights.

It mirrors the ``efficientnet-lite-pytorch`` port's ``EfficientNet``: a 3x3/2 stem of
32 channels, 16 MBConv blocks (expand 1x1, depthwise kxk, project 1x1; no
squeeze-excite), a 1x1 head of 1280 channels, global average pooling and a 1000-way
linear layer. Activations are ReLU6 and every convolution uses TensorFlow "SAME"
padding, which ONNX calls ``SAME_UPPER``. BatchNorm (eps 1e-3) is folded into the
preceding convolution. Apart from ``efficientnet.py`` because onnx takes seconds to
import and is needed only when the cached graph is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_BN_EPS = 1e-3
# (repeats, kernel, stride, expand ratio, in channels, out channels), as in the
# port's utils.efficientnet_lite(); Lite0 has width and depth multipliers of 1.
BLOCKS: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


@dataclass
class _GraphBuilder:
    """Collects nodes and folded weights while walking the layers in order."""

    weights: dict[str, np.ndarray]
    nodes: list[onnx.NodeProto]
    inits: list[onnx.TensorProto]
    count: int = 0

    def _name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, prefix: str, value: np.ndarray) -> str:
        name = self._name(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, stride: int, groups: int, act: bool) -> str:
        """Convolution with BatchNorm folded in, optionally followed by ReLU6."""
        w = self.weights[f"{conv}.weight"].astype(np.float64)
        gamma, beta = self.weights[f"{bn}.weight"], self.weights[f"{bn}.bias"]
        mean, var = self.weights[f"{bn}.running_mean"], self.weights[f"{bn}.running_var"]
        scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + _BN_EPS)
        folded_w = (w * scale[:, None, None, None]).astype(np.float32)
        folded_b = (beta - mean * scale).astype(np.float32)
        k = int(w.shape[-1])
        out = self._name("conv")
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, self.const("w", folded_w), self.const("b", folded_b)],
                [out],
                kernel_shape=[k, k],
                strides=[stride, stride],
                group=groups,
                auto_pad="SAME_UPPER" if k > 1 or stride > 1 else "NOTSET",
            )
        )
        if not act:
            return out
        relu = self._name("relu6")
        self.nodes.append(helper.make_node("Clip", [out, "zero", "six"], [relu]))
        return relu

    def block(self, x: str, index: int, stride: int, expand: int, skip: bool) -> str:
        prefix = f"_blocks.{index}"
        h = x
        if expand != 1:
            h = self.conv_bn(h, f"{prefix}._expand_conv", f"{prefix}._bn0", 1, 1, True)
        channels = self.weights[f"{prefix}._depthwise_conv.weight"].shape[0]
        h = self.conv_bn(h, f"{prefix}._depthwise_conv", f"{prefix}._bn1", stride, channels, True)
        h = self.conv_bn(h, f"{prefix}._project_conv", f"{prefix}._bn2", 1, 1, False)
        if not skip:
            return h
        out = self._name("add")
        self.nodes.append(helper.make_node("Add", [h, x], [out]))
        return out


def build_graph(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The ONNX graph: ``pixel_values`` [n,3,224,224] -> ``features`` [n,1280], ``logits``."""
    classes, features = weights["_fc.weight"].shape
    g = _GraphBuilder(weights, [], [])
    g.inits += [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six"),
    ]
    x = g.conv_bn("pixel_values", "_conv_stem", "_bn0", 2, 1, True)
    index = 0
    for repeats, _k, stride, expand, c_in, c_out in BLOCKS:
        for r in range(repeats):
            first = r == 0
            skip = not first or (stride == 1 and c_in == c_out)
            x = g.block(x, index, stride if first else 1, expand, skip)
            index += 1
    x = g.conv_bn(x, "_conv_head", "_bn1", 1, 1, True)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    fc_w = g.const("fc_w", weights["_fc.weight"].astype(np.float32))
    fc_b = g.const("fc_b", weights["_fc.bias"].astype(np.float32))
    g.nodes.append(helper.make_node("Gemm", ["features", fc_w, fc_b], ["logits"], transB=1))
    graph = helper.make_graph(
        g.nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 224, 224])],
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", features]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", classes]),
        ],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime pixsearch supports
    onnx.checker.check_model(model)
    return model
