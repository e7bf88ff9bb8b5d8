from __future__ import annotations

import json
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.metadata import (
    MAX_XMP_BYTES,
    extract_metadata,
    parse_xmp,
    split_words,
    url_words,
)
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.ingest.sources import roots_of
from pixsearch.records import TEXT_FIELDS

XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:title><rdf:Alt>
     <rdf:li xml:lang="de">Leuchtturm</rdf:li>
     <rdf:li xml:lang="x-default">Lighthouse at dusk</rdf:li>
   </rdf:Alt></dc:title>
   <dc:description><rdf:Alt>
     <rdf:li xml:lang="x-default">A red lighthouse on a rocky coast</rdf:li>
   </rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>lighthouse</rdf:li><rdf:li>coast</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def opened(data: bytes) -> Image.Image:
    return Image.open(BytesIO(data))


def meta_of(path: Path):
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed), result
    return result


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("IMG_2034-beachSunset", ["IMG", "beach", "Sunset"]),
        ("HTTPServerLogo", ["HTTP", "Server", "Logo"]),
        ("photo2019edit", ["photo", "edit"]),
        ("2019-07-14 123456", []),
        ("Übersicht_Straße", ["Übersicht", "Straße"]),
        ("a.b.c", ["a", "b", "c"]),
    ],
)
def test_split_words(name: str, words: list[str]) -> None:
    assert split_words(name) == words


def test_url_words_keep_three_nearest_folders_and_drop_extension() -> None:
    path = Path("/home/alice/Pictures/Holidays 2019/ItalyTrip/day-3/IMG_2034-beachSunset.JPG")
    assert url_words(path) == ["holidays", "italy", "trip", "day", "img", "beach", "sunset"]
    given = ("/home/alice/Pictures",)
    assert url_words(path, given) == ["holidays", "italy", "trip", "day", "img", "beach", "sunset"]


def test_url_words_start_at_the_folder_an_ingest_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shallow = Path("/home/alice/Pictures/cat.jpg")
    assert url_words(shallow) == ["home", "alice", "pictures", "cat"]  # no roots: three nearest
    assert url_words(shallow, ("/home/alice/Pictures",)) == ["pictures", "cat"]
    assert url_words(shallow, ("/home", "/home/alice/Pictures")) == ["pictures", "cat"]
    assert url_words(shallow, ("/srv/photos",)) == ["home", "alice", "pictures", "cat"]
    smoke = Path("/tmp/pixsearch-wheel-smoke.Xq3b9Z/pictures/blue-square.png")
    assert url_words(smoke, ("/tmp/pixsearch-wheel-smoke.Xq3b9Z/pictures",)) == [
        "pictures",
        "blue",
        "square",
    ]
    # As given on a command line: relative, or a file whose folder is then the root.
    (tmp_path / "pics" / "pets").mkdir(parents=True)
    (tmp_path / "pics" / "pets" / "dog.jpg").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    roots = roots_of([Path("pics")])
    assert roots == (str(tmp_path / "pics"),)
    assert url_words(Path("pics/pets/dog.jpg"), roots) == ["pics", "pets", "dog"]
    assert roots_of([Path("pics/pets/dog.jpg")]) == (str(tmp_path / "pics" / "pets"),)
    assert url_words(Path("pics/pets/dog.jpg"), roots_of([Path("pics/pets/dog.jpg")])) == [
        "pets",
        "dog",
    ]


def test_title_falls_back_to_file_name_words(kit, write) -> None:
    result = meta_of(write("Pictures/red-sports_car.png", Image.new("RGB", (20, 20), "red")))
    occurrence = result.occurrence
    assert occurrence.title == "red sports car"
    assert "name" not in occurrence.text
    assert occurrence.text["url_words"].endswith("pictures red sports car")
    assert set(occurrence.text) <= set(TEXT_FIELDS)


def test_exif_text_and_capture_date(kit) -> None:
    exif = Image.Exif()
    exif[0x010E] = "Harbour at noon"
    exif[0x9C9B] = "Harbour".encode("utf-16-le") + b"\x00\x00"
    exif[0x9C9C] = "Taken from the pier".encode("utf-16-le") + b"\x00\x00"
    exif[0x9C9E] = "boats;harbour;summer".encode("utf-16-le") + b"\x00\x00"
    exif[0x9C9F] = "Fishing boats".encode("utf-16-le") + b"\x00\x00"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2021:07:14 18:30:00"
    sub[0x9011] = "+02:00"
    image = opened(kit.encode(Image.new("RGB", (10, 10)), "JPEG", exif=exif))
    meta = extract_metadata(Path("/x/a.jpg"), image=image, exif=image.getexif())
    assert meta.title == "Harbour"
    assert meta.text["caption"].split("\n") == [
        "Harbour at noon",
        "Taken from the pier",
        "Fishing boats",
    ]
    assert meta.text["keywords"] == "boats, harbour, summer"
    assert meta.captured_at == datetime(2021, 7, 14, 16, 30, tzinfo=UTC)


