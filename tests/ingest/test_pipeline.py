from __future__ import annotations

import hashlib
import os
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from pixsearch.ingest import pipeline
from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.records import ImageFacts, Occurrence, Rejection


def rejected(path: Path, config: PipelineConfig | None = None) -> Rejection:
    result = process_file(path, config or PipelineConfig())
    assert isinstance(result, Rejection), result
    assert result.source == os.path.abspath(path)
    return result


def test_red_png_facts(write) -> None:
    path = write("red.png", Image.new("RGB", (300, 200), (255, 0, 0)))
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed)
    facts = result.facts
    assert isinstance(facts, ImageFacts)
    assert (facts.width, facts.height) == (300, 200)
    assert facts.encoding_format == "png"
    assert facts.content_size == path.stat().st_size
    assert facts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert facts.color_name == "Red"
    assert facts.accent_color == "FF0000"
    assert not facts.monochrome
    assert not facts.transparent and not facts.animated
    assert facts.frame_count == 1
    assert (facts.thumb_width, facts.thumb_height) == (300, 200)
    assert len(facts.image_id) == 40
    assert Image.open(BytesIO(result.thumbnail)).format == "JPEG"


def test_opaque_alpha_png_is_not_transparent(write) -> None:
    opaque = write("opaque.png", Image.new("RGBA", (64, 64), (0, 90, 200, 255)))
    result = process_file(opaque, PipelineConfig())
    assert isinstance(result, Processed)
    assert not result.facts.transparent
    assert "transparent" not in result.facts.image_types
    assert result.facts.color_name == "Blue"


def test_a_picture_with_no_visible_pixel_is_refused_as_blank(write) -> None:
    spacer = Image.new("RGBA", (1, 1), (0, 0, 0, 0))  # a tracking pixel
    empty = Image.new("RGBA", (794, 1123), (255, 255, 255, 0))  # a drawing with no ink
    assert rejected(write("pixel.gif", spacer)).reason == "blank"
    assert rejected(write("empty-bulb.png", empty)).reason == "blank"
    # One line of faint ink in a large picture is a picture; the decoder's reduction
    # must not average it away.
    empty.paste((20, 20, 20, 8), (0, 500, 794, 501))
    assert isinstance(process_file(write("faint-line.png", empty), PipelineConfig()), Processed)


def test_an_animation_with_a_blank_first_frame_is_kept(write) -> None:
    first = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    second = Image.new("RGBA", (64, 64), (200, 30, 30, 255))
    path = write("appears.gif", first)
    first.save(path, save_all=True, append_images=[second], duration=100, disposal=2)
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed) and result.facts.animated


def test_occurrence_of_a_local_file(write) -> None:
    path = write("holiday/red.png", Image.new("RGB", (30, 20), "red"))
    occurrence = process_file(path, PipelineConfig()).occurrence  # type: ignore[union-attr]
    assert isinstance(occurrence, Occurrence)
    assert occurrence.source == str(path.resolve())
    assert occurrence.local_path == occurrence.source
    assert occurrence.content_url is None and occurrence.host_page_url is None
    assert occurrence.title == "red"
    assert occurrence.license is None


def test_relative_path_becomes_absolute(write, monkeypatch) -> None:
    path = write("rel.png", Image.new("RGB", (10, 10)))
    monkeypatch.chdir(path.parent)
    result = process_file(Path("rel.png"), PipelineConfig())
    assert isinstance(result, Processed)
    assert result.occurrence.source == str(path)


def test_grayscale_photo_is_monochrome_photo(kit, write) -> None:
    result = process_file(write("bw.jpg", kit.gray_photo(3, 800, 500)), PipelineConfig())
    assert isinstance(result, Processed)
    assert result.facts.monochrome
    assert result.facts.image_types == ("photo",)


