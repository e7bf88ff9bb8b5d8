"""Labelled image sets for bench/quality_images.py, from Debian packages and scikit-image.

Every label comes from a written rule, never from pixsearch's own decisions:

* Photo: plasma-workspace-wallpapers whose picture is a camera photograph (named in
  PLASMA_PHOTOS after looking at each one; paintings, renders and vector art are
  Graphics, and the two mixed ones - a painted tree, a drawn kite on a photographed
  sky - are left out), four quadrant crops of each of those (crops of a photograph
  are photographs), and scikit-image's bundled photographs (SKIMAGE_PHOTOS).
* Graphics: the other plasma wallpapers and gnome-backgrounds' raster wallpapers.
* Clipart / Line: openclipart-png drawings from illustration folders (CLIPART_DIRS; icon,
  button, logo and shape folders are left out). A drawing is Line when, composited
  over white, 0.5-35 % of its pixels are ink (any channel below 200) and at least 95 %
  of the ink is neutral (max-min of RGB below 40): one dark ink on white paper.
* Transparent: an openclipart or tuxpaint PNG whose alpha channel has a value below
  255; its negative twin is the same picture composited over white, saved as RGBA
  with alpha 255 everywhere.
* AnimatedGif: 6-frame pans over real photographs saved as GIF, WebP and APNG; the
  negatives are single-frame files of the same pictures in the same formats.
* Monochrome: grayscale, sepia-toned and near-gray (8 % of the saturation kept) versions
  of the colour photographs, and scikit-image's grayscale photographs; the negatives
  are the colour originals and their quadrant crops. Photographs tinted by their
  scene (fog, blue dusk: TINTED_PHOTOS) are in neither.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # trusted system files; 5120x2880 wallpapers

WALLPAPERS = Path("/usr/share/wallpapers")
GNOME = Path("/usr/share/backgrounds/gnome")
OPENCLIPART = Path("/usr/share/openclipart/png")
TUXPAINT = Path("/usr/share/tuxpaint/stamps")
PLASMA_PHOTOS = (
    "BytheWater",
    "ColdRipple",
    "ColorfulCups",
    "DarkestHour",
    "EveningGlow",
    "FallenLeaf",
    "Grey",
    "OneStandsOut",
    "Path",
    "summer_1am",
)
PLASMA_MIXED = ("Autumn", "Kite")  # painted / composited: neither class
# Photographs tinted by their scene (fog, dusk) are neither clearly colour nor
# monochrome: they stay out of the Monochrome set.
TINTED_PHOTOS = ("ColdRipple", "DarkestHour", "Grey")
# File names in scikit-image's bundled data folder (skimage/data/README.txt: licences).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "ihc.png",
)
SKIMAGE_GRAY_PHOTOS = (
    "camera.png",
    "moon.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "brick.png",
)
CLIPART_DIRS = (
    "animals",
    "buildings",
    "containers",
    "decorations",
    "education",
    "electronics",
    "food",
    "geography",
    "office",
    "people",
    "plants",
    "recreation",
    "science",
    "tools",
    "transportation",
)


@dataclass
class Item:
    key: str
    path: Path
    group: str  # items of one group share a source picture: never split across train/test
    labels: dict[str, object] = field(default_factory=dict)


def _largest_le(folder: Path, max_width: int = 2560) -> Path:
    """The biggest rendition of a wallpaper no wider than max_width (else the smallest)."""
    files = sorted((folder / "contents" / "images").glob("*.*"))
    sized = [(int(f.stem.split("x")[0]), f) for f in files if "x" in f.stem]
    fitting = [s for s in sized if s[0] <= max_width] or [min(sized)]
    return max(fitting)[1]


def _save(image: Image.Image, path: Path, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        image.save(path, **options)
    return path


def photo_items(work: Path) -> list[Item]:
    """Colour and gray photographs with their quadrant crops."""
    import skimage.data

    bundled = Path(skimage.data.__file__).parent
    items: list[Item] = []
    for name in PLASMA_PHOTOS:
        path = _largest_le(WALLPAPERS / name)
        items.append(Item(f"plasma/{name}", path, name, {"kind": "photo", "source": "plasma"}))
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        w, h = rgb.size
        for i, (x, y) in enumerate(((0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2))):
            crop = rgb.crop((x, y, x + w // 2, y + h // 2))
            out = _save(crop, work / "crops" / f"{name}-{i}.jpg", quality=92)
            items.append(Item(f"crop/{name}-{i}", out, name, {"kind": "photo", "crop": True}))
    for name in SKIMAGE_PHOTOS + SKIMAGE_GRAY_PHOTOS:
        gray = name in SKIMAGE_GRAY_PHOTOS
        path = bundled / name
        items.append(Item(f"skimage/{name}", path, name, {"kind": "photo", "gray": gray}))
    return items


def graphics_items() -> list[Item]:
    items = []
    for folder in sorted(WALLPAPERS.iterdir()):
        if folder.name in PLASMA_PHOTOS or folder.name in PLASMA_MIXED:
            continue
        path = _largest_le(folder)
        items.append(Item(f"plasma/{folder.name}", path, folder.name, {"kind": "graphics"}))
    for path in sorted(GNOME.glob("*.webp")):
        group = path.stem.rsplit("-", 1)[0]  # -l / -d light and dark variants
        items.append(Item(f"gnome/{path.name}", path, f"gnome-{group}", {"kind": "graphics"}))
    return items


def line_rule(rgb: np.ndarray) -> bool:
    """One neutral ink on white paper (see the module docstring)."""
    ink = rgb.min(axis=2) < 200
    share = float(ink.mean())
    if not 0.005 <= share <= 0.35:
        return False
    pixels = rgb[ink].astype(np.int16)
    neutral = (pixels.max(axis=1) - pixels.min(axis=1)) < 40
    return float(neutral.mean()) >= 0.95


def over_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def clipart_items(count: int, seed: int = 4) -> list[Item]:
    """A fixed random sample of openclipart drawings, labelled clipart or line."""
    # openclipart files the same drawing under several folders: keep one path per name.
    by_name = {p.name: p for d in CLIPART_DIRS for p in sorted((OPENCLIPART / d).rglob("*.png"))}
    files = sorted(by_name.values())
    rng = random.Random(seed)
    items = []
    for path in rng.sample(files, min(count, len(files))):
        with Image.open(path) as im:
            im.thumbnail((512, 512))
            flat = np.asarray(over_white(im))
        kind = "line" if line_rule(flat) else "clipart"
        key = f"openclipart/{path.relative_to(OPENCLIPART)}"
        items.append(Item(key, path, key, {"kind": kind}))
    return items


def transparent_items(work: Path, count: int, seed: int = 5) -> list[Item]:
    """PNGs whose alpha is used, and opaque-RGBA twins of the same pictures."""
    files = sorted(OPENCLIPART.rglob("*.png"))[::7] + sorted(TUXPAINT.rglob("*.png"))[::3]
    rng = random.Random(seed)
    items = []
    for path in rng.sample(files, min(count, len(files))):
        with Image.open(path) as im:
            rgba = im.convert("RGBA")
        used = rgba.getchannel("A").getextrema()[0] < 255
        key = str(path.relative_to(path.parents[1]))
        items.append(Item(f"alpha/{key}", path, key, {"transparent": used}))
        twin = over_white(rgba).convert("RGBA")  # alpha 255 everywhere
        out = _save(twin, work / "opaque" / key.replace("/", "_"))
        items.append(Item(f"opaque/{key}", out, key, {"transparent": False}))
    return items


def animated_items(work: Path, photos: list[Item]) -> list[Item]:
    """Pans over real photographs as animated GIF / WebP / APNG, and still twins."""
    items = []
    for item in photos:
        if item.labels.get("crop") or item.labels.get("gray"):
            continue
        with Image.open(item.path) as im:
            rgb = im.convert("RGB")
        rgb.thumbnail((480, 480))
        w, h = rgb.size
        fw, fh = w * 3 // 4, h * 3 // 4
        frames = [rgb.crop((s * (w - fw) // 5, 0, s * (w - fw) // 5 + fw, fh)) for s in range(6)]
        name = item.key.replace("/", "_")
        for ext, options in (("gif", {}), ("webp", {"quality": 80}), ("png", {})):
            anim = work / "anim" / f"{name}.{ext}"
            _save(frames[0], anim, save_all=True, append_images=frames[1:], duration=100, **options)
            still = _save(frames[0], work / "still" / f"{name}.{ext}", **options)
            items.append(Item(f"anim/{name}.{ext}", anim, item.group, {"animated": True}))
            items.append(Item(f"still/{name}.{ext}", still, item.group, {"animated": False}))
    return items


def _sepia(rgb: np.ndarray) -> np.ndarray:
    gray = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    tone = np.array([1.07, 0.74, 0.43], dtype=np.float32)  # the classic sepia matrix row sums
    return np.clip(gray[..., None] * tone, 0, 255).astype(np.uint8)


def _near_gray(rgb: np.ndarray, keep: float = 0.08) -> np.ndarray:
    f = rgb.astype(np.float32)
    gray = f @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(gray[..., None] + keep * (f - gray[..., None]), 0, 255).astype(np.uint8)


def monochrome_items(work: Path, photos: list[Item]) -> list[Item]:
    items = []
    for item in photos:
        if item.group in TINTED_PHOTOS:
            continue
        if item.labels.get("crop"):  # more colour negatives: quarters of colour photos
            items.append(Item(f"colour/{item.key}", item.path, item.group, {"mono": False}))
            continue
        if item.labels.get("gray"):
            items.append(Item(f"mono/{item.key}", item.path, item.group, {"mono": True}))
            continue
        with Image.open(item.path) as im:
            rgb = im.convert("RGB")
        rgb.thumbnail((1280, 1280))
        array = np.asarray(rgb)
        name = item.key.replace("/", "_")
        items.append(Item(f"colour/{item.key}", item.path, item.group, {"mono": False}))
        for variant, pixels in (
            ("gray", np.asarray(rgb.convert("L").convert("RGB"))),
            ("sepia", _sepia(array)),
            ("neargray", _near_gray(array)),
        ):
            out = _save(Image.fromarray(pixels), work / variant / f"{name}.jpg", quality=88)
            items.append(Item(f"{variant}/{item.key}", out, item.group, {"mono": True}))
    return items


def lfw_faces(work: Path, side: int = 200) -> list[Item]:
    """scikit-image's lfw_subset: 100 faces then 100 non-faces, 25x25, enlarged to side."""
    from skimage import data

    items = []
    for i, array in enumerate(data.lfw_subset()):
        image = Image.fromarray((array * 255).astype(np.uint8)).convert("RGB")
        out = _save(image.resize((side, side), Image.Resampling.BICUBIC), work / "lfw" / f"{i}.png")
        items.append(Item(f"lfw/{i}", out, f"lfw{i}", {"face": i < 100}))
    return items


