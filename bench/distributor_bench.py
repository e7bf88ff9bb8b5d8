"""Ingestion throughput: the local process pool vs Ray Data actors, on this machine.

    python bench/distributor_bench.py [--images 600] [--dir .bench/distributors]
        [--analyzers ''|nudenet,visual] [--shard-files 32] [--cpus N]

Writes --images photo-like 1024x768 JPEGs (reused when present), then ingests them
into fresh indexes, in this process, the way `pixsearch ingest` does:

* ``local``: the default path (ingest/parallel.py's pool of --cpus workers feeding
  the Indexer);
* ``ray``: ``--distributor ray``: a local Ray with --cpus CPUs, one Ray Data actor
  per CPU writing feature shards, each loaded into the index as it lands. Ray's own
  start (``ray.init``) is timed apart: a cluster that is already running skips it.

Each prints wall seconds and images/s; the ratio ray / local is the target's
(≥ 0.9 on one machine).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pixsearch.cli.index_cmd import open_target
from pixsearch.cli.ingest import run_ingest
from pixsearch.cli.options import open_indexer
from pixsearch.config import Settings
from pixsearch.index.features.build import Loader
from pixsearch.index.features.folder import FeatureFolder
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.distributors import ingest_shards, open_distributor, split_paths
from pixsearch.ingest.sources import iter_files


def write_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.jpg"))
    if len(paths) >= count:
        return paths
    for i in range(len(paths), count):
        rng = np.random.default_rng([11, i])  # per picture: a resumed folder gets new ones
        field = rng.normal(0, 1, (24, 32, 3)).astype(np.float32) * 50 + rng.uniform(60, 190, 3)
        small = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))
        image = small.resize((1024, 768), Image.Resampling.BICUBIC).filter(
            ImageFilter.GaussianBlur(2)
        )
        noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 5, (768, 1024, 1))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(
            folder / f"photo-{i:05d}.jpg", quality=88
        )
    return sorted(folder.glob("*.jpg"))


def settings_for(index_dir: Path) -> Settings:
    if index_dir.exists():
        shutil.rmtree(index_dir)
    return Settings.load(index_dir=index_dir, semantic=False)


def time_local(images: Path, index_dir: Path, config: PipelineConfig, cpus: int) -> float:
    settings = settings_for(index_dir)
    store, indexer = open_indexer(settings, config.analyzers)
    started = time.perf_counter()
    run_ingest([images], config, indexer, workers=cpus, console=Console(stderr=True, quiet=True))
    indexer.commit()
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def time_ray(
    images: Path, root: Path, config: PipelineConfig, cpus: int, shard_files: int
) -> tuple[float, float]:
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
    try:
        settings = settings_for(root / "index-ray")
        shutil.rmtree(root / "features", ignore_errors=True)
        features = FeatureFolder(root / "features")
        target = open_target(settings, settings.index_dir)
        started = time.perf_counter()
        files = [p for p in iter_files([images]) if isinstance(p, Path)]
        shards = split_paths(files, shard_files)
        distributor = open_distributor("ray", workers=cpus)
        first: list[float] = []

        def on_shard(outcome: object) -> None:
            if not first:
                first.append(time.perf_counter() - started)

        loader = Loader(features, [target])
        run = ingest_shards(distributor, shards, features, config, loader, on_shard=on_shard)
        seconds = time.perf_counter() - started
        print(f"ray: first shard after {first[0]:.1f} s (actors starting, models loading)")
        target.store.close()
        assert not run.failed, run.failed
    finally:
        ray.shutdown()
    return startup, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--dir", type=Path, default=Path(".bench/distributors"))
    parser.add_argument("--analyzers", default="")
    parser.add_argument("--shard-files", type=int, default=32)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    images = args.dir / f"images-{args.images}"  # the run ingests the whole folder
    write_images(images, args.images)
    analyzers = tuple(a for a in args.analyzers.split(",") if a)
    config = PipelineConfig(analyzers=analyzers)
    n = args.images
    print(f"analyzers: {', '.join(analyzers) or 'none'}; {n} images; {args.cpus} CPUs", flush=True)
    local = time_local(images, args.dir / "index-local", config, args.cpus)
    print(f"local  {local:7.1f} s  {n / local:7.1f} img/s", flush=True)
    startup, ray_seconds = time_ray(images, args.dir, config, args.cpus, args.shard_files)
    print(f"ray    {ray_seconds:7.1f} s  {n / ray_seconds:7.1f} img/s  (+ {startup:.1f} s init)")
    with_init = local / (ray_seconds + startup)
    print(f"ray / local: {local / ray_seconds:.2f} (counting ray.init: {with_init:.2f})")


if __name__ == "__main__":
    main()
