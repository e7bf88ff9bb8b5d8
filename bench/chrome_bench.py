"""What a serving worker's site-chrome count costs at scale (index/chrome.py, issue 17).

    python bench/chrome_bench.py [--dir .bench/search-1m]
    python bench/chrome_bench.py --one-site 1000000
    python bench/chrome_bench.py --dir .bench/search-1m --serve 2 [--seconds 90]

Every serving worker counts its index's site chrome when it opens the index, and
again after each commit. On search_bench.py's synthetic index this times that first
count, then a recount after one new page, and reports what the count leaves behind:
the objects the garbage collector tracks (each full collection walks them all), the
process's memory, and how long a full collection takes afterwards. Run it with the
old code too (PYTHONPATH=<old tree>/src) to compare.

--one-site N times the tally alone (no index) for one site of N pages, as a crawl
of one big site makes: templated titles ("<two subject words> <n> - <section> - <site name>"),
one picture a page plus the logo on every page. It reports the first count, and a
recount after a commit that adds 100 pages, which every serving worker makes.

--serve N starts `pixsearch serve --workers N` on the index (its shared chrome
answers removed first, so the count starts cold), asks a search every 0.2 s on a
new connection for --seconds (so every worker is asked, and counts or reads the
chrome), then reports each worker's CPU seconds and anonymous memory.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import start_server, stop_server

from pixsearch.index.chrome import ChromeHolder, _Tally
from pixsearch.index.embedded import EmbeddedStore


def resident_mib(pid: int | str = "self") -> tuple[float, float]:
    """(anonymous, file-backed) resident memory: the index's mapped files are the latter."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    anonymous, backed = (int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile"))
    return anonymous, backed


def full_collection() -> float:
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    return time.perf_counter() - started


def one_site(pages: int) -> None:
    """The tally of one site of `pages` pages: first count, then recounts per commit."""
    rng = random.Random(7)
    subjects = [f"subject{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(5000)]
    sections = ["Clipart", "Photos", "Wallpapers", "Stamps", "Icons", "Maps", "Fonts"]

    def page(n: int) -> tuple[str, str]:
        subject = " ".join(rng.sample(subjects, 2))  # a title part of its own, mostly
        title = f"{subject} {n} - {sections[n % 7]} - Harbour Clip Gallery"
        return f"https://big.example/item/{n}.html", title

    tally = _Tally()
    cpu = time.process_time()
    for n in range(pages):
        place = page(n)
        tally.add(n + 1, [place])
        tally.add(0, [place])  # the logo
    added = time.process_time() - cpu
    cpu = time.process_time()
    first = tally.result(1)
    first_cpu = time.process_time() - cpu
    recounts = []
    for commit in range(3):
        for n in range(pages + commit * 100, pages + (commit + 1) * 100):
            tally.add(n + 1, [page(n)])
        cpu = time.process_time()
        last = tally.result(2 + commit)
        recounts.append(time.process_time() - cpu)
    assert first.groups == last.groups == {0}
    print("| measure | value |\n|---|---|")
    print(f"| pages of the site | {pages:,} |")
    print(f"| adding the pages, CPU s | {added:.2f} |")
    print(f"| first count, CPU s | {first_cpu:.3f} |")
    print(
        f"| recount after a commit of 100 pages, CPU s (3 commits) | "
        f"{' / '.join(f'{r:.3f}' for r in recounts)} |"
    )
    print(f"| template words | {' '.join(sorted(last.words['big.example']))} |")
    print(f"| resident anonymous MiB | {resident_mib()[0]:.0f} |")


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _workers(parent: int) -> list[int]:
    """The server's worker processes (spawned children; not the resource tracker)."""
    found = []
    for task in Path("/proc").iterdir():
        try:
            child = task.name.isdigit() and _stat(task.name)[1] == str(parent)
            if child and b"spawn_main" in (task / "cmdline").read_bytes():
                found.append(int(task.name))
        except OSError:
            continue  # ended while we looked
    return found


def serve(root: Path, workers: int, seconds: float) -> None:
    """Each worker's CPU and memory after `seconds` of light traffic from a cold start."""
    shutil.rmtree(root / "chrome", ignore_errors=True)
    process, base = start_server(root, workers=workers, extra=("--no-auth",))
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with httpx.Client(base_url=base, timeout=30) as client:  # a new connection
                client.get("/v7.0/images/search", params={"q": "baba"}).raise_for_status()
            time.sleep(0.2)
        children = _workers(process.pid)
        print(f"| worker | CPU s after {seconds:.0f} s | anonymous MiB |\n|---|---:|---:|")
        for pid in sorted(children):
            print(f"| {pid} | {_cpu_seconds(pid):.1f} | {resident_mib(pid)[0]:.0f} |")
    finally:
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1m"))
    parser.add_argument("--one-site", type=int, default=0, help="pages of one site, no index")
    parser.add_argument("--serve", type=int, default=0, help="workers of a server to measure")
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    if args.serve:
        serve(args.dir, args.serve, args.seconds)
        return
    if args.one_site:
        one_site(args.one_site)
        return
    store = EmbeddedStore(args.dir)
    holder = ChromeHolder(store, check_seconds=0)
    changed = store.changed_since(0)
    before = full_collection(), len(gc.get_objects()), resident_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    holder._count(store.generation, changed)  # what the worker's thread runs, here in line
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    del changed
    after = full_collection(), len(gc.get_objects()), resident_mib()
    host = next(iter(holder.current().words), "site.example")
    holder._tally.add(1 << 40, [(f"https://{host}/new-page", "a new page")])
    recount = time.process_time()
    holder._tally.result(store.generation + 1)
    recount = time.process_time() - recount
    rows = [
        ("images counted", f"{len(store.changed_since(0)):,}"),
        ("first count, CPU s (wall s)", f"{cpu:.1f} ({wall:.1f})"),
        ("recount after one new page, CPU s", f"{recount:.3f}"),
        ("objects the collector tracks, before -> after", f"{before[1]:,} -> {after[1]:,}"),
        ("anonymous / file-backed resident MiB, before", "{:.0f} / {:.0f}".format(*before[2])),
        ("anonymous / file-backed resident MiB, after", "{:.0f} / {:.0f}".format(*after[2])),
        (
            "a full collection, ms, before -> after",
            f"{before[0] * 1e3:.0f} -> {after[0] * 1e3:.0f}",
        ),
        (
            "chrome groups / sites with template words",
            f"{len(holder.current().groups)} / {len(holder.current().words)}",
        ),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
