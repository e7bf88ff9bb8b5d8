"""safeSearch, imageContent and imageType=Shopping over HTTP, on an index built by the CLI.

Real pictures go through `pixsearch ingest` and `pixsearch import-warc` with the nudenet
analyzer; real servers answer with their own adult threshold and host blocklist. Nude
pictures cannot be part of a test suite, so the nudity side is tested through the
threshold: at 0.0 every analysed picture counts as adult, at 1.0 none does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pixsearch.index.attributes import adult_score_terms
from pixsearch.index.words import is_adult_text
from pixsearch.search.adult import has_adult_intent, load_hosts
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.conftest import start_server, stop_server

ALL = {
    "gallery astronaut portrait",
    "gallery astronaut closeup",
    "gallery rocket launch",
    "gallery nude figure study",
    "gallery harbour view",
    "gallery fox toy",
}
PRODUCT = """<script type="application/ld+json">{"@context":"https://schema.org",
"@type":"Product","name":"gallery fox toy","image":"/img/fox-toy.jpg",
"offers":{"@type":"Offer","price":"9.50","priceCurrency":"USD"}}</script>"""


@dataclass(frozen=True)
class Servers:
    strict_policy: httpx.Client  # threshold 1.0 (no picture is adult), host blocklist
    everything_adult: httpx.Client  # threshold 0.0 (every analysed picture is adult)


def mosaic(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    blocks = np.random.default_rng(seed).integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    return Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)


def write_pictures(folder: Path) -> None:
    folder.mkdir()
    astronaut = Image.fromarray(data.astronaut())
    astronaut.save(folder / "gallery-astronaut-portrait.png")
    astronaut.crop((150, 50, 300, 210)).resize((300, 320)).save(
        folder / "gallery-astronaut-closeup.png"
    )
    Image.fromarray(data.rocket()).save(folder / "gallery-rocket-launch.jpg")
    mosaic(1).save(folder / "gallery-nude-figure-study.png")  # adult words, harmless pixels
    mosaic(2).save(folder / "gallery-harbour-view.png")
    sidecar = {"page_url": "http://www.blocked-adult.example/harbour", "caption": "at dusk"}
    (folder / "gallery-harbour-view.json").write_text(json.dumps(sidecar))


def write_shop_warc(path: Path) -> None:
    def record(url: str, kind: str, body: bytes) -> None:
        headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=headers)
        )

    picture = BytesIO()
    mosaic(3).save(picture, "JPEG", quality=90)
    page = f"<html><head>{PRODUCT}</head><body><img src='/img/fox-toy.jpg' alt='gallery fox toy'>"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        record("http://shop.example/fox-toy", "text/html", page.encode())
        record("http://shop.example/img/fox-toy.jpg", "image/jpeg", picture.getvalue())


def pixsearch(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pixsearch", *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("safesearch")
    index = root / "index"
    write_pictures(root / "pics")
    write_shop_warc(root / "shop.warc.gz")
    pixsearch("ingest", str(root / "pics"), "--index", str(index), "--analyzers", "nudenet")
    pixsearch(
        "import-warc", str(root / "shop.warc.gz"), "--index", str(index), "--analyzers", "nudenet"
    )
    hosts = root / "adult-hosts.txt"
    hosts.write_text("# a hosts-file blocklist\n0.0.0.0 blocked-adult.example\n")
    key = SqliteKeyStore(ServiceDb(index / "service.db")).create("safesearch")
    strict_env = {"PIXSEARCH_ADULT_THRESHOLD": "1.0", "PIXSEARCH_ADULT_HOSTS_FILE": str(hosts)}
    first, first_base = start_server(index, env=strict_env)
    second, second_base = start_server(index, env={"PIXSEARCH_ADULT_THRESHOLD": "0.0"})
    headers = {"Ocp-Apim-Subscription-Key": key}
    try:
        with (
            httpx.Client(base_url=first_base, headers=headers, timeout=30) as a,
            httpx.Client(base_url=second_base, headers=headers, timeout=30) as b,
        ):
            yield Servers(strict_policy=a, everything_adult=b)
    finally:
        stop_server(first)
        stop_server(second)


def names(client: httpx.Client, q: str = "gallery", **params: str) -> set[str]:
    response = client.get("/v7.0/images/search", params={"q": q, "count": "50", **params})
    assert response.status_code == 200, response.text
    return {image["name"].lower() for image in response.json()["value"]}


def test_off_shows_everything_and_moderate_hides_adult_pictures(servers: Servers) -> None:
    assert names(servers.strict_policy, safeSearch="Off") == ALL
    assert names(servers.strict_policy) == ALL  # Moderate, the default: no score reaches 1.0
    assert names(servers.everything_adult, safeSearch="Off") == ALL
    assert names(servers.everything_adult, safeSearch="Moderate") == set()
    assert names(servers.everything_adult, safeSearch="Strict") == set()


def test_strict_also_hides_adult_words_and_blocklisted_hosts(servers: Servers) -> None:
    shown = names(servers.strict_policy, safeSearch="Strict")
    assert shown == ALL - {"gallery nude figure study", "gallery harbour view"}


def test_image_content_face_portrait_and_nonportrait(servers: Servers) -> None:
    client = servers.strict_policy
    assert names(client, imageContent="Portrait") == {"gallery astronaut portrait"}
    assert names(client, imageContent="Face") == {"gallery astronaut closeup"}
    others = ALL - {"gallery astronaut portrait", "gallery astronaut closeup"}
    assert names(client, imageContent="NonPortrait", safeSearch="Off") == others


def test_shopping_is_a_picture_on_a_page_with_offers(servers: Servers) -> None:
    assert names(servers.strict_policy, imageType="Shopping") == {"gallery fox toy"}
    answer = servers.strict_policy.get("/v7.0/images/search", params={"q": "gallery"}).json()
    counts = {
        image["name"].lower(): image.get("insightsMetadata", {}).get("shoppingSourcesCount")
        for image in answer["value"]
    }
    # the badge count: pages offering it for sale; absent, not 0, elsewhere
    assert counts.pop("gallery fox toy") == 1
    assert set(counts.values()) == {None}


def test_adult_intent_is_reported_only_for_adult_queries(servers: Servers) -> None:
    client = servers.strict_policy
    adult = client.get("/v7.0/images/search", params={"q": "nude gallery", "safeSearch": "Off"})
    assert adult.json()["queryContext"]["adultIntent"] is True
    plain = client.get("/v7.0/images/search", params={"q": "gallery"})
    assert "adultIntent" not in plain.json()["queryContext"]


def test_adult_words_threshold_buckets_and_blocklist_format(tmp_path: Path) -> None:
    assert is_adult_text(["Nüde figure study"]) and is_adult_text(["pornhub-clips"])
    assert not is_adult_text(["chicken breast with blue tits", "sex chromosomes"])
    assert has_adult_intent(["NSFW"]) and not has_adult_intent(["sunset"])
    assert adult_score_terms(0.45)[0] == "score045" and adult_score_terms(1.0) == ["score100"]
    assert len(adult_score_terms(0.0)) == 101 and adult_score_terms(1.5) == []
    blocklist = tmp_path / "hosts.txt"
    blocklist.write_text("# comment\n0.0.0.0 WWW.Bad.example\nother.example # note\n\nlocalhost\n")
    assert load_hosts(blocklist) == ("bad.example", "other.example")
