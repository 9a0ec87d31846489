"""Compiled passes of the month's market phases besides the clearing (model/kernels.py): the
buyers' utility, portability and switching cost, the rule engine's availability tables and the
pricing's cost per useful work. Each keeps the IEEE operations of the numpy formulation it
replaces, in the same order (no fastmath, no reassociation, no transcendental functions: those
stay in numpy, whose implementations may differ from libm's in the last bit), so results are
bit for bit those of the numpy code; tests/test_market_speed.py checks each against it. Arrays
are tiny (dozens of buyers, offerings and regions): the gain is one call instead of a dozen.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels import pairwise_sum

# as model/kernels.py: cached on disk (a fresh checkout compiles once, ~seconds), IEEE semantics;
# error_model "numpy": x / 0 is inf or NaN as in the numpy code, not Python's ZeroDivisionError
_JIT = JIT  # model/core/_jit.py


@njit(**_JIT)
def availability(controlled, dest, lic_rows, lic_regions, lic_levy, lic_approval, compliance, parent_idx,
                 cn_vendor, tier1, buys_cn, banned, is_cn):
    """``model.policy.availability``'s (O, R) tables from its masks, in one pass (the rule
    engine's numpy formulation, licences in order; tests/test_market_speed.py checks it):
    ``lic_rows`` (L, O) and ``lic_regions`` (L, R) are the licences in force, ``banned`` (O,)
    China's bans. Returns available (bool), levy and approval."""
    O, R = controlled.shape[0], dest.shape[0]
    L = lic_rows.shape[0]
    available = np.empty((O, R), dtype=np.bool_)
    levy = np.zeros((O, R))
    approval = np.ones((O, R))
    for o in range(O):
        po = parent_idx[o]
        parent_ctl = controlled[po] if po >= 0 else True
        for r in range(R):
            blocked = controlled[o] and dest[r]
            lv = 0.0
            ap = 1.0
            for k in range(L):
                if lic_rows[k, o] and lic_regions[k, r]:
                    x = lic_levy[k]
                    if not np.isnan(lv) and not lv >= x:  # np.maximum (NaN propagates)
                        lv = x
                    if blocked:
                        y = lic_approval[k]
                        if not np.isnan(ap) and not ap <= y:  # np.minimum
                            ap = y
                    blocked = False
            ok = not blocked
            if compliance[o] and (not parent_ctl or not dest[r]):
                ok = False
            if not buys_cn and cn_vendor[o] and tier1[r]:
                ok = False
            if banned[o] and is_cn[r]:
                ok = False
            available[o, r] = ok
            levy[o, r] = lv
            approval[o, r] = ap
    return available, levy, approval


@njit(**_JIT)
def unit_cost(idx, n, watts, price, elec, pue, levy, levy_share, cn, is_cn, subsidy, crf, value, bundle,
              is_gs, discount, hours_month, hours_year, power_fraction):
    """The pricing phase's cost per useful work (O, R) (Eq. M5b): ``model.core.choice._hourly_cost``
    of the offerings ``idx`` (``n``, ``watts``, ``price`` per row of ``idx``) divided by the units in
    use, x hours per month / ``value``; inf for the others; the CANN bundle discount on the rows
    ``bundle`` x regions ``is_gs`` (when ``discount`` is not NaN). The numpy formulation's IEEE
    operations in its order (tests/test_market_speed.py checks it bit for bit)."""
    O, R = levy.shape
    cost = np.full((O, R), np.inf)
    for j in range(idx.shape[0]):
        o = idx[j]
        kw = n[j] * watts[j] / 1000.0
        n_used = kw * 1000.0 / watts[j]
        for r in range(R):
            energy = kw * pue[r]
            energy *= power_fraction
            energy *= elec[r]
            if not np.isnan(subsidy):
                energy *= 1.0 - (subsidy if cn[o] and is_cn[r] else 0.0)
            capex = (n[j] * price[j]) * (1.0 + levy[o, r] * levy_share)
            capex *= crf
            capex /= hours_year
            capex += energy
            capex /= n_used
            capex *= hours_month
            capex /= value[o]
            cost[o, r] = capex
    if not np.isnan(discount):
        f = 1.0 - discount
        for o in range(O):
            if bundle[o]:
                for r in range(R):
                    if is_gs[r]:
                        cost[o, r] *= f
    return cost


