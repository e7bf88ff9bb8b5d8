"""The demo website: picture files in several sizes, every page, and a loopback server.

Drawings are served straight from the package's files; large photographs and
wallpapers are scaled once to web sizes and kept in a cache folder between runs.
Each picture appears on its own page, on its section's listing and in the
"more" strip of a few neighbours, and some in smaller copies too: what gives a
search engine several pages and several sizes of one picture to find.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

from pixsearch.demo import pages
from pixsearch.demo.pages import Shown, SitePicture
from pixsearch.demo.pictures import Picture

PHOTO_WIDTH = 1920  # a wallpaper-sized landscape stays a wallpaper (1024x768 and up)
PHOTO_SIZES = (960, 480)
DRAWING_SIZES_EVERY = 5  # one drawing in this many also gets a half-size copy
# openclipart has a 10534x16000 drawing: the crawl rejects it as a decompression bomb,
# and the demo does not decode it to make a copy either.
COPY_MAX_PIXELS = 16_000_000
RELATED = 3  # neighbours shown in a picture page's "more" strip
PER_LISTING = 48
LOOPBACK = "127.0.0.1"
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".html": "text/html; charset=utf-8"}

Route = tuple[str, bytes | Path]  # content type, and the body or the file holding it


@dataclass(slots=True)
class DemoSite:
    routes: dict[str, Route]
    images: int  # distinct picture files the pages show: what a crawl fetches


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _scaled(source: Path, target: Path, width: int) -> Shown:
    """`source` at most `width` wide in `target` (made once); its size as shown."""
    if not target.exists():
        with Image.open(source) as image:
            image.draft("RGB", (width, width))  # JPEG: decode at a fraction of the size
            copy = image.convert("RGBA" if target.suffix == ".png" else "RGB")
            if copy.width > width:
                copy = copy.resize(
                    (width, round(copy.height * width / copy.width)), Image.Resampling.LANCZOS
                )
            tmp = target.with_name(target.name + ".tmp")
            copy.save(tmp, "PNG" if target.suffix == ".png" else "JPEG", quality=85)
            tmp.replace(target)  # an interrupted run leaves no half file behind
    with Image.open(target) as done:
        return Shown(f"/img/{target.name}", done.width, done.height)


def _prepare(picture: Picture, files: Path) -> tuple[Shown, list[Shown], dict[str, Path]]:
    """The full-size file, the smaller copies, and the files behind their URLs."""
    if picture.photo:
        full = _scaled(picture.path, files / f"{picture.slug}.jpg", PHOTO_WIDTH)
        widths = [w for w in PHOTO_SIZES if w < full.width] or [full.width // 2]
        sizes = [_scaled(picture.path, files / f"{picture.slug}-{w}.jpg", w) for w in widths]
        return full, sizes, {s.url: files / s.url.rsplit("/", 1)[1] for s in [full, *sizes]}
    with Image.open(picture.path) as image:
        full = Shown(f"/img/{picture.slug}{picture.path.suffix}", image.width, image.height)
    served = {full.url: picture.path}
    sizes = []
    small_enough = full.width * full.height <= COPY_MAX_PIXELS
    if _digest(picture.slug) % DRAWING_SIZES_EVERY == 0 and full.width >= 120 and small_enough:
        width = full.width // 2
        half = _scaled(picture.path, files / f"{picture.slug}-{width}.png", width)
        sizes.append(half)
        served[half.url] = files / half.url.rsplit("/", 1)[1]
    return full, sizes, served


def _published(slug: str, now: datetime) -> datetime:
    """A spread of dates: one picture in eight from the last week, the rest up to two years."""
    h = _digest("published " + slug)
    days = h % 7 if h % 8 == 0 else h % 730
    return (now - timedelta(days=days, minutes=h % 1440)).replace(microsecond=0)


def draw_logo() -> bytes:
    """The site's logo: a framed mountain and sun, then the site's name."""
    image = Image.new("RGB", (240, 64), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 60, 60), radius=8, fill=(40, 110, 200))
    draw.polygon([(8, 56), (26, 24), (40, 44), (48, 34), (58, 56)], fill=(40, 160, 70))
    draw.ellipse((40, 10, 52, 22), fill=(250, 210, 40))
    draw.text((70, 16), pages.SITE_NAME, fill=(30, 30, 30))
    draw.text((70, 34), "free pictures, licences kept", fill=(110, 110, 110))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def build_site(pictures: list[Picture], files: Path, base: str, now: datetime) -> DemoSite:
    """Every route of the site for `pictures`; scaled copies are cached under `files`."""
    files.mkdir(parents=True, exist_ok=True)
    items: list[SitePicture] = []
    routes: dict[str, Route] = {}
    # Threads: Pillow decodes and scales without the GIL (the first run scales wallpapers).
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        prepared = list(pool.map(lambda p: _prepare(p, files), pictures))
    for picture, (full, sizes, served) in zip(pictures, prepared, strict=True):
        for url, path in served.items():
            routes[url] = (TYPES.get(path.suffix.lower(), "application/octet-stream"), path)
        page = f"/p/{picture.slug}.html"
        items.append(SitePicture(picture, page, full, sizes, _published(picture.slug, now)))
    by_section: dict[str, list[SitePicture]] = {}
    for item in items:
        by_section.setdefault(item.picture.section, []).append(item)
    for section, members in by_section.items():
        _section_routes(section, members, base, routes)
    featured = [i for i in items if i.picture.photo][:12]
    counts = {s: len(m) for s, m in by_section.items()}
    routes["/"] = (TYPES[".html"], pages.home_page(counts, featured, base))
    routes[pages.LOGO_PATH] = (TYPES[".png"], draw_logo())
    listed = [p for p in routes if p == "/" or p.endswith((".html", "/"))]
    routes["/sitemap.xml"] = ("application/xml", pages.sitemap(sorted(listed), base))
    routes["/robots.txt"] = ("text/plain", pages.robots(base))
    images = sum(1 for kind, _ in routes.values() if kind.startswith("image/"))
    return DemoSite(routes, images)


def _section_routes(
    section: str, members: list[SitePicture], base: str, routes: dict[str, Route]
) -> None:
    chunks = [members[i : i + PER_LISTING] for i in range(0, len(members), PER_LISTING)]
    for number, chunk in enumerate(chunks, start=1):
        body = pages.section_page(section, chunk, number, len(chunks), base)
        routes[pages.section_path(section, number)] = (TYPES[".html"], body)
    # Neighbours of the same licence: the page's licence link speaks for all it shows.
    by_licence: dict[str, list[SitePicture]] = {}
    for item in members:
        licence = item.picture.licence
        by_licence.setdefault(licence.url if licence else "", []).append(item)
    for same in by_licence.values():
        for at, item in enumerate(same):
            related = [same[(at + k) % len(same)] for k in range(1, RELATED + 1) if len(same) > k]
            routes[item.page] = (TYPES[".html"], pages.picture_page(item, related, base))


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route]

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        kind, body = route
        data = body.read_bytes() if isinstance(body, Path) else body
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # The crawler may hang up (size cap, timeout): nothing to clean up then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass  # the crawl's progress bar is the log


@contextmanager
def serve_site(routes: dict[str, Route], *, port: int = 0) -> Iterator[str]:
    """Serve `routes` (filled in later is fine) on loopback; yields the base URL.

    `port` when it is free (a stable address lets a later run reuse its index),
    else any free port.
    """
    handler = type("DemoSiteHandler", (_Handler,), {"routes": routes})
    try:
        server = ThreadingHTTPServer((LOOPBACK, port), handler)
    except OSError:
        server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
