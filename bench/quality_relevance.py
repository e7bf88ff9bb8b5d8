"""Relevance of search: nDCG@10 and P@10 over judged queries on real images.

    python bench/quality_relevance.py [--stamps /usr/share/tuxpaint/stamps] [--dir .bench/rel]

Corpus: the Tux Paint stamps (Debian package tuxpaint-stamps-default), about 800
PNG drawings, each with an English one-line description. Each stamp is copied
into one flat folder under its own file name with a JSON sidecar holding that
description as title and caption, then ingested by the real pipeline, so the
index sees the file-name words and the description and nothing else: the stamp
folders (animals/birds, food/fruit ...) are not indexed.

Judgements: each query comes with a written rule, a regular expression over the
stamp's original path (its folder and file name), fixed before any ranking was
looked at. A result is relevant (gain 1) when its path matches, else 0. So "bird"
is judged by the animals/birds folder, whatever words the description uses;
the folders are the labels, and the ranking under test never sees them.

Configurations: BM25 alone, with the static priors, with semantic fusion
(MiniLM sentence embeddings, when the model is installed), and both.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import ingest_folder

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.index.textvectors import update_text_vectors
from pixsearch.search.semantic import SemanticMatcher, load_embedder
from pixsearch.search.service import SearchRequest, SearchService

STAMPS = Path("/usr/share/tuxpaint/stamps")

# (query, rule over the original path). Written from the folder names and file names
# only; a stamp is relevant to a query when its path matches the rule.
QUERIES: tuple[tuple[str, str], ...] = (
    ("bird", r"^animals/birds/"),
    ("fish", r"^animals/fish/"),
    ("insect", r"^animals/insects/"),
    ("mammal", r"^animals/mammals/"),
    ("flower", r"^plants/flowers/"),
    ("fruit", r"^food/fruit/"),
    ("vegetable", r"^food/vegetables/"),
    ("coin", r"^symbols/money/.*coins/"),
    ("money", r"^symbols/money/"),
    ("christmas", r"^seasonal/christmas/"),
    ("halloween", r"^seasonal/halloween/"),
    ("easter", r"^seasonal/easter/"),
    ("planet", r"^space/planets/"),
    ("building", r"^town/houses/"),
    ("road sign", r"^town/roadsigns/"),
    ("train", r"^vehicles/locomotive/"),
    ("boat", r"^vehicles/ship/"),
    ("musical instrument", r"^hobbies/music/"),
    ("hat", r"^clothes/hats/"),
    ("tool", r"^household/tools/"),
    ("chess piece", r"^symbols/chess/"),
    ("mushroom", r"^plants/mushrooms/"),
    ("nut", r"^food/nuts/"),
    ("aircraft", r"^vehicles/flight/"),
    ("monument", r"^town/monuments/"),
    ("flag", r"^town/flags/"),
    ("tree", r"^plants/trees/|christmas/.*tree"),
    ("penguin", r"penguin|pengwin|/tux\.png$"),
    ("apple", r"apple"),
    ("dog", r"/(dog|dingo)\.png$"),
    ("puppy", r"/(dog|dingo)\.png$"),
    ("big cat", r"/(tiger|tiger_sumatran|lion|lion-2)\.png$"),
    ("horse", r"/(horse|donkey|donkey_eating|zebra)\.png$"),
    ("sea creature", r"^animals/(fish|shellfish)/|/(whale|dolphin|orca|sea_lion|otter)\.png$"),
    ("construction vehicle", r"^vehicles/construction/"),
    ("emergency vehicle", r"^vehicles/emergency/"),
    ("musical note", r"^symbols/music/"),
    (
        "farm animal",
        r"/(cow|cow_white|bull|pig|pig_golden2?|sheep|sheep_lamb|goat|hen|rooster"
        r"|chicken_profile|horse|donkey|duck|drake|gander|turkey|ram)\.png$",
    ),
)


@dataclass(frozen=True)
class Scores:
    ndcg: float
    precision: float


def english_description(txt: Path) -> str:
    """The first line of a stamp's .txt: the English description (others are xx.utf8=...)."""
    for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip() and "=" not in line.split(" ")[0]:
            return line.strip()
    return ""


