"""model/kernels_choice.py: the outside option's estate shares, a stack's run of columns at a
time, are month_kernels.outside_shares's, bit for bit (and fall back to it off grouped stacks)."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_choice, month_kernels
from tests import month_oracles


def _case(seed: int, B: int, C: int, S: int):
    rng = np.random.default_rng(seed)
    fleet = rng.random((B, S)) * 10.0 ** rng.uniform(-3, 8, (B, S))
    fleet[rng.random((B, S)) < 0.3] = 0.0
    fleet[1] = 0.0  # an empty estate
    stack = np.sort(rng.integers(0, S - 1, C)).astype(np.int64)  # the last stack never offered
    avail = rng.random((B, C)) < 0.3
    avail[0] = False
    return avail, stack, fleet, fleet.sum(axis=1)


@pytest.mark.parametrize("B,C,S", [(5, 3, 2), (50, 9, 4), (10_008, 24, 4), (3_000, 45, 6)])
def test_outside_shares_are_month_kernels(B, C, S):
    avail, stack, fleet, total = _case(B + C, B, C, S)
    got = kernels_choice.outside_shares(avail, stack, fleet, total, S)
    want = month_kernels.outside_shares(avail, stack, fleet, total, S)
    assert got.tobytes() == want.tobytes()
    assert (want > 0).any() and (want == 0).any()


def test_ungrouped_stacks_go_to_month_kernels():
    avail, stack, fleet, total = _case(4, 200, 12, 4)
    shuffled = np.random.default_rng(1).permutation(stack)
    assert (np.diff(shuffled) < 0).any()
    got = kernels_choice.outside_shares(avail, shuffled, fleet, total, 4)
    assert got.tobytes() == month_kernels.outside_shares(avail, shuffled, fleet, total, 4).tobytes()
    runs, n = kernels_choice._runs(shuffled, 4)
    assert n == -1 and kernels_choice._runs(stack, 4)[1] == len(np.unique(stack))


@pytest.mark.parametrize("seed", range(4))
def test_outside_inputs_by_block_are_the_per_buyer_ones(seed):
    from model import market_kernels

    rng = np.random.default_rng(seed)
    K, C, S, V = 17, (24, 45, 3, 1)[seed], 4, 12
    counts = rng.integers(0, 700, K).astype(np.int64)
    counts[3] = 0  # an empty block
    B = int(counts.sum())
    stack = np.sort(rng.integers(0, S - 1, C)).astype(np.int64)
    avail_k = rng.random((K, C)) < 0.3
    avail_k[1] = False  # a block with nothing open
    fleet = rng.random((B, S)) * 10.0 ** rng.uniform(-3, 8, (B, S)) * (rng.random((B, S)) < 0.6)
    total = fleet.sum(axis=1)
    present, cap = rng.random(V) < 0.7, np.where(rng.random(V) < 0.8, rng.uniform(0.0, 1e5, V), 0.0)
    cheapest = rng.uniform(0.5, 5.0, V)
    got = kernels_choice.outside_inputs_blocks(avail_k, counts, stack, fleet, total, S, present, cap, cheapest)
    want = market_kernels.outside_inputs(np.repeat(avail_k, counts, axis=0), stack, fleet, total, S, present, cap,
                                         cheapest)
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes()
    assert (want[0] > 0).any() and (want[0] == 0).any() and want[1].size
    with pytest.raises(ValueError, match="counts must sum"):
        kernels_choice.outside_inputs_blocks(avail_k, counts + 1, stack, fleet, total, S, present, cap, cheapest)


@pytest.mark.parametrize("B", [1, 40, 10_008])
def test_switching_is_the_lock_in_passs_switching_cost(B):
    from model.ecosystem import EcosystemParams, portability, switching_cost

    rng = np.random.default_rng(B)
    P, S = EcosystemParams(), 4
    mat, cod = rng.uniform(0, 1, S), np.array([0.0, 0.0, 0.7, 0.0])
    porting = np.where(rng.random((B, S)) < 0.3, 0.0, rng.uniform(0, 1, (B, S)))
    porting[0] = 1.0
    estate = rng.uniform(0, 3, B)
    fleet = np.where(rng.random((B, S)) < 0.4, 0.0, rng.uniform(0, 1e6, (B, S)))
    fleet[B // 2] = 0.0  # a buyer with no fleet pays nothing
    total = fleet.sum(axis=1)
    args = (mat, porting, cod, estate, fleet, total, 2.0, P.maturity_effect, P.porting_effect, P.codesign_bonus)
    got = kernels_choice.switching(*args)
    assert got.tobytes() == month_oracles.lock_in(*args)[1].tobytes()
    want = switching_cost(estate, fleet, portability(mat, porting, cod, P), 2.0)  # the numpy functions
    assert got.tobytes() == want.tobytes() and (got[B // 2] == 0).all()
    if B > 1:
        assert (got > 0).any()


def test_switching_checks_its_inputs_as_lock_in_does():
    rng = np.random.default_rng(2)
    mat, cod = rng.uniform(0, 1, 4), np.zeros(4)
    porting, estate, fleet = rng.uniform(0, 1, (6, 4)), rng.uniform(0, 3, 6), rng.uniform(0, 9, (6, 4))
    bad = [(mat - 2, porting, estate, fleet, 1.0, "maturity"), (mat, porting + 2, estate, fleet, 1.0, "porting"),
           (mat, porting, -estate, fleet, 1.0, "estate"), (mat, porting, estate, -fleet, 1.0, "fleet"),
           (mat, porting, estate, fleet, -1.0, "kappa")]
    for m_, pl, e, f, k, what in bad:
        with pytest.raises(ValueError, match=what if what in ("maturity", "porting") else "must be >= 0"):
            kernels_choice.switching(m_, pl, cod, e, f, f.sum(axis=1), k, 0.6, 0.8, 0.3)
