"""OCR analyzer ("ocr", opt-in): words printed in a picture, by Debian's tesseract.

Tesseract runs as a subprocess on the thumbnail-sized picture the pipeline hands
analyzers, enlarged so that small print reaches the glyph height tesseract reads
best, with a wall-clock timeout. Its TSV output gives each word a confidence; only
confident words of letters and digits survive, so the photo of a brick wall does
not index a line of "|l/ii" noise.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image

from pixsearch.models.analyzer import AnalyzerUnavailable, Understanding

# Tesseract reads glyphs about 20-40 px tall best; thumbnails shrink a page's print
# below that, so small pictures are enlarged up to this longest side. Twice the
# 474-px thumbnail read every word of bench/quality_images.py's signs, as 3x did,
# at about 30 % less time.
TARGET_SIDE = 948
MAX_SCALE = 2.0
MAX_PIXELS = 4_000_000  # bound on what one call may feed tesseract
TIMEOUT_SECONDS = 15.0
MIN_CONFIDENCE = 60.0  # tesseract's per-word confidence, 0..100
MIN_TOKEN = 2
MAX_TEXT_CHARS = 2000  # ocr_text is a low-weight search field, not a transcript
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits of any script


@dataclass(frozen=True, slots=True)
class OcrWord:
    text: str
    confidence: float


class OcrAnalyzer:
    """Fills ``Understanding.ocr_text`` with the confident words tesseract finds."""

    name = "ocr"

    def __init__(self, language: str = "eng", timeout: float = TIMEOUT_SECONDS) -> None:
        binary = shutil.which("tesseract")
        if binary is None:
            raise AnalyzerUnavailable(
                "analyzer 'ocr' needs the tesseract program: apt-get install tesseract-ocr "
                "tesseract-ocr-eng"
            )
        self.binary = binary
        self.language = language
        self.timeout = timeout
        self._check_language()

    def _check_language(self) -> None:
        try:
            listed = subprocess.run(
                [self.binary, "--list-langs"], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AnalyzerUnavailable(f"analyzer 'ocr': tesseract does not run: {exc}") from exc
        languages = set((listed.stdout + listed.stderr).split())
        if self.language not in languages:
            raise AnalyzerUnavailable(
                f"analyzer 'ocr': tesseract has no {self.language!r} data "
                f"(apt-get install tesseract-ocr-{self.language})"
            )

    def analyze(self, image: Image.Image, into: Understanding) -> None:
        words = self.read_words(image)
        into.ocr_text = clean_text(words)

    def read_words(self, image: Image.Image) -> list[OcrWord]:
        """Every word tesseract reports, with its confidence; [] on timeout or failure."""
        png = _prepared_png(image)
        # One thread per call: ingestion already runs one worker process per core.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        command = [self.binary, "stdin", "stdout", "-l", self.language, "--psm", "3", "tsv"]
        try:
            done = subprocess.run(
                command, input=png, capture_output=True, timeout=self.timeout, env=env
            )
        except subprocess.TimeoutExpired:
            # A picture OCR cannot read in time is still indexed, just without its text.
            return []
        if done.returncode != 0:
            return []
        return parse_tsv(done.stdout.decode("utf-8", errors="replace"))


def _prepared_png(image: Image.Image) -> bytes:
    """Grayscale PNG, enlarged towards TARGET_SIDE and bounded by MAX_PIXELS."""
    gray = image.convert("L")
    width, height = gray.size
    scale = min(MAX_SCALE, TARGET_SIDE / max(width, height, 1))
    scale = min(scale, (MAX_PIXELS / max(width * height, 1)) ** 0.5)
    if abs(scale - 1.0) > 0.05:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    gray.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def parse_tsv(text: str) -> list[OcrWord]:
    """Word rows (level 5) of tesseract's TSV output."""
    words: list[OcrWord] = []
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        try:
            confidence = float(row.get("conf") or -1)
        except ValueError:
            continue
        words.append(OcrWord((row.get("text") or "").strip(), confidence))
    return words


def clean_text(words: list[OcrWord], min_confidence: float = MIN_CONFIDENCE) -> str:
    """Confident tokens of >= 2 letters/digits, space-separated, bounded in length."""
    kept: list[str] = []
    size = 0
    for word in words:
        if word.confidence < min_confidence:
            continue
        for token in _TOKEN.findall(word.text):
            if len(token) < MIN_TOKEN:
                continue
            size += len(token) + 1
            if size > MAX_TEXT_CHARS:
                return " ".join(kept)
            kept.append(token)
    return " ".join(kept)
