"""Site chrome and template words: what a site repeats on most of its pages.

A picture shown on most pages of one site (its logo, header icons, share
buttons, spacer GIFs) belongs to the page template, not to any page's content:
its text is every page's text, so it matches nearly every query about the site.
Likewise the words standing in most of a site's page titles (the site's name,
"Item", the names of its few sections) describe the template, not a picture.

Template words are learnt two ways: a word in a good share of a site's titles
(its name), and every word of a title part ("Item 12", "Clipart" in "Item 12 -
Clipart - Acme Pictures", digits set aside) that many pages' titles repeat
whole: a section name stands in few titles of a big site, but always as a part
of its own. A picture's own title is repeated whole by a page or two, not more.

Both are learnt from what the index holds: each image's occurrences name the
pages that show it, and each occurrence keeps its page's title. The counts are
kept per committed generation and updated from the store's change feed (only
the images added or given occurrences since the last count are read, and only
the sites whose pages they change are weighed again), so a query only reads the
result.
Deletions are not subtracted: a deleted image never matches again, and a site's
page count only grows, which errs towards calling less chrome.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from pixsearch.index.store import ReadStore, pages_of
from pixsearch.index.words import is_content_word, tokens

log = logging.getLogger(__name__)

MIN_SITE_PAGES = 5  # a site of fewer pages has no template to learn
CHROME_SHARE = 0.5  # a picture on at least this share of its site's pages is chrome
# A word in this share of a site's page titles is a template word. Lower than
# CHROME_SHARE: a site's section names ("Clipart", "Wallpapers") each stand in a
# fraction of its titles only; a subject in a fifth of all titles is a section too.
TEMPLATE_SHARE = 0.2
PART_SHARE = 0.02  # a title part repeated on this share of the pages (and MIN_SITE_PAGES)
PARSED_TITLES = 4096  # titles whose parts are kept; past it they start over
BIG_SITE = 5_000  # a site of this many pages keeps counts of its title words (_SiteCounts)
_SEPARATOR = re.compile(r"\s+[-–—|·:»/]\s+|,\s+")  # between the parts of a title
_DIGITS = re.compile(r"\d+")
SYNC_DOCS = 20_000  # counting fewer changed images than this blocks the request (< 1 s)
PATIENCE = 60.0  # seconds a process waits for the leader's answer before counting itself
# Images read per step of a count. Between steps the counting thread lets go of the GIL
# (a step is about 1 ms), so that a request waiting for it is not held for Python's
# whole switch interval (5 ms) at each of the many times it gives the GIL up.
BATCH = 64


def host_of(url: str) -> str:
    """The host a page URL names ('' for none): the unit chrome and template words are learnt on."""
    # Counting a big index asks this for every place; urlsplit took two thirds of that.
    # A site's pages share "scheme://netloc", whose host is parsed once.
    found = _SITE.match(url)
    return _host_of_site(found.group()) if found else _parse_host(url)


_SITE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")  # where urlsplit's netloc ends


@lru_cache(maxsize=65_536)  # sites; a miss parses the URL again
def _host_of_site(site: str) -> str:
    return _parse_host(site)


def _parse_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class SiteChrome:
    """What the sites of one committed generation repeat on most of their pages."""

    generation: int = -1
    groups: frozenset[int] = frozenset()  # near-duplicate groups that are site chrome
    words: dict[str, frozenset[str]] = field(default_factory=dict)  # host → template words
    every_word: frozenset[str] = frozenset()  # of all sites: made once, read per suggestion

    def template_words(self, host: str | None = None) -> frozenset[str]:
        """The template words of `host`'s site, or of every site (None)."""
        if host is not None:
            return self.words.get(host, frozenset())
        return self.every_word


