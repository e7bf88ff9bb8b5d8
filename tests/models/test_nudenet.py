"""The NudeNet analyzer on real pictures: faces, portraits, adult scores and their rules."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from pixsearch.ingest.understand import understand
from pixsearch.models import faces, nudenet
from pixsearch.models.analyzer import Understanding, load_analyzer
from pixsearch.models.nudenet import (
    LABELS,
    NudeNetAnalyzer,
    best_face,
    content_of,
    decode,
    fill,
    letterbox,
)


@pytest.fixture(scope="module")
def analyzer() -> NudeNetAnalyzer:
    loaded = load_analyzer("nudenet")
    assert isinstance(loaded, NudeNetAnalyzer)
    return loaded


def astronaut() -> Image.Image:
    """Eileen Collins' NASA portrait: head and shoulders, the face in the upper half."""
    image = Image.fromarray(data.astronaut())
    image.thumbnail((474, 474))  # what the pipeline hands the analyzers
    return image


def astronaut_face() -> Image.Image:
    """The same photo cropped to the head: a picture of only a face."""
    return Image.fromarray(data.astronaut()).crop((150, 50, 300, 210)).resize((300, 320))


def test_load_analyzer_is_one_instance_per_process(analyzer: NudeNetAnalyzer) -> None:
    assert load_analyzer("nudenet") is analyzer and analyzer.name == "nudenet"


def test_portrait_is_one_face_high_in_the_frame(analyzer: NudeNetAnalyzer) -> None:
    seen = understand(astronaut(), ("nudenet",))
    assert seen.analyzed == ["nudenet"]
    assert seen.image_content == ("portrait",)
    assert len(seen.faces) == 1
    left, top, right, bottom = seen.faces[0]
    assert 0.2 < left < right < 0.7 and 0.0 < top < bottom < 0.5
    assert seen.adult_score < 0.45


def test_face_fills_the_frame(analyzer: NudeNetAnalyzer) -> None:
    seen = Understanding()
    analyzer.analyze(astronaut_face(), seen)
    assert seen.image_content == ("face",)
    left, top, right, bottom = seen.faces[0]
    assert (right - left) * (bottom - top) >= nudenet.FACE_FRAME_SHARE


def test_pictures_without_people_have_no_faces(analyzer: NudeNetAnalyzer) -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    ramp = np.linspace(0, 255, 400, dtype=np.uint8)
    gradient = Image.fromarray(np.stack([np.tile(ramp, (300, 1))] * 3, axis=2))
    photos = [Image.fromarray(data.rocket()), Image.fromarray(data.coffee())]
    for picture in (noise, gradient, *photos, *cat_sizes()):
        seen = Understanding()
        analyzer.analyze(picture, seen)
        assert seen.faces == () and seen.image_content == (), picture.size


def cat_sizes() -> list[Image.Image]:
    """scikit-image's cat (Chelsea) at the sizes where its best face candidate is near
    FACE_RETRY_SCORE (0.09-0.2), so the LBP cascade is asked about it, and mirrored."""
    cat = Image.fromarray(data.chelsea())
    sizes = [cat.resize((w, round(cat.height * w / cat.width))) for w in (160, 320, 474)]
    return [*sizes, *(ImageOps.mirror(picture) for picture in sizes)]


def lfw(side: int | None) -> list[Image.Image]:
    """Half of scikit-image's LFW subset: 50 faces then 50 non-face patches, 25x25 grey,
    enlarged to side px (as bench/quality_images.py does) or left at 25 px."""
    subset = (data.lfw_subset() * 255).astype(np.uint8)
    patches = [Image.fromarray(p).convert("RGB") for p in (*subset[:50], *subset[100:150])]
    if side is None:
        return patches
    return [p.resize((side, side), Image.Resampling.BICUBIC) for p in patches]


def test_lfw_faces_are_found_and_patches_are_not(analyzer: NudeNetAnalyzer) -> None:
    """The 25 px patches as they are: tiny blurred crops, so recall is low."""
    found = []
    for patch in lfw(None):
        seen = Understanding()
        analyzer.analyze(patch, seen)
        found.append(bool(seen.faces))
    # Measured 26 and 0 (15 and 0 before the LBP second opinion).
    assert sum(found[:50]) >= 20 and sum(found[50:]) == 0


