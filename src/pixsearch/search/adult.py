"""Adult words, adult hosts and the safe-search policy of a server.

Three signals decide what safeSearch hides:

- the picture: the nudity score of the "nudenet" analyzer, compared with the server's
  threshold when the query runs (Moderate and Strict);
- the words around it: an occurrence whose text (alt, caption, title, page title, URL
  words, tags, OCR) contains an adult word (Strict only, see ADULT_WORDS);
- where it lives: a page or image URL on a host of the adult-hosts blocklist, or any
  subdomain of one (Strict only).

The same word list says whether a query has adult intent (queryContext.adultIntent).

Why this word list: it holds only words whose usual sense in captions, titles and
queries is sexual content. Ambiguous words stay out even though adult pages use them,
because Strict would otherwise hide ordinary pictures: "sex" (sex education, sex
chromosomes), "breast" (chicken breast, breast cancer), "tits" (blue tits), "pussy"
(willow, cats), "cock" (roosters), "stripper" (paint), "nipple" (baby bottles), "sexy"
and "hardcore" (cars, dresses, punk), "bikini", "lingerie" and "underwear" (shopping;
the detector still sees exposed parts). "nude" and "naked" are
in: Strict exists for people who accept losing "nude lipstick" to also lose nude
photos. Prefixes catch compounds that URLs and hashtags glue together ("pornhub",
"xxxvideos", "nsfwart").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ADULT_WORDS: frozenset[str] = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "porn porno pornography pornographic xxx nsfw hentai nude nudes naked nudity "
        "topless bottomless erotic erotica fetish bdsm milf milfs blowjob handjob cumshot "
        "camgirl camgirls onlyfans gangbang threesome orgy striptease upskirt genitals "
        "genitalia vagina penis dildo sexcam"
    ).split()
)
ADULT_PREFIXES: tuple[str, ...] = ("porn", "xxx", "nsfw", "hentai")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Lower-case, accent-free words: 'Nüde_Photo-2' → ['nude', 'photo', '2']."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


def is_adult_word(word: str) -> bool:
    return word in ADULT_WORDS or word.startswith(ADULT_PREFIXES)


def is_adult_text(texts: Iterable[str]) -> bool:
    """Whether any of the texts contains an adult word."""
    return any(is_adult_word(w) for text in texts if text for w in words_of(text))


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
