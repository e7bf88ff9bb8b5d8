"""Which packaged files the demo takes: raster renditions, and only the package's own folders."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pixsearch.demo.pictures import _landscape, wallpapers


def test_a_wallpaper_is_a_raster_rendition_never_its_svg(tmp_path: Path) -> None:
    images = tmp_path / "contents" / "images"
    images.mkdir(parents=True)
    (images / "2560x1440.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    Image.new("RGB", (64, 36)).save(images / "1280x720.png")
    assert _landscape(images) == images / "1280x720.png"
    (images / "1280x720.png").unlink()
    assert _landscape(images) is None  # an SVG alone gives no picture


def test_other_packages_wallpapers_are_left_out() -> None:
    # desktop-base installs its own wallpapers (SVG only, other licences) into the same folder.
    found = {picture.path.parts[4] for picture in wallpapers()}  # /usr/share/wallpapers/NAME
    assert not found & {"Joy", "Lines", "FuturePrototype", "SoftWaves", "SoftWavesLockScreen"}
    assert all(picture.path.suffix in (".png", ".jpg") for picture in wallpapers())
