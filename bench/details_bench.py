"""Latency of POST /images/details with a ~1 MB JPEG against a large index.

    python bench/details_bench.py [--dir .bench/search-1000000] [--requests 100]

Uses the index search_bench.py builds (run that first) and, when present, the
1,000,000 vectors vectors_bench.py adds to it. Each request uploads the same
kind of picture a user drops on the page: decode, hash, compare with every
indexed hash, embed it with the visual model, search the HNSW for similar
images (safeSearch filter applied), look up the near-duplicate group and the
pages' collections, render the insights. A second series asks for similar
images of indexed pictures by id (stored vector, no model): the vector search
alone.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline_bench import photo_like
from tests.conftest import start_server, stop_server

from pixsearch.index.metadb import MetaDB
from pixsearch.index.vectors import generations
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children, from /proc (Linux)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


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
    meta = MetaDB(args.dir / "meta.db")  # a writer open adds indexes newer code declares
    rows = meta.conn.execute("SELECT image_id FROM images ORDER BY doc_id LIMIT 200")
    ids = [row[0] for row in rows]  # pictures to ask similar images for, by id
    meta.close()
    print(f"vector files: {generations(args.dir / 'vectors') or 'none'}")
    key = SqliteKeyStore(ServiceDb(args.dir / "service.db")).create(
        f"details-bench-{time.time_ns()}"
    )
    process, base = start_server(args.dir)
    uploads: list[float] = []
    by_id: list[float] = []
    try:
        with httpx.Client(
            base_url=base, headers={"Ocp-Apim-Subscription-Key": key}, timeout=60
        ) as client:
            for i in range(args.requests + 5):
                if i == 5:  # the first requests load the hash array, the model, the graph
                    cpu_start = cpu_seconds(process.pid)
                files = {"image": ("photo.jpg", bodies[i % len(bodies)], "image/jpeg")}
                t0 = time.perf_counter()
                response = client.post("/v7.0/images/details", files=files)
                response.raise_for_status()
                if i >= 5:
                    uploads.append(time.perf_counter() - t0)
            cpu_per_upload = (cpu_seconds(process.pid) - cpu_start) / args.requests
            similar = response.json().get("visuallySimilarImages", {}).get("value", [])
            print(f"last upload: {len(similar)} similar images")
            cpu_start = cpu_seconds(process.pid)
            for i in range(args.requests):
                params = {"id": ids[i % len(ids)], "modules": "SimilarImages"}
                t0 = time.perf_counter()
                client.get("/v7.0/images/details", params=params).raise_for_status()
                by_id.append(time.perf_counter() - t0)
            cpu_per_get = (cpu_seconds(process.pid) - cpu_start) / args.requests
            shown = client.get("/v7.0/images/details", params=params).json()
            count = len(shown.get("visuallySimilarImages", {}).get("value", []))
            print(f"last GET by id: {count} similar images")
    finally:
        stop_server(process)
    size = statistics.mean(len(b) for b in bodies) / 1e6
    title = f"{args.requests} uploads of {size:.2f} MB JPEGs (1600x1200), modules=All"
    report(title, uploads, cpu_per_upload)
    report(f"{args.requests} GET id=… modules=SimilarImages (stored vector)", by_id, cpu_per_get)


def report(title: str, samples: list[float], cpu: float) -> None:
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(title)
    print(
        f"p50 {statistics.median(samples) * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms   "
        f"server CPU {cpu * 1000:.1f} ms/request   load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
