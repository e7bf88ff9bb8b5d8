"""Real, licensed pictures that Debian packages and scikit-image ship, with words about them.

Each collection states its licence in its Debian copyright file or its metadata:

* openclipart-png: every drawing dedicated to the public domain by its author
  (/usr/share/doc/openclipart-png/copyright), marked here with the Creative
  Commons Public Domain Mark;
* tuxpaint-stamps-default: GPL-2 (its copyright file), with a one-line English
  description of each stamp in the ``.txt`` beside it;
* plasma-workspace-wallpapers: each wallpaper's ``metadata.json`` names its
  licence (LGPL-3 or CC BY-SA 4.0) and author;
* scikit-image's bundled photographs, with the licences its data README states.

Captions are derived from what the packages say (descriptions, folder and file
names), never invented. gnome-backgrounds is left out: its copyright file does
not name the licence of every picture it now ships.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pixsearch.demo.samples import SKIMAGE_PHOTOS

OPENCLIPART = Path("/usr/share/openclipart/png")
TUXPAINT = Path("/usr/share/tuxpaint/stamps")
WALLPAPERS = Path("/usr/share/wallpapers")
PACKAGES = ("openclipart-png", "tuxpaint-stamps-default", "plasma-workspace-wallpapers")

# Icon sets, generated shapes and patterns say little about what pixsearch is for.
CLIPART_SKIP = (
    "buttons",
    "computer/folders",
    "computer/icons",
    "logos",
    "shapes",
    "signs_and_symbols/led",
    "special",
    "unsorted",
)
STAMPS_SKIP = ("symbols/alphabets",)
# Author names and numbering that openclipart file names carry: not what a drawing shows.
_NOISE = (
    "architetto architett archite archit arch fr fra fran franc francesc francesco rollandin "
    "ganson benji park nicu buculei juliane krug jean victor balin gerald jon phillips linda kim "
    "yves guillou jarno vasamaa dan gerh goneri le bouder andremarcel mimooh aiga gnome "
    "johnny automatic"
)
NAME_NOISE = frozenset(_NOISE.split())


@dataclass(frozen=True, slots=True)
class Licence:
    name: str
    url: str


PUBLIC_DOMAIN = Licence(
    "Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"
)
CC0 = Licence("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/")
GPL2 = Licence("GNU GPL 2", "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html")
LICENCES = {
    "CC-BY-SA-4.0": Licence("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "LGPLv3": Licence("GNU LGPL 3", "https://www.gnu.org/licenses/lgpl-3.0.html"),
    "pdm": PUBLIC_DOMAIN,
    "cc0": CC0,
}


@dataclass(frozen=True, slots=True)
class Picture:
    """One picture of the demo site: its file and what its collection says about it."""

    path: Path
    slug: str  # unique, URL-safe
    title: str
    caption: str
    section: str  # the site section (top folder), e.g. "animals"
    topic: str  # the folder below it, as words ("" when none)
    collection: str
    package: str
    licence: Licence | None
    author: str = ""
    photo: bool = False  # a large photograph or wallpaper: shown in several sizes


def words_of(name: str) -> str:
    """'bananas_nicu_buculei_01' -> 'bananas'; 'pear_simple_bw' -> 'pear simple black and white'."""
    out = []
    for token in re.split(r"[\s_.\-]+", name.lower()):
        if not token or any(c.isdigit() for c in token) or len(token) < 2:
            continue
        if token in NAME_NOISE:
            continue
        out.append("black and white" if token == "bw" else token)
    return " ".join(dict.fromkeys(out))


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def _skipped(relative: str, skip: tuple[str, ...]) -> bool:
    return any(relative == s or relative.startswith(s + "/") for s in skip)


def clipart(root: Path = OPENCLIPART) -> Iterator[Picture]:
    for path in sorted(root.rglob("*.png")):
        folder = path.parent.relative_to(root).as_posix()
        title = words_of(path.stem)
        if _skipped(folder, CLIPART_SKIP) or not title:
            continue
        section, _, rest = folder.partition("/")
        topic = words_of(rest.replace("/", " "))
        yield Picture(
            path=path,
            slug=_slug("clipart", folder, path.stem),
            title=title.capitalize(),
            caption=f"{title} clip art" + (f" ({topic})" if topic else ""),
            section=section,
            topic=topic,
            collection="Open Clip Art Library",
            package="openclipart-png",
            licence=PUBLIC_DOMAIN,
        )


def stamps(root: Path = TUXPAINT) -> Iterator[Picture]:
    for path in sorted(root.rglob("*.png")):
        folder = path.parent.relative_to(root).as_posix()
        title = words_of(path.stem)
        if _skipped(folder, STAMPS_SKIP) or not title or path.stem.endswith("_back"):
            continue
        description = _stamp_description(path.with_suffix(".txt"))
        section, _, rest = folder.partition("/")
        yield Picture(
            path=path,
            slug=_slug("stamp", folder, path.stem),
            title=title.capitalize(),
            caption=description or f"{title} drawing",
            section=section,
            topic=words_of(rest.replace("/", " ")),
            collection="Tux Paint stamps",
            package="tuxpaint-stamps-default",
            licence=GPL2,
            author="Tux Paint contributors",
        )


def _stamp_description(path: Path) -> str:
    """The English line of a stamp's description file (the first, untagged one)."""
    try:
        first = path.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return ""
    return "" if "=" in first else first.strip()