@dataclass
class _Tally:
    """Pages per site, per picture group and per page title: grows with each commit.

    It holds every image and page of the index, so it keeps them in tuples of strings
    where it can: the garbage collector stops tracking those, where a set and a dict per
    image were walked by every full collection (3.0 million objects and 1.5-3.6 s a
    collection at 1,000,000 images, a tenth of a loaded serving worker's CPU). And a
    recount looks again only at what a commit can have changed: the sites it gave new
    pages or new titles (a big one by its running counts), and the groups on enough
    pages to be chrome.
    """

    # host → page → the parts of its title; every page of the site is a key
    titles: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    few: dict[int, tuple[str, ...]] = field(default_factory=dict)  # group → pages, too few
    wide: dict[int, dict[str, set[str]]] = field(default_factory=dict)  # the others, by host
    counts: dict[str, _SiteCounts] = field(default_factory=dict)  # sites of BIG_SITE pages
    _words: dict[str, frozenset[str]] = field(default_factory=dict)  # hosts' template words
    _changed: set[str] = field(default_factory=set)  # hosts whose pages changed since a result
    _parsed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # title → its parts

    def add(self, group_id: int, places: list[tuple[str, str]]) -> None:
        """One image: its group and the (page URL, page title) of each of its places."""
        for page, title in places:
            host = host_of(page)
            if not host:
                continue
            parts = self._parts(title)
            site = self.titles.setdefault(host, {})
            old = site.get(page)
            if old != parts:  # a new page, or a new title: the site's words may change
                site[page] = parts
                self._changed.add(host)
                counts = self.counts.get(host)
                if counts is not None:
                    if old is not None:
                        counts.add(old, -1)
                    counts.add(parts, 1)
            self._place(group_id, host, page)

    def _parts(self, title: str) -> tuple[str, ...]:
        """A title's parts, digits set aside; kept a while, since a page's pictures
        come one after another and each names the page's title again."""
        parts = self._parsed.get(title)
        if parts is None:
            if len(self._parsed) >= PARSED_TITLES:
                self._parsed.clear()
            # Interned: a template's parts ("Clipart", "Acme Pictures") repeat on every page.
            split = (sys.intern(_DIGITS.sub("#", p.lower())) for p in _SEPARATOR.split(title))
            parts = self._parsed[title] = tuple(dict.fromkeys(split))
        return parts

    def _place(self, group_id: int, host: str, page: str) -> None:
        wide = self.wide.get(group_id)
        if wide is not None:
            wide.setdefault(host, set()).add(page)
            return
        held = self.few.get(group_id, ())
        if page in held:
            return
        held = (*held, page)
        if len(held) < MIN_SITE_PAGES:  # on fewer pages than that, never chrome
            self.few[group_id] = held
        else:
            del self.few[group_id]
            self.wide[group_id] = _by_host(held)

    def result(self, generation: int) -> SiteChrome:
        sizes = {host: len(pages) for host, pages in self.titles.items()}
        chrome = frozenset(
            group
            for group, by_host in self.wide.items()
            if any(_repeated(len(on), sizes[host], CHROME_SHARE) for host, on in by_host.items())
        )
        for host in self._changed:  # a site's template words change with its pages alone
            counts = self.counts.get(host)
            if counts is None:
                counts = _SiteCounts.of(self.titles[host].values())
                if sizes[host] >= BIG_SITE:  # kept from now on, and updated page by page
                    self.counts[host] = counts
            common = counts.template_words(sizes[host])
            if common:
                self._words[host] = common
            else:
                self._words.pop(host, None)
        self._changed.clear()
        words = dict(self._words)  # the answer's own: later counts go on changing _words
        every_word = frozenset(w for site in words.values() for w in site)
        return SiteChrome(generation, chrome, words, every_word)


