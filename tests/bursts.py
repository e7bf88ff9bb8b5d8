"""Load over a QPS limit, judged in a way a slow or busy machine cannot fail.

Each accepted call is known to have been counted in one of the wall-clock
seconds between its sending and its answer (the limiters' windows are whole
seconds of this machine's clock). A limit that holds lets at most `qps`
calls through in each of those seconds, however few calls the machine
managed to send; a count compared with `qps * duration` would instead fail
whenever the machine is too busy to send that many.
"""

from __future__ import annotations

import threading
import time

import httpx


def burst(bases: list[str], key: str, until: float, threads: int = 8) -> tuple[list[range], int]:
    """Hammer the servers, each thread one of them, until the wall clock passes `until`.

    For each accepted call the seconds it may have been counted in, and the
    number of calls refused.
    """
    accepted: list[range] = []
    refused = [0]
    lock = threading.Lock()

    def worker(base: str) -> None:
        with httpx.Client(headers={"Ocp-Apim-Subscription-Key": key}, timeout=30) as client:
            while time.time() < until:
                sent = time.time()
                answer = client.get(base + "/v7.0/images/search", params={"q": "circle"})
                assert answer.status_code in (200, 429), answer.text
                with lock:
                    if answer.status_code == 200:
                        accepted.append(range(int(sent), int(time.time()) + 1))
                    else:
                        refused[0] += 1

    pool = [threading.Thread(target=worker, args=(bases[i % len(bases)],)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return accepted, refused[0]


def assert_limit_held(bases: list[str], key: str, qps: int, seconds: float = 1.7) -> None:
    """Send as fast as 8 threads can for `seconds` from a second boundary; the limit holds."""
    start = int(time.time()) + 1
    time.sleep(start + 0.02 - time.time())
    accepted, refused = burst(bases, key, until=start + seconds)
    counted_in = set().union(*accepted)
    print(f"burst: {len(accepted)} accepted in {len(counted_in)} s, {refused} refused")
    assert refused > 0  # the load really was over the limit
    # At least one full window's worth got through (the limiter does not over-refuse),
    # and no second let more than qps through.
    assert qps <= len(accepted) <= qps * len(counted_in)
