"""Regenerate the fixed-seed regression baseline (tests/baseline/). Run ON PURPOSE only, when a
model change is meant to change results, and say so in the commit:

    .venv/bin/python tests/regenerate_baseline.py
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent / "baseline"
PARAMS = {"end": "2030-12"}
SEED = 20260101
COLUMNS = ("date", "bifurcation_index", "bloc_jsd", "hhi_world", "top_stack_share_world",
           "cn_domestic_share", "nvidia_china_revenue_share", "gs_cuda_share", "gs_cann_share",
           "gs_dual_stack_share", "us_cn_compute_ratio", "rare_earth_restriction", "us_control_level")


def model_table():
    from model.run import run_one

    return run_one(PARAMS, SEED)["model"].loc[:, list(COLUMNS)]


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    path = HERE / "baseline_model_seed20260101.csv"
    model_table().to_csv(path, index=False, float_format="%.12g")
    print(f"wrote {path}")
