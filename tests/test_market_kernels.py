"""model/market_kernels.py: each compiled pass bit for bit against the numpy code it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from model.core.choice import logit_choice
from model.market_kernels import free_choice


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("C", [1, 2, 7, 8, 9, 16, 31, 64, 127, 128, 129, 200, 257, 300])
@pytest.mark.parametrize("temperature", [1.0, 0.37, 2.5, 1e-6])
def test_free_choice_is_logit_choice(C, temperature):
    rng = np.random.default_rng(C)
    for B in (1, 3, 29, 40):
        S = 4
        util = rng.normal(0.0, 5.0, (B, C))
        sw = rng.exponential(2.0, (B, S))
        stack = np.sort(rng.integers(0, S, C)).astype(np.int64)
        avail = rng.random((B, C)) < 0.7
        avail[0] = False  # a row with nothing open: all zeros
        util[1 % B, 0] = np.nan  # NaN utility: unavailable
        util[-1, -1] = -np.inf
        util[rng.random((B, C)) < 0.05] = -0.0
        want = logit_choice(util + sw[:, stack], avail, temperature=temperature)
        got = free_choice(util, sw, stack, avail, temperature)
        assert _same(got, want)
        assert not avail[0].any() and not got[0].any()


def test_free_choice_special_rows_and_other_inputs():
    util = np.array([[np.inf, 1.0, np.inf], [0.0, 1.0, 2.0]])
    sw = np.zeros((2, 2))
    stack = np.array([0, 1, 1], dtype=np.int64)
    avail = np.ones((2, 3), dtype=bool)
    want = logit_choice(util + sw[:, stack], avail, temperature=1.0)
    got = free_choice(util, sw, stack, avail, 1.0)
    assert _same(got, want) and got[0].tolist() == [0.5, 0.0, 0.5]
    # an unavailable +inf does not make the row special: it gets probability 0
    avail[0, 0] = False
    assert _same(free_choice(util, sw, stack, avail, 1.0), logit_choice(util + sw[:, stack], avail))
    # a list or float32 input goes to the general function, with its result
    u32 = util.astype(np.float32)
    assert _same(free_choice(u32, sw, stack, avail, 0.5),
                 logit_choice(u32 + sw[:, stack], avail, temperature=0.5))
    with pytest.raises(ValueError, match="temperature"):
        free_choice(util, sw, stack, avail, -1.0)
    # a stack index outside sw's columns is refused, not read out of bounds
    with pytest.raises(IndexError):
        free_choice(util, sw, np.array([0, 1, 2], dtype=np.int64), avail, 1.0)


@pytest.mark.parametrize("drawn", [False, True])
def test_price_tables_are_the_numpy_code(drawn):
    from model.market_kernels import price_tables

    rng = np.random.default_rng(7 + drawn)
    for O, R, V in ((1, 1, 1), (34, 17, 12), (140, 17, 12)):
        avail = rng.random((O, R)) < 0.8
        live = rng.random(O) < 0.6
        approval = np.where(rng.random((O, R)) < 0.3, rng.random((O, R)), 1.0)
        draws = rng.random((O, R)) if drawn else np.zeros((0, 0))
        list_price = rng.uniform(1e3, 4e4, O)
        index = rng.uniform(0.5, 1.5, V)
        vendor = rng.integers(0, V, O).astype(np.int64)
        cn = rng.random(O) < 0.3
        launch = rng.uniform(0.5, 2.0, O)
        levy = np.where(rng.random((O, R)) < 0.2, rng.uniform(0.0, 0.25, (O, R)), 0.0)
        us_mult, ci, share = 1.0 + 0.15 * 0.4, 1.37, 0.5
        # the numpy formulation pricing used
        want_av = avail & live[:, None]
        if drawn:
            want_av &= draws < approval
        price = list_price * index[vendor] * np.where(~cn, us_mult, ci / launch)
        region = price[:, None] * (1.0 + levy * share)
        idx = np.flatnonzero(live)
        got = price_tables(avail, live, draws, approval, list_price, index, vendor, cn, us_mult, ci, launch,
                           levy, share)
        for g, w in zip(got, (want_av, price, region, idx, price[idx])):
            assert _same(g, w)