def test_near_misses_are_confirmed_by_the_lbp_cascade(
    analyzer: NudeNetAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LFW enlarged to 200 px: faces NudeNet scores 0.1-0.3 count once the cascade
    agrees (measured: 35 of 50 faces alone, 42 with it; no patch either way)."""
    asked: list[float] = []
    confirm = nudenet.lbp_confirms

    def spy(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
        asked.append(box[2] - box[0])
        return confirm(image, box)

    monkeypatch.setattr(nudenet, "lbp_confirms", spy)
    found, contents, adult = [], [], []
    for picture in lfw(200):
        seen = Understanding()
        analyzer.analyze(picture, seen)
        found.append(bool(seen.faces))
        contents.append(seen.image_content)
        adult.append(seen.adult_score)
    assert sum(found[:50]) >= 40 and sum(found[50:]) == 0
    assert 0 < len(asked) <= 20  # only the near misses pay for a second opinion
    assert all(c == ("face",) for c, f in zip(contents, found, strict=True) if f)
    assert max(adult) < 0.2
    asked.clear()
    analyzer.analyze(astronaut(), Understanding())
    assert asked == []  # a confident face needs no second opinion


def test_lbp_cascade_sees_a_face_where_there_is_one(analyzer: NudeNetAnalyzer) -> None:
    picture = astronaut()
    seen = Understanding()
    analyzer.analyze(picture, seen)
    assert faces.hits(picture, seen.faces[0]) >= faces.MIN_HITS  # measured 12
    cat = Image.fromarray(data.chelsea())
    candidate = best_face(analyzer.run(cat), nudenet._scale(cat), cat.size)
    assert candidate is not None and candidate.score < nudenet.FACE_MIN_SCORE
    assert not faces.confirms(cat, candidate.box)  # measured 1 window
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (60, 60), dtype=np.uint8)
    assert len(faces.cascade().windows(noise)) == 0
    assert len(faces.cascade().windows(noise[:20, :20])) == 0  # smaller than a window


def test_letterbox_keeps_aspect_and_pads_to_the_stride() -> None:
    blob, scale = letterbox(Image.new("RGB", (474, 316), (255, 0, 0)))
    assert blob.shape == (1, 3, 224, 320) and blob.dtype == np.float32
    assert scale == pytest.approx(474 / 320)
    assert blob[0, 0, 0, 0] == pytest.approx(1.0) and blob[0, 1, 0, 0] == 0.0  # RGB order
    assert blob[0, 0, 223, 0] == 0.0  # padding below the picture


def _output(*rows: tuple[str, float, tuple[float, float, float, float]]) -> np.ndarray:
    """A model output (4 + classes, anchors) holding the given (label, score, cx/cy/w/h)."""
    out = np.zeros((4 + len(LABELS), len(rows) + 1), dtype=np.float32)
    for i, (label, score, box) in enumerate(rows):
        out[:4, i] = box
        out[4 + LABELS.index(label), i] = score
    return out


def test_adult_score_counts_only_exposed_intimate_parts() -> None:
    seen = Understanding()
    fill(decode(_output(("MALE_BREAST_EXPOSED", 0.9, (50, 50, 40, 40))), 1.0, (320, 320)), seen)
    assert seen.adult_score == 0.0  # a bare chest is not adult
    seen = Understanding()
    output = _output(
        ("BUTTOCKS_EXPOSED", 0.7, (100, 200, 60, 60)),
        ("FEMALE_BREAST_COVERED", 0.95, (250, 60, 40, 40)),
    )
    fill(decode(output, 1.0, (320, 320)), seen)
    assert seen.adult_score == pytest.approx(0.7)


def test_overlapping_detections_are_suppressed_and_boxes_normalised() -> None:
    output = _output(
        ("FACE_MALE", 0.8, (160, 80, 100, 100)),
        ("FACE_MALE", 0.6, (165, 85, 100, 100)),  # the same face again
        ("FACE_FEMALE", 0.1, (50, 50, 10, 10)),  # below the candidate score
    )
    found = decode(output, 2.0, (640, 480))
    assert [(d.label, round(d.score, 2)) for d in found] == [("FACE_MALE", 0.8)]
    assert found[0].box == pytest.approx((220 / 640, 60 / 480, 420 / 640, 260 / 480))


def test_content_rules() -> None:
    assert content_of(((0.3, 0.1, 0.6, 0.4),)) == "portrait"
    assert content_of(((0.1, 0.1, 0.9, 0.9),)) == "face"
    assert content_of(((0.3, 0.6, 0.5, 0.8),)) is None  # face low in the frame
    assert content_of(((0.45, 0.1, 0.5, 0.15),)) is None  # a person in a scene
    assert content_of(((0.1, 0.1, 0.4, 0.4), (0.6, 0.1, 0.9, 0.4))) is None  # two people
    assert content_of(((0.3, 0.1, 0.6, 0.4), (0.9, 0.9, 0.92, 0.92))) == "portrait"


def test_cut_graph_and_numpy_boxes_equal_the_shipped_graph(analyzer: NudeNetAnalyzer) -> None:
    """The analyzer runs the graph cut before YOLOv8's box decoding and decodes in
    numpy: the same (4 + classes, anchors) output as the shipped graph's output0."""
    from pixsearch.models.runtime import new_session

    shipped = new_session(nudenet.model_path())
    pictures = [astronaut(), astronaut_face(), Image.fromarray(data.coffee()), *lfw(200)[:3]]
    for picture in pictures:
        blob, _ = letterbox(picture)
        expected = shipped.run(None, {"images": blob})[0][0]
        got = analyzer.run(picture)
        assert got.shape == expected.shape
        assert np.allclose(got[4:], expected[4:], atol=1e-6)  # confidences: untouched
        assert np.abs(got[:4] - expected[:4]).max() < 1e-2  # boxes, in letterbox pixels
