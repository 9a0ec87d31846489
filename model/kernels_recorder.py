"""The recorder's month in one compiled pass (issue 19): the regional sums, the fifteen-column
model row's computed metrics and the vendors' sale rows, instead of some forty numpy calls and
Python list passes on arrays of a few dozen numbers.

Every value is the one the general code in model/components/recorder.py (``Recorder._record``)
gives, bit for bit: the same IEEE operations in the same order - numpy's pairwise sums
(``0.0 + kernels.pairwise_sum``, np.sum's identity first), the stack sums down the rows from the
first, the short sums left to right from -0.0, the C library's log (scipy's entr, math.log) and
Python's max/min tie rules. Where the general code would raise or take another path, the kernel
returns a non-zero flag and the caller runs the general code for that month.
tests/test_recorder_kernel.py checks the two against each other.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels import pairwise_sum
from model.metrics import _LN2, RATIO_CAP, _entr_nb, bifurcation_nb, dual_stack_share_nb

# nogil=False: the kernel keeps the GIL (it is called once a month from Python, nothing gains from
# releasing it). With nogil=True the dashboard's browser test (tests/test_dashboard_browser.py) lost
# its Pause click in each of 7 runs, and passed in each of 3 with the GIL kept; the cause is not known.
_JIT = {**JIT, "nogil": False}  # model/core/_jit.py, holding the GIL

# slots of the values vector month_rows returns (the model table's order, model/outputs.py),
# then the S world shares hhi_world's np.dot reads
BIF, JSD, HHI, TOP, CN_DOM, CN_UNIT, CN_VALUE, NV_CN, GS_CUDA, GS_CANN, GS_DUAL, RATIO = range(12)
N_COMPUTED = 12
# flag bits: which general function must run (and raise, or take its numpy path) instead
F_BIF, F_JSD, F_DUAL, F_RATIO = 1, 2, 4, 8


@njit(**_JIT)
def by_region3(a, b, c, region, starts, n_regions):
    """``BuyerArrays.by_region(np.hstack([a, b, c]))`` in one compiled pass: each region's rows
    (buyers sorted by region, ``starts`` their first rows) as ``np.add.reduceat`` adds them, the
    first row plus the pairwise sum of the others down each column; regions without buyers zero."""
    B, S_ = a.shape
    out = np.zeros((n_regions, 3 * S_))
    for k in range(starts.shape[0]):
        lo = starts[k]
        hi = starts[k + 1] if k + 1 < starts.shape[0] else B
        r = region[lo]
        for j in range(S_):
            if hi - lo > 1:
                out[r, j] = a[lo, j] + pairwise_sum(a[:, j], lo + 1, hi - lo - 1)
                out[r, S_ + j] = b[lo, j] + pairwise_sum(b[:, j], lo + 1, hi - lo - 1)
                out[r, 2 * S_ + j] = c[lo, j] + pairwise_sum(c[:, j], lo + 1, hi - lo - 1)
            else:
                out[r, j] = a[lo, j]
                out[r, S_ + j] = b[lo, j]
                out[r, 2 * S_ + j] = c[lo, j]
    return out


@njit(**_JIT)
def _colsum(x, rows):
    """``x[rows].sum(axis=0)`` of an (R, S) block: down the rows in order from the first (zeros
    for no row), as recorder._colsums adds them."""
    S_ = x.shape[1]
    acc = np.zeros(S_)
    if rows.shape[0] == 0:
        return acc
    for j in range(S_):
        acc[j] = x[rows[0], j]
    for k in range(1, rows.shape[0]):
        for j in range(S_):
            acc[j] = acc[j] + x[rows[k], j]
    return acc


@njit(**_JIT)
def _lsum(v):
    """metrics._lsum: left to right from -0.0 (0.0 if empty)."""
    if v.shape[0] == 0:
        return 0.0
    s = -0.0
    for i in range(v.shape[0]):
        s += v[i]
    return s


@njit(**_JIT)
def _shares(v):
    """metrics.shares_list of fewer than 8 values."""
    t = _lsum(v)
    out = np.zeros(v.shape[0])
    if t > 0:
        for i in range(v.shape[0]):
            out[i] = v[i] / t
    return out


@njit(**_JIT)
def _clamp01(v):
    """``float(min(1.0, max(0.0, v)))`` with Python's tie rules (max(0.0, -0.0) is 0.0)."""
    m = v if v > 0.0 else 0.0
    return m if m < 1.0 else 1.0


