"""One picture served in several sizes and encodings shows once on a first page (issue 16).

Real clip art (openclipart-png): a red fedora as a web site serves it (the PNG, a
half-size PNG, a JPEG flattened on white, one flattened on black, a 150 px JPEG
thumbnail, a quarter-size PNG),
its blue look-alike (the same drawing in another colour, with a 120 px icon of it), a
451x150 banner, and a flag with its 150 px thumbnail. Ingested with
`pixsearch ingest --analyzers visual`, searched over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import OPENCLIPART, ingested_and_served

HATS = OPENCLIPART / "people/clothing/hats"
BANNER = Path("/usr/share/openclipart/png/buildings/furniture/television_peterm_.png")
FLAG = Path(
    "/usr/share/openclipart/png/signs_and_symbols/flags/america/national_flag_of_canada1.png"
)
RED_SIZES = 4  # 533 (the PNG and the JPEGs on white and black), 267, 150 and 133 px


def _flat(image: Image.Image, colour: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    flat = Image.new("RGB", image.size, colour)
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _scaled(image: Image.Image, share: float) -> Image.Image:
    size = (round(image.width * share), round(image.height * share))
    return image.resize(size, Image.Resampling.LANCZOS)


def write_pictures(folder: Path) -> None:
    red = Image.open(HATS / "red_fedora.png").convert("RGBA")  # 533 x 533
    red.save(folder / "fedora-red.png")
    _scaled(red, 0.5).save(folder / "fedora-red-half.png")
    _flat(red).save(folder / "fedora-red-white.jpg", quality=70)
    # on a dark page: it hashes like the original only over black (index/darklook.py)
    _flat(red, (0, 0, 0)).save(folder / "fedora-red-black.jpg", quality=80)
    thumb = _flat(red)
    thumb.thumbnail((150, 150), Image.Resampling.LANCZOS)
    thumb.save(folder / "fedora-red-thumb.jpg", quality=80)
    _scaled(red, 0.25).save(folder / "fedora-red-quarter.png")
    blue = Image.open(HATS / "blue_fedora.png").convert("RGBA")
    blue.save(folder / "fedora-blue.png")
    _scaled(blue, 120 / blue.width).save(folder / "fedora-blue-icon.png")
    banner = Image.open(BANNER).convert("RGBA").resize((451, 150), Image.Resampling.LANCZOS)
    _flat(banner).save(folder / "fedora-banner.jpg", quality=85)
    # A symmetric flag: its 150 px thumbnail hashes 18 bits away from the original.
    flag = Image.open(FLAG).convert("RGBA")
    flag.save(folder / "flag-canada.png")
    flat = _flat(flag)
    flat.thumbnail((150, 150), Image.Resampling.LANCZOS)
    flat.save(folder / "flag-canada-thumb.jpg", quality=80)


@pytest.fixture(scope="module")
def served(
    openclipart: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("copies")
    pics = root / "pics"
    pics.mkdir()
    write_pictures(pics)
    with ingested_and_served(pics, root / "index", analyzers="visual") as served:
        yield served


def search(served: tuple[str, str], q: str = "fedora", **params: str) -> list[dict]:
    base, key = served
    response = httpx.get(
        base + "/v7.0/images/search",
        params={"q": q, "count": 50, **params},
        headers={"Ocp-Apim-Subscription-Key": key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["value"]


def family(value: dict) -> str:
    """red, blue or banner: the second word of the file name the title comes from."""
    words = value["name"].lower().replace("-", " ").split()
    return next(w for w in words if w in ("red", "blue", "banner"))


def test_every_size_and_encoding_of_a_picture_shows_once(served: tuple[str, str]) -> None:
    values = search(served)
    assert sorted(family(v) for v in values) == ["banner", "blue", "red"]
    counts = {family(v): v["insightsMetadata"]["availableSizesCount"] for v in values}
    assert counts == {"red": RED_SIZES, "blue": 2, "banner": 1}
    flags = search(served, q="canada")
    assert len(flags) == 1, [v["name"] for v in flags]
    assert flags[0]["insightsMetadata"]["availableSizesCount"] == 2


def test_small_means_both_sides_under_200(served: tuple[str, str]) -> None:
    values = search(served, size="Small")
    assert sorted(family(v) for v in values) == ["blue", "red"]  # the 451x150 banner is not
    for value in values:
        assert value["width"] < 200 and value["height"] < 200, value["contentUrl"]
    medium = search(served, size="Medium")
    assert "banner" in [family(v) for v in medium]
