"""The held-out web site of bench/quality_site.py: real packaged pictures, templated pages, truth.

A different site from `pixsearch demo` (src/pixsearch/demo/): another name, template,
URL scheme, seed and mix of pictures, and text laid out at known distances from each
image. Everything a judgement needs is recorded while the pages are written: which
picture each file shows, its pixel facts, which pages show it, each page's licence and
date. Nothing here looks at search results.

Pages (about 1.9 per picture): one item page per picture (templated title
"Item N – Section – Harbour Clip Gallery", a logo in the header, a "popular now" aside
naming other pictures right after the image), galleries of six cards (a list item
holding the image and its text), and journal notes (a picture in a section of prose
about it, then a section about another picture that is not shown).

A third of the pictures are "opaque": no alt, no title attribute, a hashed file
name; what they show is said only around them, at one distance per page: the
figcaption, the same card, the same section, or (sometimes) elsewhere on the page.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pixsearch.demo.pictures import Picture, clipart, stamps, wallpapers

SITE_NAME = "Harbour Clip Gallery"
LOGO = "/assets/brand.png"
SEED = 1619
MAX_PIXELS = 12_000_000  # bigger drawings are skipped (the crawler refuses bombs)
THUMB_WIDTH = 150  # a Small copy (both sides under 200 for most drawings)
WALL_WIDTHS = (1600, 640)
PER_GALLERY = 6
GALLERY_SHOWS = 3  # gallery slots per picture
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
# Where an opaque picture's item page says what it shows (the section twice as often).
DISTANCES = ("figcaption", "card", "section", "section", "elsewhere")
FILLER = (
    "Free to download and share.",
    "Part of our growing collection of pictures.",
    "Browse more items in this section below.",
    "Sizes and formats are listed on the right.",
)


@dataclass(slots=True)
class FileTruth:
    """One served image file: the picture it shows and what its pixels are."""

    url: str
    picture: int  # index into Truth.pictures; -1 for the logo
    width: int
    height: int
    transparent: bool  # some pixels see-through
    monochrome: bool  # black/white/grey only (opaque pixels)
    line: bool  # monochrome, mostly background, some dark strokes
    blank: bool = False  # one flat tone over white (shows_nothing): nothing tells whose copy


@dataclass(slots=True)
class PageTruth:
    url: str
    license: str | None  # CC0 / CC_BY URL in the markup, or None
    published: datetime
    files: list[str] = field(default_factory=list)  # image URLs shown (logo included)


@dataclass(slots=True)
class PictureTruth:
    picture: Picture
    words: list[str]  # title words, in order (the ground truth of what it shows)
    subject: frozenset[str]  # normalised title + topic words
    opaque: bool
    description: str  # the sentence said about it on pages


@dataclass(slots=True)
class Truth:
    now: datetime
    pictures: list[PictureTruth]
    files: dict[str, FileTruth]
    pages: dict[str, PageTruth]
    sections: list[str]


Routes = dict[str, tuple[str, bytes | Path]]


def norm(word: str) -> str:
    """The match key of a word: lower case, a plural 's' dropped."""
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def choose_pictures(count: int, seed: int = SEED) -> list[Picture]:
    """Stamps, drawings and wallpapers in fixed shares, drawn by this bench's own seed."""
    rng = random.Random(seed)
    pools = {
        "stamps": list(stamps()),
        "clipart": list(clipart()),
        "wallpapers": [p for p in wallpapers() if p.path.suffix in (".png", ".jpg")],
    }
    walls = pools["wallpapers"][: max(4, count // 25)]
    stamp_n = min(len(pools["stamps"]), int(count * 0.35))
    chosen = walls + rng.sample(pools["stamps"], stamp_n)
    drawings = rng.sample(pools["clipart"], min(len(pools["clipart"]), 2 * count))
    chosen += [p for p in drawings if _pixels(p.path) <= MAX_PIXELS][: count - len(chosen)]
    rng.shuffle(chosen)
    return chosen


def _pixels(path: Path) -> int:
    try:
        with Image.open(path) as image:
            return image.width * image.height
    except (OSError, Image.DecompressionBombError):
        return MAX_PIXELS + 1


def pixel_facts(image: Image.Image) -> tuple[bool, bool, bool]:
    """(transparent, monochrome, line) by fixed rules on a 256-px copy.

    transparent: ≥ 1 % of pixels with alpha < 250. monochrome: ≥ 99 % of opaque pixels
    have channels within 24 of each other. line: monochrome, ≥ 60 % of pixels background
    (transparent or lighter than 230) and ≥ 1 % dark (below 100).
    """
    small = image.convert("RGBA")
    small.thumbnail((256, 256))
    data = np.asarray(small).astype(np.int16)
    alpha = data[..., 3]
    rgb = data[..., :3]
    transparent = float((alpha < 250).mean()) >= 0.01
    opaque = alpha >= 128
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    mono = bool(opaque.sum() == 0 or float((spread[opaque] <= 24).mean()) >= 0.99)
    grey = rgb.mean(axis=2)
    background = (~opaque) | (grey >= 230)
    dark = opaque & (grey < 100)
    line = mono and float(background.mean()) >= 0.6 and float(dark.mean()) >= 0.01
    return transparent, mono, line


def shows_nothing(image: Image.Image) -> bool:
    """True when the picture over white is one flat tone (every channel within 8 levels
    at 256 px): an empty or white-on-transparent drawing, or its copy over white."""
    small = image.convert("RGBA")
    small.thumbnail((256, 256))
    flat = Image.new("RGBA", small.size, (255, 255, 255, 255))
    flat.alpha_composite(small)
    data = np.asarray(flat.convert("RGB")).astype(np.int16)
    return int(data.max()) - int(data.min()) <= 8


def _save(image: Image.Image, target: Path, jpeg: bool) -> None:
    if not target.exists():
        tmp = target.with_name(target.name + ".tmp")
        if jpeg:
            flat = Image.new("RGB", image.size, (255, 255, 255))
            rgba = image.convert("RGBA")
            flat.paste(rgba, mask=rgba.split()[3])
            flat.save(tmp, "JPEG", quality=88)
        else:
            image.save(tmp, "PNG")
        tmp.replace(target)


def _file_name(index: int, item: PictureTruth, kind: str, ext: str) -> str:
    """Opaque pictures: a hash; others: their title words (not the package's folders)."""
    if item.opaque:
        return f"/m/{stable_hash(item.picture.slug + kind):016x}.{ext}"
    name = "-".join(item.words) or "picture"
    return f"/img/{name}-{index}{'' if kind == 'full' else '-' + kind}.{ext}"


def prepare_files(
    index: int, item: PictureTruth, cache: Path
) -> tuple[dict[str, FileTruth], dict[str, Path]]:
    """The picture's files: full size, a small or mid copy, and a JPEG re-encode of PNGs."""
    out: dict[str, FileTruth] = {}
    paths: dict[str, Path] = {}
    with Image.open(item.picture.path) as source:
        source.load()
        versions: list[tuple[str, Image.Image, bool]] = []
        if item.picture.photo:
            for width in WALL_WIDTHS:
                copy = source.convert("RGB")
                copy.thumbnail((width, width * 4))
                versions.append((f"w{width}", copy, True))
        else:
            versions.append(("full", source, False))
            if source.width >= 2 * THUMB_WIDTH and stable_hash(item.picture.slug) % 3 != 0:
                thumb = source.convert("RGBA")
                thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH))
                versions.append(("thumb", thumb, False))
            if (
                source.mode in ("RGBA", "LA", "P")
                and stable_hash("jpeg" + item.picture.slug) % 2 == 0
            ):
                versions.append(("flat", source, True))
        for kind, image, jpeg in versions:
            ext = "jpg" if jpeg else "png"
            url = _file_name(index, item, kind, ext)
            # Keyed by the source file, not the slug: two package files can share a slug
            # (magnolia_white_patricia__01 and magnolia-white_patricia__01), and one's copy
            # was served as the other's.
            target = cache / f"{stable_hash(str(item.picture.path) + kind):016x}.{ext}"
            if kind == "full" and not jpeg:
                target = item.picture.path  # served as the package ships it
            else:
                _save(image, target, jpeg)
            with Image.open(target) as done:
                done.load()
                transparent, mono, line = pixel_facts(done)
                out[url] = FileTruth(
                    url,
                    index,
                    done.width,
                    done.height,
                    transparent,
                    mono,
                    line,
                    shows_nothing(done),
                )
            paths[url] = target
    return out, paths