@njit(**_JIT)
def _jsd(p, q):
    """metrics.bloc_jsd_lists of two S-vectors; NaN where its check would raise."""
    for i in range(p.shape[0]):
        if not (0.0 <= p[i] < np.inf):
            return np.nan
    for i in range(q.shape[0]):
        if not (0.0 <= q[i] < np.inf):
            return np.nan
    sa = _lsum(p)
    sb = _lsum(q)
    if sa <= 0.0 or sb <= 0.0:
        return 0.0
    n = p.shape[0]
    hm = -0.0
    ha = -0.0
    hb = -0.0
    for i in range(n):
        hm += _entr_nb(0.5 * (p[i] / sa + q[i] / sb))
    for i in range(n):
        ha += _entr_nb(p[i] / sa)
    for i in range(n):
        hb += _entr_nb(q[i] / sb)
    if n == 0:
        hm, ha, hb = 0.0, 0.0, 0.0
    jsd = hm / _LN2 - 0.5 * (ha / _LN2 + hb / _LN2)
    return _clamp01(jsd)


@njit(**_JIT)
def _sum_sel(v, sel, buf):
    """np.sum of ``v[sel]`` (a boolean selection, made contiguous): 0.0 + the pairwise sum."""
    m = 0
    for i in range(v.shape[0]):
        if sel[i]:
            buf[m] = v[i]
            m += 1
    return 0.0 + pairwise_sum(buf, 0, m)


@njit(**_JIT)
def _stack_metrics(inst, rows_us, rows_cn, rows_gs, rows_all, cuda, cann, vals):
    """The metrics of the (R, S) installed block into ``vals`` (and the world's shares after the
    slots); the flag bits of those it leaves to the general code."""
    R, S_ = inst.shape
    us_sh = _colsum(inst, rows_us)
    cn_sh = _colsum(inst, rows_cn)
    gs_inst = _colsum(inst, rows_gs)
    ws2 = _shares(_shares(_colsum(inst, rows_all)))  # hhi and top share normalise their input again
    flag = 0
    top = 0.0
    for j in range(S_):
        vals[N_COMPUTED + j] = ws2[j]
        if j == 0 or ws2[j] > top:  # Python's max: the first of equal values
            top = ws2[j]
    vals[TOP] = top
    v = bifurcation_nb(inst) if R * S_ <= 128 and S_ < 8 else np.nan
    if v == v:
        vals[BIF] = _clamp01(v)
    else:
        flag |= F_BIF
    v = _jsd(us_sh, cn_sh)
    if v == v:
        vals[JSD] = v
    else:
        flag |= F_JSD
    gs_total = _lsum(gs_inst)
    vals[GS_CUDA] = gs_inst[cuda] / gs_total if gs_total > 0 else 0.0
    vals[GS_CANN] = gs_inst[cann] / gs_total if gs_total > 0 else 0.0
    a, b = _lsum(us_sh), _lsum(cn_sh)  # metrics.compute_ratio
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b < 0:
        flag |= F_RATIO
    elif b == 0.0:
        vals[RATIO] = 1.0 if a == 0.0 else RATIO_CAP
    else:
        r = a / b
        vals[RATIO] = RATIO_CAP if RATIO_CAP < r else r
    return flag


