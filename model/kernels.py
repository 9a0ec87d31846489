"""Compiled passes of the monthly market (docs/ODD.md Eq. M1-M3): the first round's rows of the
clearing and numpy's summation order for the month's passes with sums.

The clearing kernel itself, ``clear``, lives in model/kernels_clear.py (its semantics are in that
module's docstring) and is re-exported here as ``model.kernels.clear``."""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels_clear import clear  # noqa: F401 (re-exported: model.kernels.clear)

# Kernel compile options: cached on disk (first call in a fresh checkout compiles, ~seconds),
# no fastmath (IEEE semantics: results must not depend on the machine's vector width).
_JIT = dict(cache=True, nogil=True, fastmath=False)


@njit(**_JIT)
def first_rows(demand, available, outside):
    """Rows that take part in the first round: positive demand and at least one open alternative."""
    B, O = available.shape
    keep = np.zeros(B, dtype=np.bool_)
    for i in range(B):
        if demand[i] > 0.0:
            if outside:
                keep[i] = True
            else:
                for o in range(O):
                    if available[i, o]:
                        keep[i] = True
                        break
    return np.flatnonzero(keep)


# ---- Month passes with sums (Deliveries, the Bass timing): numpy's summation order -----------
# np.sum of a contiguous float64 run is a pairwise sum (eight accumulators over blocks of up to
# 128, halves above); ``pairwise_sum`` repeats it, so these passes keep the numpy code's bits
# (tests/test_market_speed2.py checks it against np.sum at many sizes); model/core/_jit.py's options:
_MJIT = JIT  # error_model "numpy": x / 0 is inf or NaN, not an exception


@njit(**_MJIT)
def _pairwise_block(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]`` for n <= 128 (its unrolled leaf, from -0.0)."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    m = n - n % 8
    for i in range(lo + 8, lo + m, 8):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(lo + m, lo + n):
        res += a[i]
    return res


@njit(**_MJIT)
def pairwise_sum(a, lo, n):
    """numpy's inner pairwise sum of ``a[lo:lo + n]`` (any 1-D float64 view): np.sum is
    ``0.0 + this`` (its identity first), an np.add.reduceat block its first item + this of the
    rest. Above 128 the halves (the first a multiple of 8), then added; without recursion (a
    recursive kernel loaded from numba's disk cache crashes): depth first on an explicit stack."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    seg = np.empty((128, 3), dtype=np.int64)  # (lo, n, 0 = to split / 1 = to add), depth <= 2 log2(n)
    vals = np.empty(128)
    top, nv = 0, 0
    seg[0, 0], seg[0, 1], seg[0, 2] = lo, n, 0
    top = 1
    while top:
        top -= 1
        s_lo, s_n, state = seg[top, 0], seg[top, 1], seg[top, 2]
        if s_n <= 128:
            vals[nv] = _pairwise_block(a, s_lo, s_n)
            nv += 1
        elif state == 1:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        else:
            n2 = s_n // 2
            n2 -= n2 % 8
            seg[top, 0], seg[top, 1], seg[top, 2] = s_lo, s_n, 1
            seg[top + 1, 0], seg[top + 1, 1], seg[top + 1, 2] = s_lo + n2, s_n - n2, 0
            seg[top + 2, 0], seg[top + 2, 1], seg[top + 2, 2] = s_lo, n2, 0
            top += 3
    return vals[0]


@njit(**_MJIT)
def bass_weights(active, is_gs, share, region_weight, region):
    """The Bass timing's inputs (model.market.bass_start as the market calls it): ``active |
    ~is_gs``, the demand weights' total and the active weights' total (np.sum's order)."""
    B = active.shape[0]
    a0 = np.empty(B, dtype=np.bool_)
    w = np.empty(B)
    wa = np.empty(B)
    for i in range(B):
        a0[i] = active[i] or not is_gs[i]
        w[i] = share[i] * region_weight[region[i]] if is_gs[i] else 0.0
        wa[i] = w[i] * (1.0 if a0[i] else 0.0)
    return a0, 0.0 + pairwise_sum(w, 0, B), 0.0 + pairwise_sum(wa, 0, B)


@njit(**_MJIT)
def bass_demand(a0, draws, hazard, is_gs, region_demand, region, share, noise):
    """Buyers starting this month (``draws`` < ``hazard`` among the inactive), the new ``active``
    (Global-South timing only) and each buyer's demand rd[r(b)] * share * noise * active."""
    B = a0.shape[0]
    active = np.empty(B, dtype=np.bool_)
    demand = np.empty(B)
    for i in range(B):
        active[i] = a0[i] or (not a0[i] and draws[i] < hazard) or not is_gs[i]
        demand[i] = region_demand[region[i]] * share[i] * noise[i] * (1.0 if active[i] else 0.0)
    return active, demand


def warm_up() -> None:
    """Compile (or load from the on-disk cache) the kernels for the argument types the market
    uses, on a two-buyer market. The sweep runner's fork server calls this once, so that every
    worker it forks starts with the machine code in memory."""
    demand = np.ones(2)
    u = np.zeros((2, 2))
    available = np.ones((2, 2), dtype=np.bool_)
    rows = np.arange(2, dtype=np.int64)  # first_rows' (the month calls it inside first_rows_checked)
    clear(demand, u, available, np.zeros(2), True, np.ones(2), np.arange(2, dtype=np.int64),
          np.ones(2), rows, np.full((rows.size, 1), 0.5), 1, 1, 1.0)
    z, b = np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    ro = z.copy()
    ro.flags.writeable = False  # the regions' weights, read-only as the run passes them
    a0, _, _ = bass_weights(b, b, z, ro, i2)
    bass_demand(a0, z, 0.5, b, z, i2, z, z)
    from model import market_kernels, month_kernels  # the month's other compiled passes

    month_kernels.warm_up()
    market_kernels.warm_up()
