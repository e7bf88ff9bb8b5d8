"""Spelling-correction accuracy (generated and hand-made misspellings); suggestions that work.

    python bench/quality_spelling.py [--dir .bench/search-1000000] [--words 1000]

1. Generated: words drawn from the vocabulary of a large index (search_bench's
   1M-document index, 60,000 words, many of them a letter or two apart), each
   given one random edit (delete, insert, substitute, swap), and words of six
   letters or more also two edits. A correction counts as right when it gives
   back the original word. A misspelling that is itself another indexed word
   is counted apart: no corrector that trusts the index can know it is wrong.
2. Hand list: misspelled queries a person types, against the demo corpus (real
   captions), through the same search path the API uses (the query must find
   little and the correction much), plus correctly spelled queries that must
   not be altered.
3. Every suggestion for the correctly spelled queries, under four filter sets
   (none, Strict, size=Large, color=Blue), run as its own search with the same
   filters: how many find an image (the target is all of them).
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import ingest_folder, write_paging_set

from pixsearch.demo.samples import write_samples
from pixsearch.index import vocabulary
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.spelling import Speller, edit_distance
from pixsearch.search.suggest import SuggestionService
from pixsearch.search.vocabulary import VocabularyHolder

HAND = {  # misspelled query -> what was meant (words of the demo corpus's captions)
    "sunst": "sunset",
    "sunet": "sunset",
    "snuset": "sunset",
    "astronuat": "astronaut",
    "astronat": "astronaut",
    "cofee": "coffee",
    "coffe": "coffee",
    "rockett": "rocket",
    "rokcet": "rocket",
    "chekerboard": "checkerboard",
    "checkerbord": "checkerboard",
    "valey": "valley",
    "galaxeis": "galaxies",
    "meadw": "meadow",
    "stromy sky": "stormy sky",
    "red cirlce": "red circle",
    "yelow star": "yellow star",
    "purpel square": "purple square",
    "triangel": "triangle",
    "camerman": "cameraman",
    "hubbel deep field": "hubble deep field",
    "tabby catt": "tabby cat",
    "sacuer": "saucer",
    "lanuch pad": "launch pad",
    "grene hills": "green hills",
}
CORRECT = [
    "sunset", "astronaut", "coffee", "rocket", "checkerboard", "red circle", "blue sky",
    "cat", "moon", "coins", "camera", "dawn", "meadow", "stormy sky", "yellow star",
    "green triangle", "cup", "launch", "hubble", "pattern",
]  # fmt: skip


def misspell(word: str, edits: int, rng: random.Random) -> str:
    for _ in range(edits):
        kind = rng.choice(("delete", "insert", "substitute", "swap"))
        i = rng.randrange(len(word))
        letter = rng.choice(string.ascii_lowercase)
        if kind == "delete" and len(word) > 3:
            word = word[:i] + word[i + 1 :]
        elif kind == "insert":
            word = word[:i] + letter + word[i:]
        elif kind == "swap" and i < len(word) - 1 and word[i] != word[i + 1]:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            word = word[:i] + (letter if letter != word[i] else "z") + word[i + 1 :]
    return word


def generated(root: Path, count: int) -> None:
    store = EmbeddedStore(root)
    path = root / "vocabulary" / f"vocabulary-{store.generation}.npz"
    vocab = vocabulary.load(path) if path.exists() else None
    vocab = vocab or vocabulary.build(store)
    speller = Speller(vocab)
    rng = random.Random(11)
    pool = [t for t in vocab.terms[:50_000] if t.isalpha() and len(t) >= 4]
    print(f"\n1. generated misspellings of {count} words of {root} ({len(vocab.terms):,} words)")
    print(
        f"{'edits':<7}{'right':>7}{'wrong':>7}{'closer':>8}{'none':>7}{'collide':>9}{'accuracy':>10}"
    )
    for edits in (1, 2):
        words = [w for w in rng.sample(pool, count) if edits == 1 or len(w) >= 6]
        right = wrong = closer = none = collide = 0
        for word in words:
            typo = misspell(word, edits, rng)
            if typo == word or vocab.freq(typo):
                collide += 1
                continue
            fix = speller.correct_word(typo)
            right += fix == word
            wrong += fix is not None and fix != word
            # wrong, but the typo is nearer to the word chosen than to the one meant
            closer += fix is not None and edit_distance(typo, fix) < edit_distance(typo, word)
            none += fix is None
        scored = right + wrong + none
        print(
            f"{edits:<7}{right:>7}{wrong:>7}{closer:>8}{none:>7}{collide:>9}{right / scored:>10.1%}"
        )


def hand() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        samples, index = Path(tmp) / "samples", Path(tmp) / "index"
        write_samples(samples)
        write_paging_set(samples / "patterns")
        ingest_folder(samples, index, workers=2)
        store = EmbeddedStore(index)
        search = SearchService(store)
        suggestions = SuggestionService(
            search, VocabularyHolder(store, vocabulary.VocabularyCache(store, None))
        )
        right, misses = 0, []
        for typo, meant in HAND.items():
            page, spelling = suggestions.search(SearchRequest(q=typo))
            ok = spelling.altered == meant and bool(page.results)
            right += ok
            if not ok:
                misses.append(f"{typo} -> {spelling.altered}")
        altered = [q for q in CORRECT if suggestions.search(SearchRequest(q=q))[1].altered]
        good, total = suggestions_found(suggestions)
    print(f"\n2. hand list on the demo corpus: {right} / {len(HAND)} corrected as meant")
    print(f"   misses: {', '.join(misses) or 'none'}")
    print(f"   correctly spelled queries altered: {len(altered)} / {len(CORRECT)} {altered}")
    print(f"\n3. suggestions of {len(CORRECT)} queries x {len(FILTERS)} filter sets that find")
    print(f"   images under the same filters: {good} / {total} ({good / max(total, 1):.1%})")


FILTERS = {
    "none": Filters(),
    "strict": Filters(exclude_adult=("image", "text")),
    "large": Filters(size="large", exclude_adult=("image",)),
    "color": Filters(color="blue", exclude_adult=("image",)),
}


def suggestions_found(suggestions: SuggestionService) -> tuple[int, int]:
    """(suggestions whose own search finds an image, suggestions) over CORRECT x FILTERS."""
    good = total = 0
    for q in CORRECT:
        for filters in FILTERS.values():
            request = SearchRequest(q=q, filters=filters)
            page, spelling = suggestions.search(request)
            found = suggestions.suggest(request, page, spelling.altered or q, market="en-US")
            texts = [s.text for s in (*found.expansions, *found.similar, *found.related)]
            texts += [s.text for _, ss in found.pivots for s in ss]
            for text in texts:
                total += 1
                again = SearchRequest(q=text, filters=filters, count=1)
                good += bool(suggestions.search_service.search(again).results)
    return good, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1000000"))
    parser.add_argument("--words", type=int, default=1000)
    args = parser.parse_args()
    if (args.dir / "meta.db").exists():
        generated(args.dir, args.words)
    hand()


if __name__ == "__main__":
    main()
