"""Throughput over HTTP: closed-loop clients against `pixsearch serve --workers N`.

    python bench/http_load.py --docs 100000 [--dir .bench/search-100000] [--workers 2]
        [--clients 32] [--seconds 30] [--suggestions] [--warmup 10]
        [--requests 2000] [--fresh] [--result-cache N]

Uses (and builds when missing) bench/search_bench.py's synthetic index, starts a real
server on loopback, warms every worker, then runs --clients callers for --seconds,
each sending its next request when its answer comes: mixed queries of 1-3 words
from the corpus's head, 0 to 2 filters, first to third page of 35. Reported: answers
per second, p50/p99 latency, errors (any status but 200, or no answer within 10 s),
and CPU time per request of the server (supervisor and workers, from /proc) and of
the load generator itself, which shares the machine: the server's CPU per request
is the figure that carries to a bigger machine. Suggestions are off unless
--suggestions (the bare result list, as #17 asks for first).

The measured window cycles through --requests request variants (drawn from the
corpus's Zipf head, so a draw repeats some: popular queries do), the same ones the
warm-up asked unless --fresh (the warm-up then asks another draw). A server keeps
whole answers for the commit (`result_cache`, 4096 by default): --result-cache 0
makes every request reach the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.conftest import start_server, stop_server

from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from search_bench import Corpus, load
from soak import Loopback

FILTERS = [
    ("size", "Large"),
    ("size", "Small"),
    ("color", "Blue"),
    ("color", "Monochrome"),
    ("imageType", "Photo"),
    ("license", "Public"),
    ("freshness", "Month"),
    ("aspect", "Wide"),
]
TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> dict[int, tuple[float, float]]:
    """(CPU seconds, those of its main thread) of `pid` and of each of its children, by pid.

    A worker's main thread runs the event loop and so every request, the engine's
    search included; its other threads work in the background (a server's first
    minute at 1,000,000 documents counts site chrome in one, whatever the load).
    """
    found = {}
    for task in Path("/proc").iterdir():
        if not task.name.isdigit():
            continue
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            main = (task / "task" / task.name / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if task.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent pid
            found[int(task.name)] = (
                (int(fields[11]) + int(fields[12])) / TICKS,
                (int(main[11]) + int(main[12])) / TICKS,
            )
    return found


def requests(queries: list[str], seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for q in queries:
        params = {"q": q, "count": "35", "offset": str(rng.choice((0, 0, 0, 35, 70)))}
        for name, value in rng.sample(FILTERS, rng.choice((0, 0, 1, 2))):
            params[name] = value
        out.append(params)
    return out


async def closed_loop(
    base: str, key: str, todo: list[dict[str, str]], clients: int, seconds: float
) -> tuple[list[float], int, float]:
    """(latencies of answers, errors, elapsed seconds)."""
    client = Loopback(base, {"Ocp-Apim-Subscription-Key": key})
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    cursor = 0

    async def caller() -> None:
        nonlocal errors, cursor
        while time.monotonic() < end:
            params = todo[cursor % len(todo)]
            cursor += 1
            started = time.perf_counter()
            status, _ = await client.get("/v7.0/images/search", params, 10)
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(clients)))
    client.close()
    return latencies, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--suggestions", action="store_true")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of unmeasured load first (a worker counts its index's site chrome when "
        "it starts: about a minute at 1,000,000 documents)",
    )
    parser.add_argument("--requests", type=int, default=2000, help="request variants drawn")
    parser.add_argument("--fresh", action="store_true", help="warm up on another draw")
    parser.add_argument(
        "--result-cache", type=int, default=None, help="the server's result_cache setting"
    )
    args = parser.parse_args()
    root = args.dir or Path(".bench") / f"search-{args.docs}"
    corpus = Corpus()
    load(root, args.docs, corpus)
    todo = requests(corpus.queries(args.requests, seed=11), seed=12)
    warm = requests(corpus.queries(2000, seed=21), seed=22) if args.fresh else todo
    key = SqliteKeyStore(ServiceDb(root / "service.db")).create(f"load-{time.time_ns()}")
    env = {"PIXSEARCH_SUGGESTIONS": "1" if args.suggestions else "0"}
    if args.result_cache is not None:
        env["PIXSEARCH_RESULT_CACHE"] = str(args.result_cache)
    process, base = start_server(root, workers=args.workers, env=env)
    try:
        warm_until = time.monotonic() + args.warmup
        while time.monotonic() < warm_until:  # new connections each round: every worker warms
            asyncio.run(closed_loop(base, key, warm, args.clients, 5.0))
        cpu_before, mine_before = tree_cpu(process.pid), time.process_time()
        latencies, errors, elapsed = asyncio.run(
            closed_loop(base, key, todo, args.clients, args.seconds)
        )
        cpu_after = tree_cpu(process.pid)
        used = {pid: [a - b for a, b in zip(cpu, cpu_before.get(pid, (0.0, 0.0)), strict=True)]
                for pid, cpu in cpu_after.items()}  # fmt: skip
        server_cpu = sum(cpu for cpu, _ in used.values())
        loop_cpu = sum(main for _, main in used.values())
        # Which process did the work: a worker idle while its peer is busy means the
        # connections did not spread (a worker that started meanwhile counts from 0).
        spread = [used[pid][0] for pid in sorted(used)]
        client_cpu = time.process_time() - mine_before
    finally:
        stop_server(process)
    latencies.sort()
    done = len(latencies)
    cache = "default" if args.result_cache is None else args.result_cache
    print(f"{args.docs:,} documents, --workers {args.workers}, {args.clients} clients, "
          f"suggestions {'on' if args.suggestions else 'off'}, {elapsed:.0f} s, "
          f"{args.requests} requests{' (fresh)' if args.fresh else ''}, "
          f"result_cache {cache}")  # fmt: skip
    print(f"{'answers/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'server CPU ms/req':>19}"
          f"{'client CPU ms/req':>19}")  # fmt: skip
    print(
        f"{done / elapsed:>10.1f}{latencies[done // 2] * 1e3:>9.2f}"
        f"{latencies[min(done - 1, int(done * 0.99))] * 1e3:>9.2f}{errors:>8}"
        f"{server_cpu / max(done, 1) * 1e3:>19.2f}{client_cpu / max(done, 1) * 1e3:>19.2f}"
    )
    per_request = loop_cpu / max(done, 1) * 1e3
    print(f"server main threads (the requests' own work) CPU ms/req: {per_request:.2f}")
    print("server CPU s by process (pid order):", " ".join(f"{cpu:.1f}" for cpu in spread))


if __name__ == "__main__":
    main()
