"""Quality on a crawled web site held out from the demo: relevance, duplicates, logo, filters.

    python bench/quality_site.py [--pictures 560 | --pages 1100] [--quick] [--dir .bench/site]
                                 [--no-neural] [--seed N] [--json out.json] [--site-port P]

Builds a static site of real Debian-packaged pictures (tuxpaint-stamps-default,
openclipart-png, plasma-workspace-wallpapers; bench/quality_site_gen.py and
bench/quality_site_pages.py), serves it on loopback, crawls it with the real
`pixsearch crawl` (private addresses allowed for this crawl, no delay), serves the
index with the real `pixsearch serve --no-auth`, then over HTTP:

* nDCG@10 and P@10 per query kind (single word, two words, phrase, context-only,
  broad) judged by rules over the generator's truth (bench/quality_site_judge.py), over
  all queries, over the first four kinds (as first measured) and over the queries with
  10 relevant pictures or more (the only ones where P@10 can reach 1), each row with
  the best P@10 its queries allow (min(relevant, 10) / 10 a query) and P@10 ÷ that;
* the same for each single-word query led by its pictures' section name, a template
  word of the site ("with a section name"; not counted in "all");
* how many queries show one picture twice on the first page (10 results);
* how often the site's logo is shown, and above a relevant picture;
* the precision of each filter probe, judged on the shown file and hostPageUrl;
* pagesIncludingCount / availableSizesCount exactly right, for every picture shown.

Nothing is tuned on this site: it is the held-out set. The crawl is reused when
the index under --dir was made from the same site (same pictures, same port).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixsearch.demo.site import serve_site
from quality_site_gen import SEED, Truth, build_truth, choose_pictures
from quality_site_judge import (
    BROAD_MIN,
    KINDS,
    PROBES,
    SECTION_KIND,
    Query,
    Tally,
    make_queries,
    one_identity,
    pages_including,
    score,
    sizes_available,
    with_section,
)
from quality_site_pages import build_pages

SITE_PORT = 8931
PER_KIND = {"single": 90, "two words": 50, "phrase": 40, "context-only": 60, "broad": 40}
# Rows besides the kinds: the four kinds of the first runs (comparable with them), and the
# queries with BROAD_MIN relevant pictures or more (the only ones where P@10 can be 1).
FIRST_KINDS = ("single", "two words", "phrase", "context-only")
SUMMARY_ROWS = ("all", "first four kinds", f"{BROAD_MIN}+ relevant")
PROBE_QUERIES = 40  # single-word queries each filter probe is tried with


def crawl(base: str, index_dir: Path, no_neural: bool) -> float:
    started = time.monotonic()
    command = [sys.executable, "-m", "pixsearch.cli.main", "crawl", base + "/"]
    command += ["--index", str(index_dir), "--allow-private", "--delay", "0", "--quiet"]
    command += ["--no-neural"] if no_neural else []
    subprocess.run(command, check=True)
    return time.monotonic() - started


def serve(index_dir: Path, port: int, semantic: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pixsearch.cli.main", "serve", "--index", str(index_dir)]
    command += ["--port", str(port), "--no-auth"]
    env = {**os.environ, **({} if semantic else {"PIXSEARCH_SEMANTIC": "0"})}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("pixsearch serve did not start")


def search(client: httpx.Client, api: str, q: str, **params: str) -> list[dict]:
    answer = client.get(f"{api}/v7.0/images/search", params={"q": q, "count": 10, **params})
    answer.raise_for_status()
    return list(answer.json().get("value", []))


def path_of(url: str) -> str:
    return urlsplit(url).path or "/"


def relevance(client: httpx.Client, api: str, truth: Truth, queries: list[Query]) -> dict:
    tallies = {kind: Tally() for kind in [*KINDS, *SUMMARY_ROWS, SECTION_KIND]}
    dup_queries, logo_shown, logo_above, per_query = 0, 0, 0, []
    repeats: list[dict] = []
    shown_pictures: dict[str, int] = {}
    counts: dict[str, dict] = {}
    for query in queries:
        results = search(client, api, query.text)
        # Duplicates, logo and counts over the first four kinds: comparable with the first runs.
        first = query.kind in FIRST_KINDS
        pictures = []
        for r in results:
            file = truth.files.get(path_of(r["contentUrl"]))
            pictures.append(file.picture if file else -2)
            if first and file and file.picture >= 0:
                shown_pictures[r["contentUrl"]] = file.picture
                counts[r["contentUrl"]] = r.get("insightsMetadata", {})
        ndcg, precision = score(pictures, query.relevant)
        rows = [query.kind] if query.kind == SECTION_KIND else [query.kind, "all"]
        rows += ["first four kinds"] if first else []
        rows += [SUMMARY_ROWS[2]] if len(query.relevant) >= BROAD_MIN and "all" in rows else []
        for kind in rows:
            tallies[kind].ndcg.append(ndcg)
            tallies[kind].precision.append(precision)
            tallies[kind].best.append(min(len(query.relevant), 10) / 10)
        per_query.append(
            {
                "kind": query.kind,
                "q": query.text,
                "relevant": len(query.relevant),
                "ndcg": ndcg,
                "p": precision,
            }
        )
        if not first:
            continue
        real = [p for p in pictures if p >= 0]
        dup_queries += len(real) != len(set(real))
        if len(real) != len(set(real)):
            twice = {p for p in real if real.count(p) > 1}
            shown = [r["contentUrl"] for r, p in zip(results, pictures, strict=False) if p in twice]
            repeats.append({"q": query.text, "pictures": sorted(twice), "shown": shown})
        logo_shown += pictures.count(-1)
        if -1 in pictures:
            first_logo = pictures.index(-1)
            logo_above += any(p in query.relevant for p in pictures[first_logo + 1 :])
    return {
        "kinds": {
            k: (len(t.ndcg), _mean(t.ndcg), _mean(t.precision), _mean(t.best))
            for k, t in tallies.items()
        },
        "dup_share": dup_queries / max(sum(q.kind in FIRST_KINDS for q in queries), 1),
        "logo_shown": logo_shown,
        "logo_above_relevant": logo_above,
        **count_checks(truth, shown_pictures, counts),
        "per_query": per_query,
        "repeats": repeats,
    }


def count_checks(truth: Truth, shown: dict[str, int], counts: dict[str, dict]) -> dict:
    """pagesIncludingCount / availableSizesCount exactly right over the shown files, and
    every miss with what a reader needs to trace it (grouping, safeSearch, a blank file).

    Also over the shown files whose picture has no blank file: a file that is one flat
    tone over white is a copy of every blank picture of its tone alike, so no pixel rule
    can know whose pages it adds. Reported beside the main figure, never instead of it.
    """
    pages_ok = sizes_ok = showing_ok = showing = 0
    misses = []
    for url, picture in shown.items():
        meta = counts[url]
        want = (pages_including(truth, picture), sizes_available(truth, picture))
        got = (meta.get("pagesIncludingCount"), meta.get("availableSizesCount"))
        pages_ok += got[0] == want[0]
        sizes_ok += got[1] == want[1]
        if got != want:
            misses.append(_miss(truth, url, picture, want, got))
        if not any(f.blank for f in truth.files.values() if f.picture == picture):
            showing += 1
            showing_ok += got[0] == want[0]
    n = max(len(shown), 1)
    return {
        "pages_exact": pages_ok / n,
        "sizes_exact": sizes_ok / n,
        "counted": len(shown),
        "pages_exact_showing": showing_ok / max(showing, 1),
        "counted_showing": showing,
        "count_misses": misses,
    }


def _miss(truth: Truth, url: str, picture: int, want: tuple, got: tuple) -> dict:
    """A shown file whose counts are wrong, with what a reader needs to trace it to grouping."""
    files = [f for f in truth.files.values() if f.picture == picture]
    return {
        "url": url,
        "picture": picture,
        "source": str(truth.pictures[picture].picture.path),
        "blank": any(f.blank for f in files),
        "pages_sizes_want": want,
        "pages_sizes_got": got,
        "files": [f"{f.url} {f.width}x{f.height}" for f in files],
    }


def probes(client: httpx.Client, api: str, truth: Truth, words: list[str]) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for name, (params, rule) in PROBES.items():
        good = total = 0
        for word in words:
            for r in search(client, api, word, **params):
                file = truth.files.get(path_of(r["contentUrl"]))
                page = truth.pages.get(path_of(r["hostPageUrl"]))
                total += 1
                good += bool(file and page and rule(file, page, truth))
        out[name] = (total, good / total if total else float("nan"))
    all_total = sum(t for t, _ in out.values())
    all_good = sum(t * p for t, p in out.values() if t)
    out["all probes"] = (all_total, all_good / all_total if all_total else float("nan"))
    return out


def _digest(routes: dict) -> str:
    """What identifies the site's content: every route and its body's size or file name."""
    key = "".join(
        f"{url}{len(body) if isinstance(body, bytes) else body.name}"
        for url, (_, body) in sorted(routes.items())
    )
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def report(rel: dict, filt: dict[str, tuple], seconds: dict[str, float]) -> None:
    print(
        "| query kind | queries | nDCG@10 | P@10 | best possible P@10 | P@10 ÷ best |\n"
        "|---|---|---|---|---|---|"
    )
    for kind, (n, ndcg, precision, best) in rel["kinds"].items():
        print(
            f"| {kind} | {n} | {ndcg:.3f} | {precision:.3f} | {best:.3f} | "
            f"{precision / best if best else float('nan'):.3f} |"
        )
    print(f"\nqueries whose first page shows one picture twice: {rel['dup_share']:.1%}")
    print(
        f"logo shown {rel['logo_shown']} times; above a relevant picture in "
        f"{rel['logo_above_relevant']} queries"
    )
    print(
        f"pagesIncludingCount exact {rel['pages_exact']:.3f}, availableSizesCount exact "
        f"{rel['sizes_exact']:.3f} (over {rel['counted']} shown files); pagesIncludingCount "
        f"exact {rel['pages_exact_showing']:.3f} over the {rel['counted_showing']} whose "
        "picture has no blank file"
    )
    print("\n| filter probe | results judged | precision |\n|---|---|---|")
    for name, (total, precision) in filt.items():
        print(f"| {name} | {total} | {precision:.3f} |")
    print("\n" + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))


def crawled_site(
    args: argparse.Namespace, count: int, no_neural: bool, seconds: dict[str, float]
) -> tuple[Truth, Path]:
    """The site's truth and its crawled index (crawled now unless the last one fits)."""
    started = time.monotonic()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    truth, routes = build_truth(choose_pictures(count, args.seed), args.dir / "files", now)
    with serve_site(routes, port=args.site_port) as base:
        routes.update(build_pages(truth, base, seed=args.seed + count))
        seconds["build"] = time.monotonic() - started
        pages = sum(1 for kind, _ in routes.values() if kind.startswith("text/html"))
        print(f"{len(truth.pictures)} pictures, {len(truth.files)} files, {pages} pages at {base}")
        index_dir = args.dir / f"index-{args.seed}-{count}-{'plain' if no_neural else 'models'}"
        # Page dates follow the hour of the run: another hour is another site.
        stamp, site_key = index_dir / "site.txt", f"{base} {now.isoformat()} {_digest(routes)}"
        if args.recrawl or not stamp.exists() or stamp.read_text() != site_key:
            shutil.rmtree(index_dir, ignore_errors=True)
            seconds["crawl"] = crawl(base, index_dir, no_neural)
            stamp.write_text(site_key)
    return truth, index_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pictures", type=int, default=560)
    parser.add_argument("--pages", type=int, help="about this many pages (two per picture)")
    parser.add_argument("--quick", action="store_true", help="150 pictures, no image models")
    parser.add_argument(
        "--seed", type=int, default=SEED, help="another seed gives a development site to tune on"
    )
    parser.add_argument("--dir", type=Path, default=Path(".bench/site"))
    parser.add_argument("--no-neural", action="store_true", help="crawl without image models")
    parser.add_argument(
        "--no-semantic", action="store_true", help="serve without semantic (MiniLM) fusion"
    )
    parser.add_argument("--recrawl", action="store_true", help="a fresh index even if one fits")
    parser.add_argument(
        "--site-port",
        type=int,
        default=SITE_PORT,
        help="the site's port (part of its pages' URLs: another port is another crawl)",
    )
    parser.add_argument("--json", type=Path, help="also write every number here")
    args = parser.parse_args()
    count = 150 if args.quick else (args.pages // 2 if args.pages else args.pictures)
    no_neural = args.no_neural or args.quick
    seconds: dict[str, float] = {}
    truth, index_dir = crawled_site(args, count, no_neural, seconds)
    port = _free_port()
    server = serve(index_dir, port, semantic=not args.no_semantic)
    try:
        api = f"http://127.0.0.1:{port}"
        queries = make_queries(truth, seed=args.seed + count, per_kind=PER_KIND)
        queries = one_identity(truth, queries)
        with httpx.Client(timeout=60) as client:
            t0 = time.monotonic()
            rel = relevance(client, api, truth, [*queries, *with_section(truth, queries)])
            words = [q.text for q in queries if q.kind == "single"][:PROBE_QUERIES]
            filt = probes(client, api, truth, words)
            seconds["queries"] = time.monotonic() - t0
    finally:
        server.terminate()
        server.wait(timeout=20)
    report(rel, filt, seconds)
    if args.json:
        args.json.write_text(json.dumps({"relevance": rel, "filters": filt}, indent=1))
    worst = Counter()
    for row in rel["per_query"]:
        worst[row["kind"]] += row["ndcg"] < 0.5
    print("queries under 0.5 nDCG by kind:", dict(worst))


if __name__ == "__main__":
    main()
