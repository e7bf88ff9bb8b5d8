"""Site chrome counted by one process for all that serve an index (index/chromeshare.py).

Each holder here stands for a serving worker: its own reader of the index, its own
open of the leader lock (flock locks belong to an open file, so two opens in one
process exclude each other as two processes would).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from pixsearch.index.chrome import ChromeHolder, SiteChrome
from pixsearch.index.chromeshare import FOLDER, SharedChrome
from pixsearch.index.embedded import EmbeddedStore
from tests.index.test_chrome import _on_pages


def _write(index: Path, first: int, pages: int) -> None:
    """Pages `first`.. of one site, each with its own picture, and a logo on each."""
    writer = EmbeddedStore(index, writable=True)
    try:
        logo = writer.find_by_sha(_on_pages(9000, "Acme Pictures", []).facts.sha256)
        if logo is None:
            writer.add(_on_pages(9000, "Acme Pictures", list(range(pages))), None)
        for p in range(first, first + pages):
            writer.add(_on_pages(p, f"subject{p}", [p]), None)
        writer.commit()
    finally:
        writer.close()


def _worker(index: Path, **options: float) -> ChromeHolder:
    return ChromeHolder(
        EmbeddedStore(index), check_seconds=0, shared=SharedChrome(index / FOLDER), **options
    )


def _answer(holder: ChromeHolder) -> SiteChrome:
    """What the holder serves once it has counted or read its store's generation."""
    holder.store.refresh()
    deadline = time.monotonic() + 10
    while (current := holder.current()).generation != holder.store.generation:
        assert time.monotonic() < deadline, "no answer for the generation"
        time.sleep(0.01)
    return current


def test_one_worker_counts_and_the_others_read_its_answer(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _write(index, 0, 8)
    leader, follower = _worker(index), _worker(index)
    counted = _answer(leader)
    assert counted.groups and "acme" in counted.template_words("acme.example")
    assert _answer(follower) == counted
    assert not follower._tally.titles  # it read the answer: no tally of its own
    _write(index, 8, 4)  # a commit: the leader counts it, the follower reads it
    recounted = _answer(leader)
    assert recounted.generation == counted.generation + 1
    assert _answer(follower) == recounted and not follower._tally.titles
    assert sorted(p.name for p in (index / FOLDER).glob("chrome-*")) == [
        f"chrome-{recounted.generation}.json"  # older answers removed
    ]


def test_a_follower_waits_for_a_live_leader_then_counts_when_it_is_gone(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _write(index, 0, 8)
    leader = _worker(index)
    first = _answer(leader)
    _write(index, 8, 4)  # the leader is not asked again: it never learns of the commit
    follower = _worker(index)
    follower.store.refresh()
    assert follower.current() == first  # the last answer, while waiting for the next
    assert follower.store.generation == first.generation + 1 and not follower._tally.titles
    del leader  # its process ends: the lock goes with its open file
    gc.collect()
    answer = _answer(follower)  # it leads now, and counts
    assert answer.groups and follower._tally.titles
    assert (index / FOLDER / f"chrome-{answer.generation}.json").exists()


def test_a_follower_out_of_patience_counts_for_itself(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _write(index, 0, 8)
    leader = _worker(index)
    _answer(leader)
    _write(index, 8, 4)
    follower = _worker(index, patience=0.0)
    assert _answer(follower).generation == follower.store.generation
    assert follower._tally.titles and leader._shared is not None and leader._shared.leading


def test_an_index_that_cannot_be_written_shares_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _write(index, 0, 8)
    (tmp_path / "file").write_text("not a folder")
    holders = [
        ChromeHolder(EmbeddedStore(index), check_seconds=0, shared=SharedChrome(tmp_path / "file"))
        for _ in "ab"
    ]
    answers = [_answer(h) for h in holders]
    assert answers[0] == answers[1] and answers[0].groups
    assert all(h._tally.titles for h in holders)  # each counted alone


def test_a_restarted_server_serves_the_kept_answer_until_a_commit(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _write(index, 0, 8)
    before = _worker(index)
    counted = _answer(before)
    del before  # the server stops (killed while writing an answer, say)
    gc.collect()
    (index / FOLDER / f"chrome-{counted.generation + 1}.4242.tmp").write_bytes(b"{")
    restarted = _worker(index)
    assert _answer(restarted) == counted and not restarted._tally.titles  # nothing counted
    _write(index, 8, 4)
    assert _answer(restarted).generation == counted.generation + 1  # it leads and counts
    assert restarted._shared is not None and restarted._shared.leading
    assert not list((index / FOLDER).glob("*.tmp"))  # the new leader cleared what was left
