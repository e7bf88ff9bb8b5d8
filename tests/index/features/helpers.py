"""A small real corpus for feature and build tests: distinct pictures, near and exact copies."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from pixsearch.demo.samples import COLOURS, draw_shape
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.index.store import ReadStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import LocalDistributor, split_paths
from pixsearch.ingest.sources import iter_files


def write_corpus(folder: Path) -> list[Path]:
    """~20 files: shapes, mosaics, two near-copies, two exact copies and one broken file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shape in ("circle", "square", "triangle", "star"):
        for colour in ("red", "blue"):
            path = folder / "shapes" / f"{colour}-{shape}-on-white.png"
            path.parent.mkdir(exist_ok=True)
            draw_shape(shape, COLOURS[colour], (250, 250, 250)).save(path)
            written.append(path)
    rng = np.random.default_rng(5)
    for i in range(6):
        blocks = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
        path = folder / "mosaics" / f"mosaic-pattern-{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(blocks).resize((300 + i, 200 + i), Image.Resampling.NEAREST).save(path)
        written.append(path)
    copies = folder / "copies"
    copies.mkdir()
    with Image.open(folder / "shapes" / "red-circle-on-white.png") as image:
        image.resize((576, 432)).save(copies / "red-circle-smaller-copy.jpg", quality=90)
    with Image.open(folder / "shapes" / "blue-star-on-white.png") as image:
        image.convert("RGB").save(copies / "blue-star-recompressed.jpg", quality=70)
    for name in ("red-circle-on-white.png", "blue-square-on-white.png"):
        (copies / f"same-bytes-{name}").write_bytes((folder / "shapes" / name).read_bytes())
    (copies / "broken-picture.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    written += sorted(copies.iterdir())
    return written


def image_files(folder: Path) -> list[Path]:
    return [p for p in iter_files([folder]) if isinstance(p, Path)]


def write_features(folder: Path, features: FeatureFolder, *, shard_files: int = 5) -> None:
    """The corpus's feature shards, as `ingest --features` writes them (in this process)."""
    shards = split_paths(image_files(folder), shard_files)
    for outcome in LocalDistributor(workers=1).run(shards, features, PipelineConfig()):
        assert outcome.ok, outcome


def corpus_features(root: Path) -> FeatureFolder:
    """The corpus written under `root`/pictures and its feature shards under `root`/features."""
    write_corpus(root / "pictures")
    folder = FeatureFolder(root / "features")
    write_features(root / "pictures", folder)
    return folder


def thumbnail_jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).resize((40, 30)).save(out, "JPEG")
    return out.getvalue()


def all_documents(store: ReadStore) -> dict[str, tuple[int, list[str]]]:
    """image id → (group id, occurrence sources) of every visible document."""
    docs = store.get(store.changed_since(0))
    return {d.image_id: (d.group_id, sorted(o.source for o in d.occurrences)) for d in docs}


def partition(store: ReadStore) -> set[frozenset[str]]:
    """The near-duplicate groups as sets of image ids: comparable across numberings."""
    groups: dict[int, set[str]] = {}
    for image_id, (group, _) in all_documents(store).items():
        groups.setdefault(group, set()).add(image_id)
    return {frozenset(g) for g in groups.values()}


def page_counts(store: ReadStore) -> dict[str, tuple[int, int]]:
    """image id → (distinct sizes, distinct pages) of its group, as answers report them."""
    docs = all_documents(store)
    counts = store.group_counts(sorted({group for group, _ in docs.values()}))
    return {image_id: counts[group] for image_id, (group, _) in docs.items()}


def open_stores(folders: Sequence[Path]) -> list[EmbeddedStore]:
    return [EmbeddedStore(f) for f in folders]
