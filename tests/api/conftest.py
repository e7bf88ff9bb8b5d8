"""An index with embeddings, faces and web pages, served for the insights and visual search tests.

Real photos (scikit-image), real models (the "visual" and "nudenet" analyzers),
real pages: occurrences shaped as the crawler records them (offers and recipes
from schema.org JSON-LD), ingested through the pipeline and the Indexer.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageOps

from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.indexer import Indexer
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.models.analyzer import AnalyzerUnavailable, load_analyzer
from pixsearch.records import Occurrence
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

GALLERY = "http://pets.example/gallery"


@dataclass(frozen=True)
class Vision:
    base: str
    key: str
    index_dir: Path
    ids: dict[str, str]  # picture name -> imageId
    pictures: dict[str, bytes]


def photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def variant(image: Image.Image) -> Image.Image:
    """The same subject, mirrored and reframed: similar, but not a near-duplicate."""
    w, h = image.size
    return ImageOps.mirror(image).crop((w // 10, h // 12, w, h)).resize((w * 4 // 5, h * 4 // 5))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def pictures() -> dict[str, Image.Image]:
    cat, rocket, coffee = photo("chelsea"), photo("rocket"), photo("coffee")
    return {
        "cat": cat,
        "cat2": variant(cat),
        "cat3": ImageOps.grayscale(cat.crop((0, 0, cat.width * 3 // 4, cat.height))).convert("RGB"),
        "rocket": rocket,
        "rocket2": variant(rocket),
        "coffee": coffee,
        "astronaut": photo("astronaut"),
        "camera": photo("camera"),
        "horse": photo("horse"),
    }


def place(name: str, page: str, words: str = "", **extra: object) -> Occurrence:
    words = words or name
    return Occurrence(
        source=f"{page}#{name}",
        content_url=f"{page.rsplit('/', 1)[0]}/img/{name}.jpg",
        host_page_url=page,
        title=f"{words} picture",
        text={"caption": f"a {words}", "page_title": page.rsplit("/", 1)[-1]},
        **extra,  # type: ignore[arg-type]
    )


def places() -> dict[str, list[Occurrence]]:
    recipe = {"name": "Espresso", "totalTime": "PT5M", "ingredients": ["coffee", "water"]}
    return {
        "cat": [place("cat", GALLERY)],
        "cat2": [place("cat2", GALLERY), place("cat2", "http://cats.example/kitten")],
        # A "naked cat" (a sphynx): adult words by the list, so Strict hides it.
        "cat3": [place("cat3", "http://cats.example/sphynx", words="naked cat")],
        "astronaut": [place("astronaut", GALLERY)],
        "horse": [place("horse", GALLERY)],
        "rocket": [
            place(
                "rocket",
                "http://shop.example/rocket",
                offers=[
                    {
                        "price": "19.99",
                        "currency": "USD",
                        "seller": "Rocket Shop",
                        "availability": "InStock",
                    }
                ],
            )
        ],
        "rocket2": [
            place(
                "rocket2",
                "http://models.example/rocket-model",
                offers=[{"price": "24.50", "currency": "EUR", "seller": "Models"}],
            )
        ],
        "coffee": [
            place("coffee", "http://food.example/espresso", recipe={**recipe, "rating": "4.5"})
        ],
        "camera": [place("camera", "http://photo.example/camera")],
    }


def build(index_dir: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    config = PipelineConfig(analyzers=("nudenet", "visual"))
    store = EmbeddedStore(index_dir, writable=True)
    indexer = Indexer(store)
    ids, data = {}, {}
    for name, image in pictures().items():
        data[name] = jpeg(image)
        for occurrence in places()[name]:
            item = process_bytes(data[name], occurrence, config)
            assert isinstance(item, Processed), item
            indexer.handle(item)
            ids[name] = item.facts.image_id
    indexer.commit()
    store.close()
    return ids, data


@pytest.fixture(scope="session")
def vision(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vision]:
    try:
        load_analyzer("visual")
        load_analyzer("nudenet")
    except AnalyzerUnavailable as exc:
        pytest.skip(f"image models not installed: {exc}")
    index_dir = tmp_path_factory.mktemp("vision") / "index"
    ids, data = build(index_dir)
    key = SqliteKeyStore(ServiceDb(index_dir / "service.db")).create("vision-tests")
    # fetch_private: the imgUrl tests serve their pictures from 127.0.0.1.
    process, base = start_server(index_dir, env={"PIXSEARCH_FETCH_PRIVATE": "1"})
    try:
        yield Vision(base=base, key=key, index_dir=index_dir, ids=ids, pictures=data)
    finally:
        stop_server(process)


@pytest.fixture()
def vapi(vision: Vision) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=vision.base, headers={"Ocp-Apim-Subscription-Key": vision.key}, timeout=60
    ) as client:
        yield client


def side_by_side(left: Image.Image, right: Image.Image) -> tuple[bytes, float]:
    """One picture with `left` in its left half and `right` in its right half."""
    h = 300
    a = left.resize((left.width * h // left.height, h))
    b = right.resize((right.width * h // right.height, h))
    canvas = Image.new("RGB", (a.width + b.width, h))
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width, 0))
    return jpeg(canvas), a.width / canvas.width


@pytest.fixture()
def picture_site(vision: Vision) -> Iterator[str]:
    """A real HTTP server on loopback: /cat.jpg, a redirect to it, and an endless redirect."""
    cat = vision.pictures["cat"]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/cat.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(cat)))
                self.end_headers()
                self.wfile.write(cat)
            elif self.path.startswith("/hop"):
                hops = int(self.path[4:] or 0)
                self.send_response(302)
                self.send_header("Location", f"/hop{hops + 1}" if hops < 10 else "/cat.jpg")
                self.end_headers()
            elif self.path == "/moved":
                self.send_response(301)
                self.send_header("Location", "/cat.jpg")
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
