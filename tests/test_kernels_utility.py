"""model/kernels_utility.py: the utility pass (and in porting months the free-choice exponents made
in it) gives market_kernels.market_utility's and free_choice's bits."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_logit, kernels_utility, market_kernels
from tests import month_oracles


def _inputs(seed: int, K: int = 6, C: int = 23, S: int = 4, n_per: int = 300):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, n_per, K).astype(np.int64)
    B = int(counts.sum())
    stack = np.sort(rng.integers(0, S, C)).astype(np.int64)
    log_cost = np.log(rng.uniform(0.2, 30.0, (K, C)))
    log_cost[rng.random((K, C)) < 0.1] = np.inf  # not sold there
    avail = rng.random((K, C)) < 0.8
    cn_block, region_is_cn = rng.random(K) < 0.3, rng.random(K) < 0.3
    region = np.repeat(np.arange(K), counts).astype(np.int64)
    beta, align = rng.uniform(0.5, 2.0, B), rng.uniform(-1.0, 1.0, B)
    is_gs, funded = rng.random(B) < 0.4, rng.random(B) < 0.5
    nv, sw = rng.uniform(0.0, 3.0, S), rng.exponential(1.0, (B, S))
    china = np.where(rng.random(C) < 0.3, 1.0, -1.0)
    cn_col = china > 0
    lo, hi = int(np.searchsorted(stack, 2)), int(np.searchsorted(stack, 3))
    return (log_cost, avail, counts, cn_block, beta, nv, sw, stack, align, is_gs, china, 0.3, 0.7, lo, hi,
            0.1, 0.2, cn_col, 0.25, funded, region_is_cn, region)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("temperature", [1.0, 0.4, 2.5])
def test_utility_and_exponents_are_the_two_passes(seed, temperature):
    args = list(_inputs(seed))
    if seed == 1:
        args[15], args[16] = np.nan, np.nan  # no bundle bonus, no penalty
    if seed == 2:
        args[18] = 0.0  # no mandate: no extra rows
    args = tuple(args)
    want = month_oracles.market_utility(*args)
    for shift in (False, True):
        got = kernels_utility.market_utility(*args, shift, temperature)
        for g, w in zip(got[:4], want):
            assert g.tobytes() == w.tobytes()
    B = args[4].shape[0]
    free = market_kernels.free_choice(want[0][:B], args[6], args[7], want[1][:B], temperature)
    assert not got[5] and got[4].shape == (B, args[7].size)
    assert kernels_logit.logit_norm(np.exp(got[4])).tobytes() == free.tobytes()
    assert (seed == 2) == (want[3].size == 0)


def test_an_infinite_utility_is_flagged_for_the_general_path():
    args = list(_inputs(7))
    args[4] = args[4].copy()
    args[4][5] = -np.inf  # beta: -beta x ln(cost) is +inf on the columns with a cost above 1
    args = tuple(args)
    got = kernels_utility.market_utility(*args, True, 1.0)
    assert got[5]
    assert not kernels_utility.market_utility(*args, False, 1.0)[5]
