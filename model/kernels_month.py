"""The month's market passes at firm-level populations that spare a (B, C) copy (issue 19).

``month_kernels.fold_rows`` copies the first B rows of the clearing's (B + n, C) allocation to
add the n mandated rows back onto their buyers; the clearing's arrays are the month's own (fresh
from the clearing kernel, read by nothing else), so here the rows are added in place and the first
B rows returned as views: the same additions, so the same bits (tests/test_kernels_month.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT


@njit(**JIT)
def fold_rows_into(alloc, unmet, forgone, n_main, rows):
    """``month_kernels.fold_rows`` in place: ``x[rows[j]] += x[n_main + j]`` for alloc (B + n, C),
    unmet and forgone (rows distinct, < n_main), then their first ``n_main`` rows (views)."""
    C = alloc.shape[1]
    for j in range(rows.shape[0]):
        i = rows[j]
        for c in range(C):
            alloc[i, c] += alloc[n_main + j, c]
        unmet[i] += unmet[n_main + j]
        forgone[i] += forgone[n_main + j]
    return alloc[:n_main], unmet[:n_main], forgone[:n_main]


def fold_rows(alloc: np.ndarray, unmet: np.ndarray, forgone: np.ndarray, n_main: int,
              rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clearing's mandated rows folded back onto their buyers, in place where the arrays are
    C-ordered, writable float64 and the rows distinct buyers below ``n_main`` (the market's);
    otherwise ``month_kernels.fold_rows`` (copies)."""
    n = rows.shape[0]
    ok = (all(type(x) is np.ndarray and x.dtype == np.float64 and x.flags.c_contiguous and x.flags.writeable
              and x.shape[0] == n_main + n for x in (alloc, unmet, forgone))
          and alloc.ndim == 2 and unmet.ndim == 1 and forgone.ndim == 1 and rows.dtype == np.int64
          and (n == 0 or (rows.min() >= 0 and rows.max() < n_main and (np.diff(rows) > 0).all())))
    if not ok:
        from model import month_kernels
        return month_kernels.fold_rows(alloc, unmet, forgone, n_main, rows)
    return fold_rows_into(alloc, unmet, forgone, n_main, rows)


def warm_up() -> None:
    """Compile (or load) the kernel for the market's argument types (model.market_kernels.warm_up
    calls it)."""
    fold_rows(np.zeros((3, 2)), np.zeros(3), np.zeros(3), 2, np.zeros(1, dtype=np.int64))
