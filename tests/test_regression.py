"""Fixed-seed regression: the baseline's model table equals the committed file (Starsim style).
A deliberate model change regenerates it with tests/regenerate_baseline.py."""

from __future__ import annotations

import pandas as pd

from tests.regenerate_baseline import HERE, model_table


def test_baseline_model_table_matches_committed_file():
    expected = pd.read_csv(HERE / "baseline_model_seed20260101.csv", dtype={"date": str})
    got = model_table().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-7, atol=1e-10)
