"""The recorder's month on Python floats (issue 19): its stack sums are numpy's bit for bit, on
the strided (R, S) view it reads; the vendor rows kept as flat indices give np.argwhere's pairs."""

from __future__ import annotations

import numpy as np
import pytest

from model.components.recorder import S, _by_region3, _colsums
from model.market_model import ChipMarketModel


def test_colsums_are_numpys_on_the_strided_view():
    rng = np.random.default_rng(7)
    for _ in range(3000):
        big = np.exp(rng.uniform(-30, 30, (17, 3 * S))) * (rng.uniform(size=(17, 3 * S)) < 0.75)
        x = big[:, :S]  # as the recorder slices its by-region block
        rows = x.tolist()
        for idx in ([], [2], [0, 3, 5, 9, 16], list(range(3, 14)), list(range(17))):
            want = x[np.array(idx, dtype=np.int64)].sum(axis=0)
            assert np.array(_colsums(rows, idx)).tobytes() == want.tobytes()
        assert np.array(_colsums(rows, list(range(17)))).tobytes() == x.sum(axis=0).tobytes()


def test_vendor_rows_and_efficiency_columns():
    m = ChipMarketModel(rng=2, end="2023-12")
    m.run_model()
    t = m.tables()
    v, a = t["vendors"], t["adoption"]
    R = len(m.regions)
    rec = m.recorder.records["vendors"][-1]
    rows, cols = np.divmod(rec[2], R)
    last = v[v["step"] == v["step"].max()]
    assert list(last["product"]) == [m.offerings.ids[o] for o in rows]
    assert list(last["region"]) == [m.regions.ids[r] for r in cols]
    assert (last["units"].to_numpy() > 0).all()
    # each month's software efficiency is one (S,) vector repeated over its R regions
    eff = a["software_efficiency"].to_numpy().reshape(-1, R, S)
    assert (eff == eff[:, :1, :]).all()
    assert eff[-1, 0].tolist() == m.recorder.records["adoption"][-1][5].tolist()


@pytest.mark.parametrize("n", [1, 2, 7, 9, 17, 130, 1000, 9000])
def test_by_region3_is_by_region_of_the_stacked_columns(n):
    """The compiled regional sums are np.add.reduceat's bit for bit (its first row plus the
    pairwise sum of the rest, past 128 and 8192 rows too), empty regions zero."""
    from types import SimpleNamespace

    from model.components.buyers import BuyerArrays

    rng = np.random.default_rng(n)
    for _ in range(20 if n < 1000 else 3):
        R = 6
        reg = np.sort(rng.integers(0, R - 1, n))  # the last region has no buyer
        starts = np.flatnonzero(np.r_[True, reg[1:] != reg[:-1]])
        xs = [np.exp(rng.uniform(-20, 20, (n, S))) * (rng.uniform(size=(n, S)) < 0.8) for _ in range(3)]
        b = SimpleNamespace(region=reg, region_starts=starts, n_regions=R)
        want = BuyerArrays.by_region(b, np.hstack(xs))
        got = _by_region3(*xs, reg, starts, R)
        assert got.tobytes() == want.tobytes()
        assert not got[R - 1].any()


def test_recorder_warm_up_compiles_its_kernels():
    from model import metrics
    from model.components import recorder

    recorder.warm_up()
    for f in (recorder._by_region3, metrics.bifurcation_nb, metrics.dual_stack_share_nb):
        assert f.signatures


@pytest.mark.parametrize("k", [1, 3, 8, 9, 40, 129, 300])
def test_one_chinese_region_shortcut_is_the_masked_sum(k):
    """With one Chinese region the recorder reads that column: the masked sums' bits exactly."""
    rng = np.random.default_rng(k)
    for _ in range(50):
        R = 17
        x = np.exp(rng.uniform(-30, 30, (k, R))) * (rng.uniform(size=(k, R)) < 0.7)
        x[rng.integers(k), :] = -0.0
        mask = np.zeros(R, dtype=bool)
        c = int(rng.integers(R))
        mask[c] = True
        assert (x[:, c] + 0.0).tobytes() == x[:, mask].sum(axis=1).tobytes()  # -0.0: the sum is +0.0
        assert np.float64(x[:, c].sum()).tobytes() == np.float64(x[:, mask].sum()).tobytes()
