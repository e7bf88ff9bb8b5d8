"""What a serving worker's site-chrome count costs at scale (index/chrome.py, issue 17).

    python bench/chrome_bench.py [--dir .bench/search-1m]
    python bench/chrome_bench.py --one-site 1000000

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
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from pathlib import Path

from pixsearch.index.chrome import ChromeHolder, _Tally
from pixsearch.index.embedded import EmbeddedStore


def resident_mib() -> tuple[float, float]:
    """(anonymous, file-backed) resident memory: the index's mapped files are the latter."""
    with open("/proc/self/status") as f:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1m"))
    parser.add_argument("--one-site", type=int, default=0, help="pages of one site, no index")
    args = parser.parse_args()
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
