"""`pixsearch import-warc`, `import-urls` and `crawl`: the local pool against `--distributor ray`.

    python bench/import_distributor_bench.py [--source warc|urls|crawl] [--images 1200] [--warcs 8]
        [--cpus 2] [--analyzers ''|nudenet,visual] [--dir .bench/warc-distributors] [--rounds 2]

Takes --images photo-like 1024x768 JPEGs (distributor_bench.py's pictures, in its
.bench/distributors/images-N; reused when present) and times the command a user runs, in
a subprocess, into fresh indexes, rounds alternating:

* ``--source warc``: --warcs WARC files, each picture on a page of its own with alt text;
* ``--source urls``: a CSV list of the pictures' URLs, served on loopback from this
  process by the demo site's server (``--allow-private --delay 0``: one host, no
  politeness wait; ``--shard-urls`` a quarter of each Ray worker's share);
* ``--source crawl``: a site on loopback, a start page linking one page per picture, each
  with its picture and alt text, crawled with ``--allow-private --delay 0`` (the frontier
  and the pages stay in the command; with Ray, actors fetch and process the images).

and for each:

* ``local``: the default process pool;
* ``ray, new``: a local Ray started by the command (what a first run on a laptop pays);
* ``ray, running``: a Ray cluster started beforehand (by this process) and joined with
  ``--ray-address``, as on a cluster that is up.

Semantic text vectors are off (PIXSEARCH_SEMANTIC=false), as in distributor_bench.py,
so the figure is the pipeline's. Each index's image count must be the same.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.distributor_bench import write_images

from pixsearch.demo.site import Route, serve_site
from pixsearch.index.embedded import EmbeddedStore

PIXSEARCH = [sys.executable, "-m", "pixsearch"]


def write_warcs(root: Path, images: list[Path], warcs: int) -> list[Path]:
    """`warcs` archives, image i in archive i % warcs with its page (reused when present)."""
    paths = [root / f"photos-{k:02d}.warc.gz" for k in range(warcs)]
    stamp = root / f"written-{len(images)}-{warcs}"
    if stamp.exists():
        return paths
    root.mkdir(parents=True, exist_ok=True)
    handles = [p.open("wb") for p in paths]
    writers = [WARCWriter(h, gzip=True) for h in handles]  # a gzip member per record
    try:
        for i, image in enumerate(images):
            writer, host = writers[i % warcs], f"site{i % 50}.example"
            page = (
                f"<html><head><title>Photo {i}</title></head><body><figure>"
                f"<img src='/img/{image.name}' alt='blurred photo number {i}'>"
                f"<figcaption>a soft colour field, picture {i}</figcaption></figure></body></html>"
            )
            _record(writer, f"http://{host}/photos/{i}.html", "text/html", page.encode())
            _record(writer, f"http://{host}/img/{image.name}", "image/jpeg", image.read_bytes())
    finally:
        for handle in handles:
            handle.close()
    stamp.touch()
    return paths


def _record(writer: WARCWriter, url: str, kind: str, body: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=headers
    )
    writer.write_record(record)


def site_routes(images: list[Path]) -> dict[str, Route]:
    """A start page linking a page per picture, each showing it with alt text."""
    routes: dict[str, Route] = {}
    links = "".join(f"<li><a href='/p/{i}.html'>photo {i}</a></li>" for i in range(len(images)))
    routes["/"] = ("text/html", f"<html><body><ul>{links}</ul></body></html>".encode())
    for i, image in enumerate(images):
        page = (
            f"<html><head><title>Photo {i}</title></head><body><figure>"
            f"<img src='/img/{image.name}' alt='blurred photo number {i}'>"
            f"<figcaption>a soft colour field, picture {i}</figcaption></figure></body></html>"
        )
        routes[f"/p/{i}.html"] = ("text/html", page.encode())
        routes[f"/img/{image.name}"] = ("image/jpeg", image)
    return routes


def write_url_list(root: Path, images: list[Path], base: str) -> Path:
    """A CSV list of the pictures' URLs under `base`."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "urls.csv"
    path.write_text("url\n" + "".join(f"{base}/{image.name}\n" for image in images))
    return path


