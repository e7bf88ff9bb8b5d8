"""One request's suggestion probes: one-hit queries proving that a suggestion returns images.

A suggestion that no result on the page already proves is run as a one-hit query
under the request's filters, as the search applies them (scope.py, with the
server's adult policy); a request spends at most MAX_PROBES of them. Where the
store answers several searches in one go (remote shards), the probes a section
of suggestions is about to make are sent together (`ProbeRun.probe_ahead`).

Before its one-hit query, a probe tries a witness: a document of the vocabulary's
sample that holds every word of the suggestion, checked by the suggestion's query
restricted to it. When it passes it proves the suggestion and is its thumbnail,
and the query that would score every match at 1M documents is not run.

A probe's answer depends only on its text, the request's filters and the
committed generation, so the prober keeps answers until the generation changes:
a query asked again, or one whose pivots and related searches another query
already proved, costs no search (at 1M documents a probe of frequent words costs
about as much as a search, 0.4-5 ms). The words of the documents suggestions
read are kept alike (tokenizing a page's 20 top results cost ~0.5 ms at 1M).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field, replace
from sys import intern
from typing import TypeVar

from pixsearch.index.store import (
    BatchSearch,
    Filters,
    StoreQuery,
    StoreResult,
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
# Text fields whose words describe the picture; URL words and OCR are too noisy to suggest.
DESCRIBING = ("caption", "name", "keywords", "near", "context", "page_title", "tags")

PROBE_CACHE = 10_000  # probe answers kept for a generation; past it they start over
WORD_CACHE = 16_384  # documents whose words are kept: ~1.5 KB each at 100 distinct words

Found = tuple[int, int] | None  # (top doc id, total matches), or None: nothing matches
ProbeKey = tuple[str, Filters, bool]  # text, the request's filters, counted
# A document's distinct words: of its describing fields, and of its other fields only.
# Kept as tuples of interned strings (a fifth of the memory of sets); a request makes sets.
DocWords = tuple[tuple[str, ...], tuple[str, ...]]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(slots=True)
class _Kept:
    """What the prober keeps for one committed generation."""

    generation: int
    answers: dict[ProbeKey, Found] = field(default_factory=dict)
    words: dict[int, DocWords] = field(default_factory=dict)


class Prober:
    """One-hit queries on the search's store, scoped as its searches are; each answer,
    and the words of each document suggestions read, is kept until the store's
    generation changes."""

    def __init__(self, search: SearchService) -> None:
        self.search = search
        self.batches = isinstance(search.store, BatchSearch)  # a protocol check costs 15 µs
        self._kept = _Kept(-1)

    def probe(
        self,
        text: str,
        filters: Filters,
        *,
        count: bool = False,
        vocab: Vocabulary | None = None,
    ) -> Found:
        """(top doc id, total matches) of `text` under `filters`, or None if nothing matches.

        Without `count` the total is only 1: proving a suggestion needs one hit, and
        not counting lets the index stop early. With `vocab`, a sampled document
        holding the words (`Vocabulary.witness`) is tried first, by the same query
        restricted to it: when it passes, it is the hit, and the query does not score
        every match (a probe of two frequent words at 1M scores tens of thousands).
        """
        key = (text, filters, count)
        kept = self._kept_now()
        with suppress(KeyError):  # one lookup: a clear could come between `in` and []
            return kept.answers[key]
        (found,) = self._answers([text], filters, count=count, vocab=vocab)
        self._keep(kept, kept.answers, {key: found}, PROBE_CACHE)
        return found

    def probe_many(
        self, texts: list[str], filters: Filters, *, vocab: Vocabulary | None = None
    ) -> list[Found]:
        """`probe` of each text (without counts), in one go: one round trip per shard
        (a second where a witness fails its check)."""
        kept = self._kept_now()
        keys = [(text, filters, False) for text in texts]
        known: dict[ProbeKey, Found] = {}
        for key in keys:
            with suppress(KeyError):  # one lookup: a clear could come between `in` and []
                known[key] = kept.answers[key]
        todo = [key for key in keys if key not in known]
        answers = self._answers([text for text, _, _ in todo], filters, count=False, vocab=vocab)
        fresh = dict(zip(todo, answers, strict=True))
        self._keep(kept, kept.answers, fresh, PROBE_CACHE)  # may start the kept ones over
        return [fresh[key] if key in fresh else known[key] for key in keys]

    def _answers(
        self, texts: list[str], filters: Filters, *, count: bool, vocab: Vocabulary | None
    ) -> list[Found]:
        """The store's answer to each text, in one go: a sampled witness's check where
        there is one (not for a count, which is the answer), else the one-hit query; a
        second go only for the texts whose witness failed its check."""
        witnesses = [
            _witness(vocab, text) if vocab is not None and not count else None for text in texts
        ]
        queries = [
            self._query(text, filters, count=count)
            if witness is None
            else self._check(text, filters, witness)
            for text, witness in zip(texts, witnesses, strict=True)
        ]
        answers = search_many(self.search.store, queries) if queries else []
        found = [
            _top(answer) if witness is None else (witness, 1) if answer.total else None
            for witness, answer in zip(witnesses, answers, strict=True)
        ]
        # Where a witness failed its check, the whole probe runs.
        failed = [i for i, w in enumerate(witnesses) if w is not None and found[i] is None]
        if failed:
            probes = [self._query(texts[i], filters, count=count) for i in failed]
            for i, answer in zip(failed, search_many(self.search.store, probes), strict=True):
                found[i] = _top(answer)
        return found

    def words(self, doc: ImageDocument) -> DocWords:
        """The words of a document, as the index folds them: of its describing fields,
        and of its other fields only. `doc` is one of the page's results, read at the
        generation the request searched (a server refreshes before it searches)."""
        kept = self._kept_now()
        found = kept.words.get(doc.doc_id)
        if found is None:
            found = _doc_words(doc)
            self._keep(kept, kept.words, {doc.doc_id: found}, WORD_CACHE)
        return found

    def _kept_now(self) -> _Kept:
        """What is kept for the store's generation, read before searching: an answer is
        then at least as new as the generation it is kept under."""
        generation = self.search.store.generation
        if generation != self._kept.generation:
            self._kept = _Kept(generation)
        return self._kept

    def _keep(self, kept: _Kept, into: dict[K, V], fresh: dict[K, V], most: int) -> None:
        """Add `fresh` to `into` (one of `kept`'s), unless a newer generation replaced
        `kept` meanwhile; past `most` entries, `into` starts over."""
        if kept is not self._kept:
            return
        if len(into) + len(fresh) > most:
            into.clear()
        into.update(fresh)

    def _check(self, text: str, filters: Filters, witness: int) -> StoreQuery:
        """`text`'s query restricted to `witness`: here a count alone (a hit's fast fields
        cost ~80 µs at 1M); from remote shards its one hit, as a short answer carries its
        document, the thumbnail, and no further call is made for it."""
        if self.batches:
            return self._query(text, filters, count=False, limit=1, doc_ids=(witness,))
        return self._query(text, filters, count=True, limit=0, doc_ids=(witness,))

    def _query(
        self,
        text: str,
        filters: Filters,
        *,
        count: bool,
        limit: int = 1,
        doc_ids: tuple[int, ...] = (),
    ) -> StoreQuery:
        parsed = parse_query(text)
        scoped = scoped_filters(filters, self.search.adult, query=parsed)
        # A witness holds every word: its check drops none as too common, so a sharded
        # store asks no shard for the words' counts first.
        words = replace(parsed.text, keep_common=True) if doc_ids else parsed.text
        return StoreQuery(text=words, filters=scoped, limit=limit, doc_ids=doc_ids, count=count)


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
    usable_memo: dict[str, bool] = field(default_factory=dict)  # `usable`, by word
    _words: dict[int, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    @property
    def batches(self) -> bool:
        """Whether probes sent together cost less than one by one (`probe_ahead`)."""
        return self.prober.batches

    def words_of(self, doc: ImageDocument) -> frozenset[str]:
        """Every indexed word of a document, as the index folds them."""
        return self._sets(doc)[1]

    def described(self, doc: ImageDocument) -> frozenset[str]:
        """The words of a document's describing fields, as the index folds them."""
        return self._sets(doc)[0]

    def _sets(self, doc: ImageDocument) -> tuple[frozenset[str], frozenset[str]]:
        found = self._words.get(doc.doc_id)
        if found is None:
            described, rest = self.prober.words(doc)
            found = self._words[doc.doc_id] = (frozenset(described), frozenset(described + rest))
        return found

    def usable(self, term: str) -> bool:
        """A content word, a real word of the collection, not in most documents, not
        excluded, and not adult when safe search is on."""
        known = self.usable_memo.get(term)
        if known is None:
            common = self.vocab.freq(term) > COMMON_SHARE * self.vocab.num_docs
            adult = bool(self.filters.exclude_adult) and term in self.vocab.adult
            known = self.usable_memo[term] = (
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
        found = (
            self.ahead[text]
            if ahead
            else self.prober.probe(text, self.filters, vocab=self._witnessed())
        )
        if found is not None:
            self.tops[text] = found[0]
        return found is not None

    def probe_ahead(self, texts: list[str], *, limit: int = MAX_PROBES) -> None:
        """Probe at once the texts `proves` is about to be asked for (as many as the
        budget leaves): one round trip to the store instead of one per text.

        Only where the store answers several searches in one go (remote shards): for
        one in this process it would only add the probes the loop never reaches.
        """
        if not self.batches:
            return
        todo = [t for t in dict.fromkeys(texts) if t not in self.ahead]
        todo = todo[: max(limit - self.probes, 0)]
        if len(todo) > 1:
            found = self.prober.probe_many(todo, self.filters, vocab=self._witnessed())
            self.ahead.update(zip(todo, found, strict=True))

    def _witnessed(self) -> Vocabulary | None:
        """The vocabulary whose sampled witnesses probes try first: always in this
        process; from remote shards only without filters but safe search, where a check
        nearly always passes (one that fails costs a round trip)."""
        return self.vocab if self.plain or not self.batches else None

    def images(self) -> dict[str, ImageDocument]:
        """The image each proven text found, by text."""
        ids = sorted(set(self.tops.values()))
        docs = {d.doc_id: d for d in self.prober.search.store.get(ids)}
        return {text: docs[d] for text, d in self.tops.items() if d in docs}


def _top(answer: StoreResult) -> Found:
    return (answer.hits[0].doc_id, answer.total) if answer.hits else None


def _witness(vocab: Vocabulary, text: str) -> int | None:
    """A sampled document holding the words of `text`, each a whole token (a word the
    index splits would be a phrase, which holding its parts does not prove)."""
    words = []
    for part in text.split():
        folded = tokens(part)
        if len(folded) != 1:
            return None
        words.append(folded[0])
    return vocab.witness(words)


def _real_word(vocab: Vocabulary, term: str) -> bool:
    """Seen whole in several images' describing text, not only in URLs and file names
    (where word pieces like "usehold" and uploader handles come from)."""
    least = SEEN if vocab.sampled >= SEEN_SMALL else 1
    return not vocab.sampled or vocab.seen.get(term, 0) >= least


def _doc_words(doc: ImageDocument) -> DocWords:
    """(distinct words of its describing fields, of its other fields and not those): each
    text tokenized once, one string and one regex pass per kind (no token spans the space
    that joins two texts)."""
    texts = [o.text for o in doc.occurrences]
    described = set(tokens(" ".join(t.get(name) or "" for t in texts for name in DESCRIBING)))
    other = " ".join(v for t in texts for name, v in t.items() if v and name not in DESCRIBING)
    rest = set(tokens(other)) - described
    return tuple(map(intern, described)), tuple(map(intern, rest))
