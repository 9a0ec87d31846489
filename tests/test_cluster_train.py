"""Training in the cluster core: the pipeline schedule of the published runs ([C2a], [C2e])."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from model import cluster as C
from model.core.data import Workloads


@pytest.fixture(scope="module")
def a100() -> C.Offerings:
    from model.catalog import load_catalog

    cat = load_catalog()
    off = C.Offerings.from_frame(cat.systems, cat.chips)
    return off.take([int(np.flatnonzero(off.ids == "hgx-a100")[0])])


MTNLG = Workloads.load(ids=["mt-nlg-530b-train"])


def _with(wl: Workloads, **cols) -> Workloads:
    return dataclasses.replace(wl, **{k: np.array([float(v)]) for k, v in cols.items()})


def _step_s(off, wl, n) -> float:
    r = C.evaluate(off, wl, n_accel=n)
    return float(wl.batch_tokens[0] / r.tokens_per_s_per_accel[0, 0, 0] / n)


def test_published_layouts_are_read():
    wl = Workloads.load(ids=["mt-nlg-530b-train", "megatron-1t-train", "llama3-405b-train"])
    assert wl.pp[:2].tolist() == [35.0, 64.0] and np.isnan(wl.pp[2])
    assert wl.interleave[:2].tolist() == [1.0, 2.0] and np.isnan(wl.interleave[2])
    assert wl.microbatch.tolist() == [1.0, 1.0, 1.0]


def test_bubble_by_hand(a100):
    """With links so fast that only compute and the bubble remain, 1F1B without interleaving
    costs (pp - 1) / m of the compute time more than with v = 3 virtual stages: (2/3)(pp-1)/m."""
    fast = dataclasses.replace(a100, scaleup_gb_s=np.array([1e12]), scaleout_gb_s=np.array([1e12]))
    n = 2240
    t1, t3 = _step_s(fast, _with(MTNLG, interleave=1), n), _step_s(fast, _with(MTNLG, interleave=3), n)
    m = MTNLG.batch_tokens[0] / MTNLG.seq_len[0] / (n / (8 * 35))          # 240 micro-batches per replica
    f_tok = 6 * MTNLG.params_active[0] + 3 * MTNLG.attn_flops_per_ctx[0] * MTNLG.seq_len[0] / 2
    compute = f_tok * MTNLG.batch_tokens[0] / (n * a100.bf16_tflops[0] * 1e12 * C.ETA_COMPUTE_TRAIN)
    assert m == 240
    assert t1 - t3 == pytest.approx(2 / 3 * 34 / m * compute, rel=1e-6)
    # the rest is the collectives' latency (alpha), which fast links do not remove: under 1 %
    assert compute * (1 + 34 / m) < t1 < 1.01 * compute * (1 + 34 / m)


def test_schedule_moves_mfu_the_physical_way(a100):
    def mfu(wl, n=2240):
        return float(C.evaluate(a100, wl, n_accel=n).mfu[0, 0, 0])

    base = mfu(MTNLG)
    assert mfu(_with(MTNLG, interleave=3)) > base            # interleaving shrinks the bubble
    assert mfu(_with(MTNLG, microbatch=2)) < base             # half as many micro-batches per replica
    assert mfu(MTNLG, 2800) < base and mfu(MTNLG, 3360) < mfu(MTNLG, 2800)  # more replicas, fewer micro-batches
    # a stated depth below what memory needs is deepened to it, never run out of memory
    assert mfu(_with(MTNLG, pp=1)) == pytest.approx(mfu(_with(MTNLG, pp=14)))
    assert mfu(_with(MTNLG, pp=35)) != pytest.approx(mfu(_with(MTNLG, pp=np.nan)))


def test_the_two_a100_runs_in_their_published_bands(a100):
    """MT-NLG (1F1B, 240 micro-batches of one sequence at 2,240 GPUs) falls below Megatron 1T
    (interleaved, 512 micro-batches), as published: 36-40 % against 52 % (bands of observed.csv)."""
    from model import validate as V

    mt = [float(C.evaluate(a100, MTNLG, n_accel=g).mfu[0, 0, 0]) for g in V.MTNLG_GPUS]
    meg = float(C.evaluate(a100, Workloads.load(ids=["megatron-1t-train"]), n_accel=3072).mfu[0, 0, 0])
    assert 0.32 <= np.mean(mt) <= 0.44
    assert 0.47 <= meg <= 0.57
    assert meg > max(mt)
    # published 126 -> 113 TFLOPS from 2,240 to 3,360 GPUs (-10 %); the bubble gives part of it
    assert 0.85 < mt[2] / mt[0] < 0.99


@pytest.mark.parametrize("col, value, expected", [
    ("pp", 2.5, "whole number"), ("interleave", 0, "from 1 to 64"), ("microbatch", -1, "from 1 to"),
    ("pp", 0, "from 1 to"),
])
def test_bad_layout_values_are_refused(col, value, expected):
    row = pd.read_csv(C.WORKLOADS_CSV).set_index("id").loc[["mt-nlg-530b-train"]].reset_index()
    row[col] = value
    with pytest.raises(ValueError, match=expected) as err:
        Workloads.from_frame(row)
    assert "mt-nlg-530b-train" in str(err.value) and col in str(err.value)