def prepare(stamps: Path, folder: Path) -> dict[str, str]:
    """Flat copies with sidecars; returns copied file name → original relative path."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for png in sorted(stamps.rglob("*.png")):
        relative = png.relative_to(stamps).as_posix()
        stem, n = png.stem, 2
        while f"{stem}.png" in names:
            stem, n = f"{png.stem}-{n}", n + 1
        names[f"{stem}.png"] = relative
        target = folder / f"{stem}.png"
        if not target.exists():
            shutil.copyfile(png, target)
        txt = png.with_suffix(".txt")
        description = english_description(txt) if txt.exists() else ""
        if description:
            sidecar = {"title": description, "caption": description}
            (folder / f"{stem}.json").write_text(json.dumps(sidecar))
    return names


def evaluate(service: SearchService, names: dict[str, str], k: int = 10) -> dict[str, Scores]:
    out: dict[str, Scores] = {}
    for query, rule in QUERIES:
        pattern = re.compile(rule)
        relevant_total = sum(1 for path in names.values() if pattern.search(path))
        page = service.search(SearchRequest(q=query, count=k))
        gains = [
            1 if pattern.search(names.get(Path(r.occurrence.local_path or "").name, "")) else 0
            for r in page.results
        ]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(k, relevant_total)))
        out[query] = Scores(ndcg=dcg / ideal if ideal else 0.0, precision=sum(gains) / k)
    return out


def mean(scores: dict[str, Scores]) -> Scores:
    n = max(len(scores), 1)
    return Scores(
        ndcg=sum(s.ndcg for s in scores.values()) / n,
        precision=sum(s.precision for s in scores.values()) / n,
    )


def configurations(store: EmbeddedStore, index_dir: Path) -> dict[str, tuple[bool, object]]:
    """name → (priors on, semantic matcher or None); semantic rows only with a model."""
    configs: dict[str, tuple[bool, object]] = {"bm25": (False, None), "bm25+priors": (True, None)}
    embedder = load_embedder()
    if embedder is None:
        print("semantic: MiniLM not installed, semantic rows skipped", file=sys.stderr)
        return configs
    started = time.perf_counter()
    added = update_text_vectors(store, index_dir, embedder.embed_texts)
    print(f"embedded {added} image texts in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    matcher = SemanticMatcher(embedder, store)
    configs["bm25+semantic"] = (False, matcher)
    configs["bm25+priors+semantic"] = (True, matcher)
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stamps", type=Path, default=STAMPS)
    parser.add_argument("--dir", type=Path, default=Path(".bench/relevance"))
    parser.add_argument("--per-query", action="store_true", help="print every query's scores")
    args = parser.parse_args()
    if not args.stamps.is_dir():
        sys.exit(f"{args.stamps} missing: apt-get install tuxpaint-stamps-default")
    names = prepare(args.stamps, args.dir / "stamps")
    index_dir = args.dir / "index"
    if not (index_dir / "meta.db").exists():
        started = time.perf_counter()
        ingest_folder(args.dir / "stamps", index_dir, workers=2)
        print(f"ingested in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    store = EmbeddedStore(index_dir)
    print(f"{store.stats()['images']} images, {len(QUERIES)} judged queries")
    results: dict[str, dict[str, Scores]] = {}
    for name, (priors, matcher) in configurations(store, index_dir).items():
        service = SearchService(store, semantic=matcher, priors=priors)  # type: ignore[arg-type]
        results[name] = evaluate(service, names)
        total = mean(results[name])
        print(f"| {name} | {total.ndcg:.3f} | {total.precision:.3f} |")
    if args.per_query:
        for query, _ in QUERIES:
            row = " ".join(f"{results[c][query].ndcg:.2f}" for c in results)
            print(f"{query:>22}: {row}")


if __name__ == "__main__":
    main()
