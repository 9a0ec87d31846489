"""Compiled inner loop of the monthly market (docs/ODD.md Eq. M1-M3), one pass per buyer row.

``model.market.clear_market`` is the interface; this module holds its kernel. Written with numba
so that the logit split, the lumpy draws and the tranche rationing read each buyer's row once per
round instead of once per numpy operation (the market is a dozen (buyers x offerings) passes in
numpy, and at 10^4 buyers those passes are most of a run). Random numbers are drawn by the caller
from the model's generator and passed in: the kernel itself is deterministic.

Semantics (the same as the numpy formulation it replaced; tests/reference_market.py keeps that
formulation and tests/test_market.py checks the two agree):

* logit (Eq. M1): softmax(U / T) over the row's available, not-blocked offerings; NaN or -inf
  utility is unavailable; T = 0 or a +inf utility gives the best alternatives equal shares;
  exponents are clipped to [-700, 0].
* lumpy procurement (Eq. M2): in the first round each row's split is ``lots`` draws by inverse CDF.
* rationing (Eq. M3): a vendor whose orders exceed what it has left releases its capacity in equal
  tranches over the remaining rounds; rows go on while more than 1e-4 of their demand is unserved
  and something not sold out is open to them.
* the outside option (Eq. M1b) is part of the first round only: the decision to do without is
  taken up front, and orders rationed out spill to other offerings (or stay unmet), not to it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT

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


@njit(**_JIT)
def _row_probs(u_row, u_out, av_row, blocked, outside, temperature, out):
    """Logit probabilities of one row into ``out`` (length O + outside): the rule of
    ``model.cluster.logit_choice`` [C7] for one row, with the sold-out mask applied."""
    O = u_row.shape[0]
    n = O + 1 if outside else O
    umax = -np.inf
    n_ok = 0
    n_inf = 0
    for o in range(n):
        if o < O:
            u = u_row[o]
            ok = av_row[o] and not blocked[o] and not np.isnan(u) and u > -np.inf
        else:
            u = u_out
            ok = not blocked[o] and not np.isnan(u) and u > -np.inf
        if ok:
            n_ok += 1
            if u > umax:
                umax = u
            if u == np.inf:
                n_inf += 1
        out[o] = u if ok else np.nan
    if n_ok == 0:
        for o in range(n):
            out[o] = 0.0
        return
    if temperature == 0.0 or n_inf > 0:  # the best alternatives share equally
        cnt = 0
        for o in range(n):
            if not np.isnan(out[o]) and out[o] == umax:
                cnt += 1
        for o in range(n):
            out[o] = 1.0 / cnt if (not np.isnan(out[o]) and out[o] == umax) else 0.0
        return
    s = 0.0
    for o in range(n):
        u = out[o]
        if np.isnan(u):
            out[o] = 0.0
        else:
            w = u - umax
            if temperature != 1.0:
                w /= temperature
            w = min(max(w, -700.0), 0.0)
            w = np.exp(w)
            out[o] = w
            s += w
    if s > 0.0:
        for o in range(n):
            out[o] /= s


@njit(**_JIT)
def _row_lumpy(p, draws, lots, cum, counts):
    """Replace the row's probabilities ``p`` by the shares of ``lots`` inverse-CDF draws."""
    n = p.shape[0]
    total = 0.0
    last = n - 1
    for o in range(n):
        total += p[o]
        cum[o] = total
    if total <= 0.0:
        for o in range(n):
            p[o] = 0.0
        return
    for o in range(n - 1, -1, -1):  # last alternative with probability > 0
        if p[o] > 0.0:
            last = o
            break
    for o in range(n):
        counts[o] = 0
    for k in range(lots):
        u = draws[k] * total
        idx = 0
        for o in range(n):
            if cum[o] < u:
                idx += 1
        counts[min(idx, last)] += 1
    for o in range(n):
        p[o] = counts[o] / lots


