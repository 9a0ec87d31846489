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