@njit(**_JIT)
def _china_metrics(units, gross, net, c1, peak, off_cn, nv_rows, vals):
    """China's purchases by offering (units x H100e, units, spend): the domestic parts of their
    totals; Nvidia's revenue from China's column over all of it (its rows flattened in order)."""
    O = units.shape[0]
    rows = np.empty((3, O))
    for o in range(O):
        u = units[o, c1] + 0.0  # a sum over one column: 0.0 + that column
        rows[0, o] = u * peak[o]
        rows[1, o] = u
        rows[2, o] = gross[o, c1] + 0.0
    Rc = net.shape[1]
    k_nv = nv_rows.shape[0]
    buf = np.empty(max(O, k_nv * Rc))
    for k in range(3):
        tot = 0.0 + pairwise_sum(rows[k], 0, O)
        dom = _sum_sel(rows[k], off_cn, buf)
        vals[CN_DOM + k] = dom / tot if tot > 0 else np.nan
    for i in range(k_nv):
        for j in range(Rc):
            buf[i * Rc + j] = net[nv_rows[i], j]
    nv_total = 0.0 + pairwise_sum(buf, 0, k_nv * Rc)
    for i in range(k_nv):
        buf[i] = net[nv_rows[i], c1]
    nv_cn = 0.0 + pairwise_sum(buf, 0, k_nv)
    vals[NV_CN] = nv_cn / nv_total if nv_total > 0 else np.nan


@njit(**_JIT)
def _sales(units, net, region_price, off_vendor, cap):
    """The vendors' sale rows: np.flatnonzero(units > 0) and, one row each, the units, revenue,
    buyers' price and the vendor's capacity of the cells it selects."""
    O, Rc = units.shape
    n = 0
    for o in range(O):
        for r in range(Rc):
            if units[o, r] > 0:
                n += 1
    flat = np.empty(n, dtype=np.int64)
    sales = np.empty((4, n))
    n = 0
    for o in range(O):
        for r in range(Rc):
            if units[o, r] > 0:
                flat[n] = o * Rc + r
                sales[0, n] = units[o, r]
                sales[1, n] = net[o, r]
                sales[2, n] = region_price[o, r]
                sales[3, n] = cap[off_vendor[o]]
                n += 1
    return flat, sales


@njit(**_JIT)
def month_rows(fleet_eff, fleet_peak, purchases_peak, region, starts, n_regions, rows_us, rows_cn, rows_gs,
               rows_all, units, gross, net, region_price, c1, peak, off_cn, off_vendor, nv_rows, cap,
               share, is_gs, active, bounded, cuda, cann):
    """The recorder's month for one Chinese region (column ``c1``) and C-ordered (O, R) money
    arrays: (by_region, values, flag, flat, sales). ``values`` holds the computed metrics in the
    slots above, clamped to [0, 1] where ``bounded`` (as the recorder's UNIT_METRICS loop), then
    the world's stack shares; ``flat`` and ``sales`` are _sales'."""
    by_region = by_region3(fleet_eff, fleet_peak, purchases_peak, region, starts, n_regions)
    S_ = fleet_eff.shape[1]
    vals = np.zeros(N_COMPUTED + S_)
    flag = _stack_metrics(by_region[:, :S_], rows_us, rows_cn, rows_gs, rows_all, cuda, cann, vals)
    _china_metrics(units, gross, net, c1, peak, off_cn, nv_rows, vals)
    v = dual_stack_share_nb(fleet_eff, share, is_gs, active, 0.10)
    if v == v:
        vals[GS_DUAL] = v
    else:
        flag |= F_DUAL
    for k in range(N_COMPUTED):  # the UNIT_METRICS clamp: finite values outside [0, 1]
        v = vals[k]
        if bounded[k] and not (0.0 <= v <= 1.0) and math.isfinite(v):
            vals[k] = 0.0 if v < 0.0 else 1.0
    flat, sales = _sales(units, net, region_price, off_vendor, cap)
    return by_region, vals, flag, flat, sales