def picture_truth(picture: Picture, opaque: bool) -> PictureTruth:
    """Its subject words, and the sentence pages say about it (the package's, plus its name).

    The topic (the package's folder) is not added: a stamp's description ("A parrot.")
    need not say "bird", as on real pages.
    """
    words = [w for w in picture.title.lower().split() if w.isalpha()]
    topic = [w for w in picture.topic.lower().split() if w.isalpha()]
    subject = frozenset(norm(w) for w in [*words, *topic])
    description = picture.caption.rstrip(".")
    missing = [w for w in words if w not in description.lower()]
    if missing:
        description += f" – {' '.join(missing)}"
    return PictureTruth(picture, words, subject, opaque, description + ".")


def draw_logo() -> bytes:
    """The site's logo: an anchor in a circle and the site's name (in every header)."""
    image = Image.new("RGB", (220, 60), (20, 40, 70))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, 54, 54), outline=(240, 200, 60), width=4)
    draw.line((30, 14, 30, 46), fill=(240, 200, 60), width=4)
    draw.arc((16, 28, 44, 50), 0, 180, fill=(240, 200, 60), width=4)
    draw.text((64, 22), SITE_NAME, fill=(250, 250, 250))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def published(key: str, now: datetime) -> datetime:
    """One page in six from the last week, one in six from the last month, the rest 2 years."""
    h = stable_hash("date " + key)
    days = h % 7 if h % 6 == 0 else (7 + h % 23 if h % 6 == 1 else 30 + h % 700)
    return (now - timedelta(days=days, hours=h % 20 + 1)).replace(microsecond=0)


