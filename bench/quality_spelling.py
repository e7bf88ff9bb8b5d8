"""Spelling correction on a collection of real pictures: typos of real queries, held out.

    python bench/quality_spelling.py [--index .bench/spelling-demo] [--no-semantic]
                                     [--dir .bench/search-1000000]

Corpus: the demo site's pictures (src/pixsearch/demo/pictures.py: openclipart-png,
tuxpaint-stamps-default, plasma-workspace-wallpapers and scikit-image's photos,
about 4,500 files), each linked as <slug>/<its original file name> with a JSON
sidecar holding the title and caption the demo site shows, and ingested by the
real pipeline: the index sees those words plus the URL words of the folder and
file name (author handles, numbering), as a crawl of the demo site would.

Queries: QUERIES are what a person looks for on such a site, written from the
collection's caption words (a query's words all occur in some caption). TYPOS
gives each one a misspelling as people make them: a keyboard neighbour, a doubled
or dropped letter, two letters swapped, a phonetic spelling (ph/f, c/k, ie/ei,
-le/-el, a vowel for another), in one word, and in both words of every fifth
multi-word query. They were made by a seeded generator cycling those kinds, kept
only where the typo is no word of the collection (captions, titles, file names),
and written down here before any tuning. Every third pair (TYPOS[2::3]) is the
tune set; the rest is held out and is the reported number. CORRECT (the queries
as meant plus short words with frequent look-alikes) must not be altered; its
held-out part follows the same split. ABSENT are correct words the collection
does not hold: shown apart, as no corrector that trusts the index can leave them.

A typo counts as corrected when the answer's alteredQuery is exactly the query
meant and the corrected page shows images. Latency: the spelling step's cost,
search plus correction vs bare search, per query, in the same process.

Also (1) the generated single-word misspellings of search_bench's large index
when --dir holds one; (3) suggestions: every suggestion for the held-out correct
queries under four filter sets is run as its own search with the same filters,
and its words are checked to be real words of the collection (seen whole in the
captions or titles of at least two pictures); (4) issue 6's hand list on the
generated samples, kept as a regression check.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import ingest_folder, write_paging_set

from pixsearch.demo.pictures import Picture, catalogue
from pixsearch.demo.samples import write_samples
from pixsearch.index import vocabulary
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.store import Filters
from pixsearch.index.textvectors import update_text_vectors
from pixsearch.index.words import is_content_word, tokens
from pixsearch.search.semantic import SemanticMatcher, load_embedder
from pixsearch.search.service import SearchRequest, SearchService
from pixsearch.search.spelling import Speller, edit_distance
from pixsearch.search.suggest import SuggestionService
from pixsearch.search.vocabulary import VocabularyHolder

TYPOS: tuple[tuple[str, str], ...] = (  # (typed, meant), frozen before tuning
    ("appie", "apple"),
    ("bananaa", "banana"),
    ("strawberr", "strawberry"),
    ("pineappel", "pineapple"),
    ("orenge", "orange"),
    ("lwmon", "lemon"),
    ("grrapes", "grapes"),
    ("chery", "cherry"),
    ("pziza", "pizza"),
    ("hemburger", "hamburger"),
    ("sancwich", "sandwich"),
    ("cofffee", "coffee"),
    ("teapo", "teapot"),
    ("caek", "cake"),
    ("candi", "candy"),
    ("cbocolate", "chocolate"),
    ("butterflyy", "butterfly"),
    ("pnguin", "penguin"),
    ("dolphni", "dolphin"),
    ("elefant", "elephant"),
    ("girafbe", "giraffe"),
    ("rabbitt", "rabbit"),
    ("squirel", "squirrel"),
    ("sipder", "spider"),
    ("herse", "horse"),
    ("tlger", "tiger"),
    ("lioon", "lion"),
    ("fih", "fish"),
    ("forg", "frog"),
    ("ledybug", "ladybug"),
    ("flowef", "flower"),
    ("mushrooom", "mushroom"),
    ("cacts", "cactus"),
    ("tere", "tree"),
    ("leef", "leaf"),
    ("pimpkin", "pumpkin"),
    ("snowmaan", "snowman"),
    ("canle", "candle"),
    ("balolon", "balloon"),
    ("fereworks", "fireworks"),
    ("guitxr", "guitar"),
    ("trummpet", "trumpet"),
    ("violn", "violin"),
    ("pinao", "piano"),
    ("drm", "drum"),
    ("telephobe", "telephone"),
    ("computeer", "computer"),
    ("keybard", "keyboard"),
    ("pirnter", "printer"),
    ("camara", "camera"),
    ("teldvision", "television"),
    ("biicycle", "bicycle"),
    ("truc", "truck"),
    ("trani", "train"),
    ("airplene", "airplane"),
    ("sailbiat", "sailboat"),
    ("anchhor", "anchor"),
    ("lghthouse", "lighthouse"),
    ("castel", "castle"),
    ("churkh", "church"),
    ("hokse", "house"),
    ("toower", "tower"),
    ("umbrela", "umbrella"),
    ("scissros", "scissors"),
    ("hammar", "hammer"),
    ("pencio", "pencil"),
    ("cllock", "clock"),
    ("lap", "lamp"),
    ("lgihtbulb", "lightbulb"),
    ("batery", "battery"),
    ("gkobe", "globe"),
    ("compasss", "compass"),
    ("pirae", "pirate"),
    ("kinght", "knight"),
    ("swerd", "sword"),
    ("shleld", "shield"),
    ("crownn", "crown"),
    ("robo", "robot"),
    ("scull", "skull"),
    ("hrart", "heart"),
    ("sttar", "star"),
    ("mon", "moon"),
    ("clodu", "cloud"),
    ("reinbow", "rainbow"),
    ("ligutning", "lightning"),
    ("mounttain", "mountain"),
    ("beac", "beach"),
    ("ilsand", "island"),
    ("chass", "chess"),
    ("flwg of france", "flag of france"),
    ("flaag of canaa", "flag of canada"),
    ("soccer bell", "soccer ball"),
    ("tenmis racket", "tennis racket"),
    ("basebball cap", "baseball cap"),
    ("tedy bear", "teddy bear"),
    ("sotp segn", "stop sign"),
    ("mjsical note", "musical note"),
    ("solar systeem", "solar system"),
    ("mgnifying glass", "magnifying glass"),
    ("red aple", "red apple"),
    ("ggeen applle", "green apple"),
    ("blak cat", "black cat"),
    ("white rebbit", "white rabbit"),
    ("yellow sgar", "yellow star"),
    ("biirthday cake", "birthday cake"),
    ("christas tere", "christmas tree"),
    ("eastar egg", "easter egg"),
    ("hot air balloin", "hot air balloon"),
    ("fire trucck", "fire truck"),
    ("polce car", "police car"),
    ("shcool bus", "school bus"),
    ("fleg of germany", "flag of germany"),
    ("flag of italt", "flag of italy"),
    ("fllag of spain", "flag of spain"),
    ("fag of australia", "flag of australia"),
    ("uinted kengdom flag", "united kingdom flag"),
    ("united states flav", "united states flag"),
    ("map symbools", "map symbols"),
    ("rod sign", "road sign"),
    ("playing carsd", "playing cards"),
    ("chezs kibg", "chess king"),
    ("red heat", "red heart"),
    ("blue butetrfly", "blue butterfly"),
    ("orange juise", "orange juice"),
    ("ckffee mug", "coffee mug"),
    ("wine glasss", "wine glass"),
    ("ber bottle", "beer bottle"),
    ("pirate sihp", "pirate ship"),
    ("christmas candel", "christmas candle"),
    ("otange pumpkiin", "orange pumpkin"),
    ("vaentines heart", "valentines heart"),
    ("sonw mountain", "snow mountain"),
    ("palm trae", "palm tree"),
    ("appple tree", "apple tree"),
    ("gren laef", "green leaf"),
    ("yellow flowar", "yellow flower"),
    ("red rise", "red rose"),
    ("black and whitte cat", "black and white cat"),
    ("caroton dog", "cartoon dog"),
    ("hapy fafe", "happy face"),
    ("leftt arrow", "left arrow"),
    ("dwn arrow", "down arrow"),
    ("ligth bulb", "light bulb"),
    ("analog clokk", "analog clock"),
    ("dwsk lampp", "desk lamp"),
    ("compter mouse", "computer mouse"),
    ("latpop computer", "laptop computer"),
    ("mobele phone", "mobile phone"),
    ("traffic liggt", "traffic light"),
    ("wateer botle", "water bottle"),
)
TUNE = TYPOS[2::3]
HELD_OUT = tuple(p for i, p in enumerate(TYPOS) if i % 3 != 2)
LOOKALIKES = (  # noqa: SIM905 - correct short words with a frequent word one edit away
    "cap bat hat cat car bus pear bear king ball lime rose wall dice boat coat goat map "
    "book box card flag flat plane plate mouse horses stars flags cards birds trees "
    "clocks fox owl pen pin sheep ship shop stop"
).split()
CORRECT_HELD_OUT = [meant for _, meant in HELD_OUT] + LOOKALIKES
CORRECT_TUNE = [meant for _, meant in TUNE]
ABSENT = ("mask", "vase", "bees", "mice", "ring", "bell", "parrot", "shark", "tulip", "volcano")


HAND = {  # issue 6: misspelled query -> what was meant (words of the generated samples)
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
HAND_CORRECT = [
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


def build_index(index: Path) -> None:
    """The demo pictures, linked under their slugs with title/caption sidecars, ingested."""
    if (index / "meta.db").exists():
        return
    folder = index.parent / f"{index.name}-files"
    for picture in catalogue():
        place = folder / picture.slug
        place.mkdir(parents=True, exist_ok=True)
        link = place / picture.path.name
        if not link.exists():
            link.symlink_to(picture.path)
        sidecar = {"title": picture.title, "caption": picture.caption}
        link.with_suffix(".json").write_text(json.dumps(sidecar))
    ingest_folder(folder, index, workers=2)


def described_words(pictures: list[Picture]) -> Counter[str]:
    """Pictures whose caption or title holds each word: the collection's real words."""
    return Counter(w for p in pictures for w in set(tokens(f"{p.title} {p.caption}")))


