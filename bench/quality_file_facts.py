"""Measured quality of two file facts on real packaged clip art: Monochrome, near-duplicates.

    python bench/quality_file_facts.py mono --split tune      # thresholds were chosen on this half
    python bench/quality_file_facts.py mono --split held      # the reported numbers
    python bench/quality_file_facts.py dupes --split held     # add --no-embed: hash + pixels only

Pictures: Debian's openclipart-png (/usr/share/openclipart/png) and tuxpaint-stamps-default
(/usr/share/tuxpaint/stamps). Each file goes to the "tune" or the "held" half by a hash of
its path, so the halves never share a file and never change between runs.

Monochrome truth is a rule written before looking at any prediction: composite the
picture over white at 256 px; its ink is the opaque pixels that are not paper (any
channel below 235); it is Monochrome when 99 % of the ink has RGB max-min <= 30
(black, white and every gray), and colour otherwise. Pictures with under 0.5 % ink are
left out (nothing to judge). The prediction is the pipeline's own (decode, shrink,
measure, ingest/colors.py).

Near-duplicates: for each original, the copies a web site serves (see COPIES); all
files are fed in a shuffled order through index/dupes.py's DuplicateIndex.group_for
with the pipeline's thumbnails and (unless --no-embed) its visual embeddings, as
EmbeddedStore.add does. Reported: per copy kind the share that ends in its original's
group, the families left in more than one group (each extra group shows twice on a
first page), and the pairs of different originals merged (false merges). Originals
are taken as whole folders (tux paint series, openclipart categories) so that
look-alike pictures of one series meet.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixsearch.config import Settings
from pixsearch.index.alignment import Thumb, aligner, decode_thumb
from pixsearch.index.darklook import DarkLook
from pixsearch.index.dupes import DUP_NEIGHBOURS, DuplicateIndex, parse_layout
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.decode import decode
from pixsearch.ingest.pipeline import (
    _opaque_rgb,
    derive,
    measure,
    shrink_to_thumbnail,
    sniff_format,
)
from pixsearch.ingest.thumbnail import make_thumbnail

OPENCLIPART = Path("/usr/share/openclipart/png")
TUXPAINT = Path("/usr/share/tuxpaint/stamps")
PAPER = 235  # any channel below this is ink, not white paper
INK_CHROMA = 30  # max-min of RGB of gray ink
INK_QUANTILE = 0.99
MIN_INK_SHARE = 0.005


def half_of(path: Path) -> str:
    digest = hashlib.blake2b(str(path).encode(), digest_size=2).digest()
    return "tune" if digest[0] % 2 == 0 else "held"


def all_files() -> list[Path]:
    by_name = {p.name: p for p in sorted(OPENCLIPART.rglob("*.png"))}  # one path per drawing
    return sorted(by_name.values()) + sorted(TUXPAINT.rglob("*.png"))


def over(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, colour)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def mono_truth(path: Path) -> bool | None:
    """The written rule (module docstring); None when the picture has too little ink."""
    with Image.open(path) as im:
        im.thumbnail((256, 256))
        rgba = im.convert("RGBA")
    opaque = np.asarray(rgba.getchannel("A")).reshape(-1) >= 128
    flat = np.asarray(over(rgba, (255, 255, 255))).reshape(-1, 3).astype(np.int16)
    ink = flat[opaque & (flat.min(axis=1) < PAPER)]
    if len(ink) < MIN_INK_SHARE * len(flat):
        return None
    chroma = ink.max(axis=1) - ink.min(axis=1)
    return float(np.quantile(chroma, INK_QUANTILE)) <= INK_CHROMA


@dataclass
class Seen:
    key: str
    monochrome: bool
    phash: int
    layout: str
    thumbnail: bytes
    embedding: np.ndarray | None
    dark_look: str = ""


def see(job: tuple[str, bytes, bool]) -> Seen | None:
    """The pipeline's own stages on encoded bytes, as ingest runs them."""
    key, data, embed = job
    config = PipelineConfig(max_pixels=200_000_000)
    try:
        decoded = decode(data, sniff_format(data), config=config)
        small = shrink_to_thumbnail(decoded, config)
        derived = derive(data, decoded, measure(small))
        thumbnail = make_thumbnail(small, quality=config.thumb_quality)[0]
    except Exception as exc:  # a file the pipeline rejects is reported, not fatal
        print(f"  skipped {key}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    embedding = None
    if embed:
        from pixsearch.ingest.understand import understand

        embedding = understand(_opaque_rgb(small), ("visual",)).embedding
    return Seen(
        key,
        derived.colors.monochrome,
        derived.phash,
        derived.colors.layout,
        thumbnail,
        embedding,
        derived.dark_look,
    )


def see_all(jobs: list[tuple[str, bytes, bool]], workers: int) -> dict[str, Seen]:
    with Pool(workers) as pool:
        return {s.key: s for s in pool.imap_unordered(see, jobs, chunksize=4) if s is not None}


def mono_report(split: str, count: int, workers: int, seed: int) -> None:
    files = [p for p in all_files() if half_of(p) == split]
    picked = random.Random(seed).sample(files, min(count, len(files)))
    judged = {str(p): mono_truth(p) for p in picked}
    truth = {key: gray for key, gray in judged.items() if gray is not None}
    seen = see_all([(key, Path(key).read_bytes(), False) for key in truth], workers)
    keys = [k for k in seen if k in truth]
    tp = sum(truth[k] and seen[k].monochrome for k in keys)
    fp = [k for k in keys if seen[k].monochrome and not truth[k]]
    fn = [k for k in keys if truth[k] and not seen[k].monochrome]
    positives = sum(truth[k] for k in keys)
    print(f"## Monochrome on clip art, split {split}: {len(keys)} pictures, {positives} gray")
    print(f"precision {tp / max(1, tp + len(fp)):.3f}  recall {tp / max(1, positives):.3f}")
    print(f"false Monochrome ({len(fp)}):", *sorted(fp)[:25], sep="\n  ")
    print(f"missed Monochrome ({len(fn)}):", *sorted(fn)[:25], sep="\n  ")


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _scaled(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    size = (max(1, round(w * share)), max(1, round(h * share)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share / 2), round(h * share / 2)
    return image.crop((dx, dy, w - dx, h - dy))


def _thumb(image: Image.Image, side: int) -> Image.Image:
    copy = over(image, (255, 255, 255))
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


# name → encoded copy of an RGBA original (sizes as a web site serves them)
COPIES: dict[str, Callable[[Image.Image], bytes]] = {
    "png-scaled-75%": lambda im: _encode(_scaled(im, 0.75), "PNG"),
    "png-scaled-50%": lambda im: _encode(_scaled(im, 0.5), "PNG"),
    "png-scaled-25%": lambda im: _encode(_scaled(im, 0.25), "PNG"),
    "jpeg-white-q90": lambda im: _encode(over(im, (255, 255, 255)), "JPEG", quality=90),
    "jpeg-white-q60-50%": lambda im: _encode(
        _scaled(over(im, (255, 255, 255)), 0.5), "JPEG", quality=60
    ),
    "jpeg-black-q80": lambda im: _encode(over(im, (0, 0, 0)), "JPEG", quality=80),
    "png-crop-5%": lambda im: _encode(_crop(im, 0.05), "PNG"),
    "jpeg-thumb-150": lambda im: _encode(_thumb(im, 150), "JPEG", quality=80),
}


def dupe_originals(split: str, folders: int, per_folder: int, seed: int) -> list[Path]:
    """Whole series: several pictures from each of `folders` random folders of this half."""
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in all_files():
        if half_of(path) == split:
            by_folder[path.parent].append(path)
    rng = random.Random(seed)
    usable = sorted(f for f, files in by_folder.items() if len(files) >= 3)
    chosen = []
    for folder in rng.sample(usable, min(folders, len(usable))):
        files = by_folder[folder]
        chosen += rng.sample(files, min(per_folder, len(files)))
    return chosen


def dupe_jobs(originals: list[Path], embed: bool) -> list[tuple[str, bytes, bool]]:
    jobs = []
    for path in originals:
        data = path.read_bytes()
        jobs.append((f"original|{path}", data, embed))
        with Image.open(io.BytesIO(data)) as im:
            rgba = im.convert("RGBA")
        rgba.thumbnail((1600, 1600))
        jobs += [(f"{name}|{path}", make(rgba), embed) for name, make in COPIES.items()]
    return jobs


def ingest_groups(seen: dict[str, Seen], distance: int, seed: int) -> dict[str, int]:
    """key → group id, every file added in a shuffled order as EmbeddedStore.add does."""
    order = sorted(seen)
    random.Random(seed).shuffle(order)
    table = DuplicateIndex(distance)
    ids: dict[int, str] = {}
    vectors: list[tuple[int, np.ndarray]] = []
    groups: dict[str, int] = {}

    def thumbnail_of(doc_id: int) -> Thumb | None:
        return decode_thumb(seen[ids[doc_id]].thumbnail)

    for doc_id, key in enumerate(order, start=1):
        s = seen[key]

        def neighbours(e: np.ndarray | None = s.embedding) -> list[tuple[int, float]]:
            if e is None or not vectors:
                return []
            scores = [(float(v @ e), d) for d, v in vectors]
            return [(d, c) for c, d in sorted(scores, reverse=True)[:DUP_NEIGHBOURS]]

        layout = parse_layout(s.layout)
        dark = DarkLook.parse(s.dark_look)
        group = table.group_for(
            s.phash,
            layout,
            verify=aligner(s.thumbnail, thumbnail_of),
            neighbours=neighbours if s.embedding is not None else None,
            dark=dark,
        )
        groups[key] = group or doc_id
        ids[doc_id] = key
        table.add(s.phash, doc_id, groups[key], layout, dark)
        if s.embedding is not None:
            vectors.append((doc_id, s.embedding))
    return groups


def same_pictures(originals: list[Path]) -> set[frozenset[str]]:
    """Originals with identical pixels over white (packages ship a few drawings twice)."""
    digests: dict[bytes, set[str]] = defaultdict(set)
    for path in originals:
        with Image.open(path) as im:
            digests[hashlib.sha256(over(im, (255,) * 3).tobytes()).digest()].add(str(path))
    return {frozenset(keys) for keys in digests.values() if len(keys) > 1}


def dupe_report(groups: dict[str, int], originals: list[Path]) -> None:
    family = {key: key.split("|", 1)[1] for key in groups}
    kept = [str(p) for p in originals if f"original|{p}" in groups]
    per_kind: dict[str, list[bool]] = defaultdict(list)
    for key, group in groups.items():
        kind, origin = key.split("|", 1)
        if kind != "original" and f"original|{origin}" in groups:
            per_kind[kind].append(group == groups[f"original|{origin}"])
    print("| copy | files | in its original's group |\n|---|---|---|")
    for kind in COPIES:
        found = per_kind[kind]
        print(f"| {kind} | {len(found)} | {sum(found) / max(1, len(found)):.3f} |")
    members: dict[int, set[str]] = defaultdict(set)
    for key, group in groups.items():
        members[group].add(family[key])
    print(f"\n{len(kept)} originals")
    for left_out in ((), ("jpeg-black-q80",)):
        spread: dict[str, set[int]] = defaultdict(set)
        for key, group in groups.items():
            if key.split("|", 1)[0] not in left_out:
                spread[family[key]].add(group)
        extra = sum(len(spread[origin]) - 1 for origin in kept)
        whole = sum(len(spread[origin]) == 1 for origin in kept)
        print(
            f"- copies {'but ' + ', '.join(left_out) if left_out else 'all'}: "
            f"{whole / max(1, len(kept)):.3f} of families in one group, {extra} extra groups "
            "(each shows a family once more on a first page)"
        )
    identical = same_pictures(originals)
    merged = {
        frozenset((a, b))
        for fams in members.values()
        for a in fams
        for b in fams
        if a < b and frozenset((a, b)) not in identical
    }
    pairs = len(kept) * (len(kept) - 1) // 2
    print(f"false merges: {len(merged)} pairs of different originals of {pairs}")
    for pair in sorted(merged, key=sorted)[:20]:
        print("  -", " ~ ".join(sorted(pair)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("mono", "dupes"))
    parser.add_argument("--split", choices=("tune", "held"), default="held")
    parser.add_argument("--count", type=int, default=700, help="mono: pictures sampled")
    parser.add_argument("--folders", type=int, default=30, help="dupes: series sampled")
    parser.add_argument("--per-folder", type=int, default=5)
    parser.add_argument("--no-embed", action="store_true", help="dupes: no visual embeddings")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    if args.what == "mono":
        mono_report(args.split, args.count, args.workers, args.seed)
        return
    originals = dupe_originals(args.split, args.folders, args.per_folder, args.seed)
    seen = see_all(dupe_jobs(originals, not args.no_embed), args.workers)
    distance = Settings.load().dup_distance
    print(f"## Near-duplicate groups, split {args.split}, dup_distance {distance}\n")
    dupe_report(ingest_groups(seen, distance, args.seed), originals)


if __name__ == "__main__":
    main()