OCR_TEXT = (
    "harbour market station garden winter summer bakery museum library theatre coffee "
    "bicycle mountain river window street orange purple silver golden morning evening "
    "ticket concert festival opening closed welcome exit parking airport hotel pharmacy "
    "school office bridge castle forest island meadow village kitchen bottle pencil "
    "camera rocket planet dragon tiger zebra falcon lemon cherry tomato butter"
)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def ocr_items(work: Path, count: int = 30, seed: int = 8) -> list[Item]:
    """Signs and posters: 2-4 lines of known words, on plain paper or on a photo band.

    Rendered at 900-1400 px and shrunk to 474 px, the size analyzers are handed, so
    print is 10-20 px tall when tesseract sees it. The label is the word list.
    """
    import skimage.data
    from PIL import ImageDraw, ImageFont

    vocabulary = OCR_TEXT.split()
    rng = random.Random(seed)
    backdrop = Image.open(Path(skimage.data.__file__).parent / "coffee.png").convert("RGB")
    items = []
    for i in range(count):
        width, size = rng.randint(900, 1400), rng.randint(44, 80)
        lines = [rng.sample(vocabulary, rng.randint(1, 3)) for _ in range(rng.randint(2, 4))]
        image = Image.new("RGB", (width, width * 2 // 3), (rng.randint(215, 255),) * 3)
        if i % 3 == 2:  # a photo above the text, as on a poster
            image.paste(backdrop.resize((width, width // 4)), (0, 0))
        font = ImageFont.truetype(str(DEJAVU), size) if DEJAVU.exists() else None
        draw = ImageDraw.Draw(image)
        top = width // 4 + 20 if i % 3 == 2 else 30
        for n, words in enumerate(lines):
            ink = (rng.randint(0, 90), rng.randint(0, 60), rng.randint(0, 90))
            draw.text((30, top + n * int(size * 1.4)), " ".join(words), font=font, fill=ink)
        image.thumbnail((474, 474), Image.Resampling.LANCZOS)
        out = _save(image, work / "ocr" / f"sign-{i:02d}.png")
        items.append(
            Item(f"ocr/{i}", out, f"ocr{i}", {"words": sorted({w for line in lines for w in line})})
        )
    return items


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


COPIES = ("resized-50%", "jpeg-q60", "crop-5%-centre", "crop-5%-corner")
# Crops the near-duplicate thresholds were not chosen on (bench --held-out-crops).
HELD_OUT_COPIES = ("crop-10%-centre", "crop-8%-bottom-left", "crop-3%-one-side")


def same_pixels(originals: list[Item]) -> list[frozenset[str]]:
    """Originals that are one picture under two names: identical pixels (over white).

    openclipart ships some drawings twice (galette_01 and sugarbox_01, scissors in two
    folders); a pair of them is a copy, not an error. Only files of equal size are decoded.
    """
    by_size: dict[tuple[int, int], list[Item]] = {}
    for item in originals:
        with Image.open(item.path) as im:
            by_size.setdefault(im.size, []).append(item)
    groups: dict[bytes, set[str]] = {}
    for items in by_size.values():
        if len(items) < 2:
            continue
        for item in items:
            with Image.open(item.path) as im:
                rgb = over_white(im) if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
            digest = hashlib.sha256(rgb.tobytes()).digest() + bytes(str(rgb.size), "ascii")
            groups.setdefault(digest, set()).add(item.key)
    return [frozenset(keys) for keys in groups.values() if len(keys) > 1]


def copy_jobs(originals: list[Item], names: tuple[str, ...] = COPIES) -> list[tuple[str, bytes]]:
    """Resized, recompressed and cropped copies of each original, as encoded bytes."""
    jobs = []
    for item in originals:
        with Image.open(item.path) as im:
            rgb = over_white(im) if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
        rgb.thumbnail((1600, 1600))
        w, h = rgb.size
        dx, dy = round(w * 0.025), round(h * 0.025)
        variants = {
            "resized-50%": rgb.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS),
            "jpeg-q60": rgb,
            "crop-5%-centre": rgb.crop((dx, dy, w - dx, h - dy)),
            "crop-5%-corner": rgb.crop((2 * dx, 2 * dy, w, h)),
            "crop-10%-centre": rgb.crop((2 * dx, 2 * dy, w - 2 * dx, h - 2 * dy)),
            "crop-8%-bottom-left": rgb.crop((0, round(h * 0.08), round(w * 0.92), h)),
            "crop-3%-one-side": rgb.crop((0, 0, w - round(w * 0.03), h)),
        }
        for name in names:
            image = variants[name]
            quality = 60 if name == "jpeg-q60" else 90
            jobs.append((f"{name}|{item.key}", _encode(image, "JPEG", quality=quality)))
    return jobs