def test_colour_photo(kit, write) -> None:
    result = process_file(write("c.jpg", kit.photo(3, 1280, 800)), PipelineConfig())
    assert isinstance(result, Processed)
    assert not result.facts.monochrome
    assert result.facts.image_types == ("photo",)
    assert (result.facts.width, result.facts.height) == (1280, 800)


def test_every_format(kit, write) -> None:
    image = kit.photo(4, 160, 120)
    for ext, fmt in (
        ("jpg", "jpeg"),
        ("png", "png"),
        ("gif", "gif"),
        ("webp", "webp"),
        ("bmp", "bmp"),
        ("tif", "tiff"),
    ):
        result = process_file(write(f"f.{ext}", image), PipelineConfig())
        assert isinstance(result, Processed), (ext, result)
        assert result.facts.encoding_format == fmt
        assert (result.facts.width, result.facts.height) == (160, 120)


def test_extension_is_not_trusted(kit, write) -> None:
    result = process_file(
        write("really-a-png.jpg", kit.encode(kit.photo(1, 50, 40), "PNG")), PipelineConfig()
    )
    assert isinstance(result, Processed)
    assert result.facts.encoding_format == "png"


# --- hostile files: each with its exact reason --------------------------------------


def test_zero_bytes_is_empty(write) -> None:
    assert rejected(write("zero.jpg", b"")).reason == "empty"


@pytest.mark.parametrize(("name", "fmt"), [("t.jpg", "JPEG"), ("t.png", "PNG")])
def test_truncated_is_corrupt(kit, write, name: str, fmt: str) -> None:
    data = kit.encode(kit.photo(2), fmt)
    assert rejected(write(name, data[: len(data) * 2 // 3])).reason == "corrupt"


def test_random_bytes_with_jpg_extension(write) -> None:
    assert rejected(write("noise.jpg", os.urandom(4096))).reason == "not-an-image"


def test_text_named_png(write) -> None:
    assert rejected(write("notes.png", b"just some text\n" * 20)).reason == "not-an-image"


def test_decompression_bomb(kit, write) -> None:
    assert rejected(write("bomb.png", kit.bomb_png())).reason == "bomb"
    small = write("small.png", Image.new("RGB", (200, 200)))
    assert rejected(small, PipelineConfig(max_pixels=10_000)).reason == "bomb"


def test_over_the_size_cap(kit, write) -> None:
    path = write("big.png", kit.photo(1, 200, 200))
    result = rejected(path, PipelineConfig(max_file_bytes=1000))
    assert result.reason == "too-large"


def test_unreadable_things(tmp_path: Path) -> None:
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (tmp_path / "folder.jpg").mkdir()
    os.mkfifo(tmp_path / "pipe.jpg")  # must not block
    for name in ("dangling.jpg", "folder.jpg", "pipe.jpg", "missing.jpg"):
        assert rejected(tmp_path / name).reason == "unreadable", name


def test_corrupt_header_after_valid_magic(write) -> None:
    data = b"\xff\xd8\xff\xe0" + os.urandom(2000)
    assert rejected(write("bad.jpg", data)).reason == "corrupt"


def test_no_exception_escapes(monkeypatch, write) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "derive", explode)
    result = rejected(write("ok.png", Image.new("RGB", (10, 10))))
    assert result.reason == "crashed"
    assert "boom" in result.detail


def test_metadata_failure_does_not_reject(monkeypatch, write) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("bad tag")

    calls: list[int] = []
    real = pipeline.extract_metadata

    def flaky(path: Path, **kwargs: object):
        calls.append(1)
        if "image" in kwargs or "exif" in kwargs:  # the first try, with the opened picture
            explode()
        return real(path, **kwargs)

    monkeypatch.setattr(pipeline, "extract_metadata", flaky)
    result = process_file(write("ok.png", Image.new("RGB", (10, 10))), PipelineConfig())
    assert isinstance(result, Processed)
    assert result.occurrence.title == "ok"
    assert len(calls) == 2
