"""Deliveries' (O, R) tables from the month's (B, C) allocation in one pass down its rows (issue 19).

The former kernel (``deliver_tables``, now tests/month_oracles.py) summed each column of each region
block on its own, gathering the column (one strided read of the block per column). Here every column
of a block is summed at once, row after row (contiguous reads): numpy's pairwise sum
(``model.kernels.pairwise_sum``: leaves of up to 128 items in eight accumulators, halves above)
carried out on a vector of C accumulators, so each column gets the same IEEE operations in the same
order, hence the same bits.
tests/test_kernels_deliver.py checks it bit for bit against that oracle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels import pairwise_sum


@njit(**JIT)
def _leaf_rows(a, lo, n, r, out):
    """``out[c]`` = numpy's pairwise leaf (n <= 128) of ``a[lo:lo + n, c]`` for every column;
    ``r`` (8, C) is scratch for the eight accumulators."""
    C = a.shape[1]
    if n < 8:
        for c in range(C):
            out[c] = -0.0
        for i in range(lo, lo + n):
            for c in range(C):
                out[c] += a[i, c]
        return
    for j in range(8):
        for c in range(C):
            r[j, c] = a[lo + j, c]
    m = n - n % 8
    for i in range(lo + 8, lo + m, 8):
        for j in range(8):
            for c in range(C):
                r[j, c] += a[i + j, c]
    for c in range(C):
        out[c] = ((r[0, c] + r[1, c]) + (r[2, c] + r[3, c])) + ((r[4, c] + r[5, c]) + (r[6, c] + r[7, c]))
    for i in range(lo + m, lo + n):
        for c in range(C):
            out[c] += a[i, c]


@njit(**JIT)
def pairwise_rows(a, lo, n, r, vals, out):
    """``out[c] = pairwise_sum(a[lo:lo + n, c])`` for every column c of the C-ordered (B, C) ``a``
    (numpy's pairwise sum of each column, without the leading ``0.0 +``); ``r`` (8, C) and
    ``vals`` (128, C) are scratch. The same split as ``pairwise_sum``: depth first, explicit stack."""
    C = a.shape[1]
    if n <= 128:
        _leaf_rows(a, lo, n, r, out)
        return
    seg = np.empty((128, 3), dtype=np.int64)
    nv = 0
    seg[0, 0], seg[0, 1], seg[0, 2] = lo, n, 0
    top = 1
    while top:
        top -= 1
        s_lo, s_n, state = seg[top, 0], seg[top, 1], seg[top, 2]
        if s_n <= 128:
            _leaf_rows(a, s_lo, s_n, r, vals[nv])
            nv += 1
        elif state == 1:
            nv -= 1
            for c in range(C):
                vals[nv - 1, c] = vals[nv - 1, c] + vals[nv, c]
        else:
            n2 = s_n // 2
            n2 -= n2 % 8
            seg[top, 0], seg[top, 1], seg[top, 2] = s_lo, s_n, 1
            seg[top + 1, 0], seg[top + 1, 1], seg[top + 1, 2] = s_lo + n2, s_n - n2, 0
            seg[top + 2, 0], seg[top + 2, 1], seg[top + 2, 2] = s_lo, n2, 0
            top += 3
    for c in range(C):
        out[c] = vals[0, c]


@njit(**JIT)
def deliver_tables(alloc, per_unit, cols, starts, block_region, n_off, n_regions, region_price, levy,
                   cn, vendor, n_vendors, fine, fined, is_cn):
    """The former ``deliver_tables`` (tests/month_oracles.py; same arguments, same results, same bits) with each region
    block's column sums (np.add.reduceat's: the block's first row plus the pairwise sum of the
    others) taken in one pass down the block's rows."""
    B, C = alloc.shape
    R, O = n_regions, n_off
    units = np.zeros((O, R))
    K = starts.shape[0]
    r8 = np.empty((8, C))
    vals = np.empty((128, C))
    rest = np.empty(C)
    for k in range(K):
        s0 = starts[k]
        s1 = starts[k + 1] if k + 1 < K else B
        r = block_region[k]
        if s1 - s0 > 1:
            pairwise_rows(alloc, s0 + 1, s1 - s0 - 1, r8, vals, rest)
            for c in range(C):
                units[cols[c], r] = (alloc[s0, c] + rest[c]) * per_unit[c]
        else:
            for c in range(C):
                units[cols[c], r] = alloc[s0, c] * per_unit[c]
    gross = np.empty((O, R))
    net = np.empty((O, R))
    n_cn = 0
    for o in range(O):
        if cn[o]:
            n_cn += 1
    cn_units = np.empty(n_cn * R)
    revenue = np.zeros(n_vendors)
    j = 0
    flat = net.reshape(O * R)
    for o in range(O):
        for r in range(R):
            gross[o, r] = units[o, r] * region_price[o, r]
            net[o, r] = gross[o, r] * (1.0 - levy[o, r])
            if fine == fine and fined[o] and is_cn[r]:
                net[o, r] *= 1.0 - fine
        if cn[o]:
            for r in range(R):
                cn_units[j] = units[o, r]
                j += 1
        revenue[vendor[o]] += 0.0 + pairwise_sum(flat, o * R, R)
    return units, gross, net, 0.0 + pairwise_sum(cn_units, 0, n_cn * R), revenue


def warm_up() -> None:
    """Compile (or load) the kernel for the deliveries' argument types (model.market_kernels.warm_up
    calls it)."""
    z, b = np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    u = np.zeros((2, 2))
    deliver_tables(u, z, i2, i2, i2, 2, 2, u, u, b, i2, 2, np.nan, b, b)
