"""``clip-onnx``: a CLIP-style image/text embedder from ONNX files the user provides.

pixsearch ships no CLIP weights; point ``Settings.clip_model_dir``
(docs/settings.md) at a folder holding:

``image_model.onnx``
    input ``pixel_values`` float32 [n, 3, S, S] (S = ``image_size``, default 224),
    output ``image_embeds`` float32 [n, d].
``text_model.onnx``
    input ``input_ids`` int64 [n, t], and ``attention_mask`` int64 [n, t] if the
    model declares it; output ``text_embeds`` float32 [n, d], the same d.
``tokenizer.json``
    a Hugging Face ``tokenizers`` file (CLIP's BPE for OpenAI CLIP exports).
``clip.json`` (optional)
    ``{"image_size": 224, "mean": [..3..], "std": [..3..], "max_tokens": 77,
    "pad_token": "<|endoftext|>", "min_similarity": 0.2}``; the defaults are
    OpenAI CLIP's. ``min_similarity`` is the text-to-image cosine under which a
    query's nearest pictures are dropped (see ``MIN_SIMILARITY``).

Exports from Hugging Face ``CLIPModel`` (``get_image_features`` and
``get_text_features`` as two graphs, e.g. with optimum's ``clip`` exporter and
the outputs renamed) fit this layout. Pictures are resized on the short side to
S (bicubic) and centre-cropped, then normalised by mean/std on the 0-1 scale.
Outputs are L2-normalised here, so a model may or may not normalise itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tokenizers import Tokenizer

from pixsearch.models.efficientnet import center_square, l2_normalise
from pixsearch.models.runtime import new_session

IMAGE_MODEL = "image_model.onnx"
TEXT_MODEL = "text_model.onnx"
TOKENIZER = "tokenizer.json"
CONFIG = "clip.json"
# Text-to-image cosine floor for search. CLIP's text-image cosines sit on their own,
# lower scale than MiniLM's text-text ones (its floor is 0.35): for OpenAI's ViT-B/32 a
# fitting caption typically scores about 0.25-0.35 and an unrelated one about 0.1-0.2
# (published figures, not measured here). Other CLIP models shift this, hence the
# clip.json override.
MIN_SIMILARITY = 0.2


@dataclass(frozen=True)
class ClipConfig:
    image_size: int = 224
    mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
    max_tokens: int = 77
    pad_token: str = "<|endoftext|>"
    min_similarity: float = MIN_SIMILARITY

    @classmethod
    def read(cls, folder: Path) -> ClipConfig:
        path = folder / CONFIG
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])
        return cls(**known)


def _tokenizer(path: Path, config: ClipConfig) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=config.max_tokens)
    if tokenizer.padding is None:  # keep a file's own padding (CLIP's is fixed at 77)
        pad_id = tokenizer.token_to_id(config.pad_token)
        if pad_id is None:
            pad_id = 0
        tokenizer.enable_padding(pad_id=pad_id, pad_token=config.pad_token)
    return tokenizer


class ClipOnnx:
    """Images and texts in one space: an ``ImageEmbedder`` and a ``TextEmbedder``."""

    name = "clip-onnx"

    def __init__(self, model_dir: str | Path, threads: int = 1):
        folder = Path(model_dir)
        missing = [n for n in (IMAGE_MODEL, TEXT_MODEL, TOKENIZER) if not (folder / n).exists()]
        if missing:
            raise FileNotFoundError(f"clip-onnx: {folder} lacks {', '.join(missing)}")
        self.config = ClipConfig.read(folder)
        self._image = new_session(folder / IMAGE_MODEL, threads)
        self._text = new_session(folder / TEXT_MODEL, threads)
        self._text_inputs = {i.name for i in self._text.get_inputs()}
        self._tokenizer = _tokenizer(folder / TOKENIZER, self.config)
        self.dim = int(self.embed_texts(["a photo"]).shape[1])
        probe = Image.new("RGB", (self.config.image_size, self.config.image_size))
        if self.embed_images([probe]).shape[1] != self.dim:
            raise ValueError("clip-onnx: image and text embeddings differ in size")

    def preprocess(self, images: list[Image.Image]) -> np.ndarray:
        size = self.config.image_size
        mean = np.array(self.config.mean, np.float32)
        std = np.array(self.config.std, np.float32)
        batch = np.empty((len(images), 3, size, size), dtype=np.float32)
        for i, image in enumerate(images):
            square = center_square(image.convert("RGB"), 1.0)
            pixels = np.asarray(square.resize((size, size), Image.Resampling.BICUBIC), np.float32)
            batch[i] = ((pixels / 255.0 - mean) / std).transpose(2, 0, 1)
        return batch

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        (rows,) = self._image.run(["image_embeds"], {"pixel_values": self.preprocess(images)})
        return l2_normalise(rows)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64)}
        if "attention_mask" in self._text_inputs:
            feeds["attention_mask"] = np.array(
                [e.attention_mask for e in encodings], dtype=np.int64
            )
        (rows,) = self._text.run(["text_embeds"], feeds)
        return l2_normalise(rows)
