"""Box samples of many windows at once: Pillow's BOX arithmetic, horizontal pass first."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from pixsearch.index.alignment import ALIGN_SIDE, ALIGN_WINDOWS, Thumb, window_boxes
from pixsearch.index.boxsample import Box, box_samples, spans

BOX = Image.Resampling.BOX


def two_passes(image: Image.Image, box: Box, side: int) -> np.ndarray:
    """Pillow itself, one pass at a time: the columns of the box (a resize that keeps
    the height runs only the horizontal pass), then its rows (only the vertical one)."""
    left, top, right, bottom = box
    columns = image.resize((side, image.height), BOX, box=(left, 0, right, image.height))
    return np.asarray(columns.resize((side, side), BOX, box=(0, top, side, bottom))).reshape(-1)


def random_boxes(rng: np.random.Generator, width: int, height: int, n: int) -> list[Box]:
    boxes: list[Box] = [(0.0, 0.0, float(width), float(height))]
    for _ in range(n):
        w, h = width * rng.uniform(0.8, 1.0), height * rng.uniform(0.8, 1.0)
        x, y = (width - w) * rng.uniform(0, 1), (height - h) * rng.uniform(0, 1)
        boxes.append((x, y, x + w, y + h))
    return boxes


@pytest.mark.parametrize("seed", range(4))
def test_every_box_is_pillows_two_passes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(25):  # down- and up-sampling, odd sizes, tiny pictures
        width, height = (int(v) for v in rng.integers(3, 420, size=2))
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        boxes = random_boxes(rng, width, height, 6)
        samples = box_samples(np.asarray(image), boxes, ALIGN_SIDE)
        assert samples.shape == (len(boxes), ALIGN_SIDE * ALIGN_SIDE * 3)
        for box, sample in zip(boxes, samples, strict=True):
            np.testing.assert_array_equal(sample, two_passes(image, box, ALIGN_SIDE))


def test_within_one_level_of_pillows_own_resize() -> None:
    """Pillow 13 may run the vertical pass first; the values stay within a level."""
    picture = Image.fromarray(data.astronaut()).resize((237, 178))
    boxes = random_boxes(np.random.default_rng(5), 237, 178, 30)
    samples = box_samples(np.asarray(picture), boxes, ALIGN_SIDE)
    for box, sample in zip(boxes, samples, strict=True):
        direct = np.asarray(picture.resize((ALIGN_SIDE, ALIGN_SIDE), BOX, box=box)).reshape(-1)
        assert np.abs(sample - direct.astype(np.int32)).max() <= 1


def test_a_thumbs_windows_are_its_boxes_centred() -> None:
    thumb = Thumb(Image.fromarray(data.coffee()).resize((237, 178)))
    pixels = np.asarray(thumb.image)
    for scale in ALIGN_WINDOWS:
        boxes = window_boxes(237, 178, scale)
        samples = [box_samples(pixels, [box], ALIGN_SIDE)[0].astype(np.float64) for box in boxes]
        centred = [s - s.mean() for s in samples]
        expected = np.stack([c / np.linalg.norm(c) for c in centred])
        np.testing.assert_allclose(thumb.windows(scale), expected, atol=1e-6)
    assert len(thumb.windows((0.9, 0.9))) == 25 and len(thumb.windows((0.9, 1.0))) == 5


def test_spans_kept_for_a_size_give_the_same_samples() -> None:
    rng = np.random.default_rng(9)
    boxes = window_boxes(237, 178, (0.95, 0.95))
    first, second = (rng.integers(0, 256, (178, 237, 3), dtype=np.uint8) for _ in range(2))
    before = box_samples(first, boxes, ALIGN_SIDE)
    box_samples(second, boxes, ALIGN_SIDE)  # the same spans, from what was kept
    np.testing.assert_array_equal(box_samples(first, boxes, ALIGN_SIDE), before)
    lo, hi, weight = spans(237, tuple((b[0], b[2]) for b in boxes), ALIGN_SIDE)
    assert not (lo.flags.writeable or hi.flags.writeable or weight.flags.writeable)
