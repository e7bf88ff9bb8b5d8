"""NudeNet: one small detector (YOLOv8n, 320 px) for safe search, faces and portraits.

The model ships with the ``nudenet`` package (``nudenet/320n.onnx``); this module runs it
with onnxruntime directly, with numpy and Pillow for the pre- and post-processing, so
neither OpenCV nor the package's own wrapper is needed at run time.

Two deliberate differences from ``NudeDetector.detect``: the picture goes in as RGB, the
order YOLOv8 models are trained in (the package's cvtColor + swapRB feeds BGR to it),
and it is padded to a multiple of 32 rather than to a square (see letterbox()). Scores
therefore differ from the package's by a few hundredths on most pictures.

Semantics the rest of pixsearch relies on (and the quality evaluation reads):

- ``adult_score``: the highest confidence of any detection of an ADULT_CLASSES part
  (0.0 when none), after the same candidate threshold and non-maximum suppression the
  package's ``NudeDetector.detect`` applies.
- ``faces``: FACE_FEMALE / FACE_MALE boxes scoring at least FACE_MIN_SCORE, normalised
  to (left, top, right, bottom) in 0..1 of the picture, largest first. When none does
  but the best face candidate reaches FACE_RETRY_SCORE, that candidate counts if the
  LBP cascade of faces.py confirms it; ``adult_score`` never depends on it.
- ``image_content``: ("face",) or ("portrait",) or () - see content_of().
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from pixsearch.models.analyzer import AnalyzerUnavailable, Understanding
from pixsearch.models.cache import cached_onnx
from pixsearch.models.faces import confirms as lbp_confirms
from pixsearch.models.runtime import new_session

if TYPE_CHECKING:  # importing onnx costs seconds; only the first start in a cache needs it
    import onnx

LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
# What makes a picture adult: exposed genitals, female breasts, buttocks or anus - the
# parts whose exposure the usual safe-search policies treat as nudity. A bare male
# chest, belly, armpits or feet (beach, sport, fitness photos) and every *_COVERED part
# (swimwear, underwear adverts) are ordinary in image search and stay visible.
ADULT_CLASSES: frozenset[str] = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
FACE_CLASSES: frozenset[str] = frozenset({"FACE_FEMALE", "FACE_MALE"})
_ADULT_IDS = np.array([LABELS.index(c) for c in sorted(ADULT_CLASSES)])
_FACE_IDS = np.array([LABELS.index(c) for c in sorted(FACE_CLASSES)])

INPUT_SIZE = 320  # the model's training resolution (longest side)
STRIDE = 32  # the network's coarsest stride: inputs must be multiples of it
STRIDES = (8, 16, 32)  # the three detection scales, in the order of the anchors
# The graph is cut where YOLOv8's head ends: per anchor, 4 x 16 box-side
# distributions and the class confidences. The rest of the shipped graph (DFL
# softmax, anchor grid, box arithmetic: ~30 small nodes, ~5 % of its CPU time
# on 320x224 inputs) is done in numpy by boxes(), with the same values (within
# 1e-4 px). A Softmax over a transposed 4x16xA tensor is slow in onnxruntime.
HEAD_OUTPUTS = ("/model.22/Split_1_output_0", "/model.22/Sigmoid_output_0")
DFL_BINS = np.arange(16, dtype=np.float32)
PAD_VALUE = 0  # black, as the package pads
CANDIDATE_SCORE = 0.2  # the package's candidate and NMS thresholds, kept so scores agree
NMS_SCORE = 0.25
NMS_IOU = 0.45
# Faces count from this confidence. On scikit-image's LFW subset (100 faces, 100
# non-face patches) no non-face reached 0.25 and recall falls fast above it (0.42 at
# 0.25, 0.34 at 0.3, 0.22 at 0.4); 0.3 keeps a margin for busier real pictures.
FACE_MIN_SCORE = 0.3
# A second opinion for near misses. A face that fills a small, tight crop (a 25 px LFW
# face enlarged to 200 px) often scores only 0.1-0.3, where a fallen leaf (0.23) or a
# cat (0.10) can score too. When no face reaches FACE_MIN_SCORE but the best face
# candidate reaches FACE_RETRY_SCORE, OpenCV's LBP frontal-face cascade is asked
# whether a face sits there (faces.py, a few ms): on scikit-image's LFW subset that
# finds 88 of the 100 faces instead of 74, with no non-face patch and no false face on
# 120 photographs and wallpapers (bench/quality_images.py). Pictures whose best
# candidate is under 0.1 - nearly every photo without people - pay nothing extra.
# Tried and not kept (same data): larger letterboxes (416/512/640 px: recall
# 0.57/0.20/0.00, the face outgrows the network's largest stride), smaller ones (160-288
# px: 0.48-0.84 with false faces on the patches), a 0.2 or 0.25 threshold (0.82 / 0.79,
# the leaf at 0.2), and a mirrored second pass read from 0.25 (0.83, and it called a
# drawn half egg a face).
FACE_RETRY_SCORE = 0.1
# A second face smaller than this share of the largest one is background (a passer-by,
# a poster on the wall): the picture is still about one person.
BACKGROUND_FACE_SHARE = 0.2
# "Face" (the reference: an image that shows only a person's face): the face box covers
# at least this share of the frame. The detector's boxes are tight (brow to chin), so a
# head filling the frame gives 0.3-0.7; head-and-shoulders framing stays under 0.25.
FACE_FRAME_SHARE = 0.25
# "Portrait" (head and shoulders): a smaller face, centred in the top of the frame with
# room for the shoulders below it. A face under 2% of the frame is a person in a scene
# (full figure, group, street), not a portrait.
PORTRAIT_MIN_SHARE = 0.02
PORTRAIT_MAX_CENTER_Y = 0.5  # face centre in the upper half
PORTRAIT_CENTER_X = (0.2, 0.8)  # and not at the very edge


@dataclass(frozen=True, slots=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # normalised (left, top, right, bottom)


def model_path() -> Path:
    """The 320n.onnx file of the installed nudenet package, without importing it (cv2)."""
    spec = find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        raise AnalyzerUnavailable("the nudenet package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"
    if not path.is_file():
        raise AnalyzerUnavailable(f"nudenet model missing at {path}")
    return path


class NudeNetAnalyzer:
    """Safe-search score, faces and face/portrait content from one detector pass."""

    name = "nudenet"

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        model = path or model_path()
        try:
            self.session = new_session(head_graph(model), threads)
        except ImportError as exc:
            raise AnalyzerUnavailable(f"onnxruntime is not installed: {exc}") from exc
        self.input_name = self.session.get_inputs()[0].name

    def run(self, image: Image.Image) -> np.ndarray:
        """The raw model output (4 + classes, anchors) for an RGB picture, as the
        shipped graph's ``output0`` gives it: centre x, centre y, width, height in
        letterbox pixels, then one confidence per class."""
        blob, _ = letterbox(image)
        distributions, scores = self.session.run(None, {self.input_name: blob})
        return np.concatenate([boxes(distributions[0], blob.shape[2:]), scores[0]])

    def detect(self, image: Image.Image) -> list[Detection]:
        """Every detection (all classes) in an RGB picture, best first."""
        return decode(self.run(image), _scale(image), image.size)

    def analyze(self, image: Image.Image, into: Understanding) -> None:
        # No batch entry point: on one thread, batches of 4 and 8 ran at the same
        # ms per image as single pictures (23-26 ms, 1 core), so per image it stays.
        output, scale = self.run(image), _scale(image)
        fill(decode(output, scale, image.size), into)
        if into.faces:
            return
        # A near miss gets a second opinion (see FACE_RETRY_SCORE).
        doubtful = best_face(output, scale, image.size)
        if (
            doubtful is not None
            and doubtful.score >= FACE_RETRY_SCORE
            and lbp_confirms(image, doubtful.box)
        ):
            set_faces([doubtful], into)


def head_graph(model: Path) -> Path:
    """The shipped graph cut at HEAD_OUTPUTS, cached by the model file's sha256."""

    def cut() -> onnx.ModelProto:
        import onnx
        from onnx.utils import Extractor

        return Extractor(onnx.load(model)).extract_model(["images"], list(HEAD_OUTPUTS))

    return cached_onnx("nudenet-320n-head", model, cut)


