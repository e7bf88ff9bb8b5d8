"""int8 graphs: onnxruntime's quantization, cached by the float graph they come from.

Convolutional graphs (EfficientNet) are quantized statically, ranges and all;
transformer graphs (MiniLM) dynamically, weights only (``weight_int8_graph``).

Static quantization needs the range of every activation it quantizes. Those ranges
are measured once, on pictures held apart from every quality set
(``bench/calibrate_models.py``), and shipped as onnxruntime's own calibration cache
(JSON, ``models/data/``). At run time the int8 graph is made from the float graph and
that file, without any picture, and kept beside the float graph under a key that
follows both the weights and the ranges (models/cache.py).

Weights are int8 per output channel, activations uint8 (QDQ format): on a CPU with
VNNI, onnxruntime fuses each Q/DQ pair around a convolution into one QLinearConv.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from pixsearch.models.cache import cached_onnx

if TYPE_CHECKING:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader


@dataclass(frozen=True, slots=True)
class Int8Recipe:
    """How one float graph is quantized: what to quantize, from which shipped ranges."""

    name: str  # the cached graph's name, e.g. "efficientnet-lite0-int8"
    ranges: str  # the calibration cache's file name in models/data/
    op_types: tuple[str, ...]  # node types quantized; everything else stays float


class Int8Unavailable(RuntimeError):
    """This onnxruntime cannot quantize from a calibration cache (that came in 1.32)."""


def ranges_path(recipe: Int8Recipe) -> Path:
    return Path(str(files("pixsearch.models") / "data" / recipe.ranges))


def int8_graph(float_graph: Path, recipe: Int8Recipe) -> Path:
    """The path of the int8 graph made from ``float_graph`` with ``recipe``, built if absent.

    The ranges' digest is part of the name, so new ranges never reuse a stale graph.
    Raises Int8Unavailable when the installed onnxruntime cannot read the ranges.
    """
    try:
        from onnxruntime.quantization import quantize_static
    except ImportError as exc:  # its tools import ml_dtypes, which only newer onnx brings
        raise Int8Unavailable(f"onnxruntime's quantization tools cannot load: {exc}") from exc
    if "calibration_cache_path" not in inspect.signature(quantize_static).parameters:
        raise Int8Unavailable("onnxruntime >= 1.32 is needed to quantize from stored ranges")
    ranges = ranges_path(recipe)
    digest = hashlib.sha256(ranges.read_bytes()).hexdigest()[:8]
    return cached_onnx(
        f"{recipe.name}-{digest}", float_graph, lambda: quantized(float_graph, ranges, recipe)
    )


def quantized(
    float_graph: Path,
    ranges: Path,
    recipe: Int8Recipe,
    reader: CalibrationDataReader | None = None,
) -> onnx.ModelProto:
    """Quantize ``float_graph``: from the ranges file when it exists, else measure them
    with ``reader`` (an onnxruntime CalibrationDataReader) and write them there."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory(prefix="pixsearch-int8-") as tmp, _quiet():
        target = Path(tmp) / "int8.onnx"
        quantize_static(
            float_graph,
            target,
            reader,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(recipe.op_types),
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibration_cache_path=ranges,
        )
        return onnx.load(target)


def weight_int8_graph(float_graph: Path, name: str) -> Path:
    """The path of ``float_graph`` with int8 weights in its matrix products, built if absent.

    Dynamic quantization: each MatMul whose second operand is a weight gets int8
    weights per output channel, and its input is quantized row by row as it runs, so
    no ranges are measured or shipped. The products of two activations (attention's
    scores and mixing) stay float: quantizing those too cost a transformer's
    sentence embeddings their agreement with the float graph (median cosine 0.93
    against 0.99). Raises Int8Unavailable when onnxruntime's tools cannot load.
    """
    try:
        from onnxruntime.quantization import quantize_dynamic
    except ImportError as exc:  # its tools import ml_dtypes, which only newer onnx brings
        raise Int8Unavailable(f"onnxruntime's quantization tools cannot load: {exc}") from exc

    def build() -> onnx.ModelProto:
        import onnx

        graph = onnx.load(float_graph)
        weights = {tensor.name for tensor in graph.graph.initializer}
        products = [
            node.name
            for node in graph.graph.node
            if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in weights
        ]
        with tempfile.TemporaryDirectory(prefix="pixsearch-int8-") as tmp, _quiet():
            target = Path(tmp) / "int8.onnx"
            quantize_dynamic(float_graph, target, nodes_to_quantize=products, per_channel=True)
            return onnx.load(target)

    return cached_onnx(name, float_graph, build)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """quantize_static advises "pre-processing" on the root logger at WARNING: once per
    worker that builds the graph, on the console, about a step this graph does not need."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
