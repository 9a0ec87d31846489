"""model/kernels_fleet.py: the fleets' sums and the power rationing give numpy's bits."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_fleet as kf


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def _table(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    x = rng.random(shape) * 10.0 ** rng.uniform(-6, 9, shape)
    x[rng.random(shape) < 0.2] = 0.0  # empty stacks, as most buyers' fleets have
    return x


@pytest.mark.parametrize("B", [0, 1, 7, 129, 1000, 10_008])
@pytest.mark.parametrize("S", [2, 3, 4, 5, 9])
def test_fleet_sums_are_numpys(B, S):
    rng = np.random.default_rng(B * 10 + S)
    x = _table(rng, (B, S))
    col, row = kf.fleet_sums(x)
    assert _bits(col) == _bits(x.sum(axis=0))
    assert _bits(row) == _bits(x.sum(axis=1))
    assert _bits(kf.col_sums(x)) == _bits(x.sum(axis=0))
    wide = _table(rng, (B, 3 * S + 2))  # a block of columns, as the month's purchases are
    for block in (wide[:, :S], wide[:, S:2 * S]):
        assert _bits(kf.col_sums(block)) == _bits(block.sum(axis=0))


def test_layouts_the_kernels_refuse_go_to_numpy():
    rng = np.random.default_rng(3)
    x = _table(rng, (500, 4))
    for y in (np.asfortranarray(x), x.T.copy().T, x[::2], x.astype(np.float32), x[:, :1]):
        col, row = kf.fleet_sums(y)
        assert _bits(col) == _bits(y.sum(axis=0)) and _bits(row) == _bits(y.sum(axis=1))
        assert _bits(kf.col_sums(y)) == _bits(y.sum(axis=0))


def test_sums_would_differ_in_another_order():
    """The check has teeth: a pairwise sum down the rows is not numpy's axis-0 sum here."""
    rng = np.random.default_rng(9)
    x = _table(rng, (10_008, 4))
    pairwise = np.array([np.sum(np.ascontiguousarray(x[:, s])) for s in range(4)])
    assert _bits(pairwise) != _bits(x.sum(axis=0))
    assert _bits(kf.col_sums(x)) == _bits(x.sum(axis=0))


@pytest.mark.parametrize("B,C", [(1, 2), (60, 37), (2_000, 130), (10_008, 64)])
def test_ration_is_the_numpy_code(B, C):
    rng = np.random.default_rng(B + C)
    alloc = _table(rng, (B, C))
    unmet = _table(rng, (B, 1))[:, 0].copy()
    fill = np.where(rng.random(B) < 0.3, 1.0, rng.random(B))
    want_unmet = unmet + alloc.sum(axis=1) * (1.0 - fill)
    want_alloc = alloc * fill[:, None]
    got = kf.ration(alloc, unmet, fill)
    assert _bits(got) == _bits(want_unmet)
    assert _bits(alloc) == _bits(want_alloc)  # scaled in place
    ro = alloc.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError):  # numpy's own refusal: the read-only fallback raises like numpy
        kf.ration(ro, unmet, fill)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 24, 45, 127, 128, 129, 200, 300])
def test_row_sum_is_numpys_row_sum(n):
    rng = np.random.default_rng(n)
    x = _table(rng, (6, n))
    want = x.sum(axis=1)
    got = np.array([0.0 + kf.row_sum(x, i, n) for i in range(6)])
    assert _bits(got) == _bits(want)
    if n >= 16:  # the check has teeth: a running sum along the row is another order
        running = np.zeros(6)
        for c in range(n):
            running += x[:, c]
        assert _bits(running) != _bits(want)