def wallpapers(root: Path = WALLPAPERS) -> Iterator[Picture]:
    ours = _package_folders("plasma-workspace-wallpapers", root)
    for meta_path in sorted(root.glob("*/metadata.json")):
        if ours is not None and meta_path.parent.name not in ours:
            continue  # another package's (desktop-base puts its own here): not these licences
        try:
            plugin = json.loads(meta_path.read_text())["KPlugin"]
        except (OSError, ValueError, KeyError):
            continue
        image = _landscape(meta_path.parent / "contents" / "images")
        if image is None:
            continue
        name = str(plugin.get("Name") or meta_path.parent.name)
        authors = ", ".join(str(a.get("Name", "")) for a in plugin.get("Authors", []))
        by = f" by {authors}" if authors else ""
        yield Picture(
            path=image,
            slug=_slug("wallpaper", meta_path.parent.name),
            title=f"{name} wallpaper",
            caption=f"{name}, a KDE Plasma desktop wallpaper{by}",
            section="wallpapers",
            topic="desktop backgrounds",
            collection="KDE Plasma wallpapers",
            package="plasma-workspace-wallpapers",
            licence=LICENCES.get(str(plugin.get("License", ""))),
            author=authors,
            photo=True,
        )


def _package_folders(package: str, root: Path) -> set[str] | None:
    """The folders right under `root` that Debian's `package` installed (None: unknown)."""
    listing = Path("/var/lib/dpkg/info") / f"{package}.list"
    try:
        lines = listing.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    prefix = f"{root}/"
    return {line[len(prefix) :].split("/")[0] for line in lines if line.startswith(prefix)}


def _landscape(folder: Path, min_width: int = 1920) -> Path | None:
    """Of files named like '5120x2880.png': the narrowest landscape one `min_width` wide
    or more (less to decode), else the widest. Raster files only: some ship an SVG too."""
    found: list[tuple[int, Path]] = []
    for path in folder.glob("*x*.*"):
        match = re.fullmatch(r"(\d+)x(\d+)", path.stem)
        raster = path.suffix.lower() in (".png", ".jpg", ".jpeg")
        if match and raster and int(match[1]) >= int(match[2]):
            found.append((int(match[1]), path))
    big = sorted(f for f in found if f[0] >= min_width)
    if big:
        return big[0][1]
    return max(found)[1] if found else None


def photographs() -> Iterator[Picture]:
    """scikit-image's photographs that ship inside its wheel (no download)."""
    try:
        from skimage import data  # optional: the demo extra installs it
    except ImportError:
        return
    folder = Path(data.__file__).parent
    for name, (caption, licence) in SKIMAGE_PHOTOS.items():
        found = [p for p in folder.glob(f"{name}.*") if p.suffix in (".png", ".jpg")]
        if found and licence:
            yield Picture(
                path=found[0],
                slug=_slug("photo", name),
                title=caption.capitalize(),
                caption=caption,
                section="photographs",
                topic="",
                collection="scikit-image sample data",
                package="scikit-image",
                licence=LICENCES[licence],
                photo=True,
            )


def catalogue() -> list[Picture]:
    """Every picture found on this machine, one per slug (two file names can make one)."""
    unique: dict[str, Picture] = {}
    for picture in (*photographs(), *wallpapers(), *stamps(), *clipart()):
        unique.setdefault(picture.slug, picture)
    return list(unique.values())


def choose(pictures: list[Picture], count: int) -> list[Picture]:
    """`count` pictures, one of each section in turn, so a small demo still has them all."""
    sections: dict[str, list[Picture]] = {}
    # A stable shuffle within each section, so a small demo still spans its folders.
    for picture in sorted(pictures, key=_stable_order):
        sections.setdefault(picture.section, []).append(picture)
    chosen: list[Picture] = []
    for row in itertools.zip_longest(*sections.values()):
        chosen += [p for p in row if p is not None][: count - len(chosen)]
        if len(chosen) >= count:
            break
    return chosen


def _stable_order(picture: Picture) -> bytes:
    return hashlib.blake2b(picture.slug.encode(), digest_size=8).digest()
