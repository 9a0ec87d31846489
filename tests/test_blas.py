"""The month's large products run on one BLAS thread (model/blas.py, issue 19): limited from
THREADED_ROWS rows, restored after, and the tables are those of unlimited products."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from model import blas
from model.market_model import ChipMarketModel


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_thread_limits_only_large_products_and_restores():
    before = _blas_threads()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    with blas.one_thread(blas.THREADED_ROWS - 1):
        assert _blas_threads() == before  # small products: untouched
    with blas.one_thread(blas.THREADED_ROWS):
        assert _blas_threads() == [1] * len(before)
        a = np.ones((blas.THREADED_ROWS, 3)) @ np.ones((3, 2))
        assert a.shape == (blas.THREADED_ROWS, 2) and (a == 3.0).all()
    assert _blas_threads() == before


def test_tables_with_one_thread_equal_the_unlimited_products(monkeypatch):
    """A population above the threshold (about 1,000 buyers): the same tables, bit for bit,
    whether the products run on one thread or on as many as BLAS likes."""
    def tables():
        m = ChipMarketModel(rng=3, n_firms_per_country=58, n_firms_per_hyperscaler_region=58, end="2027-12")
        assert len(m.buyers.ids) >= 256
        m.run_model()
        return m.tables()

    limited = tables()
    monkeypatch.setattr(blas, "THREADED_ROWS", 10**12)  # never limited
    free = tables()
    for name in limited:
        a, b = limited[name], free[name]
        assert a.columns.tolist() == b.columns.tolist()
        for c in a.columns:
            x, y = a[c].to_numpy(), b[c].to_numpy()
            assert x.tobytes() == y.tobytes() if x.dtype != object else x.tolist() == y.tolist(), (name, c)