def boxes(distributions: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """YOLOv8's DFL decoding: (64, anchors) side distributions -> (4, anchors) boxes
    (centre x, centre y, width, height) in pixels of a ``size`` (height, width) input."""
    anchors = distributions.shape[1]
    logits = distributions.reshape(4, len(DFL_BINS), anchors)
    weights = logits - logits.max(axis=1, keepdims=True)
    np.exp(weights, out=weights)
    # Expectation over the 16 bins as one small matrix product per side: the same
    # sum up to float32 rounding (under 1e-4 px), without a 4x16xA temporary.
    sides = (DFL_BINS @ weights) / weights.sum(axis=1)  # l, t, r, b
    points, strides = anchor_grid(int(size[0]), int(size[1]))
    top_left, bottom_right = points - sides[:2], points + sides[2:]
    return np.concatenate([(top_left + bottom_right) / 2, bottom_right - top_left]) * strides


@lru_cache(maxsize=64)
def anchor_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Anchor centres (2, anchors) in grid cells and each anchor's stride, scale by
    scale and row by row, as ultralytics' make_anchors orders them.

    Cached per input size (a handful of aspect ratios in practice) and read-only,
    since every caller shares the arrays.
    """
    points, strides = [], []
    for stride in STRIDES:
        rows, cols = -(-height // stride), -(-width // stride)
        y, x = np.mgrid[0:rows, 0:cols].astype(np.float32) + 0.5
        points.append(np.stack([x.ravel(), y.ravel()]))
        strides.append(np.full(rows * cols, stride, dtype=np.float32))
    grid, scales = np.concatenate(points, axis=1), np.concatenate(strides)
    grid.flags.writeable = scales.flags.writeable = False
    return grid, scales


def letterbox(image: Image.Image) -> tuple[np.ndarray, float]:
    """(1, 3, H, W) float32 in 0..1 and the scale from model to picture pixels.

    The longest side becomes INPUT_SIZE and the other is padded (right/bottom, as the
    package pads) only up to the next multiple of STRIDE, not to a square: a 3:2 photo
    costs two thirds of the square's compute and gets the same detections.
    """
    width, height = image.size
    scale = _scale(image)
    new_w = max(1, min(INPUT_SIZE, round(width / scale)))
    new_h = max(1, min(INPUT_SIZE, round(height / scale)))
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    resized = rgb.resize((new_w, new_h), Image.Resampling.BILINEAR)
    pad_w, pad_h = -(-new_w // STRIDE) * STRIDE, -(-new_h // STRIDE) * STRIDE
    canvas = np.full((pad_h, pad_w, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:new_h, :new_w] = np.asarray(resized)
    blob = canvas.transpose(2, 0, 1)[np.newaxis].astype(np.float32) * (1.0 / 255.0)
    return blob, scale


def _scale(image: Image.Image) -> float:
    return max(image.size) / INPUT_SIZE


def best_face(output: np.ndarray, scale: float, size: tuple[int, int]) -> Detection | None:
    """The anchor with the highest face-class confidence, before any threshold."""
    if output.shape[1] == 0:
        return None
    faces = output[4 + _FACE_IDS]
    anchor = int(faces.max(axis=0).argmax())
    label = LABELS[int(_FACE_IDS[int(faces[:, anchor].argmax())])]
    cx, cy, w, h = (float(output[i, anchor]) * scale for i in range(4))
    width, height = size
    box = (
        min(max((cx - w / 2) / width, 0.0), 1.0),
        min(max((cy - h / 2) / height, 0.0), 1.0),
        min(max((cx + w / 2) / width, 0.0), 1.0),
        min(max((cy + h / 2) / height, 0.0), 1.0),
    )
    return Detection(label, float(faces[:, anchor].max()), box)


def decode(output: np.ndarray, scale: float, size: tuple[int, int]) -> list[Detection]:
    """YOLOv8 output (4 + classes, anchors) → thresholded, suppressed, normalised boxes."""
    scores = output[4:]
    best = scores.max(axis=0)
    keep = np.flatnonzero(best >= CANDIDATE_SCORE)
    if keep.size == 0:
        return []
    classes = scores[:, keep].argmax(axis=0)
    conf = best[keep]
    cx, cy, w, h = (output[i, keep] * scale for i in range(4))
    width, height = size
    left = np.clip(cx - w / 2, 0, width)
    top = np.clip(cy - h / 2, 0, height)
    right = np.clip(cx + w / 2, 0, width)
    bottom = np.clip(cy + h / 2, 0, height)
    boxes = np.stack([left, top, right, bottom], axis=1)
    chosen = nms(boxes, conf)
    return [
        Detection(
            label=LABELS[int(classes[i])],
            score=float(conf[i]),
            box=(
                float(left[i] / width),
                float(top[i] / height),
                float(right[i] / width),
                float(bottom[i] / height),
            ),
        )
        for i in chosen
    ]


def nms(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """Class-agnostic greedy non-maximum suppression (as cv2.dnn.NMSBoxes), best first."""
    order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] >= NMS_SCORE]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order:
        i, rest = order[0], np.array(order[1:], dtype=np.intp)
        kept.append(i)
        if rest.size == 0:
            break
        low = np.maximum(boxes[i, :2], boxes[rest, :2])
        high = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(high - low, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = [int(j) for j in rest[iou <= NMS_IOU]]
    return kept


def fill(detections: list[Detection], into: Understanding) -> None:
    """Copy what the detections say into an Understanding."""
    adult = [d.score for d in detections if d.label in ADULT_CLASSES]
    into.adult_score = max(adult, default=0.0)
    faces = [d for d in detections if d.label in FACE_CLASSES and d.score >= FACE_MIN_SCORE]
    set_faces(faces, into)


def set_faces(faces: list[Detection], into: Understanding) -> None:
    """Face boxes, largest first, and the content they make."""
    into.faces = tuple(sorted((d.box for d in faces), key=_area, reverse=True))
    content = content_of(into.faces)
    into.image_content = (content,) if content else ()


def content_of(faces: tuple[tuple[float, float, float, float], ...]) -> str | None:
    """ "face", "portrait" or None for normalised face boxes, largest first."""
    if not faces:
        return None
    main = _area(faces[0])
    if any(_area(other) >= BACKGROUND_FACE_SHARE * main for other in faces[1:]):
        return None  # two or more people
    if main >= FACE_FRAME_SHARE:
        return "face"
    left, top, right, bottom = faces[0]
    center_x, center_y = (left + right) / 2, (top + bottom) / 2
    if (
        main >= PORTRAIT_MIN_SHARE
        and center_y <= PORTRAIT_MAX_CENTER_Y
        and PORTRAIT_CENTER_X[0] <= center_x <= PORTRAIT_CENTER_X[1]
    ):
        return "portrait"
    return None


def _area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