def typo_rate(service: SuggestionService, pairs: tuple[tuple[str, str], ...]) -> tuple[float, ...]:
    """(all, single-word, multi-word) share corrected as meant; misses printed."""
    right: dict[bool, list[bool]] = {False: [], True: []}
    misses = []
    for typed, meant in pairs:
        page, spelling = service.search(SearchRequest(q=typed))
        ok = spelling.altered == meant and bool(page.results)
        right[" " in meant].append(ok)
        if not ok:
            misses.append(f"{typed}->{spelling.altered}")
    every = right[False] + right[True]
    print(f"   misses: {', '.join(misses) or 'none'}")
    return tuple(sum(r) / max(len(r), 1) for r in (every, right[False], right[True]))


def altered(service: SuggestionService, queries: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for q in queries:
        changed = service.search(SearchRequest(q=q))[1].altered
        if changed:
            out.append(f"{q}->{changed}")
    return out


def latency(service: SuggestionService, queries: list[str]) -> tuple[float, float]:
    """Median ms per query: bare search, search with spelling (after one warm pass)."""
    for q in queries:
        service.search(SearchRequest(q=q))
    bare, spelled = [], []
    for q in queries:
        started = time.perf_counter()
        service.search_service.search(SearchRequest(q=q))
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        service.search(SearchRequest(q=q))
        spelled.append(time.perf_counter() - started)
    return statistics.median(bare) * 1000, statistics.median(spelled) * 1000


FILTERS = {
    "none": Filters(),
    "strict": Filters(exclude_adult=("image", "text")),
    "large": Filters(size="large", exclude_adult=("image",)),
    "color": Filters(color="blue", exclude_adult=("image",)),
}


def suggestions_checked(service: SuggestionService, real: Counter[str]) -> None:
    """Every suggestion for the held-out correct queries under four filter sets: found again
    under the same filters, and made of real words of the collection."""
    good = total = 0
    fragments: list[str] = []
    for q in CORRECT_HELD_OUT:
        for filters in FILTERS.values():
            request = SearchRequest(q=q, filters=filters)
            page, spelling = service.search(request)
            found = service.suggest(request, page, spelling.altered or q, market="en-US")
            texts = [s.text for s in (*found.expansions, *found.similar, *found.related)]
            texts += [s.text for _, ss in found.pivots for s in ss]
            for text in texts:
                total += 1
                again = SearchRequest(q=text, filters=filters, count=1)
                good += bool(service.search_service.search(again).results)
                words = [w for w in tokens(text) if is_content_word(w) and w not in tokens(q)]
                fragments += [f"{q}: {w}" for w in words if real[w] < 2]
    print(
        f"\n3. suggestions of {len(CORRECT_HELD_OUT)} correct queries x {len(FILTERS)} filter sets"
    )
    print(
        f"   that find images under the same filters: {good} / {total} ({good / max(total, 1):.1%})"
    )
    print("   suggested words (beside the query's) not in >= 2 pictures' captions/titles:", end=" ")
    print(len(fragments))
    print(f"   {', '.join(sorted(set(fragments))[:30])}")


def demo(index: Path, *, semantic: bool) -> None:
    build_index(index)
    store = EmbeddedStore(index)
    # As a server searches (semantic matching is on by default): meaning matches keep
    # a misspelled query's count up, which is what hid typos from the old correction.
    embedder = load_embedder() if semantic else None
    matcher = None
    if embedder is not None:
        update_text_vectors(store, index, embedder.embed_texts)
        matcher = SemanticMatcher(embedder, store)
    print(f"\nsemantic matching: {'on' if matcher else 'off'}")
    search = SearchService(store, semantic=matcher)
    service = SuggestionService(
        search, VocabularyHolder(store, vocabulary.VocabularyCache(store, None))
    )
    print(f"\n2. typos of real queries, demo pictures ({store.stats().get('documents', 0)} images)")
    for name, pairs in (("held out", HELD_OUT), ("tune", TUNE)):
        every, single, several = typo_rate(service, pairs)
        print(
            f"   {name}: {len(pairs)} typos ({sum(' ' in m for _, m in pairs)} multi-word): "
            f"corrected as meant {every:.1%} (single words {single:.1%}, multi-word {several:.1%})"
        )
    for name, queries in (("held out", CORRECT_HELD_OUT), ("tune", CORRECT_TUNE)):
        changed = altered(service, queries)
        print(
            f"   correct queries altered, {name}: {len(changed)} / {len(queries)} "
            f"({len(changed) / len(queries):.1%}) {changed}"
        )
    absent = altered(service, ABSENT)
    print(f"   absent words altered (shown apart): {len(absent)} / {len(ABSENT)} {absent}")
    for name, queries in (("correct", CORRECT_HELD_OUT), ("misspelled", [t for t, _ in HELD_OUT])):
        bare, spelled = latency(service, queries)
        print(
            f"   median per {name} query: bare search {bare:.2f} ms, "
            f"with spelling (and the corrected search) {spelled:.2f} ms"
        )
    suggestions_checked(service, described_words(catalogue()))


def hand() -> None:
    """Issue 6's hand list on the generated samples (a regression check, BM25 as then)."""
    with tempfile.TemporaryDirectory() as tmp:
        samples, index = Path(tmp) / "samples", Path(tmp) / "index"
        write_samples(samples)
        write_paging_set(samples / "patterns")
        ingest_folder(samples, index, workers=2)
        store = EmbeddedStore(index)
        service = SuggestionService(
            SearchService(store), VocabularyHolder(store, vocabulary.VocabularyCache(store, None))
        )
        print(f"\n4. issue 6's hand list, generated samples ({store.stats()['documents']} images):")
        every, _, _ = typo_rate(service, tuple(HAND.items()))
        changed = altered(service, HAND_CORRECT)
    print(f"   {every:.0%} of {len(HAND)} corrected as meant")
    print(f"   correctly spelled queries altered: {len(changed)} / {len(HAND_CORRECT)} {changed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path(".bench/spelling-demo"))
    parser.add_argument("--dir", type=Path, default=Path(".bench/search-1000000"))
    parser.add_argument("--words", type=int, default=1000)
    parser.add_argument("--no-semantic", action="store_true", help="BM25 only")
    args = parser.parse_args()
    if (args.dir / "meta.db").exists():
        generated(args.dir, args.words)
    demo(args.index, semantic=not args.no_semantic)
    hand()


if __name__ == "__main__":
    main()
