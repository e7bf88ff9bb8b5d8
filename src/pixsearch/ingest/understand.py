"""The analyzer stage of the pipeline: the slower, model-based looks at a picture.

The analyzers themselves (safe search, faces, tags, OCR, CLIP) and their
contract live in ``models/analyzer.py``; they are named in
``PipelineConfig.analyzers`` and run here, in that order.
"""

from __future__ import annotations

from PIL import Image

from pixsearch.models.analyzer import Understanding, load_analyzer


def understand(image: Image.Image, names: tuple[str, ...]) -> Understanding:
    """Run the named analyzers, in order, on one RGB picture."""
    result = Understanding()
    for name in names:
        load_analyzer(name).analyze(image, result)
        result.analyzed.append(name)
    return result
