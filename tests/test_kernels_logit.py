"""model/kernels_logit.py (the porting decision's free choice) gives logit_choice's bits, on
firm-level sizes and on the edge cases its -701 marker and selects must get right."""

from __future__ import annotations

import numpy as np
import pytest

from model.core.choice import logit_choice
from model.market_kernels import free_choice


def _case(seed: int, B: int, C: int, S: int = 4):
    rng = np.random.default_rng(seed)
    stack = np.sort(rng.integers(0, S, C)).astype(np.int64)
    util = rng.normal(0.0, 3.0, (B, C)) * 10.0 ** rng.integers(0, 3, (B, 1))  # some rows spread wide
    util[rng.random((B, C)) < 0.05] = -np.inf
    util[rng.random((B, C)) < 0.02] = np.nan
    sw = rng.uniform(-2.0, 0.0, (B, S))
    avail = rng.random((B, C)) < 0.75
    avail[0] = False  # nothing open
    avail[1] = True
    util[1, :] = -800.0  # all below the clip, one far below the others
    util[1, 0] = 5.0
    util[2, avail[2]] = 7.0  # ties
    util[3, ~avail[3]] = 1e308  # closed entries far above the open ones
    return util, sw, stack, avail


@pytest.mark.parametrize("B,C", [(1, 1), (7, 9), (300, 27), (10_008, 45)])
@pytest.mark.parametrize("temperature", [1.0, 0.37, 3.0])
def test_free_choice_is_logit_choice(B, C, temperature):
    util, sw, stack, avail = _case(B + C, max(B, 4), C)
    got = free_choice(util, sw, stack, avail, temperature)
    want = logit_choice(util + sw[:, stack], avail, temperature=temperature)
    assert got.tobytes() == want.tobytes()
    assert (want == 0).any() and (want > 0).any()


def test_closed_entries_at_plus_infinity_take_logit_choices_branch():
    util, sw, stack, avail = _case(5, 50, 12)
    util[4, ~avail[4]] = np.inf  # np.max(u - (~ok) * 1e300) is +inf: the tie branch
    util[4, avail[4]] = 1.0
    want = logit_choice(util + sw[:, stack], avail)
    assert free_choice(util, sw, stack, avail, 1.0).tobytes() == want.tobytes()


def test_the_check_has_teeth():
    """Leaving the closed entries at exp(-701) (no zeroing) changes the bits."""
    util, sw, stack, avail = _case(3, 400, 20)
    want = logit_choice(util + sw[:, stack], avail)
    u = util + sw[:, stack]
    w = np.where(avail & (u > -np.inf), u, -np.inf)
    w = np.clip(w - np.nanmax(np.where(avail, u, -np.inf), axis=1, keepdims=True), -701.0, 0.0)
    w = np.exp(np.nan_to_num(w, nan=-701.0))
    w /= w.sum(axis=1, keepdims=True)
    assert w.tobytes() != want.tobytes()