@njit(**_JIT)
def columns(live, stack, cn, vendor, compliance, n_stacks, regs, n_regions, cann, cost, us, n_vendors):
    """The month's market columns: the live offerings grouped by stack (in index order within a
    stack, the stable sort), their stack, one-hot (C, S), alignment sign (+1 Chinese, -1 not),
    vendor and Chinese flag, the flat index ``regs[k] + cols[c] * n_regions`` (K, C) into the
    (O, R) tables, the CANN block's (start, stop), and for the reference cost each vendor's
    cheapest live non-compliance ``cost[o, us]`` (np.minimum: NaN propagates) and whether it
    has one."""
    O = stack.shape[0]
    C = 0
    for o in range(O):
        if live[o]:
            C += 1
    cols = np.empty(C, dtype=np.int64)
    st = np.empty(C, dtype=np.int64)
    ch = np.empty(C)
    ve = np.empty(C, dtype=np.int64)
    is_cn = np.empty(C, dtype=np.bool_)
    onehot = np.zeros((C, n_stacks))
    lo, hi = 0, 0  # CANN block: after the stacks before it
    c = 0
    for s in range(n_stacks):
        if s == cann:
            lo = c
        for o in range(O):
            if live[o] and stack[o] == s:
                cols[c], st[c], ve[c], is_cn[c] = o, s, vendor[o], cn[o]
                ch[c] = 1.0 if cn[o] else -1.0
                onehot[c, s] = 1.0
                c += 1
        if s == cann:
            hi = c
    flat = np.empty((regs.shape[0], C), dtype=np.int64)
    for k in range(regs.shape[0]):
        for c in range(C):
            flat[k, c] = regs[k] + cols[c] * n_regions
    cheapest = np.full(n_vendors, np.inf)
    present = np.zeros(n_vendors, dtype=np.bool_)
    for o in range(O):
        if live[o] and not compliance[o]:
            v = vendor[o]
            x = cost[o, us]
            cur = cheapest[v]
            if not (cur <= x or np.isnan(cur)):
                cheapest[v] = x
            present[v] = True
    return cols, st, onehot, ch, ve, is_cn, flat, lo, hi, cheapest, present


@njit(**_JIT)
def delivery_weights(cols, stack, peak, watts, per_unit, controlled, n_stacks):
    """Deliveries' (C, 2S + 2) weights: per column its stack's one-hot, its peak H100e per
    effective H100e on its stack, its watts per effective H100e, and its peak per effective
    H100e again where it is controlled (``controlled`` (C,), else 0)."""
    C = cols.shape[0]
    S = n_stacks
    w = np.zeros((C, 2 * S + 2))
    for c in range(C):
        o = cols[c]
        pk = peak[o] * per_unit[c]
        w[c, stack[o]] = 1.0
        w[c, S + stack[o]] = pk
        w[c, 2 * S] = watts[o] * per_unit[c]
        w[c, 2 * S + 1] = pk if controlled[c] else 0.0
    return w


@njit(**_JIT)
def fold_rows(alloc, unmet, forgone, n_main, rows):
    """The market's rows n_main.. (mandated shares of the buyers ``rows``) added back onto their
    buyers: the first ``n_main`` rows of alloc, unmet and forgone, with ``out[rows[j]] +=
    x[n_main + j]`` (rows distinct)."""
    a = alloc[:n_main].copy()
    u = unmet[:n_main].copy()
    f = forgone[:n_main].copy()
    for j in range(rows.shape[0]):
        i = rows[j]
        for c in range(alloc.shape[1]):
            a[i, c] += alloc[n_main + j, c]
        u[i] += unmet[n_main + j]
        f[i] += forgone[n_main + j]
    return a, u, f


@njit(**_JIT)
def outside_shares(avail, stack, fleet, total, n_stacks):
    """The outside option's estate shares (Eq. M1b), (B, S): a buyer's installed share
    ``fleet[b, s] / total[b]`` on the stacks it can still buy (a column of that stack open in
    ``avail`` (B, C)), 0 elsewhere and where that estate is empty: the numpy formulation's
    ``reach = avail @ onehot > 0``, ``est = fleet * reach`` and ``divide(est, total, where=est
    sums > 0)`` (fleets are >= 0, so the sum's order cannot change its sign)."""
    B, C = avail.shape
    S = n_stacks
    shares = np.zeros((B, S))
    est = np.empty(S)
    for b in range(B):
        reach = np.zeros(S, dtype=np.bool_)
        for c in range(C):
            if avail[b, c]:
                reach[stack[c]] = True
        tot = 0.0
        for s in range(S):
            est[s] = fleet[b, s] * (1.0 if reach[s] else 0.0)
            tot += est[s]
        if tot > 0:
            for s in range(S):
                shares[b, s] = est[s] / total[b]
    return shares


