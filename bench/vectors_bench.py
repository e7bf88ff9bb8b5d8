"""Builds the 1,000,000-vector HNSW of the details benchmark and times it.

    python bench/vectors_bench.py [--dir .bench/search-1000000] [--count 1000000]

The search benchmark's index has no embeddings, so this adds synthetic vectors
shaped like real ones: the real model (EfficientNet-Lite0, the "visual"
analyzer) embeds a few hundred real pictures (openclipart, GNOME backgrounds,
scikit-image photos) as topic centres; each synthetic vector is a centre plus
Gaussian noise, clipped at zero like the model's ReLU features, L2-normalised
(cosine to its centre ~0.8), keyed by the index's doc_ids 1..N. Without the
model or the pictures it falls back to Gaussian centres. The
file is written as the committed generation's vector file, exactly where the
server looks for it, so details_bench.py then measures similar-image lookups
against a million vectors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixsearch.index.metadb import MetaDB
from pixsearch.index.vectors import VectorIndex, generations

DIM = 1280
TOPICS = 400
CHUNK = 50_000
NOISE = 0.8  # noise standard deviation, in units of the centre's own per-dimension RMS


def picture_files(limit: int) -> list[Path]:
    """Real pictures from the Debian art packages and scikit-image, spread over folders."""
    roots = [Path("/usr/share/openclipart/png"), Path("/usr/share/backgrounds")]
    files = [p for root in roots if root.exists() for p in sorted(root.rglob("*.png"))]
    files += [p for root in roots if root.exists() for p in sorted(root.rglob("*.jpg"))]
    try:
        import skimage

        files += sorted((Path(skimage.__file__).parent / "data").glob("*.png"))
    except ImportError:
        pass
    step = max(len(files) // limit, 1)
    return files[::step][:limit]


def real_centres(rng: np.random.Generator) -> np.ndarray:
    try:
        from PIL import Image

        from pixsearch.models.analyzer import Understanding, load_analyzer

        analyzer = load_analyzer("visual")
        centres = []
        for path in picture_files(TOPICS):
            with Image.open(path) as image:
                seen = Understanding()
                analyzer.analyze(image.convert("RGB"), seen)
            if seen.embedding is not None:
                centres.append(seen.embedding)
        print(f"{len(centres)} topic centres from real pictures", flush=True)
        return np.stack(centres).astype(np.float32)
    except Exception as exc:  # the model is optional here: say so and fall back
        print(f"no real centres ({exc}); Gaussian centres instead", flush=True)
        centres = np.abs(rng.standard_normal((TOPICS, DIM), dtype=np.float32))
        return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def synthetic(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    picked = centres[rng.integers(0, len(centres), n)]
    scale = np.sqrt((picked**2).mean(axis=1, keepdims=True)) * NOISE
    vectors = np.maximum(picked + rng.standard_normal((n, DIM), dtype=np.float32) * scale, 0)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def build(root: Path, count: int, threads: int) -> None:
    meta = MetaDB(root / "meta.db", readonly=True)
    gen = meta.committed_gen()
    folder = root / "vectors"
    if gen in generations(folder):
        print(f"{folder} already has generation {gen}'s vectors")
        return
    rng = np.random.default_rng(5)
    centres = real_centres(rng)
    sample = synthetic(rng, centres[:1], 100)
    print(f"cosine of a synthetic vector to its centre: {float((sample @ centres[0]).mean()):.2f}")
    index = VectorIndex(folder, writable=True)
    started = time.perf_counter()
    for low in range(0, count, CHUNK):
        n = min(CHUNK, count - low)
        index.add_many(np.arange(low + 1, low + n + 1), synthetic(rng, centres, n), threads=threads)
        elapsed = time.perf_counter() - started
        print(f"{low + n:>9,} vectors  {elapsed:7.0f} s  {(low + n) / elapsed:6.0f}/s", flush=True)
    built = time.perf_counter() - started
    saved_at = time.perf_counter()
    path = index.save(gen)
    assert path is not None
    saved = time.perf_counter() - saved_at
    size = path.stat().st_size / 1e9
    print(f"built {count:,} vectors in {built:.0f} s ({count / built:.0f}/s, {threads} threads)")
    print(f"saved {path} ({size:.2f} GB) in {saved:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1000000"))
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    build(args.dir, args.count, args.threads)


if __name__ == "__main__":
    main()
