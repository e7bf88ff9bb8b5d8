"""EfficientNet-Lite0 built from the PyTorch checkpoint without PyTorch: real photos, real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image
from skimage import data

from pixsearch.models import cache, efficientnet
from pixsearch.models.efficientnet import FEATURE_DIM, EfficientNetLite0, checkpoint_path, softmax
from pixsearch.models.efficientnet_graph import build_graph
from pixsearch.models.quantize import Int8Unavailable
from pixsearch.models.torchfile import load_state_dict

# ImageNet-1k class indices.
CATS = {281, 282, 285}  # tabby, tiger cat, Egyptian cat
COFFEE = {967, 968, 504}  # espresso, cup, coffee mug
ROCKETS = {657, 744, 812}  # missile, projectile, space shuttle


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return EfficientNetLite0(int8=True)


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
    first = EfficientNetLite0(int8=True)
    # The float graph from the checkpoint, and the int8 graph made from it.
    files = sorted(tmp_path.glob("efficientnet-lite0-*.onnx"))
    assert [f.name.startswith("efficientnet-lite0-int8-") for f in files] == [False, True]
    assert not list(tmp_path.glob(".*"))  # no temp file left behind
    stamps = []
    for file in files:
        onnx.checker.check_model(str(file))
        stamps.append(file.stat().st_mtime_ns)
    EfficientNetLite0(int8=True)  # reuses both, rebuilds neither
    assert [file.stat().st_mtime_ns for file in files] == stamps
    assert first.embed_images([photo("coffee")]).shape == (1, FEATURE_DIM)


def test_int8_graph_agrees_with_the_float_graph(model: EfficientNetLite0) -> None:
    """On real photos the int8 graph's embeddings stay close to the float graph's and
    the top class is the same (cosine measured 0.97-0.99). Float is the default."""
    assert model.int8
    exact = EfficientNetLite0()
    assert not exact.int8
    pictures = [photo(name) for name in ("chelsea", "coffee", "rocket", "astronaut")]
    (quantized, q_logits), (reference, r_logits) = model.run(pictures), exact.run(pictures)
    assert ((quantized * reference).sum(axis=1) > 0.95).all()
    assert (q_logits.argmax(axis=1) == r_logits.argmax(axis=1)).all()


def test_an_onnxruntime_without_stored_ranges_runs_the_float_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(*_: object) -> Path:
        raise Int8Unavailable("old onnxruntime")

    monkeypatch.setattr(efficientnet, "int8_graph", unavailable)
    model = EfficientNetLite0(int8=True)
    assert not model.int8
    assert top5(model, photo("chelsea")) & CATS


def test_cache_key_follows_the_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXSEARCH_MODEL_CACHE", str(tmp_path / "cache"))
    one, two = tmp_path / "a.bin", tmp_path / "b.bin"
    one.write_bytes(b"one")
    two.write_bytes(b"two")
    model = build_graph(load_state_dict(checkpoint_path()))
    assert cache.cached_onnx("m", one, lambda: model) != cache.cached_onnx("m", two, lambda: model)


def test_the_visual_int8_setting_chooses_the_int8_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not EfficientNetLite0().int8  # float unless asked: indexes hold float embeddings
    monkeypatch.setenv("PIXSEARCH_VISUAL_INT8", "1")
    assert EfficientNetLite0().int8
