"""Site chrome counted once for every process serving one index directory.

Each serving worker used to count its index's site chrome itself (index/chrome.py):
at 1,000,000 images about 20 s of CPU when it starts and 380 MiB for the tally it
keeps, in every worker, for the same answer. Now the first worker to take the
leader lock (held for its life) counts and keeps the tally, and writes each
generation's answer to a file beside the index; the others read the file and keep
no tally. If the leader dies its lock goes with it, and the next worker that finds
no answer for its generation takes over (so a restarted server counts nothing until
the next commit). A folder that cannot be written (a read-only index) shares
nothing: each process counts for itself, as before.

Answers are keyed by generation, as the vocabulary cache is, so the folder is a
derived part of the index (reindex leaves it behind).
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

import orjson

from pixsearch.index.chrome import SiteChrome
from pixsearch.index.genfiles import by_generation, remove_older

log = logging.getLogger(__name__)

FOLDER = "chrome"  # beside the index's own parts
PREFIX, SUFFIX = "chrome-", ".json"  # an answer's file: chrome-<generation>.json


class SharedChrome:
    """The chrome answers of one index directory's generations, and who counts them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.leading = False
        self._lock: IO[str] | None = None  # open while this process leads
        self._broken = False  # the folder cannot be used: count alone

    def lead(self) -> bool:
        """Whether this process counts (and writes the answers): it leads already, no
        live process does, or the folder cannot be shared."""
        if self.leading or self._broken:
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = (self.folder / ".leader.lock").open("a")
        except OSError:
            log.warning("site chrome not shared: %s cannot be written", self.folder)
            self._broken = True
            return True
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process leads
            lock.close()
            return False
        self._lock, self.leading = lock, True
        for left in self.folder.glob(f"{PREFIX}*.tmp"):  # a writer killed mid-write
            left.unlink(missing_ok=True)
        return True

    def read(self, generation: int, *, after: int = -1) -> SiteChrome | None:
        """The newest answer written for `generation` or an older one, if it is newer
        than generation `after` (the one served: a waiting process looks every second)."""
        if self._broken:
            return None
        written = [
            (gen, path)
            for gen, path in by_generation(self.folder, PREFIX, SUFFIX)
            if after < gen <= generation
        ]
        if not written:
            return None
        gen, path = written[-1]
        try:
            raw = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):  # removed meanwhile: a newer one is there
            return None
        if raw.get("generation") != gen:
            return None
        words = {host: frozenset(found) for host, found in raw["words"].items()}
        every_word = frozenset(w for site in words.values() for w in site)
        return SiteChrome(gen, frozenset(raw["groups"]), words, every_word)

    def write(self, chrome: SiteChrome) -> None:
        """Keep `chrome` for the other processes; older generations' answers go."""
        if self._broken:
            return
        data = {
            "generation": chrome.generation,
            "groups": sorted(chrome.groups),
            "words": {host: sorted(found) for host, found in chrome.words.items()},
        }
        path = self.folder / f"{PREFIX}{chrome.generation}{SUFFIX}"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(orjson.dumps(data))
            os.replace(temporary, path)  # readers see the whole answer or none
            remove_older(self.folder, PREFIX, SUFFIX, chrome.generation)
        except OSError:
            log.warning("could not share the site chrome in %s", self.folder)
            temporary.unlink(missing_ok=True)
