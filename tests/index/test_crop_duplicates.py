"""5 % crops of real photographs join their original's near-duplicate group (issue 4).

The whole path: files on disk, `pixsearch ingest --analyzers visual` (the embedding
brings candidates the pHash misses, the aligned thumbnails verify them), a real
server, and the search answer's availableSizesCount.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PIL import Image
from skimage import data

from pixsearch.index.dupes import hamming
from pixsearch.index.embedded import EmbeddedStore
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_bytes
from pixsearch.records import Occurrence
from pixsearch.search.insights import InsightsService
from tests.conftest import ingested_and_served

# name (a word found only in this photo's files) → the picture; each gets one 5 % crop
PHOTOS = {
    "astronaut": data.astronaut,
    "espresso": data.coffee,
    "tabby": data.chelsea,
    "launchpad": data.rocket,
    "motorbike": lambda: data.stereo_motorcycle()[0],
}
CORNER = {"espresso", "launchpad"}  # cropped from one corner; the others from every side


def crop_5_percent(image: Image.Image, corner: bool) -> Image.Image:
    """5 % of each dimension off: 2.5 % per side, or all of it from the top-left."""
    w, h = image.size
    dx, dy = round(w * 0.025), round(h * 0.025)
    box = (2 * dx, 2 * dy, w, h) if corner else (dx, dy, w - dx, h - dy)
    return image.crop(box)


@pytest.fixture(scope="module")
def crops_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    root = tmp_path_factory.mktemp("crops")
    pics = root / "pics"
    pics.mkdir()
    for name, load in PHOTOS.items():
        image = Image.fromarray(load()).convert("RGB")
        image.save(pics / f"{name}-photo.png")
        crop_5_percent(image, name in CORNER).save(pics / f"{name}-cropped.jpg", quality=90)
    # Not a copy: the cat's face, half the picture enlarged (visually close, other framing).
    cat = Image.fromarray(data.chelsea())
    w, h = cat.size
    cat.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4)).resize((w, h)).save(pics / "closeup.jpg")
    index = root / "index"
    with ingested_and_served(pics, index, analyzers="visual") as (base, key):
        yield base, key, index


def search(crops_index: tuple[str, str, Path], query: str) -> dict:
    base, key, _ = crops_index
    response = httpx.get(
        base + "/v7.0/images/search",
        params={"q": query, "count": 50},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_a_5_percent_crop_is_collapsed_into_its_original(
    crops_index: tuple[str, str, Path], name: str
) -> None:
    body = search(crops_index, name)
    assert body["totalEstimatedMatches"] == 2  # the photo and its crop match the query
    assert len(body["value"]) == 1, [v["name"] for v in body["value"]]  # shown once
    assert body["value"][0]["insightsMetadata"]["availableSizesCount"] == 2


def test_different_photos_stay_apart(crops_index: tuple[str, str, Path]) -> None:
    store = EmbeddedStore(crops_index[2])
    try:
        docs = store.get(list(range(1, 2 * len(PHOTOS) + 2)))
    finally:
        store.close()
    groups: dict[int, set[str]] = {}
    for doc in docs:
        word = Path(doc.occurrences[0].source).name.split("-")[0].split(".")[0]
        groups.setdefault(doc.group_id, set()).add(word)
    assert len(docs) == 2 * len(PHOTOS) + 1
    # one group per photo, and the enlarged close-up of the cat in a group of its own
    assert sorted(map(sorted, groups.values())) == sorted([[n] for n in PHOTOS] + [["closeup"]])
    # The hash alone misses the corner crops: these groups come from the embedding path.
    by_name = {Path(d.occurrences[0].source).name: d.facts.phash for d in docs}
    far = [n for n in CORNER if hamming(by_name[f"{n}-photo.png"], by_name[f"{n}-cropped.jpg"]) > 6]
    assert far, "every crop was within the hash distance: the test no longer covers crops"


def test_an_uploaded_crop_finds_its_original(crops_index: tuple[str, str, Path]) -> None:
    # What /images/details does with a POSTed picture, given its embedding and thumbnail.
    buffer = io.BytesIO()
    crop_5_percent(Image.fromarray(data.chelsea()), corner=True).save(buffer, "JPEG")
    config = replace(PipelineConfig(), analyzers=("visual",))
    upload = process_bytes(buffer.getvalue(), Occurrence(source="upload"), config)
    assert isinstance(upload, Processed) and upload.embedding is not None
    store = EmbeddedStore(crops_index[2])
    try:
        insights = InsightsService(store).for_picture(
            upload.facts, upload.embedding, upload.thumbnail
        )
        assert insights.doc is not None
        assert Path(insights.doc.occurrences[0].source).name.startswith("tabby-")
        assert insights.sizes == 2 and len(insights.pages) == 2
        hash_only = InsightsService(store).for_picture(upload.facts)
        if not store.near_duplicates(upload.facts.phash, upload.facts.color_layout, max_distance=6):
            assert hash_only.doc is None  # the hash alone misses this crop
    finally:
        store.close()


def test_a_posted_crop_gets_its_originals_pages_over_http(
    crops_index: tuple[str, str, Path],
) -> None:
    """The same rule through POST /images/details: the upload is measured, embedded, matched."""
    base, key, _ = crops_index
    buffer = io.BytesIO()
    crop_5_percent(Image.fromarray(data.chelsea()), corner=True).save(buffer, "JPEG")
    response = httpx.post(
        base + "/v7.0/images/details",
        params={"modules": "PagesIncluding"},
        files={"image": ("crop.jpg", buffer.getvalue(), "image/jpeg")},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    pages = response.json().get("pagesIncluding", {}).get("value", [])
    # the original and its ingested crop, both named after the photo
    assert len(pages) == 2 and all(p["name"].startswith("tabby") for p in pages), pages