def page_licence(item: PictureTruth | None, key: str) -> str | None:
    """Licences only on pages whose pictures are public-domain drawings: CC0, CC BY or none."""
    if item is None or item.picture.package != "openclipart-png":
        return None
    h = stable_hash("licence " + key) % 20
    return CC0 if h < 8 else (CC_BY if h < 13 else None)


def build_truth(pictures: list[Picture], cache: Path, now: datetime) -> tuple[Truth, Routes]:
    """Files and their truth for `pictures` (pages come from quality_site_pages)."""
    cache.mkdir(parents=True, exist_ok=True)
    items = [picture_truth(p, stable_hash("opaque " + p.slug) % 3 == 0) for p in pictures]
    files: dict[str, FileTruth] = {}
    routes: Routes = {}
    for index, item in enumerate(items):
        found, paths = prepare_files(index, item, cache)
        files.update(found)
        for url, path in paths.items():
            kind = "image/jpeg" if url.endswith(".jpg") else "image/png"
            routes[url] = (kind, path)
    logo = draw_logo()
    routes[LOGO] = ("image/png", logo)
    with Image.open(BytesIO(logo)) as image:
        t, m, li = pixel_facts(image)
        files[LOGO] = FileTruth(LOGO, -1, image.width, image.height, t, m, li)
    sections = sorted({p.section for p in pictures})
    return Truth(now, items, files, {}, sections), routes


def esc(text: str) -> str:
    return escape(text, quote=True)