def test_capture_date_without_offset_is_utc_and_zero_dates_are_ignored(kit) -> None:
    for raw, expected in (
        ("2020:01:02 03:04:05", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("0000:00:00 00:00:00", None),
        ("garbage", None),
    ):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = raw
        image = opened(kit.encode(Image.new("RGB", (10, 10)), "JPEG", exif=exif))
        assert (
            extract_metadata(Path("/a.jpg"), image=image, exif=image.getexif()).captured_at
            == expected
        )


def test_camera_boilerplate_is_not_a_caption(kit) -> None:
    exif = Image.Exif()
    exif[0x010E] = "OLYMPUS DIGITAL CAMERA         "
    image = opened(kit.encode(Image.new("RGB", (10, 10)), "JPEG", exif=exif))
    assert "caption" not in extract_metadata(Path("/a.jpg"), image=image, exif=image.getexif()).text


def test_iptc_caption_headline_and_keywords(kit, write) -> None:
    segment = kit.iptc_app13(
        [
            (1, 90, b"\x1b%G"),  # UTF-8
            (2, 120, b"Fjord in the morning fog"),
            (2, 105, b"Norwegian fjord"),
            (2, 25, b"fjord"),
            (2, 25, "Norw\u00e8ge".encode()),
        ]
    )
    data = kit.splice_after_soi(kit.encode(kit.photo(1, 200, 100), "JPEG"), segment)
    occurrence = meta_of(write("fjord.jpg", data)).occurrence
    assert occurrence.text["caption"] == "Fjord in the morning fog\nNorwegian fjord"
    assert occurrence.text["keywords"] == "fjord, Norw\u00e8ge"


def test_xmp_title_description_subject(kit, write) -> None:
    data = kit.encode(kit.photo(2, 200, 100), "JPEG", xmp=XMP)
    occurrence = meta_of(write("dsc0001.jpg", data)).occurrence
    assert occurrence.title == "Lighthouse at dusk"
    assert occurrence.text["name"] == "Lighthouse at dusk\nLeuchtturm"
    assert occurrence.text["caption"] == "A red lighthouse on a rocky coast"
    assert occurrence.text["keywords"] == "lighthouse, coast"


def test_xmp_in_png_and_webp(kit, write) -> None:
    png_info = PngImagePlugin.PngInfo()
    png_info.add_itxt("XML:com.adobe.xmp", XMP.decode("utf-8"))
    image = Image.new("RGB", (20, 20), "blue")
    for name, data in (
        ("a.png", kit.encode(image, "PNG", pnginfo=png_info)),
        ("a.webp", kit.encode(image, "WEBP", xmp=XMP)),
    ):
        assert meta_of(write(name, data)).occurrence.title == "Lighthouse at dusk", name


@pytest.mark.parametrize(
    "packet",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<x xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&e;</dc:title></x>',
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><x>&lol2;</x>',
        b"<x:xmpmeta><unclosed>",
        b"\x00\x01\x02 not xml",
        b"<x>" + b" " * MAX_XMP_BYTES + b"</x>",
    ],
)
def test_hostile_or_broken_xmp_is_ignored_not_fatal(kit, write, packet: bytes) -> None:
    assert parse_xmp(packet) is None
    data = kit.encode(kit.photo(3, 120, 80), "JPEG", xmp=packet[:60000])
    occurrence = meta_of(write("hostile.jpg", data)).occurrence
    assert occurrence.title == "hostile"
    assert "root:" not in occurrence.text.get("name", "")


def test_malformed_exif_does_not_reject(kit, write) -> None:
    good = kit.encode(kit.photo(4, 120, 80), "JPEG")
    # An APP1 "Exif" segment whose TIFF header points far outside the segment.
    payload = b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x00" * 20
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    result = meta_of(write("badexif.jpg", kit.splice_after_soi(good, segment)))
    assert result.facts.width == 120


def test_txt_sidecar(kit, write) -> None:
    path = write("sunset.jpg", kit.photo(5, 120, 80))
    path.with_suffix(".txt").write_text("Sunset over the bay\nShot from the ferry at 21:00.\n")
    occurrence = meta_of(path).occurrence
    assert occurrence.title == "Sunset over the bay"
    assert occurrence.text["caption"] == "Sunset over the bay Shot from the ferry at 21:00."


def test_json_sidecar(kit, write) -> None:
    path = write("img.png", Image.new("RGB", (30, 20), "green"))
    sidecar = {
        "title": "Meadow",
        "description": "Green meadow in spring",
        "tags": "grass, spring ,meadow",
        "license": "cc-by",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "url": "https://example.org/meadow.png",
        "page_url": "javascript:alert(1)",
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    occurrence = meta_of(path).occurrence
    assert occurrence.title == "Meadow"
    assert occurrence.text["caption"] == "Green meadow in spring"
    assert occurrence.text["keywords"] == "grass, spring, meadow"
    assert occurrence.license == "cc-by"
    assert occurrence.license_url == "https://creativecommons.org/licenses/by/4.0/"
    assert occurrence.content_url == "https://example.org/meadow.png"
    assert occurrence.host_page_url is None  # not an http(s) URL


def test_json_sidecar_with_list_keywords_and_broken_sidecars(kit, write) -> None:
    path = write("a.png", Image.new("RGB", (30, 20), "green"))
    path.with_suffix(".json").write_text('{"keywords": ["x", 3, "y"], "caption": 5}')
    assert meta_of(path).occurrence.text["keywords"] == "x, y"
    path.with_suffix(".json").write_text("{not json")
    path.with_suffix(".txt").write_bytes(b"\xff\xfe broken \x00 bytes")
    result = meta_of(path)
    assert result.occurrence.title  # something, never a rejection


def test_sidecars_are_not_images(kit, write) -> None:
    path = write("b.txt", b"just text")
    assert not isinstance(process_file(path, PipelineConfig()), Processed)
