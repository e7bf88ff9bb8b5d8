"""Quality of the embedding-based insights, over real HTTP against a real index.

    python bench/quality_insights.py [--per-category 40] [--workers 2]

Indexes labelled real pictures with the "visual" analyzer: openclipart PNGs
(Debian package openclipart-png, one label per top-level folder), GNOME
backgrounds and scikit-image photos. Then measures:

1. recall@1 of finding the original from a modified copy uploaded by POST
   /images/details: resized to half size, recompressed as JPEG quality 40, or
   cropped by 5 % on every side (10 % of each dimension). Found = the original
   is among pagesIncluding (matched as a near-duplicate) or is the first
   visuallySimilarImages result. The embedding alone (nearest vector, no
   near-duplicate path) is reported too.
2. precision@10 of visuallySimilarImages: for each labelled picture (GET by id),
   the share of its top 10 similar images that carry the same label.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import start_server, stop_server

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.parallel import process_many
from pixsearch.ingest.pipeline import Processed
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb

CLIPART = Path("/usr/share/openclipart/png")
CATEGORIES = ("animals", "buildings", "food", "people", "plants", "tools", "transportation")
CATEGORIES += ("office",)
BACKGROUNDS = Path("/usr/share/backgrounds")


def labelled_files(per_category: int) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for category in CATEGORIES:
        found = sorted((CLIPART / category).rglob("*.png"))
        step = max(len(found) // per_category, 1)
        files.update({path: category for path in found[::step][:per_category]})
    return files


def unlabelled_files() -> list[Path]:
    extra = sorted(BACKGROUNDS.rglob("*.webp")) + sorted(BACKGROUNDS.rglob("*.jpg"))
    try:
        import skimage

        extra += sorted((Path(skimage.__file__).parent / "data").glob("*.png"))
    except ImportError:
        pass
    return extra


def build_index(root: Path, files: list[Path], workers: int) -> dict[Path, str]:
    """Index the files with the visual analyzer; path -> imageId of what was indexed."""
    store = EmbeddedStore(root, writable=True)
    indexer = Indexer(store)
    ids: dict[Path, str] = {}
    started = time.perf_counter()
    for item in process_many(files, PipelineConfig(analyzers=("visual",)), workers=workers):
        indexer.handle(item)
        if isinstance(item, Processed) and item.occurrence.local_path:
            ids[Path(item.occurrence.local_path)] = item.facts.image_id
    indexer.commit()
    store.close()
    print(f"indexed {len(ids)} pictures in {time.perf_counter() - started:.0f} s", flush=True)
    return ids


def rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            canvas = Image.new("RGB", image.size, (255, 255, 255))
            canvas.paste(image, mask=image.getchannel("A"))
            return canvas
        return image.convert("RGB")


def fit(image: Image.Image, side: int = 1600) -> Image.Image:
    """Keep uploads under the 1 MB cap: no side above `side` pixels."""
    if max(image.size) <= side:
        return image
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)))


def as_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    fit(image).save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized(image: Image.Image) -> bytes:
    return as_jpeg(image.resize((max(image.width // 2, 1), max(image.height // 2, 1))))


def recompressed(image: Image.Image) -> bytes:
    return as_jpeg(image, quality=40)


def cropped(image: Image.Image) -> bytes:
    dx, dy = image.width // 20, image.height // 20
    return as_jpeg(image.crop((dx, dy, image.width - dx, image.height - dy)))


VARIANTS: dict[str, Callable[[Image.Image], bytes]] = {
    "resized 50%": resized,
    "JPEG q40": recompressed,
    "cropped 5% each side": cropped,
}


def found_original(body: dict, original: str) -> bool:
    pages = {p["imageId"] for p in body.get("pagesIncluding", {}).get("value", [])}
    similar = [s["imageId"] for s in body.get("visuallySimilarImages", {}).get("value", [])]
    return original in pages or (bool(similar) and similar[0] == original)


def embedding_top1(store: EmbeddedStore, data: bytes, original: str) -> bool:
    """Nearest vector alone (no near-duplicate path): is it the original's group?"""
    from pixsearch.ingest.pipeline import process_bytes
    from pixsearch.records import Occurrence

    item = process_bytes(data, Occurrence(source="q"), PipelineConfig(analyzers=("visual",)))
    if not isinstance(item, Processed) or item.embedding is None:
        return False
    doc = store.get_by_image_id(original)
    hits = store.similar(item.embedding, k=1)
    return bool(hits) and doc is not None and hits[0].group_id == doc.group_id


