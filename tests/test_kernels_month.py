"""model/kernels_month.py: the mandated rows folded back in place give month_kernels.fold_rows's
bits (which copies), and anything it does not take goes to that function."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_month, month_kernels


def _case(seed: int, B: int, n: int, C: int):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(B, n, replace=False)).astype(np.int64)
    alloc = rng.random((B + n, C)) * 10.0 ** rng.uniform(-3, 8, (B + n, C))
    return alloc, rng.random(B + n) * 1e3, rng.random(B + n) * 1e5, rows


@pytest.mark.parametrize("B,n,C", [(5, 0, 3), (40, 7, 12), (10_008, 589, 24)])
def test_fold_in_place_is_the_copying_fold(B, n, C):
    alloc, unmet, forgone, rows = _case(B + n, B, n, C)
    want = month_kernels.fold_rows(alloc, unmet, forgone, B, rows)
    got = kernels_month.fold_rows(alloc.copy(), unmet.copy(), forgone.copy(), B, rows)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.flags.c_contiguous and g.tobytes() == w.tobytes()
    if n:
        assert want[0].tobytes() != alloc[:B].tobytes()  # the fold changed something


def test_other_inputs_go_to_the_copying_fold():
    alloc, unmet, forgone, rows = _case(3, 30, 4, 5)
    for args in ((np.asfortranarray(alloc), unmet, forgone, 30, rows),  # another layout
                 (alloc, unmet, forgone, 30, rows[::-1].copy())):  # rows not in order
        keep = args[0].copy()
        want = month_kernels.fold_rows(alloc, unmet, forgone, 30, args[4])
        got = kernels_month.fold_rows(*args)
        assert all(g.tobytes() == w.tobytes() for g, w in zip(got, want))
        assert np.array_equal(args[0], keep)  # the fallback copies: its input unchanged
