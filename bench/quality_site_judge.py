"""Judged queries and filter probes of bench/quality_site.py, written from the generator's truth.

Rules (fixed before any result was looked at):

* a picture's subject is its title words (from the package's file name) and topic
  words (its folder below the section), each normalised by `norm` (lower case, plural
  's' dropped); a picture is relevant to a query when the query's normalised words are
  all in its subject; gain 1, else 0; a picture counts once (a second size of the same
  picture in the top 10 gains nothing); the logo is never relevant;
* single: one title word of a picture with alt text; two words: two consecutive title
  words of such a picture; phrase: the same in quotes (different pairs); context-only:
  a title word held by opaque pictures only (no alt, title attribute or file name says
  it: only the text around the image does);
* broad (added in session 20, rule written before it was run against pixsearch): one
  subject word (a title or a topic word) that at least BROAD_MIN = 10 pictures share, so
  that P@10 = 1 is possible; relevant are all pictures whose subject holds it (the rule
  above), whatever the pages say about them (a topic word such as "bird" may be said by no
  page: a broad query asks for every bird). Drawn after the other kinds with the same
  random generator, so their queries stay what they were;
* template words (section names, the site's name, item/page/note/collection ...) and
  words under 3 letters are never queries of the kinds above;
* with a section name (session 20, rule written before it was run, to measure how a
  template word in a query weighs): each single-word query with the name of the site
  section of its first relevant picture (lowest index) put in front ("animals parrot");
  relevant are the pictures relevant to the single word that are in that section (every
  picture's item page title names its section); reported apart, not in "all";
* filter probes are judged on the shown file (its pixels, size) and the shown
  hostPageUrl (the page's licence markup and publication date);
* one picture, one identity (session 20, a fix of the truth, not a ranking rule): pictures
  whose source files have the same pixels over white are one picture (`same_pictures`).
  The generator draws a few package files twice, and packages ship a few drawings under
  two names; the index rightly groups such files, and judging them as two pictures
  counted half their pages as wrong and asked for the same drawing twice in a top 10.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from PIL import Image

from quality_site_gen import CC0, CC_BY, SITE_NAME, FileTruth, PageTruth, Truth, norm

TEMPLATE = frozenset(
    [
        "item",
        "items",
        "page",
        "note",
        "journal",
        "collection",
        "collections",
        "gallery",
        "section",
        "harbour",
        "clip",
        "art",
        "drawing",
        "picture",
        "wallpaper",
        "free",
        "the",
        "and",
        "with",
        "for",
        "from",
        "of",
        "no",
        "not",
        "in",
        "on",
        "at",
        "to",
        "by",
    ]
)
COMMON_SHARE = 0.7  # of each kind's queries, this share have two relevant pictures or more
KINDS = ("single", "two words", "phrase", "context-only", "broad")
BROAD_MIN = 10  # relevant pictures a broad query has at least: P@10 can reach 1
SECTION_KIND = "with a section name"  # single words led by a template word (not in "all")


@dataclass(frozen=True, slots=True)
class Query:
    kind: str
    text: str
    words: frozenset[str]  # normalised
    relevant: frozenset[int]  # picture indexes


@dataclass(slots=True)
class Tally:
    ndcg: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    # The best P@10 each query allows: min(relevant, 10) / 10. Most judged queries have
    # fewer than 10 relevant pictures, so a perfect ranking scores below 1 on P@10.
    best: list[float] = field(default_factory=list)


def _ok(word: str, template: frozenset[str]) -> bool:
    return len(word) >= 3 and word.isalpha() and norm(word) not in template


def make_queries(truth: Truth, seed: int, per_kind: dict[str, int]) -> list[Query]:
    """Queries of each kind; most with several relevant pictures, the rest with one."""
    rng = random.Random(seed)
    template = TEMPLATE | {norm(w) for s in truth.sections for w in s.replace("_", " ").split()}
    template |= {norm(w) for w in SITE_NAME.lower().split()}

    def relevant(words: frozenset[str]) -> frozenset[int]:
        return frozenset(i for i, p in enumerate(truth.pictures) if words <= p.subject)

    in_alt = {norm(w) for p in truth.pictures if not p.opaque for w in p.words}
    singles: set[tuple[str, ...]] = set()
    context: set[tuple[str, ...]] = set()
    pairs: set[tuple[str, ...]] = set()
    phrases: set[tuple[str, ...]] = set()
    for item in truth.pictures:
        subject = sorted(
            {w for w in [*item.words, *item.picture.topic.lower().split()] if _ok(w, template)}
        )
        for word in subject:
            (singles if norm(word) in in_alt else context).add((word,))
        pairs.update((a, b) for a in subject for b in subject if norm(a) < norm(b))
        if not item.opaque:
            phrases.update(
                (a, b)
                for a, b in zip(item.words, item.words[1:], strict=False)
                if _ok(a, template) and _ok(b, template) and a != b
            )
    pools = {
        "single": singles,
        "two words": pairs,
        "phrase": phrases - pairs,
        "context-only": context,
        "broad": singles | context,
    }
    out: list[Query] = []
    for kind in KINDS:
        found = [(w, relevant(frozenset(norm(x) for x in w))) for w in sorted(pools[kind])]
        found = [(w, r) for w, r in found if r]
        rng.shuffle(found)
        for words, rel in _take(kind, found, per_kind.get(kind, 0)):
            text = " ".join(words)
            out.append(
                Query(
                    kind,
                    f'"{text}"' if kind == "phrase" else text,
                    frozenset(norm(x) for x in words),
                    rel,
                )
            )
    return out


def with_section(truth: Truth, queries: list[Query]) -> list[Query]:
    """Each single-word query led by the section name of its first relevant picture."""
    out = []
    for query in queries:
        if query.kind != "single":
            continue
        section = truth.pictures[min(query.relevant)].picture.section
        name = section.replace("_", " ")
        relevant = frozenset(
            i for i in query.relevant if truth.pictures[i].picture.section == section
        )
        out.append(Query(SECTION_KIND, f"{name} {query.text}", query.words, relevant))
    return out


def _take(
    kind: str, found: list[tuple[tuple[str, ...], frozenset[int]]], want: int
) -> list[tuple[tuple[str, ...], frozenset[int]]]:
    """`want` of the shuffled candidates: broad ones all with BROAD_MIN relevant pictures,
    the other kinds COMMON_SHARE with several relevant pictures and the rest with one."""
    if kind == "broad":
        # One spelling of a word: "bird" and "birds" are one query.
        keys = {frozenset(map(norm, w)): (w, r) for w, r in reversed(found) if len(r) >= BROAD_MIN}
        return [x for x in found if keys.get(frozenset(map(norm, x[0]))) == x][:want]
    several = [x for x in found if len(x[1]) >= 2]
    one = [x for x in found if len(x[1]) == 1]
    take = several[: round(want * COMMON_SHARE)]
    take += one[: want - len(take)]
    take += several[len(take) : want] if len(take) < want else []
    return take


def score(shown: list[int], relevant: frozenset[int], k: int = 10) -> tuple[float, float]:
    """(nDCG@k, P@k) of the pictures shown (-1: logo or unknown); a picture counts once."""
    seen: set[int] = set()
    gains = []
    for picture in shown[:k]:
        gains.append(1 if picture in relevant and picture not in seen else 0)
        seen.add(picture)
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return (dcg / ideal if ideal else 0.0), sum(gains) / k


# Filter probes: API parameter → rule over (shown file, shown page, truth).
Probe = Callable[[FileTruth, PageTruth, Truth], bool]
PROBES: dict[str, tuple[dict[str, str], Probe]] = {
    "license=Public": ({"license": "Public"}, lambda f, p, t: p.license == CC0),
    "license=ModifyCommercially": (
        {"license": "ModifyCommercially"},
        lambda f, p, t: p.license in (CC0, CC_BY),
    ),
    "color=Monochrome": ({"color": "Monochrome"}, lambda f, p, t: f.monochrome),
    "size=Small": ({"size": "Small"}, lambda f, p, t: f.width < 200 and f.height < 200),
    "imageType=Line": ({"imageType": "Line"}, lambda f, p, t: f.line),
    "imageType=Transparent": ({"imageType": "Transparent"}, lambda f, p, t: f.transparent),
    "freshness=Week": (
        {"freshness": "Week"},
        lambda f, p, t: p.published >= t.now - timedelta(days=7, hours=1),
    ),
    "freshness=Month": (
        {"freshness": "Month"},
        lambda f, p, t: p.published >= t.now - timedelta(days=30, hours=1),
    ),
}


def pages_including(truth: Truth, picture: int) -> int:
    files = {f.url for f in truth.files.values() if f.picture == picture}
    return sum(1 for p in truth.pages.values() if files & set(p.files))


def sizes_available(truth: Truth, picture: int) -> int:
    shown = {u for p in truth.pages.values() for u in p.files}
    return len(
        {
            (f.width, f.height)
            for f in truth.files.values()
            if f.picture == picture and f.url in shown
        }
    )


def same_pictures(truth: Truth) -> list[int]:
    """Each picture's identity: the lowest index of the pictures with its pixels (over white)."""
    first: dict[bytes, int] = {}
    identity = []
    for index, item in enumerate(truth.pictures):
        with Image.open(item.picture.path) as image:
            rgba = image.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            digest = hashlib.sha256(repr(flat.size).encode() + flat.tobytes()).digest()
        identity.append(first.setdefault(digest, index))
    return identity


def one_identity(truth: Truth, queries: list[Query]) -> list[Query]:
    """Files and queries of `truth` rewritten to picture identities (`same_pictures`)."""
    identity = same_pictures(truth)
    for file in truth.files.values():
        if file.picture >= 0:
            file.picture = identity[file.picture]
    return [replace(q, relevant=frozenset(identity[i] for i in q.relevant)) for q in queries]
