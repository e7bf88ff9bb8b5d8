"""EfficientNet-Lite0 built from the PyTorch checkpoint without PyTorch: real photos, real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image
from skimage import data

from pixsearch.models import cache
from pixsearch.models.efficientnet import (
    FEATURE_DIM,
    EfficientNetLite0,
    build_graph,
    checkpoint_path,
    softmax,
)
from pixsearch.models.torchfile import load_state_dict

# ImageNet-1k class indices.
CATS = {281, 282, 285}  # tabby, tiger cat, Egyptian cat
COFFEE = {967, 968, 504}  # espresso, cup, coffee mug
ROCKETS = {657, 744, 812}  # missile, projectile, space shuttle


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return EfficientNetLite0()


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def top5(model: EfficientNetLite0, image: Image.Image) -> set[int]:
    _, logits = model.run([image])
    return set(np.argsort(-logits[0])[:5].tolist())


def test_checkpoint_reads_without_torch() -> None:
    weights = load_state_dict(checkpoint_path())
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_fc.weight"].shape == (1000, 1280)
    assert weights["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert all(np.isfinite(v).all() for v in weights.values() if v.dtype.kind == "f")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("chelsea", CATS), ("coffee", COFFEE), ("rocket", ROCKETS)],
)
def test_real_photos_are_classified(model: EfficientNetLite0, name: str, expected: set) -> None:
    assert top5(model, photo(name)) & expected


def test_cat_is_confident(model: EfficientNetLite0) -> None:
    _, logits = model.run([photo("chelsea")])
    assert softmax(logits)[0, sorted(CATS)].sum() > 0.8


def test_features_are_normalised_and_discriminative(model: EfficientNetLite0) -> None:
    cat, astronaut = photo("chelsea"), photo("astronaut")
    mirrored = cat.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    features, _ = model.run([cat, mirrored, astronaut])
    assert features.shape == (3, FEATURE_DIM) and features.dtype == np.float32
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    same, other = features[0] @ features[1], features[0] @ features[2]
    assert same > 0.9 and other < same - 0.3


def test_batch_equals_single(model: EfficientNetLite0) -> None:
    images = [photo("chelsea"), photo("coffee"), photo("rocket").convert("L").convert("RGB")]
    batched, _ = model.run(images)
    for i, image in enumerate(images):
        assert np.allclose(model.run([image])[0][0], batched[i], atol=1e-4)
    assert model.run([])[0].shape == (0, FEATURE_DIM)


def test_graph_is_cached_by_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXSEARCH_MODEL_CACHE", str(tmp_path))
    first = EfficientNetLite0()
    files = list(tmp_path.glob("efficientnet-lite0-*.onnx"))
    assert len(files) == 1 and not list(tmp_path.glob(".*"))  # no temp file left behind
    onnx.checker.check_model(str(files[0]))
    stamp = files[0].stat().st_mtime_ns
    EfficientNetLite0()  # reuses, does not rebuild
    assert files[0].stat().st_mtime_ns == stamp
    assert first.embed_images([photo("coffee")]).shape == (1, FEATURE_DIM)


def test_cache_key_follows_the_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXSEARCH_MODEL_CACHE", str(tmp_path / "cache"))
    one, two = tmp_path / "a.bin", tmp_path / "b.bin"
    one.write_bytes(b"one")
    two.write_bytes(b"two")
    model = build_graph(load_state_dict(checkpoint_path()))
    assert cache.cached_onnx("m", one, lambda: model) != cache.cached_onnx("m", two, lambda: model)
