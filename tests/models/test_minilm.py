"""all-MiniLM-L6-v2 as an ONNX graph: meaning, batching, and agreement with a NumPy BERT."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from safetensors.numpy import load_file

from pixsearch.models.embedder import TextEmbedder, text_embedder
from pixsearch.models.minilm import DIM, MiniLM, encode, load_tokenizer, model_dir


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM()


def cos(model: MiniLM, a: str, b: str) -> float:
    rows = model.embed_texts([a, b])
    return float(rows[0] @ rows[1])


def test_meaning(minilm: MiniLM) -> None:
    assert cos(minilm, "puppy", "young dog") > cos(minilm, "puppy", "red car") + 0.15
    assert cos(minilm, "sunset over the sea", "dusk at the beach") > cos(
        minilm, "sunset over the sea", "spreadsheet formula"
    )
    # The sentence-transformers documentation's own example pair scores 0.7553.
    pair = cos(minilm, "A man is eating food.", "A man is eating a piece of bread.")
    assert pair == pytest.approx(0.7553, abs=2e-3)


def test_rows_are_unit_length_and_batch_independent(minilm: MiniLM) -> None:
    texts = ["cat", "a very long description of a harbour at night " * 3, "", "dog"] * 10
    batched = minilm.embed_texts(texts)
    assert batched.shape == (40, DIM) and batched.dtype == np.float32
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    for i in (0, 1, 2, 39):  # padding to the batch's longest text changes nothing
        assert np.allclose(minilm.embed_texts([texts[i]])[0], batched[i], atol=1e-5)
    assert minilm.embed_texts([]).shape == (0, DIM)


def test_long_texts_are_cut_at_128_pieces(minilm: MiniLM) -> None:
    ids, _ = encode(load_tokenizer(model_dir() / "tokenizer.json"), ["word " * 500])
    assert ids.shape == (1, 128)
    assert minilm.embed_texts(["word " * 500]).shape == (1, DIM)


def numpy_bert(texts: list[str]) -> np.ndarray:
    """Reference: BERT written out in NumPy from the same weights, one text at a time."""
    w = load_file(str(model_dir() / "model.safetensors"))
    tokenizer = load_tokenizer(model_dir() / "tokenizer.json")

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def dense(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    erf = np.vectorize(math.erf)
    out = []
    for text in texts:
        ids = np.array(tokenizer.encode(text).ids)
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][: len(ids)]
        x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        for i in range(6):
            p = f"encoder.layer.{i}"
            q, k, v = (
                dense(x, f"{p}.attention.self.{n}").reshape(len(ids), 12, 32).transpose(1, 0, 2)
                for n in ("query", "key", "value")
            )
            s = q @ k.transpose(0, 2, 1) / np.sqrt(32)
            a = np.exp(s - s.max(-1, keepdims=True))
            ctx = ((a / a.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(len(ids), 384)
            x = ln(dense(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            h = dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
            x = ln(dense(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        pooled = x.mean(0)
        out.append(pooled / np.linalg.norm(pooled))
    return np.array(out)


def test_graph_matches_numpy_bert(minilm: MiniLM) -> None:
    texts = ["golden retriever puppy on the grass", "Eiffel tower at night", "x"]
    assert np.allclose(minilm.embed_texts(texts), numpy_bert(texts), atol=1e-4)


def test_int8_weights_keep_the_meaning(minilm: MiniLM) -> None:
    int8 = MiniLM(int8=True)
    assert int8.int8 and not minilm.int8
    texts = [
        "golden retriever puppy on the grass",
        "black and white photograph of a city street in the rain",
        "vintage clip art of a kettle and two teacups",
        "lighthouse",
        "a very long description of a harbour at night " * 6,
    ]
    agreement = (minilm.embed_texts(texts) * int8.embed_texts(texts)).sum(axis=1)
    assert np.median(agreement) > 0.98 and agreement.min() > 0.95
    assert cos(int8, "puppy", "young dog") > cos(int8, "puppy", "red car") + 0.15
    ops = [node.op_type for node in onnx.load(int8.graph).graph.node]
    # The 36 weight products are int8; the 12 products of two activations (attention's
    # scores and mixing, two a layer) stay float.
    assert ops.count("MatMulInteger") == 36 and ops.count("MatMul") == 12


def test_the_setting_chooses_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXSEARCH_TEXT_INT8", "true")
    assert MiniLM().int8
    monkeypatch.setenv("PIXSEARCH_TEXT_INT8", "false")
    assert not MiniLM().int8


def test_loaded_by_name() -> None:
    embedder = text_embedder("minilm")
    assert isinstance(embedder, TextEmbedder) and embedder.dim == DIM
    assert text_embedder("minilm") is embedder  # one per process
