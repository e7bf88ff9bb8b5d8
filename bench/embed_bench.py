"""Speed of the models (issue 5) on one core, and precision of the visual tags.

    python bench/embed_bench.py            # all of it, ~1 minute
    python bench/embed_bench.py --quick    # fewer repetitions

Measures, with onnxruntime on one thread (the pipeline runs one worker per core):
  - graph build time from the weights (empty cache) and load time (cached);
  - the "visual" analyzer on 474-pixel thumbnails (what the pipeline hands it),
    one picture per call as the pipeline calls it, and batched embedding;
  - MiniLM on image-text-like strings: batches of 32, and one short query at a time;
  - tag precision@3 on scikit-image's photographs against labels written down
    before looking at the output (``LABELS``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixsearch.models import cache
from pixsearch.models.analyzer import Understanding
from pixsearch.models.minilm import MiniLM
from pixsearch.models.visual import VisualAnalyzer

# What each photo shows, as words a searcher would type; a tag counts as right
# only if it is one of these. Written from the pictures, not from the model.
LABELS: dict[str, set[str]] = {
    "chelsea": {
        "cat",
        "tabby",
        "tabby cat",
        "domestic cat",
        "feline",
        "animal",
        "mammal",
        "carnivore",
        "tiger cat",
        "egyptian cat",
    },
    "coffee": {
        "coffee",
        "espresso",
        "cup",
        "coffee mug",
        "mug",
        "beverage",
        "drinking vessel",
        "saucer",
        "tableware",
        "crockery",
        "plate",
        "spoon",
    },
    "rocket": {"rocket", "missile", "projectile", "space shuttle", "spacecraft", "vehicle"},
    "astronaut": {"person", "astronaut", "spacesuit", "space suit", "flag", "clothing"},
    "stereo_motorcycle": {
        "motorcycle",
        "motorbike",
        "moped",
        "motor scooter",
        "motor vehicle",
        "vehicle",
        "crash helmet",
        "helmet",
    },
    "camera": {"camera", "reflex camera", "tripod", "person", "photographer", "coat", "grass"},
    "coins": {"coin", "money", "currency", "metal"},
    "moon": {"moon", "crater", "planet", "space"},
    "clock": {"clock", "wall clock", "analog clock", "timepiece", "timer"},
    "horse": {"horse", "equine", "animal", "mammal", "sorrel", "silhouette"},
    "hubble_deep_field": {"galaxy", "star", "space", "sky"},
    "retina": {"eye", "retina"},
}


CAPTION_WORDS = (
    "golden retriever puppy grass sunset beach harbour night city street red car mountain"
    " lake forest snow portrait of a woman smiling coffee cup table kitchen photo view"
)


def photo(name: str) -> Image.Image:
    pixels = getattr(data, name)()
    pixels = pixels[0] if isinstance(pixels, tuple) else pixels
    image = Image.fromarray(pixels).convert("RGB")
    image.thumbnail((474, 474))
    return image


def timed(run: Callable[[], object], repeat: int, items: int) -> tuple[float, float]:
    """Median seconds per item: process CPU time and wall time.

    With onnxruntime on one thread the work runs in this thread, so CPU time is
    what one core costs per item even on a shared, loaded machine; wall time
    is printed beside it to show how loaded the machine was.
    """
    run()  # warm-up
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        run()
        cpu.append((time.process_time() - c0) / items)
        wall.append((time.perf_counter() - w0) / items)
    return statistics.median(cpu), statistics.median(wall)


def row(what: str, unit: str, cpu: float, wall: float) -> None:
    print(f"| {what} | {1 / cpu:.1f} {unit}/s | {cpu * 1e3:.1f} ms | {wall * 1e3:.1f} ms |")


def build_times() -> None:
    from pixsearch.models.efficientnet import EfficientNetLite0

    with tempfile.TemporaryDirectory() as folder:
        import os

        os.environ["PIXSEARCH_MODEL_CACHE"] = folder
        for label, make in (("efficientnet", EfficientNetLite0), ("minilm", MiniLM)):
            start = time.perf_counter()
            make()
            cold = time.perf_counter() - start
            start = time.perf_counter()
            make()
            warm = time.perf_counter() - start
            print(f"| {label} graph | build {cold:.2f} s | load from cache {warm:.2f} s |")
        del os.environ["PIXSEARCH_MODEL_CACHE"]
    print(f"(cache: {cache.cache_dir()})")


def visual_speed(repeat: int) -> None:
    analyzer = VisualAnalyzer(threads=1)
    pictures = [photo(n) for n in ("chelsea", "coffee", "rocket", "astronaut")]

    def one_by_one() -> None:
        for picture in pictures:
            analyzer.analyze(picture, Understanding())

    print("| what | per core (CPU time) | CPU per item | wall per item |")
    print("|---|---:|---:|---:|")
    row("visual analyzer, 1 picture per call", "images", *timed(one_by_one, repeat, 4))
    batch = pictures * 4
    cost = timed(lambda: analyzer.model.embed_images(batch), max(2, repeat // 2), len(batch))
    row("efficientnet embeddings, batches of 16", "images", *cost)


def minilm_speed(repeat: int) -> None:
    """Both graphs (float, and int8 weights: the text_int8 setting) on the same texts."""
    rng = np.random.default_rng(5)
    vocab = CAPTION_WORDS.split()
    texts = [" ".join(rng.choice(vocab, int(rng.integers(8, 40)))) for _ in range(128)]
    query = ["red sports car"]
    vectors = {}
    for int8 in (False, True):
        model = MiniLM(threads=1, int8=int8)
        name = "minilm int8" if model.int8 else "minilm"
        cost = timed(lambda m=model: m.embed_texts(texts), max(2, repeat // 2), len(texts))
        row(f"{name}, batches of 32 texts of 8-40 words", "texts", *cost)
        row(
            f"{name}, one 3-word query",
            "queries",
            *timed(lambda m=model: m.embed_texts(query), repeat * 10, 1),
        )
        vectors[int8] = model.embed_texts(texts)
    cosine = (vectors[False] * vectors[True]).sum(axis=1)
    print(f"int8 against float, cosine: median {np.median(cosine):.4f}, least {cosine.min():.4f}")


def tag_precision() -> None:
    analyzer = VisualAnalyzer(threads=1)
    right = shown = untagged = 0
    for name, truth in LABELS.items():
        seen = Understanding()
        analyzer.analyze(photo(name), seen)
        top = [word for word, _ in seen.tags[:3]]
        good = [w for w in top if w in truth]
        right, shown = right + len(good), shown + len(top)
        untagged += not top
        tags = ", ".join(f"{w} {c:.2f}" for w, c in seen.tags[:5]) or "(none)"
        print(f"| {name} | {len(good)}/{len(top)} | {tags} |")
    print(
        f"precision@3: {right}/{shown} = {right / max(shown, 1):.2f}; "
        f"pictures without tags: {untagged}/{len(LABELS)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else 10
    build_times()
    visual_speed(repeat)
    minilm_speed(repeat)
    tag_precision()


if __name__ == "__main__":
    main()
