"""The composition root's process set-up (api/app.py)."""

from __future__ import annotations

import gc

from pixsearch.api.app import tune_collector


def test_the_collector_runs_young_passes_as_the_setting_says() -> None:
    before = gc.get_threshold()
    try:
        tune_collector(12_345)
        assert gc.get_threshold() == (12_345, *before[1:])  # the older generations as they were
        tune_collector(0)
        assert gc.get_threshold()[0] == 12_345  # 0 leaves the threshold alone
    finally:
        gc.set_threshold(*before)
