"""Stylized facts over several seeds (sugarscape_g1mt style): patterns from history, checked
statistically instead of pinning numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.run import run_one

pytestmark = pytest.mark.slow  # every test compares means over five seeds: pytest -m "not slow" skips them

SEEDS = range(5)


def _mean_by(df: pd.DataFrame, col: str, start: str, end: str) -> float:
    sel = df[(df["date"] >= start) & (df["date"] <= end)]
    return float(sel[col].mean())


@pytest.fixture(scope="module")
def baseline_2030():
    return [run_one({"end": "2030-12"}, s)["model"] for s in SEEDS]


@pytest.fixture(scope="module")
def no_controls_2030():
    return [run_one({"scenario": "no_controls", "end": "2030-12"}, s)["model"] for s in SEEDS]


def test_domestic_share_rises_after_the_2023_rule(baseline_2030):
    before = [_mean_by(m, "cn_domestic_share", "2023-01", "2023-09") for m in baseline_2030]
    after = [_mean_by(m, "cn_domestic_share", "2024-01", "2024-12") for m in baseline_2030]
    assert all(a > b for a, b in zip(after, before)), (before, after)


def test_nvidia_china_revenue_share_2024_below_2022(baseline_2030):
    y22 = [_mean_by(m, "nvidia_china_revenue_share", "2022-01", "2022-12") for m in baseline_2030]
    y24 = [_mean_by(m, "nvidia_china_revenue_share", "2024-01", "2024-12") for m in baseline_2030]
    assert np.mean(y24) < np.mean(y22)
    assert sum(a < b for a, b in zip(y24, y22)) >= 4


def test_no_controls_ends_2030_with_lower_domestic_share(baseline_2030, no_controls_2030):
    base = [_mean_by(m, "cn_domestic_share", "2030-01", "2030-12") for m in baseline_2030]
    free = [_mean_by(m, "cn_domestic_share", "2030-01", "2030-12") for m in no_controls_2030]
    assert np.mean(free) < np.mean(base)
    assert sum(f < b for f, b in zip(free, base)) >= 4