def recall(
    client: httpx.Client, store: EmbeddedStore, ids: dict[Path, str], sample: list[Path]
) -> dict[str, tuple[float, float, float]]:
    """variant -> (system recall@1, embedding-only recall@1, median POST ms)."""
    out = {}
    for name, make in VARIANTS.items():
        system = vector = 0
        times = []
        for path in sample:
            data = make(rgb(path))
            started = time.perf_counter()
            response = client.post(
                "/v7.0/images/details",
                params={"modules": "SimilarImages,PagesIncluding"},
                files={"image": ("copy.jpg", data, "image/jpeg")},
            )
            times.append(time.perf_counter() - started)
            response.raise_for_status()
            system += found_original(response.json(), ids[path])
            vector += embedding_top1(store, data, ids[path])
        n = len(sample)
        out[name] = (system / n, vector / n, statistics.median(times) * 1000)
        print(f"{name}: recall@1 {system / n:.3f}, embedding only {vector / n:.3f}", flush=True)
    return out


def precision(
    client: httpx.Client, ids: dict[Path, str], labels: dict[Path, str]
) -> tuple[float, dict[str, float]]:
    """Mean precision@10 of visuallySimilarImages over labelled pictures, and per label."""
    label_of = {ids[p]: label for p, label in labels.items() if p in ids}
    per_label: dict[str, list[float]] = {}
    for image_id, label in label_of.items():
        body = client.get(
            "/v7.0/images/details", params={"id": image_id, "modules": "SimilarImages"}
        ).json()
        similar = [s["imageId"] for s in body.get("visuallySimilarImages", {}).get("value", [])]
        top = similar[:10]
        hits = sum(label_of.get(s) == label for s in top)
        per_label.setdefault(label, []).append(hits / 10)
    every = [v for values in per_label.values() for v in values]
    return statistics.mean(every), {k: statistics.mean(v) for k, v in sorted(per_label.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=40)
    parser.add_argument("--recall-sample", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    labels = labelled_files(args.per_category)
    files = [*labels, *unlabelled_files()]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        ids = build_index(root, files, args.workers)
        key = SqliteKeyStore(ServiceDb(root / "service.db")).create("quality")
        process, base = start_server(root)
        store = EmbeddedStore(root)
        try:
            with httpx.Client(
                base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=120
            ) as client:
                indexed = [p for p in files if p in ids]
                step = max(len(indexed) // args.recall_sample, 1)
                sample = indexed[::step][: args.recall_sample]
                found = recall(client, store, ids, sample)
                mean, by_label = precision(client, ids, labels)
        finally:
            stop_server(process)
    print(f"\n{len(ids)} pictures indexed, {len(sample)} originals x {len(VARIANTS)} copies")
    print("| copy | recall@1 (details) | nearest vector only | median POST |")
    print("|---|---:|---:|---:|")
    for name, (system, vector, ms) in found.items():
        print(f"| {name} | {system:.3f} | {vector:.3f} | {ms:.0f} ms |")
    print(f"\nprecision@10 of visuallySimilarImages, {len(CATEGORIES)} labels: {mean:.3f}")
    print("| label | precision@10 |\n|---|---:|")
    for label, value in by_label.items():
        print(f"| {label} | {value:.3f} |")


if __name__ == "__main__":
    main()