@njit(**_JIT)
def power_fill(need, pue, region, capacity, used):
    """Eq. N2 per buyer (model.components.power.Power.limit): ``need`` (B,) watts per buyer
    times its region's PUE / 1000 (kW), summed per region in buyer order (np.bincount's), filled
    up to the region's headroom max(capacity - used, 0) (model.energy.power_fill); returns the
    buyers' fill (B,) and whether any is below 1."""
    R = capacity.shape[0]
    B = need.shape[0]
    need_r = np.zeros(R)
    for i in range(B):
        need_r[region[i]] += need[i] * pue[region[i]] / 1000.0
    fill_r = np.empty(R)
    for r in range(R):
        h = capacity[r] - used[r]
        if not (h > 0.0 or h != h):  # np.maximum(h, 0.0): NaN kept, -0.0 becomes 0.0
            h = 0.0
        if need_r[r] > h:
            fill_r[r] = h / need_r[r] if need_r[r] > 0 else 0.0
        else:
            fill_r[r] = 1.0
    fill = np.empty(B)
    short = False
    for i in range(B):
        fill[i] = fill_r[region[i]]
        if fill[i] < 1.0:
            short = True
    return fill, short


@njit(**_JIT)
def _finite_nonneg(x):
    for s in range(x.shape[0]):
        if not (x[s] >= 0 and x[s] < np.inf):  # NaN fails
            return False
    return True


@njit(**_JIT)
def ecosystem_inflows(inst, buy, inv, w, g_dev, e_dev, g_mat, e_mat, d_mat):
    """model.ecosystem.update_ecosystem up to its exponentials: 0 and the developers' inflow, the
    maturity's inflow k and its rate k + d_mat (attraction = (1 - w) installed share + w purchase
    share, np.sum's order), or the code of the first failed check (1, 2, 3: installed, purchases,
    investment not finite and >= 0; 4: investment above 1) and nothing computed."""
    S = inst.shape[0]
    code = 0 if _finite_nonneg(inst) else 1
    if not code:
        code = 0 if _finite_nonneg(buy) else 2
    if not code:
        code = 0 if _finite_nonneg(inv) else 3
    if not code:
        for s in range(S):
            if inv[s] > 1:
                code = 4
    if code:
        return code, inst, inst, inst
    ti, tb = 0.0 + pairwise_sum(inst, 0, S), 0.0 + pairwise_sum(buy, 0, S)
    dev_in, k, rate = np.empty(S), np.empty(S), np.empty(S)
    for s in range(S):
        a = (1.0 - w) * (inst[s] / ti if ti > 0 else 0.0) + w * (buy[s] / tb if tb > 0 else 0.0)
        dev_in[s] = g_dev * (a + e_dev * inv[s])
        k[s] = g_mat * (a + e_mat * inv[s])
        rate[s] = k[s] + d_mat
    return 0, dev_in, k, rate


@njit(**_JIT)
def ecosystem_relax(dev, dev_in, dev_decay, dev_gain, mat, k, rate, decay, expm1):
    """The month's exact step (model.ecosystem._relax) from the exponentials e^-rate and
    expm1(-rate): developers max(D e^-d + inflow gain, 0), maturity clipped to [0, 1]."""
    S = dev.shape[0]
    d_out, m_out = np.empty(S), np.empty(S)
    for s in range(S):
        x = dev[s] * dev_decay[s] + dev_in[s] * dev_gain[s]
        d_out[s] = x if (x > 0.0 or x != x) else 0.0  # np.maximum(x, 0.0): NaN kept, -0.0 to 0.0
        gain = -expm1[s] / rate[s] if rate[s] > 0 else 1.0
        y = mat[s] * decay[s] + k[s] * gain
        m_out[s] = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)  # np.clip's: -0.0 and NaN kept
    return d_out, m_out


def warm_up() -> None:
    """Compile (or load from the on-disk cache) these kernels for the argument types the phases call them
    with (called by ``model.kernels.warm_up``). Not those a month reaches only inside other kernels
    or only as fallbacks (fold_rows, outside_shares and ecosystem_relax), whose loading would only
    delay a sweep's workers; a call made anyway compiles or loads them then."""
    u = np.zeros((2, 2))
    z, b = np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    columns(b, i2, b, i2, b, 2, i2, 2, 1, u, 0, 2)
    delivery_weights(i2, i2, z, z, z, b, 2)
    from model.lock_in import _porting_pass  # the porting step's pass (model.lock_in.porting_step)
    _porting_pass(u, z, 3.0, b, b, u, 0.1)
    ecosystem_inflows(z, z, z, 0.5, 1.0, 1.0, 1.0, 1.0, 0.1)
    ro = z.copy()
    ro.flags.writeable = False  # as the run passes them: the regions' PUE and the cached capacity
    power_fill(z, ro, i2, ro, z)
    availability(b, b, np.zeros((1, 2), dtype=np.bool_), np.zeros((1, 2), dtype=np.bool_), z[:1].copy(),
                 z[:1].copy(), b, np.full(2, -1, dtype=np.int64), b, b, False, b, b)
    unit_cost(np.arange(2), z, z + 1.0, z, z, ro, u, 1.0, b, b, np.nan, 0.3, z + 1.0, b, b, np.nan, 730.0, 8760.0, 0.75)
    delivery_weights(i2, i2, z, ro, z, b, 2)  # the initial offerings' watts are read-only too
