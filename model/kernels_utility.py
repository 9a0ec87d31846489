"""The buyers' utility (Eq. M1) at firm-level populations, and in the porting months the free-choice
logit's exponents in the same pass (issue 19).

The former ``market_utility`` (tests/month_oracles.py) built the (B + n, C) utility; every third
month the porting decision then read it back with the availability (``kernels_logit.logit_shift``: 2 MB at 10^4
buyers, out of cache by then). Here, with ``shift``, each buyer's row of exponents is made while
its utility row is in cache: utility + switching cost, the row's maximum, the clip, as
``logit_shift`` makes them (the buyers' availability is their region block's row at this point:
no tier cap has closed a column yet). The utility's own loop reads the row's switching costs from
a small buffer filled first, a contiguous loop per row. Same IEEE operations in the same order:
the same bits (tests/test_kernels_utility.py checks both against the kernels they stand in for).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels_logit import _OFF


@njit(inline="always", **JIT)
def _shift_row(util, w, i, swr, avail, k, temperature):
    """``kernels_logit.logit_shift``'s row i (availability: block k's row) into ``w``; whether the
    row's maximum is +inf where some entry is available (inlined: no call per buyer)."""
    C = util.shape[1]
    umax = -np.inf
    any_ok = False
    for c in range(C):
        u = util[i, c] + swr[c]
        o = u > -np.inf and avail[k, c]
        any_ok = any_ok or o
        x = u - (0.0 if o else 1e300)
        umax = x if x > umax else umax
        w[i, c] = u if o else -np.inf
    for c in range(C):
        x = w[i, c]
        if x > -np.inf:
            x = x - umax
            if temperature != 1.0:
                x /= temperature
            x = 0.0 if x > 0.0 else x
            x = -700.0 if x < -700.0 else x
        else:
            x = _OFF
        w[i, c] = x
    return any_ok and umax == np.inf


@njit(**JIT)
def _mandated(cn_mandate, state_funded, region_is_cn, region):
    """The mandated share cn_mandate x state-funded x in China of each buyer (the numpy products'
    order) and the buyers where it is > 0."""
    B = region.shape[0]
    mand = np.empty(B)
    n = 0
    for i in range(B):
        mand[i] = cn_mandate * (1.0 if state_funded[i] else 0.0) * (1.0 if region_is_cn[region[i]] else 0.0)
        if mand[i] > 0:
            n += 1
    rows = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(B):
        if mand[i] > 0:
            rows[j] = i
            j += 1
    return mand, rows


@njit(**JIT)
def market_utility(log_cost, avail, counts, cn_block, beta, nv, switching, stack, alignment, is_gs, china,
                   w_gs, w_other, lo, hi, bonus, penalty, cn_col, cn_mandate, state_funded, region_is_cn, region,
                   shift, temperature):
    """The former ``market_utility``'s (tests/month_oracles.py) util, avail, mandated share and rows; with ``shift``
    also ``kernels_logit.logit_shift(util[:B], switching, stack, avail[:B], temperature)``'s
    exponents and ``special`` (else an empty (0, C) table and False)."""
    B = beta.shape[0]
    C = stack.shape[0]
    mand, rows = _mandated(cn_mandate, state_funded, region_is_cn, region)
    n = rows.shape[0]
    network = np.empty(C)
    for c in range(C):
        network[c] = nv[stack[c]]
    util = np.empty((B + n, C))
    out_av = np.empty((B + n, C), dtype=np.bool_)
    w = np.empty((B if shift else 0, C))
    special = False
    swr = np.empty(C)
    i = 0
    for k in range(counts.shape[0]):
        for _ in range(counts[k]):
            nb = -beta[i]
            wa = (w_gs if is_gs[i] else w_other) * alignment[i]
            for c in range(C):
                swr[c] = switching[i, stack[c]]
            for c in range(C):  # the former utility pass's operations in its order
                util[i, c] = ((log_cost[k, c] * nb + network[c]) - swr[c]) + wa * china[c]
            for c in range(C):
                out_av[i, c] = avail[k, c]
            if not np.isnan(bonus):
                add = (1.0 if is_gs[i] else 0.0) * bonus
                for c in range(lo, hi):
                    util[i, c] += add
            if not np.isnan(penalty):
                sub = (0.0 if cn_block[k] else 1.0) * penalty
                for c in range(lo, hi):
                    util[i, c] -= sub
            if shift and _shift_row(util, w, i, swr, avail, k, temperature):
                special = True
            i += 1
    for j in range(n):
        for c in range(C):
            util[B + j, c] = util[rows[j], c]
            out_av[B + j, c] = out_av[rows[j], c] and cn_col[c]
    return util, out_av, mand, rows, w, special


def warm_up() -> None:
    """Compile (or load) the kernel for the market's argument types (model.market_kernels.warm_up
    calls it)."""
    u, z, b = np.zeros((2, 2)), np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    lc, av = np.zeros((1, 2)), np.ones((1, 2), dtype=np.bool_)
    market_utility(lc, av, np.array([2]), b[:1].copy(), z, z, u, i2, z, b, z, 1.0, 1.0, 0, 2, np.nan, np.nan, b,
                   0.0, b, b, i2, True, 1.0)
