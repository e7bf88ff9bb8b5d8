"""imageType kinds of real pictures from Debian packages the kind model never saw.

These packages are in the "held" split of bench/quality_sets.py (the model is fitted
on other packages); each test skips, saying which package to install, when its files
are absent. Pictures go through process_file as shipped, and as web sites serve them
(over white, at most 800 px, JPEG quality 75). A regression guard with a margin, not
the measurement: docs/quality.md has the measured numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file

LAND = Path("/usr/share/games/endless-sky/images/land")
OXYGEN = Path("/usr/share/icons/oxygen/base/128x128")
WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/images/units")


def files(folder: Path, pattern: str, package: str, count: int = 16) -> list[Path]:
    """`count` files spread evenly over the sorted listing (no "-" in the name: in
    endless-sky's land folder those are contributors' pictures, maybe renders)."""
    found = sorted(p for p in folder.glob(pattern) if "-" not in p.stem)
    if len(found) < count:
        pytest.skip(f"install the Debian package {package} (apt-get install {package})")
    return found[:: len(found) // count][:count]


def web_jpeg(path: Path, tmp_path: Path) -> Path:
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    flat.thumbnail((800, 800))
    out = tmp_path / f"{path.stem}.jpg"
    flat.save(out, quality=75)
    return out


def kinds(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        result = process_file(path, PipelineConfig())
        assert isinstance(result, Processed), result
        found.append(result.facts.image_types[0])
    return found


def test_photographs_from_endless_sky_are_photos(tmp_path: Path) -> None:
    photos = files(LAND, "*.jpg", "endless-sky-data")
    assert kinds(photos).count("photo") >= 15
    assert kinds([web_jpeg(p, tmp_path) for p in photos]).count("photo") >= 15


@pytest.mark.parametrize(
    ("folder", "package"),
    [(OXYGEN, "oxygen-icon-theme"), (WESNOTH, "wesnoth-1.16-data")],
)
def test_icons_and_sprites_are_not_photos(tmp_path: Path, folder: Path, package: str) -> None:
    drawn = files(folder, "**/*.png", package)
    as_shipped = kinds(drawn)
    assert as_shipped.count("photo") <= 2, as_shipped  # measured: 3-8 % of held-out drawings
    assert set(as_shipped) <= {"clipart", "line", "photo"}
    as_served = kinds([web_jpeg(p, tmp_path) for p in drawn])
    assert as_served.count("photo") <= 4, as_served  # measured: 1-11 % by package