def _by_host(pages: tuple[str, ...]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for page in pages:
        out.setdefault(host_of(page), set()).add(page)
    return out


def _content_words(text: str) -> set[str]:
    return {w for w in tokens(text) if is_content_word(w)}


@dataclass(slots=True)
class _SiteCounts:
    """How many of a site's page titles hold each content word and each title part.

    Made from the titles when the site's words are weighed. A site of BIG_SITE pages
    keeps its counts and updates them page by page: weighing them again after a
    commit then reads only the words and parts in MIN_SITE_PAGES titles or more (the
    least any share asks for), where reading its titles again cost ~4.6 s of CPU per
    million pages in every serving worker.
    """

    words: Counter[str] = field(default_factory=Counter)
    parts: Counter[str] = field(default_factory=Counter)
    often: set[str] = field(default_factory=set)  # words in MIN_SITE_PAGES titles or more
    often_parts: set[str] = field(default_factory=set)  # parts alike

    @classmethod
    def of(cls, titles: Iterable[tuple[str, ...]]) -> _SiteCounts:
        titles = list(titles)
        # A site's titles repeat its template's parts ("Clipart", "Acme Pictures") on
        # every page: each part's words are found once (a fifth of a first count).
        known: dict[str, set[str]] = {}
        words = Counter(w for parts in titles for w in _title_words(parts, known))
        parts = Counter(part for parts in titles for part in parts)
        return cls(words, parts, _often(words), _often(parts))

    def add(self, parts: tuple[str, ...], sign: int) -> None:
        """Count one title in (sign 1) or out (-1); a count that falls to 0 goes."""
        for counter, often, keys in (
            (self.words, self.often, _title_words(parts)),
            (self.parts, self.often_parts, parts),
        ):
            for key in keys:
                n = counter[key] + sign
                if n:
                    counter[key] = n
                else:
                    del counter[key]
                if n >= MIN_SITE_PAGES:
                    often.add(key)
                else:
                    often.discard(key)

    def template_words(self, site_pages: int) -> frozenset[str]:
        """Words of most titles, and the words of title parts that many titles repeat whole."""
        words, parts = self.words, self.parts
        common = {w for w in self.often if _repeated(words[w], site_pages, TEMPLATE_SHARE)}
        for part in self.often_parts:
            if _repeated(parts[part], site_pages, PART_SHARE):
                common |= _content_words(part)
        return frozenset(common)


def _often(counts: Counter[str]) -> set[str]:
    return {key for key, n in counts.items() if n >= MIN_SITE_PAGES}


def _title_words(parts: tuple[str, ...], known: dict[str, set[str]] | None = None) -> set[str]:
    """The content words of a title, each once; `known` keeps each part's words."""
    if known is None:
        return set().union(*map(_content_words, parts))
    found: set[str] = set()
    for part in parts:
        words = known.get(part)
        if words is None:
            words = known[part] = _content_words(part)
        found |= words
    return found


def _repeated(count: int, site_pages: int, share: float) -> bool:
    return site_pages >= MIN_SITE_PAGES and count >= max(MIN_SITE_PAGES, share * site_pages)


class ChromeShare(Protocol):
    """Answers shared by the processes serving one index (index/chromeshare.py)."""

    leading: bool

    def lead(self) -> bool: ...
    def read(self, generation: int, *, after: int = -1) -> SiteChrome | None: ...
    def write(self, chrome: SiteChrome) -> None: ...


class ChromeHolder:
    """The site chrome of the generation being served, recounted after each commit.

    Requests never wait for a large recount (the first count of a big index, a
    huge commit): they keep the previous generation's answer until it is ready.
    With `shared`, one process counts for all and the others read its answers;
    one that waits `patience` seconds for an answer (its leader gets no requests,
    so never learns of the commit) counts for itself.
    """

    def __init__(
        self,
        store: ReadStore,
        *,
        check_seconds: float = 1.0,
        shared: ChromeShare | None = None,
        patience: float = PATIENCE,
    ) -> None:
        self.store = store
        self.check_seconds = check_seconds
        self.patience = patience
        self._shared = shared
        self._tally = _Tally()
        self._counted = 0  # generation the tally has read up to (changed_since is exclusive)
        self._current = SiteChrome()
        self._lock = threading.Lock()
        self._building = False
        self._checked = -float("inf")
        self._awaited = (-1, 0.0)  # the generation awaited from the leader, since when

    def current(self) -> SiteChrome:
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            if self.store.generation != self._current.generation:
                self._start()
        return self._current

    def groups(self) -> frozenset[int]:
        """The near-duplicate groups that are site chrome (search demotes them)."""
        return self.current().groups

    def template_words(self, host: str | None = None) -> frozenset[str]:
        """The template words of `host`'s site, or of every site (suggestions, spelling)."""
        return self.current().template_words(host)

    def words_for_page(self, page_url: str) -> frozenset[str]:
        """The template words of the site a page URL belongs to (insights)."""
        return self.current().template_words(host_of(page_url))

    def _start(self) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True
        generation = self.store.generation
        if self._follows(generation):
            self._building = False
            return
        changed = self.store.changed_since(self._counted)
        # Only the first count of a small index makes a request wait; after that the
        # served answer stays until the next one is ready (a commit must not be a cliff).
        if self._current.generation < 0 and len(changed) < SYNC_DOCS:
            self._count(generation, changed)
        else:
            threading.Thread(target=self._count, args=(generation, changed), daemon=True).start()

    def _follows(self, generation: int) -> bool:
        """Whether another process counts `generation`: its answer, once written, is
        taken instead of counting here."""
        shared = self._shared
        if shared is None or shared.leading:
            return False
        found = shared.read(generation, after=self._current.generation)
        if found is not None:  # the newest answer up to `generation`
            self._current = found  # served until the answer for `generation` comes
        if self._current.generation == generation:
            return True
        if shared.lead():  # no live leader: this process counts from now on
            return False
        if self._awaited[0] != generation:
            self._awaited = (generation, time.monotonic())
        return time.monotonic() - self._awaited[1] < self.patience

    def _count(self, generation: int, changed: list[int]) -> None:
        started = time.perf_counter()
        try:
            for start in range(0, len(changed), BATCH):
                # Pages and titles alone: counting from whole documents took twice the
                # time, and churned the store's cache of the documents searches show.
                for group_id, places in pages_of(self.store, changed[start : start + BATCH]):
                    self._tally.add(group_id, places)
                time.sleep(0)
            self._counted = generation
            self._current = self._tally.result(generation)
            if self._shared is not None:
                self._shared.write(self._current)
            log.debug(
                "site chrome of generation %d: %d images read in %.2f s",
                generation,
                len(changed),
                time.perf_counter() - started,
            )
        except Exception:  # chrome only reorders results; a failed count must not break search
            log.exception("site chrome count failed")
        finally:
            self._building = False
