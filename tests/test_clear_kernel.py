"""The market clearing kernel (model/kernels_clear.py) against the kernel it replaced
(tests/clear_oracle.py), bit for bit, on many random markets: every output (alloc, forgone,
remaining, the first round's units) must have the same bytes."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels, kernels_clear
from tests import clear_oracle


def _market(seed: int, big: bool = False):
    """The kernel's arguments for a random market with the awkward parts: unavailable, NaN, -inf
    and +inf utilities, rows with nothing open, zero demand, vendors that sell out after one,
    two or more rounds (tranches), unlimited ones, huge utility gaps, T = 0 and T != 1."""
    g = np.random.default_rng(seed)
    if big:
        B, O, V = int(g.integers(500, 3000)), int(g.integers(10, 45)), int(g.integers(3, 13))
    else:
        B, O, V = int(g.integers(1, 80)), int(g.integers(1, 14)), int(g.integers(1, 6))
    util = g.normal(0.0, g.choice([0.5, 3.0, 400.0]), (B, O))
    for value, share in ((np.nan, 0.04), (-np.inf, 0.04), (np.inf, 0.01 * g.integers(0, 2))):
        util[g.random((B, O)) < share] = value
    avail = g.random((B, O)) < g.choice([0.5, 0.8, 1.0])
    avail[g.random(B) < 0.1] = False
    demand = g.lognormal(0.0, 1.0, B) * (g.random(B) > 0.1)
    vendor_of = g.integers(0, V, O)
    capacity = g.choice([0.0, 0.05, 0.3, 0.6, 3.0, 1e9], V) * demand.sum() / V
    value = g.uniform(0.2, 3.0, O)
    outside = bool(g.random() < 0.5)
    u0 = g.normal(0.0, 2.0, B) if outside else np.zeros(0)
    if outside and g.random() < 0.2:
        u0[g.random(B) < 0.2] = -np.inf
    lots = int(g.choice([0, 1, 3, 8]))
    rounds = int(g.integers(0, 7))
    temperature = float(g.choice([0.0, 0.5, 1.0, 1.0, 2.0]))
    rows = kernels.first_rows(demand, avail, outside)
    draws = g.random((rows.size, lots)) if lots > 0 else np.zeros((rows.size, 0))
    if lots > 0 and g.random() < 0.1:
        draws[g.random(draws.shape) < 0.1] = 0.0  # a draw of exactly 0 (rng.random can give it)
    return (demand, util, avail, u0, outside, value, vendor_of, capacity, rows, draws, lots,
            rounds, temperature)


def _same(args) -> None:
    got = kernels_clear.clear(*args)
    want = clear_oracle.clear(*args)
    for name, a, b in zip(("alloc", "forgone", "remaining", "first_units"), got, want):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name


@pytest.mark.parametrize("block", range(10))
def test_clearing_kernel_is_the_old_kernel_bit_for_bit(block):
    for seed in range(block * 100, block * 100 + 100):
        _same(_market(seed))


@pytest.mark.parametrize("seed", range(12))
def test_clearing_kernel_is_the_old_kernel_on_large_markets(seed):
    _same(_market(10_000 + seed, big=True))


def test_rows_keep_their_split_only_while_nothing_open_to_them_closes():
    """Three rows, two vendors sold out in turn: vendor 0 (offering 0) in the first tranche
    rounds, vendor 1 (offering 1) later; row 0 can buy offering 1, row 1 cannot, row 2 buys
    everything. The kernel must redo the split of the rows offering 1 was open to (a stale split
    would keep selling the closed offering) and may keep the others'."""
    util = np.array([[3.0, 2.0, 0.0], [3.0, -1.0, 0.0], [1.0, 2.0, 0.5]])
    avail = np.array([[True, True, True], [True, False, True], [True, True, True]])
    demand = np.array([4.0, 3.0, 5.0])
    for cap1 in (0.5, 1.0, 2.0, 4.0):
        for rounds in (2, 3, 5):
            for outside in (False, True):
                u0 = np.array([-1.0, 0.0, -2.0]) if outside else np.zeros(0)
                rows = kernels.first_rows(demand, avail, outside)
                args = (demand, util, avail, u0, outside, np.ones(3), np.array([0, 1, 2]),
                        np.array([0.5, cap1, 1e9]), rows, np.zeros((rows.size, 0)), 0, rounds, 1.0)
                _same(args)
                alloc = kernels_clear.clear(*args)[0]
                assert alloc[:, 1].sum() <= cap1 * (1 + 1e-9)  # closed means closed
