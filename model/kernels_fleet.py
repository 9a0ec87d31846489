"""Compiled sums over the buyers' (B, S) fleets and the power-rationed allocation (issue 19).

At firm-level populations (10^4 buyers and more) each numpy reduction over a (buyers x stacks)
or (buyers x offerings) array is a pass of its own, several a month. These kernels make one pass
each and keep numpy's bits: ``x.sum(axis=0)`` of a C-ordered (B, S) array with S > 1 is numpy's
running sum down the rows, from its identity 0.0; ``x.sum(axis=1)`` is 0.0 plus numpy's pairwise
sum of each row (``model.kernels.pairwise_sum``). tests/test_kernels_fleet.py checks them bit for
bit against numpy; anything they do not take (another dtype or layout) goes to numpy itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels import pairwise_sum


@njit(**JIT)
def _fleet_sums(x):
    B, S = x.shape
    col = np.zeros(S)
    row = np.empty(B)
    for i in range(B):
        t = -0.0  # numpy's pairwise sum of fewer than 8 items: in order, from -0.0
        for s in range(S):
            v = x[i, s]
            col[s] += v
            t += v
        row[i] = 0.0 + (t if S < 8 else pairwise_sum(x[i], 0, S))
    return col, row


@njit(**JIT)
def _col_sums(x):
    B, S = x.shape
    col = np.zeros(S)
    for i in range(B):
        for s in range(S):
            col[s] += x[i, s]
    return col


@njit(**JIT)
def row_sum(a, i, n):
    """numpy's pairwise sum of ``a[i, :n]`` (``pairwise_sum(a[i], 0, n)``: np.sum of the row is
    ``0.0 +`` this), its leaf (n <= 128) read in place: no row view and no call per row."""
    if n > 128:
        return pairwise_sum(a[i], 0, n)
    if n < 8:
        res = -0.0
        for c in range(n):
            res += a[i, c]
        return res
    r0, r1, r2, r3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
    r4, r5, r6, r7 = a[i, 4], a[i, 5], a[i, 6], a[i, 7]
    m = n - n % 8
    for c in range(8, m, 8):
        r0 += a[i, c]
        r1 += a[i, c + 1]
        r2 += a[i, c + 2]
        r3 += a[i, c + 3]
        r4 += a[i, c + 4]
        r5 += a[i, c + 5]
        r6 += a[i, c + 6]
        r7 += a[i, c + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for c in range(m, n):
        res += a[i, c]
    return res


@njit(**JIT)
def _ration(alloc, unmet, fill):
    B, C = alloc.shape
    out = np.empty(B)
    for i in range(B):
        f = fill[i]
        out[i] = unmet[i] + (0.0 + row_sum(alloc, i, C)) * (1.0 - f)
        if f != 1.0:  # x * 1.0 is x
            for c in range(C):
                alloc[i, c] *= f
    return out


def _takes(x: np.ndarray) -> bool:
    """A C-ordered float64 (B, S) array with S > 1 (S == 1 sums down a contiguous column, which
    numpy does pairwise)."""
    return (type(x) is np.ndarray and x.dtype == np.float64 and x.ndim == 2 and x.shape[1] > 1
            and x.flags.c_contiguous)


def _rows_of(x: np.ndarray) -> bool:
    """A float64 (B, S) array, S > 1, laid out row by row with contiguous rows (a C-ordered array
    or a block of its columns, as the month's purchases are): numpy sums it down the rows too."""
    return (type(x) is np.ndarray and x.dtype == np.float64 and x.ndim == 2 and x.shape[1] > 1
            and x.strides[1] == 8 and x.strides[0] >= 8 * x.shape[1])


def fleet_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x.sum(axis=0), x.sum(axis=1))`` of a (B, S) fleet in one pass."""
    if not _takes(x):
        return x.sum(axis=0), x.sum(axis=1)
    return _fleet_sums(x)


def col_sums(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=0)`` of a (B, S) fleet (the world's installed base by stack) or of a block of
    columns of a wider C-ordered table (the month's purchases by stack)."""
    return _col_sums(x) if _rows_of(x) else x.sum(axis=0)


def ration(alloc: np.ndarray, unmet: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Power rationing (Eq. N2): returns ``unmet + alloc.sum(axis=1) * (1.0 - fill)`` and scales
    ``alloc`` by ``fill[:, None]`` in place, in one pass over the allocation."""
    ok = (_takes(alloc) and alloc.flags.writeable
          and all(type(a) is np.ndarray and a.dtype == np.float64 and a.shape == (alloc.shape[0],)
                  for a in (unmet, fill)))
    if not ok:
        out = unmet + alloc.sum(axis=1) * (1.0 - fill)
        alloc *= fill[:, None]
        return out
    return _ration(alloc, unmet, fill)


def warm_up() -> None:
    """Compile (or load) the kernels for the model's argument types."""
    x = np.ones((2, 2))
    fleet_sums(x)
    col_sums(x)
    col_sums(np.ones((2, 4))[:, :2])  # the month's purchases: a block of the deliveries' columns
    ration(x, np.zeros(2), np.ones(2))
