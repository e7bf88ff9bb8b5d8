"""Adult words, adult hosts and the safe-search policy of a server.

Three signals decide what safeSearch hides:

- the picture: the nudity score of the "nudenet" analyzer, compared with the server's
  threshold when the query runs (Moderate and Strict);
- the words around it: an occurrence whose text (alt, caption, title, page title, URL
  words, tags, OCR) contains an adult word (Strict only, see index/words.py);
- where it lives: a page or image URL on a host of the adult-hosts blocklist, or any
  subdomain of one (Strict only).

The same word list says whether a query has adult intent (queryContext.adultIntent):
it lives with the index, which marks adult text when an image is indexed, so a
query is judged by exactly the rule its results were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pixsearch.index.store import is_adult_text


def has_adult_intent(words: Iterable[str]) -> bool:
    """Whether a query's positive words ask for adult content."""
    return is_adult_text(words)


def load_hosts(path: str | Path) -> tuple[str, ...]:
    """Host names of a blocklist file, lower-case, sorted, without duplicates.

    One host per line; '#' starts a comment; hosts-file lines ("0.0.0.0 example.com")
    are accepted, so the common published blocklists work unchanged. A listed host
    also covers its subdomains (the index stores every parent domain of a host).
    """
    hosts: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            host = fields[-1].strip().strip(".").lower()
            if host.startswith("www."):
                host = host[4:]
            if "." in host and host not in ("localhost", "0.0.0.0"):
                hosts.add(host)
    return tuple(sorted(hosts))


@dataclass(frozen=True, slots=True)
class AdultPolicy:
    """A server's safe-search settings: what the exclusions of Filters resolve to."""

    threshold: float = 0.45  # nudity score at or above which a picture is adult
    hosts: tuple[str, ...] = ()  # blocklisted hosts (Strict)

    @classmethod
    def from_settings(cls, threshold: float, hosts_file: str) -> AdultPolicy:
        return cls(threshold=threshold, hosts=load_hosts(hosts_file) if hosts_file else ())
