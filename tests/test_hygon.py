"""Hygon's DCU line in the catalog and the vendor table (issue 15)."""

from __future__ import annotations

import numpy as np

from model import cluster as C
from model import population as pop
from model.catalog import load_catalog


def test_hygon_rows_are_complete_and_sourced():
    cat = load_catalog()
    chips = cat.chips[cat.chips["vendor"] == "hygon"]
    assert set(chips.index) == {"dcu-z100", "dcu-k100", "dcu-k100-ai"}
    assert (chips["stack"] == "other_cn").all() and (chips["home_bloc"] == "cn").all()
    assert chips["source"].str.len().gt(0).all()
    # Epoch AI's Shensuan-1 row: 24.5 TFLOPS FP16, 32 GB at 1.024 TB/s, 350 W, 2021-07
    z = chips.loc["dcu-z100"]
    assert (z["bf16_tflops"], z["hbm_gb"], z["hbm_tb_s"], z["tdp_w"], z["release"]) == (24.5, 32, 1.024, 350, "2021-07")
    # figures without a datasheet say so
    for cid in ("dcu-k100", "dcu-k100-ai"):
        assert "ASSUMED" in chips.loc[cid, "note"]
    systems = cat.systems[cat.systems["chip"].isin(chips.index)]
    assert len(systems) == 3 and (systems["vendor"] == "hygon").all()


def test_hygon_is_entity_listed_before_the_run_like_huawei():
    v = pop.load_vendors()
    assert v.loc["hygon", "bloc"] == "cn" and v.loc["hygon", "stack"] == "other_cn"
    assert v.loc["hygon", "entity_listed"] == "2019-06"
    assert v.loc["hygon", "entity_listed"] < "2022-01"  # before the history: already in its capacity


def test_the_core_prices_the_dcu_servers():
    cat = load_catalog()
    off = C.Offerings.from_frame(cat.systems, cat.chips)
    sel = [int(np.flatnonzero(off.ids == s)[0]) for s in ("dcu-z100-8", "dcu-k100-ai-8", "hgx-h20")]
    r = C.evaluate(off.take(sel), C.Workloads.load(ids=["llama3-405b-train", "deepseek-r1-decode"]), n_accel=2048)
    tok = r.tokens_per_s_per_accel[:, :, 0]
    assert (tok[:2] > 0).all()                       # both run both workloads
    assert tok[0, 0] < tok[1, 0] and tok[0, 1] < tok[1, 1]  # the K100-AI outruns the Z100
