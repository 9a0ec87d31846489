"""model/kernels_deliver.py: the deliveries' tables summed down the rows give the bits of
model.kernels.deliver_tables (and of numpy's np.add.reduceat, which that kernel repeats)."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_deliver
from tests import month_oracles


def _alloc(rng: np.random.Generator, B: int, C: int) -> np.ndarray:
    x = rng.random((B, C)) * 10.0 ** rng.uniform(-3, 8, (B, C))
    x[rng.random((B, C)) < 0.5] = 0.0  # most buyers buy from few offerings
    return x


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 15, 16, 127, 128, 129, 130, 136, 255, 257, 600, 1025, 4099])
def test_pairwise_rows_is_numpys_column_sum(n):
    rng = np.random.default_rng(n)
    a = _alloc(rng, n + 3, 11)
    out = np.empty(11)
    kernels_deliver.pairwise_rows(a, 3, n, np.empty((8, 11)), np.empty((128, 11)), out)
    want = np.array([np.sum(np.ascontiguousarray(a[3:, c])) for c in range(11)])  # 0.0 + pairwise
    assert (0.0 + out).tobytes() == want.tobytes()


@pytest.mark.parametrize("sizes", [(1, 2, 7, 8, 9, 128, 129, 130), (594, 594, 588, 1, 0, 588, 1025),
                                   (4099, 3, 600)])
@pytest.mark.parametrize("fine", [np.nan, 0.25])
def test_deliver_tables_is_the_column_by_column_kernel(sizes, fine):
    rng = np.random.default_rng(len(sizes))
    B, C, O, R, V = sum(sizes), 24, 40, 9, 5
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    block_region = rng.integers(0, R, len(sizes)).astype(np.int64)
    alloc = _alloc(rng, B, C)
    cols = np.sort(rng.choice(O, C, replace=False)).astype(np.int64)
    per_unit = 1.0 / rng.uniform(0.5, 3.0, C)
    region_price = rng.uniform(1e3, 3e4, (O, R))
    levy = np.where(rng.random((O, R)) < 0.3, 0.15, 0.0)
    cn, fined, is_cn = rng.random(O) < 0.3, rng.random(O) < 0.4, rng.random(R) < 0.3
    vendor = rng.integers(0, V, O).astype(np.int64)
    args = (alloc, per_unit, cols, starts, block_region, O, R, region_price, levy, cn, vendor, V, fine, fined, is_cn)
    want = month_oracles.deliver_tables(*args)
    got = kernels_deliver.deliver_tables(*args)
    for w, g in zip(want, got):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes()
    if 0 in sizes:  # an empty block (both kernels read its first row): no reduceat to compare with
        return
    units = np.add.reduceat(alloc, starts, axis=0) * per_unit[None, :]  # numpy itself
    last = {int(r): units[k] for k, r in enumerate(block_region)}  # a later block of a region overwrites
    for r, row in last.items():
        assert got[0][cols, r].tobytes() == row.tobytes()


def test_the_check_has_teeth():
    """A running sum down the rows (another order) gives other bits on such blocks."""
    rng = np.random.default_rng(11)
    a = _alloc(rng, 1025, 24)
    out = np.empty(24)
    kernels_deliver.pairwise_rows(a, 1, 1024, np.empty((8, 24)), np.empty((128, 24)), out)
    running = np.zeros(24)
    for i in range(1, 1025):
        running += a[i]
    assert out.tobytes() != running.tobytes()
