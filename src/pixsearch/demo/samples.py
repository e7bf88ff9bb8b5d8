"""Generate a folder of described sample images (and add scikit-image's photos if installed).

Every generated picture is drawn here, so its description is true by
construction: "red circle on a blue background" is exactly that.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35),
    "blue": (30, 70, 210),
    "green": (40, 160, 60),
    "yellow": (245, 215, 40),
    "orange": (245, 140, 20),
    "purple": (130, 50, 170),
    "pink": (240, 120, 180),
    "teal": (20, 150, 150),
    "brown": (120, 75, 35),
}
BACKGROUNDS = {"white": (250, 250, 250), "black": (10, 10, 10), "gray": (128, 128, 128)}
SHAPES = ("circle", "square", "triangle", "star")

# scikit-image sample photographs that ship inside its wheel, with true captions and
# the licences its data README states for them.
SKIMAGE_PHOTOS: dict[str, tuple[str, str | None]] = {
    "astronaut": ("astronaut Eileen Collins portrait NASA", "pdm"),
    "chelsea": ("tabby cat Chelsea lying on a rug", "cc0"),
    "coffee": ("cup of coffee on a saucer", "cc0"),
    "rocket": ("rocket on the launch pad", "pdm"),
    "hubble_deep_field": ("Hubble deep field galaxies in space", "pdm"),
    "camera": ("cameraman with a camera on a tripod black and white photo", None),
    "coins": ("old Greek coins black and white photo", None),
    "moon": ("surface of the moon black and white", None),
}


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
    return points


def draw_shape(
    shape: str,
    colour: tuple[int, int, int],
    background: tuple[int, int, int],
    size: tuple[int, int] = (640, 480),
) -> Image.Image:
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    r = min(w, h) * 0.35
    cx, cy = w / 2, h / 2
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
    else:
        draw.polygon(_star(cx, cy, r), fill=colour)
    return image


def gradient(
    top: tuple[int, int, int],
    bottom: tuple[int, int, int],
    size: tuple[int, int] = (1280, 800),
    seed: int = 0,
) -> Image.Image:
    """A sky-like vertical gradient with a little noise, so it compresses like a photo."""
    rng = random.Random(seed)
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / (h - 1)
        column.putpixel(
            (0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    image = column.resize(size)
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # a few soft hills along the bottom
        x = rng.randrange(w)
        rad = rng.randrange(60, 200)
        draw.ellipse(
            (x - rad, h - rad // 2, x + rad, h + rad), fill=(30, 60 + rng.randrange(60), 30)
        )
    return image


def write_samples(folder: Path) -> list[Path]:
    """Write the demo set into `folder` (idempotent) and return the image paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    shapes_dir = folder / "shapes"
    shapes_dir.mkdir(exist_ok=True)
    for i, (colour, rgb) in enumerate(COLOURS.items()):
        for j, shape in enumerate(SHAPES):
            bg_name = list(BACKGROUNDS)[(i + j) % len(BACKGROUNDS)]
            path = shapes_dir / f"{colour}-{shape}-on-{bg_name}.png"
            if not path.exists():
                draw_shape(shape, rgb, BACKGROUNDS[bg_name]).save(path)
            written.append(path)
    written += _landscapes(folder / "landscapes")
    written += _specials(folder / "specials")
    written += _skimage_photos(folder / "photos")
    return written


def _landscapes(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    scenes = {
        "sunset over green hills": ((250, 120, 40), (120, 40, 90)),
        "clear blue sky above the meadow": ((40, 110, 230), (170, 210, 250)),
        "stormy gray sky": ((70, 70, 80), (150, 150, 160)),
        "pink dawn over the valley": ((250, 170, 200), (250, 230, 210)),
    }
    paths = []
    for seed, (caption, (top, bottom)) in enumerate(scenes.items()):
        path = folder / (caption.replace(" ", "_") + ".jpg")
        if not path.exists():
            gradient(top, bottom, seed=seed).save(path, quality=88)
            path.with_suffix(".json").write_text(
                json.dumps({"title": caption.capitalize(), "caption": caption, "license": "cc0"})
            )
        paths.append(path)
    small = folder / "sunset_over_green_hills_small.jpg"  # a resized copy: a near-duplicate
    if not small.exists():
        with Image.open(paths[0]) as big:
            big.resize((640, 400)).save(small, quality=80)
    paths.append(small)
    return paths


def _specials(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    logo = folder / "transparent-logo-teal-ring.png"
    if not logo.exists():
        image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
        ImageDraw.Draw(image).ellipse((40, 40, 360, 360), outline=(20, 150, 150, 255), width=40)
        image.save(logo)
    paths.append(logo)
    gif = folder / "animated-bouncing-orange-ball.gif"
    if not gif.exists():
        frames = []
        for k in range(8):
            frame = Image.new("RGB", (240, 240), (250, 250, 250))
            y = 40 + int(120 * abs(math.sin(k * math.pi / 8)))
            ImageDraw.Draw(frame).ellipse((90, y, 150, y + 60), fill=COLOURS["orange"])
            frames.append(frame)
        frames[0].save(gif, save_all=True, append_images=frames[1:], duration=80, loop=0)
    paths.append(gif)
    gray = folder / "black-and-white-checkerboard.png"
    if not gray.exists():
        image = Image.new("L", (512, 512), 255)
        draw = ImageDraw.Draw(image)
        for x in range(8):
            for y in range(8):
                if (x + y) % 2:
                    draw.rectangle((x * 64, y * 64, x * 64 + 63, y * 64 + 63), fill=0)
        image.save(gray)
    paths.append(gray)
    return paths


def _skimage_photos(folder: Path) -> list[Path]:
    try:
        from skimage import data  # optional: the demo extra installs it
    except ImportError:
        return []
    folder.mkdir(exist_ok=True)
    paths = []
    for name, (caption, licence) in SKIMAGE_PHOTOS.items():
        path = folder / f"{name}.jpg"
        if not path.exists():
            try:
                pixels = getattr(data, name)()
            except Exception:  # a sample that must be downloaded: skip it offline
                continue
            Image.fromarray(pixels).convert("RGB").save(path, quality=90)
            sidecar = {
                "title": caption.capitalize(),
                "caption": caption,
                "source": "scikit-image sample data",
            }
            if licence:
                sidecar["license"] = licence
            path.with_suffix(".json").write_text(json.dumps(sidecar))
        paths.append(path)
    return paths
