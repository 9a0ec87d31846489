"""Compiled passes of the month's market phases besides those in model/kernels.py and
model/month_kernels.py (both at the length limit): the porting decision's free-choice logit in
two passes around numpy's exp, the pricing's tables, the buyers' columns, utility and outside
option with what they read fused in, the clearing's first rows, the ecosystem step with its
state's checks and the deliveries' fleets. The house rules of those modules hold: the IEEE
operations of the numpy formulation they replace, in its order, no fastmath, no transcendental
function inside a kernel (numpy's exp and log may differ from libm's in the last bit);
tests/test_market_kernels.py checks each bit for bit against the numpy code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model import (
    kernels_choice,
    kernels_deliver,
    kernels_fleet,
    kernels_logit,
    kernels_month,
    kernels_utility,
    month_kernels,
)
from model.core._jit import JIT
from model.core.choice import logit_choice
from model.kernels import first_rows, pairwise_sum

_JIT = JIT  # model/core/_jit.py: cached, IEEE semantics, numpy's error model


def free_choice(util: np.ndarray, sw: np.ndarray, stack: np.ndarray, avail: np.ndarray,
                temperature: float) -> np.ndarray:
    """``logit_choice(util + sw[:, stack], avail, temperature)`` (the porting decision's choice
    as if switching were free) in two compiled passes around numpy's exp (model.kernels_logit),
    for the market's arrays: float64 (B, C) and (B, S), int64 (C,), bool (B, C), a temperature
    > 0. Anything else, and a row whose maximum is +inf, goes to logit_choice itself."""
    if not (type(util) is np.ndarray and type(sw) is np.ndarray and type(avail) is np.ndarray
            and util.ndim == 2 and util.dtype == sw.dtype == np.float64 and stack.dtype == np.int64
            and avail.dtype == np.bool_ and avail.shape == util.shape and sw.shape[0] == util.shape[0]
            and stack.shape == util.shape[1:] and temperature > 0 and util.shape[1] > 0
            and (stack.size == 0 or 0 <= stack.min() and stack.max() < sw.shape[1])):
        return logit_choice(util + sw[:, stack], avail, temperature=temperature)
    w, special = kernels_logit.logit_shift(util, sw, stack, avail, float(temperature))
    if special:
        return logit_choice(util + sw[:, stack], avail, temperature=temperature)
    np.exp(w, out=w)
    return kernels_logit.logit_norm(w)


@njit(**_JIT)
def price_tables(avail_policy, live, draws, approval, list_price, vendor_index, vendor, cn, us_mult, cn_cost,
                 launch_cost, levy, levy_share):
    """The pricing phase's tables besides the cost (model.components.pricing.Pricing.price):
    ``available`` = the policy's (O, R) & live & (``draws`` < ``approval`` when ``draws`` has
    rows), the offer price list x vendor_index[vendor] x (``us_mult`` for non-Chinese offerings,
    ``cn_cost`` / launch cost for Chinese ones), the region price x (1 + levy x ``levy_share``),
    the live offerings' index and their offer prices: the numpy code's operations in its order."""
    O, R = avail_policy.shape
    drawn = draws.shape[0] > 0
    available = np.empty((O, R), dtype=np.bool_)
    price = np.empty(O)
    region_price = np.empty((O, R))
    n_live = 0
    for o in range(O):
        if live[o]:
            n_live += 1
        mult = cn_cost / launch_cost[o] if cn[o] else us_mult
        x = list_price[o] * vendor_index[vendor[o]] * mult
        price[o] = x
        for r in range(R):
            available[o, r] = avail_policy[o, r] and live[o] and (not drawn or draws[o, r] < approval[o, r])
            region_price[o, r] = x * (1.0 + levy[o, r] * levy_share)
    idx = np.empty(n_live, dtype=np.int64)
    price_live = np.empty(n_live)
    j = 0
    for o in range(O):
        if live[o]:
            idx[j] = o
            price_live[j] = price[o]
            j += 1
    return available, price, region_price, idx, price_live


@njit(**_JIT)
def market_columns(live, stack, cn, vendor, compliance, n_stacks, regs, n_regions, cann, cost, us, n_vendors,
                   available, is_cn):
    """``month_kernels.columns`` and what the utility reads of the (O, R) tables through its
    flat index: max(cost, 1e-9) (np.maximum: NaN kept; the caller takes numpy's log), the
    availability, and whether each region block is China's."""
    out = month_kernels.columns(live, stack, cn, vendor, compliance, n_stacks, regs, n_regions, cann, cost, us,
                                n_vendors)
    flat = out[6]
    K, C = flat.shape
    cost_flat = cost.reshape(cost.size)
    av_flat = available.reshape(available.size)
    lc = np.empty((K, C))
    av = np.empty((K, C), dtype=np.bool_)
    for k in range(K):
        for c in range(C):
            x = cost_flat[flat[k, c]]
            lc[k, c] = x if (x > 1e-9 or x != x) else 1e-9
            av[k, c] = av_flat[flat[k, c]]
    cn_block = np.empty(K, dtype=np.bool_)
    for k in range(K):
        cn_block[k] = is_cn[regs[k]]
    return out, lc, av, cn_block


@njit(**_JIT)
def outside_inputs(avail, stack, fleet, total, n_stacks, present, cap, cheapest):
    """``month_kernels.outside_shares`` (kernels_choice's: same bits) and the reference cost's inputs (Eq. M1c,
    model.components.choice.reference_cost): the vendors with an offering and capacity > 0,
    their cheapest costs (for numpy's log) and capacities, in vendor order."""
    shares = kernels_choice.outside_shares(avail, stack, fleet, total, n_stacks)
    cheap, w = kernels_choice.reference_inputs(present, cap, cheapest)
    return shares, cheap, w


@njit(**_JIT)
def weighted_mean(x, w):
    """np.average(x, weights=w) as ``np.multiply(x, w).sum() / w.sum()`` computes it."""
    n = x.shape[0]
    xw = np.empty(n)
    for i in range(n):
        xw[i] = x[i] * w[i]
    return (0.0 + pairwise_sum(xw, 0, n)) / (0.0 + pairwise_sum(w, 0, n))


@njit(**_JIT)
def outside_rows(beta, log_ref, network, demand, mand, rows):
    """The outside option's utility -beta x ln(reference) + the estate's network value, and the
    demand, with the mandated rows appended: demand x (1 - share) for every buyer, then each
    mandated buyer's demand x share and its outside utility again (the numpy code's products)."""
    B = beta.shape[0]
    n = rows.shape[0]
    u0 = np.empty(B + n)
    for i in range(B):
        u0[i] = -beta[i] * log_ref + network[i]
    for j in range(n):
        u0[B + j] = u0[rows[j]]
    if n == 0:
        return u0, demand
    d = np.empty(B + n)
    for i in range(B):
        d[i] = demand[i] * (1.0 - mand[i])
    for j in range(n):
        d[B + j] = demand[rows[j]] * mand[rows[j]]
    return u0, d


@njit(**_JIT)
def first_rows_checked(demand, available, outside, vendor_of):
    """``kernels.first_rows`` and the range of ``vendor_of`` (0, -1 when empty), for the
    clearing's check."""
    lo, hi = 0, -1
    for c in range(vendor_of.shape[0]):
        v = vendor_of[c]
        if c == 0 or v < lo:
            lo = v
        if c == 0 or v > hi:
            hi = v
    return first_rows(demand, available, outside), lo, hi


@njit(**_JIT)
def ecosystem_step(dev, dev_in, dev_decay, dev_gain, mat, k, rate, decay, expm1):
    """``month_kernels.ecosystem_relax`` and whether its state passes EcosystemState's checks
    (developers finite and >= 0, maturity in [0, 1]; NaN fails both)."""
    d, m = month_kernels.ecosystem_relax(dev, dev_in, dev_decay, dev_gain, mat, k, rate, decay, expm1)
    ok = True
    for s in range(d.shape[0]):
        if not (d[s] >= 0 and d[s] < np.inf and m[s] >= 0 and m[s] <= 1):
            ok = False
    return d, m, ok


@njit(**_JIT)
def fleet_step(fleet_eff, fleet_peak, fleet_kw, per_buyer, keep, pue, region, n_stacks, capped, reset, tier2):
    """Deliveries' fleets: eff, peak and kW x ``keep`` (1 - retirement) plus the month's
    purchases (columns :S, S:2S of ``per_buyer``; kW: column 2S x the region's PUE / 1000), new
    arrays; ``capped`` (B,) in place: zeroed when ``reset``, plus column 2S + 1 x [tier 2] where
    ``tier2`` (R,) has rows (the numpy code's operations)."""
    B, S = fleet_eff.shape
    eff = np.empty((B, S))
    peak = np.empty((B, S))
    kw = np.empty(B)
    for i in range(B):
        for s in range(S):
            eff[i, s] = fleet_eff[i, s] * keep + per_buyer[i, s]
            peak[i, s] = fleet_peak[i, s] * keep + per_buyer[i, n_stacks + s]
        kw[i] = fleet_kw[i] * keep + per_buyer[i, 2 * n_stacks] * pue[region[i]] / 1000.0
        if reset:
            capped[i] = 0.0
        if tier2.shape[0]:
            capped[i] += per_buyer[i, 2 * n_stacks + 1] * (1.0 if tier2[region[i]] else 0.0)
    return eff, peak, kw


@njit(**_JIT)
def network_scaled(inst, dev, scale, dev_scale):
    """network_value's checks and scaling: installed / scale and developers / dev_scale (for
    numpy's log1p), and whether any entry of either is negative (NaN is not)."""
    S = inst.shape[0]
    x, y = np.empty(S), np.empty(S)
    neg = False
    for s in range(S):
        if inst[s] < 0 or dev[s] < 0:
            neg = True
        x[s] = inst[s] / scale
        y[s] = dev[s] / dev_scale
    return x, y, neg


@njit(**_JIT)
def network_mix(x, y, weight, w):
    """network_value's weight x ((1 - w) x + w y), or weight x x when w is 0."""
    S = x.shape[0]
    out = np.empty(S)
    for s in range(S):
        out[s] = weight * x[s] if w == 0.0 else weight * ((1.0 - w) * x[s] + w * y[s])
    return out


def warm_up() -> None:
    """Compile (or load from the on-disk cache) these kernels for the argument types the market
    passes, read-only arrays and strided views where the run passes them (model.kernels.warm_up
    calls it)."""
    u = np.zeros((2, 2))
    i2, b2 = np.arange(2, dtype=np.int64), np.ones((2, 2), dtype=np.bool_)
    free_choice(u, u, i2, b2, 1.0)
    z, b = np.zeros(2), np.zeros(2, dtype=np.bool_)
    ro = z.copy()
    ro.flags.writeable = False  # kept tables (the ecosystem's decay factors, the regions' PUE)
    price_tables(b2, b, np.zeros((0, 0)), u, z, z, i2, b, 1.0, 1.0, z + 1.0, u, 0.5)
    ecosystem_step(z, z, ro, ro, z, z, z + 1.0, z, z)
    x, y, _ = network_scaled(z, z, 1.0, 1.0)
    network_mix(x, y, 1.0, 0.5)
    fleet_step(u, u, z, np.zeros((2, 4)), 1.0, ro, i2, 1, z.copy(), True, b)
    rows, _, _ = first_rows_checked(z, b2, True, i2)
    out, lc, av, cn_block = market_columns(b, i2, b, i2, b, 2, i2, 2, 1, u, 0, 2, b2, b)
    shares, cheap, w = outside_inputs(b2, i2, u, u.sum(axis=1, keepdims=True)[:, 0], 2, b, z, z)
    weighted_mean(z, z + 1.0)
    outside_rows(z, np.log(1.0), z, z, z, np.zeros(0, dtype=np.int64))
    kernels_fleet.warm_up()
    kernels_deliver.warm_up()
    kernels_choice.warm_up()
    kernels_logit.warm_up()
    kernels_month.warm_up()
    kernels_utility.warm_up()
