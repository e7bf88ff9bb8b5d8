from __future__ import annotations

import os
from pathlib import Path

from pixsearch.ingest.sources import iter_files
from pixsearch.records import Rejection


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def split(results: list[Path | Rejection]) -> tuple[list[str], list[Rejection]]:
    paths = [str(r) for r in results if isinstance(r, Path)]
    return paths, [r for r in results if isinstance(r, Rejection)]


def test_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "b.png",
        "a.JPG",
        "notes.txt",
        "a.json",
        "sub/z.webp",
        "sub/deeper/x.TIFF",
        "sub/deeper/y.tif",
        "c.jpeg",
        "d.gif",
        "e.bmp",
        "f.heic",
        "README",
    )
    paths, rejections = split(list(iter_files([tmp_path])))
    relative = [os.path.relpath(p, tmp_path) for p in paths]
    assert relative == [
        "a.JPG",
        "b.png",
        "c.jpeg",
        "d.gif",
        "e.bmp",
        "sub/deeper/x.TIFF",
        "sub/deeper/y.tif",
        "sub/z.webp",
    ]
    assert rejections == []
    assert list(iter_files([tmp_path])) == list(iter_files([tmp_path]))  # deterministic


def test_single_files_and_missing_paths(tmp_path: Path) -> None:
    touch(tmp_path, "one.png", "two.txt")
    results = list(iter_files([tmp_path / "one.png", tmp_path / "two.txt", tmp_path / "nope"]))
    assert results[0] == tmp_path / "one.png"
    assert isinstance(results[1], Rejection) and results[1].reason == "not-an-image"
    assert isinstance(results[2], Rejection) and results[2].reason == "unreadable"


def test_symlink_loop_is_reported_once_and_terminates(tmp_path: Path) -> None:
    touch(tmp_path, "album/p.png")
    (tmp_path / "album" / "loop").symlink_to(tmp_path / "album")
    (tmp_path / "album" / "up").symlink_to(tmp_path)
    paths, rejections = split(list(iter_files([tmp_path])))
    assert [os.path.relpath(p, tmp_path) for p in paths] == ["album/p.png"]
    assert sorted(r.reason for r in rejections) == ["symlink-loop", "symlink-loop"]


def test_dangling_link_is_unreadable(tmp_path: Path) -> None:
    touch(tmp_path, "ok.png")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")  # not ours to report
    paths, rejections = split(list(iter_files([tmp_path])))
    assert [Path(p).name for p in paths] == ["ok.png"]
    assert [(Path(r.source).name, r.reason) for r in rejections] == [("gone.jpg", "unreadable")]


def test_links_followed_or_not(tmp_path: Path) -> None:
    touch(tmp_path, "elsewhere/e.png", "root/r.png")
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root" / "l.png").symlink_to(tmp_path / "elsewhere" / "e.png")
    followed, _ = split(list(iter_files([tmp_path / "root"])))
    assert [os.path.relpath(p, tmp_path / "root") for p in followed] == [
        "l.png",
        "link/e.png",
        "r.png",
    ]
    unfollowed, rejections = split(list(iter_files([tmp_path / "root"], follow_symlinks=False)))
    assert [Path(p).name for p in unfollowed] == ["r.png"]
    assert rejections == []


def test_directory_named_like_an_image_is_walked(tmp_path: Path) -> None:
    touch(tmp_path, "x.jpg/inner.png")
    paths, _ = split(list(iter_files([tmp_path])))
    assert [Path(p).name for p in paths] == ["inner.png"]


def test_lazy(tmp_path: Path) -> None:
    touch(tmp_path, *(f"d{i}/p.png" for i in range(50)))
    iterator = iter_files([tmp_path])
    assert isinstance(next(iterator), Path)
