"""Latency of POST /images/details with a ~1 MB JPEG against a large index.

    python bench/details_bench.py [--dir .bench/search-1000000] [--requests 100]

Uses the index search_bench.py builds (run that first). Each request uploads
the same kind of picture a user drops on the page: decode, hash, compare with
every indexed hash, look up the near-duplicate group, render the insights.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline_bench import photo_like
from tests.conftest import start_server, stop_server

from pixsearch.api.keys import KeyStore


def upload_jpeg(seed: int) -> bytes:
    """A photo-like JPEG just under the 1 MB upload cap."""
    image = photo_like(seed, width=1600, height=1200)
    for quality in (95, 92, 90, 85, 80, 75):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= 1_000_000:
            return buffer.getvalue()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1000000"))
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    bodies = [upload_jpeg(seed) for seed in range(5)]
    key = KeyStore(args.dir / "service.db").create(f"details-bench-{time.time_ns()}")
    process, base = start_server(args.dir)
    samples: list[float] = []
    try:
        with httpx.Client(
            base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=60
        ) as client:
            for i in range(args.requests + 5):
                files = {"image": ("photo.jpg", bodies[i % len(bodies)], "image/jpeg")}
                t0 = time.perf_counter()
                client.post("/v7.0/images/details", files=files).raise_for_status()
                if i >= 5:  # the first requests load the hash array
                    samples.append(time.perf_counter() - t0)
    finally:
        stop_server(process)
    samples.sort()
    size = statistics.mean(len(b) for b in bodies) / 1e6
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{args.requests} uploads of {size:.2f} MB JPEGs (1600x1200)")
    print(f"p50 {statistics.median(samples) * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
