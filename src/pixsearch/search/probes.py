"""One request's suggestion probes: one-hit queries proving that a suggestion returns images.

A suggestion that no result on the page already proves is run as a one-hit query
under the request's filters, as the search applies them (scope.py, with the
server's adult policy); a request spends at most MAX_PROBES of them. Where the
store answers several searches in one go (remote shards), the probes a section
of suggestions is about to make are sent together (`ProbeRun.probe_ahead`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixsearch.index.store import (
    BatchSearch,
    Filters,
    StoreQuery,
    Vocabulary,
    is_content_word,
    search_many,
    tokens,
)
from pixsearch.records import ImageDocument
from pixsearch.search.query import parse_query
from pixsearch.search.scope import scoped_filters
from pixsearch.search.service import SearchService

MAX_PROBES = 10  # one-hit verification queries per request, all kinds together
COMMON_SHARE = 0.3  # a word in more than this share of the index narrows nothing
SEEN = 2  # a suggested word is in the describing text of at least this many sampled images...
SEEN_SMALL = 1_000  # ...or of one, in a collection this small (most words are seen once)

Found = tuple[int, int] | None  # (top doc id, total matches), or None: nothing matches


@dataclass(frozen=True, slots=True)
class Prober:
    """One-hit queries on the search's store, scoped as its searches are."""

    search: SearchService

    def probe(self, text: str, filters: Filters, *, count: bool = False) -> Found:
        """(top doc id, total matches) of `text` under `filters`, or None if nothing matches.

        Without `count` the total is only 1: proving a suggestion needs one hit, and
        not counting lets the index stop early.
        """
        result = self.search.store.search(self._query(text, filters, count=count))
        return (result.hits[0].doc_id, result.total) if result.hits else None

    def probe_many(self, texts: list[str], filters: Filters) -> list[Found]:
        """`probe` of each text (without counts), in one go: one round trip per shard."""
        queries = [self._query(text, filters, count=False) for text in texts]
        return [
            (r.hits[0].doc_id, r.total) if r.hits else None
            for r in search_many(self.search.store, queries)
        ]

    def _query(self, text: str, filters: Filters, *, count: bool) -> StoreQuery:
        parsed = parse_query(text)
        scoped = scoped_filters(filters, self.search.adult, query=parsed)
        return StoreQuery(text=parsed.text, filters=scoped, limit=1, count=count)


@dataclass(slots=True)
class ProbeRun:
    """One request's suggestion work: its filters, the probe budget and the images found."""

    prober: Prober
    filters: Filters
    vocab: Vocabulary
    plain: bool = False  # no filter but safe search: vocabulary counts prove single words
    excluded: frozenset[str] = frozenset()  # words never suggested
    probes: int = 0
    tops: dict[str, int] = field(default_factory=dict)  # proven text → the image it found
    ahead: dict[str, Found] = field(default_factory=dict)  # probed at once
    _usable: dict[str, bool] = field(default_factory=dict)
    _words: dict[int, set[str]] = field(default_factory=dict)

    def words_of(self, doc: ImageDocument) -> set[str]:
        """Every indexed word of a document, as the index folds them."""
        found = self._words.get(doc.doc_id)
        if found is None:
            found = self._words[doc.doc_id] = _all_words(doc)
        return found

    def usable(self, term: str) -> bool:
        """A content word, a real word of the collection, not in most documents, not
        excluded, and not adult when safe search is on."""
        known = self._usable.get(term)
        if known is None:
            common = self.vocab.freq(term) > COMMON_SHARE * self.vocab.num_docs
            adult = bool(self.filters.exclude_adult) and term in self.vocab.adult
            known = self._usable[term] = (
                is_content_word(term)
                and _real_word(self.vocab, term)
                and term not in self.excluded
                and not common
                and not adult
            )
        return known

    def proves(self, text: str, *, limit: int = MAX_PROBES) -> bool:
        """Run `text` as a one-hit query; True if it finds an image (within the budget)."""
        if self.probes >= limit:
            return False
        self.probes += 1
        ahead = text in self.ahead
        found = self.ahead[text] if ahead else self.prober.probe(text, self.filters)
        if found is not None:
            self.tops[text] = found[0]
        return found is not None

    def probe_ahead(self, texts: list[str], *, limit: int = MAX_PROBES) -> None:
        """Probe at once the texts `proves` is about to be asked for (as many as the
        budget leaves): one round trip to the store instead of one per text.

        Only where the store answers several searches in one go (remote shards): for
        one in this process it would only add the probes the loop never reaches.
        """
        if not isinstance(self.prober.search.store, BatchSearch):
            return
        todo = [t for t in dict.fromkeys(texts) if t not in self.ahead]
        todo = todo[: max(limit - self.probes, 0)]
        if len(todo) > 1:
            self.ahead.update(zip(todo, self.prober.probe_many(todo, self.filters), strict=True))

    def images(self) -> dict[str, ImageDocument]:
        """The image each proven text found, by text."""
        ids = sorted(set(self.tops.values()))
        docs = {d.doc_id: d for d in self.prober.search.store.get(ids)}
        return {text: docs[d] for text, d in self.tops.items() if d in docs}


def _real_word(vocab: Vocabulary, term: str) -> bool:
    """Seen whole in several images' describing text, not only in URLs and file names
    (where word pieces like "usehold" and uploader handles come from)."""
    least = SEEN if vocab.sampled >= SEEN_SMALL else 1
    return not vocab.sampled or vocab.seen.get(term, 0) >= least


def _all_words(doc: ImageDocument) -> set[str]:
    return set(tokens(" ".join(v for o in doc.occurrences for v in o.text.values() if v)))