@contextmanager
def running_ray(cpus: int) -> Iterator[str]:
    """A Ray cluster of `cpus` CPUs started here (not `ray start`, whose `ray stop` would
    end every Ray on the machine): its address, for the command to join."""
    import ray

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def run(
    label: str, command: list[str], index: Path, analyzers: str, extra: list[str]
) -> tuple[float, float]:
    """Wall seconds of the command, and the CPU seconds of it and the children it reaped
    (with a Ray joined, not the Ray's workers: what one machine's command costs)."""
    shutil.rmtree(index, ignore_errors=True)
    env = {**os.environ, "PIXSEARCH_SEMANTIC": "false"}
    args = [*PIXSEARCH, *command, "--index", str(index)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*args, "--analyzers", analyzers, *extra], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1200)
    parser.add_argument("--warcs", type=int, default=8)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--analyzers", default="")
    parser.add_argument("--dir", type=Path, default=Path(".bench/warc-distributors"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--source", choices=("warc", "urls", "crawl"), default="warc")
    args = parser.parse_args()
    # distributor_bench.py's pictures, shared: the same files in both benchmarks
    pictures = Path(".bench/distributors") / f"images-{args.images}"
    images = write_images(pictures, args.images)[: args.images]
    routes: dict[str, Route] = {f"/{image.name}": ("image/jpeg", image) for image in images}
    routes.update(site_routes(images))
    with serve_site(routes) as base:  # the demo's loopback server: files read when asked
        if args.source == "warc":
            command = ["import-warc", *map(str, write_warcs(args.dir, images, args.warcs))]
            what = f"{args.warcs} archives"
        elif args.source == "crawl":
            command = ["crawl", f"{base}/", "--allow-private", "--delay", "0", "--quiet"]
            what = "a site on loopback, crawled"
        else:
            urls = write_url_list(args.dir, images, base)
            # input shards of a quarter of a Ray worker's share: the default 256 would give
            # 300 URLs two shards of 256 and 44, one worker idle most of the run
            chunk = str(max(16, args.images // (4 * args.cpus)))
            command = ["import-urls", str(urls), "--allow-private", "--delay", "0", "--quiet"]
            command += ["--shard-urls", chunk]
            what = "a URL list on loopback"
        times, cpus, counts = compare(args, command)
    local = statistics.median(times["local"])
    print(
        f"\n{args.images} images in {what}, {counts['local']} indexed, "
        f"analyzers {args.analyzers or 'none'}, medians of {args.rounds}"
    )
    print("| run | wall s | images/s | ÷ local | command CPU ms/image |")
    print("|---|---:|---:|---:|---:|")
    for kind, values in times.items():
        wall = statistics.median(values)
        cpu = 1000 * statistics.median(cpus[kind]) / args.images
        row = f"| {kind} | {wall:.1f} | {args.images / wall:.1f} | {local / wall:.2f} | {cpu:.1f} |"
        print(row)


def compare(
    args: argparse.Namespace, command: list[str]
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, int]]:
    """Wall and command CPU seconds of each kind of run, rounds alternating, and each
    index's image count."""
    ray = ["--distributor", "ray"]
    if args.source != "crawl":  # a crawl's Ray tasks take the cluster's CPUs as they come
        ray += ["--workers", str(args.cpus)]
    kinds = {
        "local": [],
        "ray, new": ray,
        "ray, running": [*ray, "--ray-address"],  # running_ray's address follows
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpus: dict[str, list[float]] = {kind: [] for kind in kinds}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for kind, extra in kinds.items():
            index = args.dir / f"index-{kind.replace(', ', '-')}"
            if kind == "ray, running":
                with running_ray(args.cpus) as address:
                    seconds, cpu = run(kind, command, index, args.analyzers, [*extra, address])
            else:
                seconds, cpu = run(kind, command, index, args.analyzers, extra)
            times[kind].append(seconds)
            cpus[kind].append(cpu)
            counts[kind] = EmbeddedStore(index).stats()["images"]
            print(f"{kind}: {seconds:.1f} s, command CPU {cpu:.1f} s", flush=True)
    assert len(set(counts.values())) == 1, counts
    return times, cpus, counts


if __name__ == "__main__":
    main()
