"""Tunables of the image pipeline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Limits and output settings; frozen so it pickles cheaply to worker processes."""

    max_file_bytes: int = 50 * 1024 * 1024
    # Declared pixel count cap, checked from the header before any decoding, so a
    # tiny file that claims to be 30000x30000 (a decompression bomb) costs nothing.
    max_pixels: int = 100_000_000
    thumb_size: int = 474  # longest side of the thumbnail, Bing's usual thumbnail width
    thumb_quality: int = 85
    # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when only the thumbnail and the
    # statistics are needed: the largest single speed-up of the pipeline.
    draft: bool = True
    # Names of the analyzers (ingest/understand.py) to run on each image, in order.
    analyzers: tuple[str, ...] = ()
    # The folders an ingest was given (sources.roots_of): a file's folder words start at
    # the name of the one it is under, as the path above it names the machine, not it.
    roots: tuple[str, ...] = ()
