from __future__ import annotations

from io import BytesIO

import numpy as np
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file
from pixsearch.ingest.thumbnail import make_thumbnail, thumb_dimensions


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG"
    return image


def test_longest_side_is_thumb_size(kit) -> None:
    data, width, height = make_thumbnail(kit.photo(1, 1000, 500))
    assert (width, height) == (474, 237)
    assert open_jpeg(data).size == (474, 237)


def test_portrait() -> None:
    assert thumb_dimensions(600, 1200, 474) == (237, 474)


def test_never_upscales(kit) -> None:
    data, width, height = make_thumbnail(kit.photo(1, 200, 100))
    assert (width, height) == (200, 100)
    assert open_jpeg(data).size == (200, 100)


def test_transparency_is_composited_over_white() -> None:
    image = Image.new("RGBA", (600, 300), (255, 0, 0, 0))  # hidden red
    image.paste((0, 0, 255, 255), (250, 100, 350, 200))
    data, _, _ = make_thumbnail(image)
    pixels = np.asarray(open_jpeg(data).convert("RGB")).astype(int)
    assert (pixels[5, 5] > 245).all()  # white, not the hidden red
    centre = pixels[pixels.shape[0] // 2, pixels.shape[1] // 2]
    assert centre[2] > 200 and centre[0] < 60


def test_quality_changes_size(kit) -> None:
    image = kit.photo(2, 600, 400)
    small, _, _ = make_thumbnail(image, quality=40)
    large, _, _ = make_thumbnail(image, quality=95)
    assert len(small) < len(large)


def test_pipeline_thumbnail_of_large_jpeg(kit, write) -> None:
    path = write("big.jpg", kit.photo(3, 1280, 800))
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed)
    assert (result.facts.thumb_width, result.facts.thumb_height) == (474, 296)
    assert open_jpeg(result.thumbnail).size == (474, 296)


def test_pipeline_thumbnail_follows_exif_rotation(kit, write) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write("rotated.jpg", kit.photo(4, 1200, 800), exif=exif)
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed)
    assert (result.facts.width, result.facts.height) == (800, 1200)
    assert open_jpeg(result.thumbnail).size == (316, 474)
