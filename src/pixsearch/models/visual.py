"""The "visual" analyzer: an image embedding and ImageNet-derived word tags.

One EfficientNet-Lite0 pass gives both: the 1280-d pooled features (L2
normalised, for similar-image search) and the class probabilities that
``tagwords`` turns into words such as "cat", "animal", "espresso", "vehicle".
"""

from __future__ import annotations

from PIL import Image

from pixsearch.index.tagwords import TAG_THRESHOLD
from pixsearch.models.analyzer import Understanding
from pixsearch.models.efficientnet import EfficientNetLite0, softmax
from pixsearch.models.embedder import EmbedderUnavailable, load_embedder
from pixsearch.models.tagwords import MAX_TAGS, tags_from_probs

__all__ = ["VisualAnalyzer"]


class VisualAnalyzer:
    """Fills ``Understanding.embedding`` and ``Understanding.tags``."""

    name = "visual"

    def __init__(self, threads: int = 1):
        # One thread per worker: the pipeline already runs one worker per core.
        # The registry's instance, so that similar-image search in the same process
        # (``image_embedder("efficientnet")``) shares the session instead of loading twice.
        try:
            self.model: EfficientNetLite0 = load_embedder("efficientnet", threads=threads)
        except EmbedderUnavailable as exc:  # load_analyzer reports ImportError as unavailable
            raise ImportError(str(exc)) from exc

    def analyze(self, image: Image.Image, into: Understanding) -> None:
        features, logits = self.model.run([image])
        into.embedding = features[0]
        into.tags = tags_from_probs(softmax(logits)[0], TAG_THRESHOLD, MAX_TAGS)
