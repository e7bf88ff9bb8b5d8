"""Measure the activation ranges the int8 EfficientNet-Lite0 graph is quantized with.

    python bench/calibrate_models.py            # writes src/pixsearch/models/data/...json

Calibration pictures are held apart from every quality set of docs/quality.md (the
scikit-image photos, lfw_subset, openclipart, tuxpaint, GNOME and Plasma wallpapers,
the bench's synthetic photos): OpenCV's sample data (opencv-doc), every third landing
photograph of endless-sky-data and wesnoth's story paintings, about 200 in all. Each
goes through the pipeline's own decode and thumbnail, then the model's preprocess,
so the ranges are those of what the analyzer is handed. The result is onnxruntime's
calibration cache (MinMax), read by models/quantize.py at run time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from onnxruntime.quantization import CalibrationDataReader

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.decode import Rejected, decode
from pixsearch.ingest.pipeline import _opaque_rgb, shrink_to_thumbnail, sniff_format
from pixsearch.models import efficientnet
from pixsearch.models.quantize import quantized, ranges_path

OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
GAMES = Path("/usr/share/games")


def calibration_files() -> list[Path]:
    files = sorted(OPENCV.glob("*.jpg")) + sorted(OPENCV.glob("*.png"))
    files += sorted((GAMES / "endless-sky/images/land").glob("*.jpg"))[::3]
    files += sorted((GAMES / "wesnoth/1.16/data/core/images/story").glob("*.jpg"))
    return files


def thumbnails(files: list[Path]) -> Iterator[Image.Image]:
    """What the analyzers are handed: the pipeline's opaque RGB thumbnail."""
    config = PipelineConfig()
    for path in files:
        data = path.read_bytes()
        try:
            decoded = decode(data, sniff_format(data), config=config)
        except Rejected:
            continue
        yield _opaque_rgb(shrink_to_thumbnail(decoded, config))


class Pictures(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, inputs: list[np.ndarray]) -> None:
        self._inputs = iter(inputs)

    def get_next(self) -> dict[str, np.ndarray] | None:
        blob = next(self._inputs, None)
        return None if blob is None else {"pixel_values": blob}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ranges_path(efficientnet.INT8))
    args = parser.parse_args()
    files = calibration_files()
    if not files:
        sys.exit("no calibration pictures: apt-get install opencv-doc endless-sky-data")
    inputs = [efficientnet.preprocess([image]) for image in thumbnails(files)]
    print(f"{len(inputs)} calibration pictures from {len(files)} files")
    args.out.unlink(missing_ok=True)  # measured afresh, never read back
    graph = efficientnet.float_graph(efficientnet.checkpoint_path())
    quantized(graph, args.out, efficientnet.INT8, Pictures(inputs))
    print(f"ranges written to {args.out}")


if __name__ == "__main__":
    main()
