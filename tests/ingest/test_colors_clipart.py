"""Monochrome on real clip art (Debian's openclipart-png), through the ingest pipeline.

A drawing of one saturated hue on white or on a transparent canvas is colour; a
black-and-white or gray drawing is Monochrome (issue 16). Measured over hundreds of
these files by bench/quality_file_facts.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pixsearch.ingest.config import PipelineConfig
from pixsearch.ingest.pipeline import Processed, process_file

SINGLE_HUED = (
    "food/fruit/lime_slice_ganson.png",  # green slice on a transparent canvas
    "signs_and_symbols/led/led_rectangular_h_red.png",  # red LED on opaque white
    "geography/astronomy/mars_dan_gerhards_01.png",  # a shaded orange disc
    "computer/icons/plastik_icon_v15.png",  # a blue icon
    "animals/mammals/pig_marcelo_caiafa1.png",  # a pink pig
    "containers/closed_box_juliane_krug_.png",  # a brown box
    "computer/icons/star_sergio_luiz_araujo__01.png",  # a flat yellow star
)
GRAY = (
    "food/fruit/apple_bw.png",
    "people/man_crystal_felipe_macie_01.png",
    "computer/icons/flat-theme/action/chart.png",
)


def monochrome(path: Path) -> bool:
    result = process_file(path, PipelineConfig())
    assert isinstance(result, Processed), result
    return result.facts.monochrome


@pytest.mark.parametrize("name", SINGLE_HUED)
def test_a_single_hued_drawing_is_colour(openclipart: Path, name: str) -> None:
    assert not monochrome(openclipart / name)


@pytest.mark.parametrize("name", GRAY)
def test_a_gray_drawing_is_monochrome(openclipart: Path, name: str) -> None:
    assert monochrome(openclipart / name)


def test_a_drawing_with_a_small_coloured_part_is_colour(openclipart: Path) -> None:
    # A gray computer with a few coloured labels (under 2 % of its pixels) on a
    # transparent canvas: white paper no longer dilutes them under the allowance.
    assert not monochrome(openclipart / "computer/gateway_andy_fitzsimon_r.png")
