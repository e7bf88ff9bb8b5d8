"""The vocabulary being served: the store's words, rebuilt in the background after commits.

What a vocabulary holds and how it is built and cached is the index's business
(``Vocabulary`` in index/store.py, the build in index/vocabulary.py); this
module decides when a new one is needed and keeps requests from waiting for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pixsearch.index.store import ReadStore, Vocabulary

log = logging.getLogger(__name__)

SYNC_BUILD_DOCS = 20_000  # below this many documents the first build blocks (it is quick)
# A rebuild holds the GIL for its whole length (0.7 s at 4,000 images, seconds at 1M),
# and an ingest commits every few seconds: rebuilt after every commit, a worker would
# spend a quarter of its time on it, in bursts that pile requests up behind them.
# The next rebuild waits this many times the last one's length after it ended, so
# rebuilds take at most 1/(1 + REBUILD_SPACING) of a worker (5 %).
REBUILD_SPACING = 19.0


class VocabularyHolder:
    """The vocabulary of the generation being served, rebuilt in the background.

    Requests never wait for a rebuild (except the first one of a small index,
    which takes well under a second): they use the previous generation's
    vocabulary until the new one is ready, and rebuilds are spaced out
    (REBUILD_SPACING), which only makes suggestions a few commits behind while
    an ingest runs. `source` gives the vocabulary of the store's generation
    (wiring passes index/vocabulary.py's VocabularyCache).
    """

    def __init__(
        self, store: ReadStore, source: Callable[[], Vocabulary], *, check_seconds: float = 1.0
    ) -> None:
        self.store = store
        self.source = source
        self.check_seconds = check_seconds
        self._current: Vocabulary | None = None
        self._listeners: list[Callable[[Vocabulary], None]] = []
        self._lock = threading.Lock()
        self._building = False
        self._checked = 0.0
        self._next_build = 0.0  # monotonic time before which no rebuild starts

    def on_build(self, listener: Callable[[Vocabulary], None]) -> None:
        """Call listener(vocab) for each new vocabulary (the speller indexes it)."""
        self._listeners.append(listener)

    def current(self) -> Vocabulary | None:
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            gen = self.store.generation
            stale = self._current is None or self._current.generation != gen
            if stale and now >= self._next_build:
                self._start()
        return self._current

    def _start(self) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True
        small = self._current is None and self.store.stats().get("documents", 0) < SYNC_BUILD_DOCS
        if small:
            self._build()
        else:
            threading.Thread(target=self._build, daemon=True).start()

    def _build(self) -> None:
        started = time.monotonic()
        try:
            vocab = self.source()
            for listener in self._listeners:
                listener(vocab)
            self._current = vocab
        except Exception:  # suggestions are optional; a failed build must not break search
            log.exception("vocabulary build failed")
        finally:
            ended = time.monotonic()
            self._next_build = ended + REBUILD_SPACING * (ended - started)
            self._building = False