@njit(**_JIT)
def clear(demand, utility, available, outside_utility, outside, value, vendor_of, capacity,
          rows, draws, lots, rounds, temperature):
    """The market clearing of ``model.market.clear_market`` (see the module docstring).

    ``utility``/``available`` are (B, O); with ``outside`` the outside option is one more
    alternative (utility ``outside_utility`` (B,), always open, value 1, unlimited). ``rows`` are
    the first round's rows (``first_rows``) and ``draws`` their (len(rows), lots) uniforms.
    Returns alloc (B, O), forgone (B,), unmet (B,) and the first round's units per vendor (V,).
    """
    B, O = utility.shape
    V = capacity.shape[0]
    n_alt = O + 1 if outside else O
    rows = rows.copy()
    remaining = demand.copy()
    wanted = demand.copy()
    total = max(demand.sum(), 1.0)
    alloc = np.zeros((B, O))
    forgone = np.zeros(B)
    cap_left = np.maximum(capacity, 0.0)
    blocked = np.zeros(n_alt, dtype=np.bool_)
    first_units = np.zeros(V)
    probs = np.empty((rows.shape[0], n_alt))
    cum = np.empty(n_alt)
    counts = np.zeros(n_alt, dtype=np.int64)
    vendor_units = np.zeros(V)
    fill_o = np.ones(n_alt)
    want_o = np.zeros(n_alt)
    for rnd in range(rounds + 1):
        n = rows.shape[0]
        if n == 0:
            break
        # 1. each row's split (logit; lumpy draws in the first round) and the units it wants
        want_o[:] = 0.0
        for j in range(n):
            i = rows[j]
            u_out = outside_utility[i] if outside else 0.0
            _row_probs(utility[i], u_out, available[i], blocked, outside, temperature, probs[j])
            if rnd == 0 and lots > 0:
                _row_lumpy(probs[j], draws[j], lots, cum, counts)
            r = remaining[i]
            for o in range(n_alt):
                want_o[o] += r * probs[j, o]
        vendor_units[:] = 0.0
        for o in range(O):
            want_o[o] /= value[o]
            vendor_units[vendor_of[o]] += want_o[o]
        if rnd == 0:
            first_units[:] = vendor_units
        # 2. fill: vendors short of capacity release an equal tranche per remaining round
        tight_any = False
        for o in range(O):
            v = vendor_of[o]
            f = 1.0
            if vendor_units[v] > cap_left[v] * (1.0 + 1e-12):
                tight_any = True
                f = min(1.0, (cap_left[v] / max(rounds - rnd, 1)) / vendor_units[v])
            fill_o[o] = f
        sold = np.zeros(V)
        for o in range(O):
            sold[vendor_of[o]] += want_o[o] * fill_o[o]
        rem_total = 0.0
        for j in range(n):
            i = rows[j]
            r = remaining[i]
            got = 0.0
            for o in range(O):
                d = probs[j, o] * fill_o[o] * r
                alloc[i, o] += d
                got += d
            if outside:
                d = probs[j, O] * r
                forgone[i] += d
                got += d
            remaining[i] = max(r - got, 0.0)
        for v in range(V):
            cap_left[v] = max(cap_left[v] - sold[v], 0.0)
        for i in range(B):
            rem_total += remaining[i]
        if not tight_any or rem_total <= 1e-12 * total or rnd == rounds:
            break
        # 3. sold-out vendors close; rows with material unserved demand and an open choice go on
        for o in range(O):
            v = vendor_of[o]
            if cap_left[v] <= 1e-9 * max(capacity[v], 1.0):
                blocked[o] = True
        if outside:  # doing without is decided once, up front: rationed orders seek other suppliers
            blocked[O] = True
        keep = 0
        for j in range(n):
            i = rows[j]
            if not remaining[i] > 1e-4 * wanted[i]:
                continue
            open_ = False
            for o in range(O):
                if available[i, o] and not blocked[o]:
                    open_ = True
                    break
            if open_:
                rows[keep] = i
                keep += 1
        rows = rows[:keep]
    return alloc, forgone, remaining, first_units


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


@njit(**_MJIT)
def deliver_tables(alloc, per_unit, cols, starts, block_region, n_off, n_regions, region_price, levy,
                   cn, vendor, n_vendors, fine, fined, is_cn):
    """Deliveries' (O, R) tables from the month's (B, C) allocation: units (the buyers' rows summed
    per region block as np.add.reduceat sums them, times units per effective H100e), gross
    (x region price), net (x (1 - levy), and x (1 - ``fine``) on the ``fined`` rows in China
    unless ``fine`` is NaN); the Chinese offerings' units in total and each vendor's net revenue
    (row sums, np.bincount's order), all with the numpy code's sums."""
    B, C = alloc.shape
    R, O = n_regions, n_off
    units = np.zeros((O, R))
    rest = np.empty(B)
    K = starts.shape[0]
    for k in range(K):
        s0 = starts[k]
        s1 = starts[k + 1] if k + 1 < K else B
        r = block_region[k]
        for c in range(C):
            # np.add.reduceat's sum: the block's first row plus the pairwise sum of the others
            for i in range(s0 + 1, s1):
                rest[i - s0 - 1] = alloc[i, c]
            acc = alloc[s0, c] + pairwise_sum(rest, 0, s1 - s0 - 1) if s1 - s0 > 1 else alloc[s0, c]
            units[cols[c], r] = acc * per_unit[c]
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
    """Compile (or load from the on-disk cache) the kernels for the argument types the market
    uses, on a two-buyer market. The sweep runner's fork server calls this once, so that every
    worker it forks starts with the machine code in memory."""
    demand = np.ones(2)
    u = np.zeros((2, 2))
    available = np.ones((2, 2), dtype=np.bool_)
    rows = first_rows(demand, available, True)
    clear(demand, u, available, np.zeros(2), True, np.ones(2), np.arange(2, dtype=np.int64),
          np.ones(2), rows, np.full((rows.size, 1), 0.5), 1, 1, 1.0)
    z, b = np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    ro = z.copy()
    ro.flags.writeable = False  # the regions' weights, read-only as the run passes them
    a0, _, _ = bass_weights(b, b, z, ro, i2)
    bass_demand(a0, z, 0.5, b, z, i2, z, z)
    deliver_tables(u, z, i2, i2, i2, 2, 2, u, u, b, i2, 2, np.nan, b, b)
    from model import market_kernels, month_kernels  # the month's other compiled passes

    month_kernels.warm_up()
    market_kernels.warm_up()
