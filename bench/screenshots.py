"""Screenshots of the search page for the README, written to docs/screenshots/*.png.

    python bench/screenshots.py [--dir .bench/screenshots] [--out docs/screenshots]

Builds the demo's index once (`pixsearch demo --no-serve`: sample pictures and, with
scikit-image, its photographs), serves it with `pixsearch serve`, searches a few times so
that trending has something to show, and photographs each state of the page in the system
chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import start_server, stop_server
from tests.web.conftest import ARGS, CHROMIUM

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SEARCHES = ["sunset", "coffee", "cat", "red circle", "moon", "rocket", "sky", "coins"]


def build_index(root: Path) -> Path:
    """The demo's index, made by `pixsearch demo` itself (its analyzers included)."""
    index = root / "index"
    if not (index / "meta.db").exists():
        command = [sys.executable, "-m", "pixsearch", "demo", "--no-serve", "--dir", str(root)]
        subprocess.run(command, check=True, capture_output=True)
    return index


def seed_trending(base: str) -> None:
    """Searches as people make them, through the page's own key, so trending has rows."""
    html = httpx.get(base + "/").text
    key = html.split('name="pixsearch-page-key" content="', 1)[1].split('"', 1)[0]
    with httpx.Client(base_url=base, headers={"Ocp-Apim-Subscription-Key": key}) as client:
        for round_ in range(3):
            for q in SEARCHES[: len(SEARCHES) - round_ * 2]:
                client.get("/v7.0/images/search", params={"q": q})


def save(page: Page, out: Path, name: str) -> None:
    """A PNG of 256 colours, dithered: a third of the size, hardly a visible difference.

    The octree palette keeps the few saturated colours of the interface (the colour
    swatches) that a median cut merges; dithering keeps gradients from banding.
    """
    page.wait_for_timeout(600)  # thumbnails fade in
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    palette = shot.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    dithered = shot.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    dithered.save(out / f"{name}.png", optimize=True)
    print(f"{out / name}.png")


def landing(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.locator("#trending li").first.wait_for()


def results(page: Page, base: str) -> None:
    page.goto(base + "/search?q=sky OR sunset OR dawn OR coffee OR cat OR moon")
    page.locator("#results li").first.hover()


def filters(page: Page, base: str) -> None:
    page.goto(base + "/search?q=circle OR square OR star OR triangle")
    page.locator("#results li").first.wait_for()
    page.click("label.swatch-coloronly")
    page.locator("#results li").first.wait_for()
    page.select_option("#filter-imageType", "Clipart")
    page.locator("#results li").first.wait_for()


def details(page: Page, base: str) -> None:
    page.goto(base + "/search?q=cat OR coffee OR astronaut")
    page.locator("#results li a").first.click()
    page.locator(".details-insights h3").first.wait_for()


def by_image(page: Page, base: str, samples: Path) -> None:
    page.goto(base + "/search?view=image")
    page.set_input_files("#file", str(samples / "photos" / "coffee.jpg"))
    page.locator("#upload-insights h3").first.wait_for()
    box = page.locator("#crop-stage").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.8)
    page.mouse.up()
    page.locator("#upload-insights h3").first.wait_for()


def trending(page: Page, base: str) -> None:
    page.goto(base + "/search?view=trending")
    page.locator("#trending li").first.wait_for()


def shoot(browser: Browser, out: Path, name: str, scene: Callable[[Page], None], **ctx) -> None:
    context = browser.new_context(viewport=ctx.pop("viewport", DESKTOP), **ctx)
    try:
        page = context.new_page()
        scene(page)
        save(page, out, name)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".bench/screenshots"))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index = build_index(args.dir)
    process, base = start_server(index)
    try:
        seed_trending(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            samples = args.dir / "samples"
            scenes: list[tuple[str, Callable[[Page], None], dict]] = [
                ("landing", lambda p: landing(p, base), {}),
                ("results", lambda p: results(p, base), {}),
                ("filters", lambda p: filters(p, base), {}),
                ("details", lambda p: details(p, base), {}),
                ("search-by-image", lambda p: by_image(p, base, samples), {}),
                ("trending", lambda p: trending(p, base), {}),
                ("phone", lambda p: results(p, base), {"viewport": PHONE, "is_mobile": True}),
                ("dark", lambda p: results(p, base), {"color_scheme": "dark"}),
            ]
            for name, scene, options in scenes:
                shoot(browser, args.out, name, scene, **options)
            browser.close()
    finally:
        stop_server(process)


if __name__ == "__main__":
    main()
