"""The month's kernels the model ran before its firm-level passes replaced them (issue 19), kept as
the tests' oracles: model/month_kernels.py's ``utility`` and ``lock_in``, model/market_kernels.py's
``market_utility`` and model/kernels.py's ``deliver_tables`` (commit 2d44345, verbatim but for the
compile options: not cached on disk). Each is checked against the numpy code of its equations
(tests/test_market_speed.py, test_market_speed2.py, test_market_kernels.py) and the kernels that
replaced it against it (test_kernels_utility.py, test_kernels_choice.py, test_kernels_deliver.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels import pairwise_sum

_JIT = dict(JIT, cache=False)


@njit(**_JIT)
def utility(log_cost, avail, counts, cn_block, beta, network, switching, stack, alignment, is_gs,
            china, w_gs, w_other, lo, hi, bonus, penalty, extra, cn_col):
    """Buyers' utility (Eq. M1) and availability, (B, C), from region-level ``log_cost`` and
    ``avail`` (K, C) whose row k holds for the next ``counts[k]`` buyers (buyers sorted by region):
    U = -beta ln(cost) + network[c] - switching[b, stack[c]] + w_b alignment_b china[c], with
    w_b = ``w_gs`` for Global-South buyers, ``w_other`` otherwise; on the columns lo:hi (CANN)
    ``bonus`` for Global-South buyers and minus ``penalty`` outside China (blocks with
    ``cn_block`` False); NaN skips the term. The numpy formulation's IEEE operations in its
    order, in one pass (tests/test_market_speed.py checks it bit for bit). Rows B + j repeat
    buyer ``extra[j]`` (the mandated share of a state-funded Chinese buyer), open to the columns
    ``cn_col`` only."""
    B = beta.shape[0]
    C = stack.shape[0]
    util = np.empty((B + extra.shape[0], C))
    out_av = np.empty((B + extra.shape[0], C), dtype=np.bool_)
    i = 0
    for k in range(counts.shape[0]):
        for _ in range(counts[k]):
            nb = -beta[i]
            wa = (w_gs if is_gs[i] else w_other) * alignment[i]
            for c in range(C):
                u = log_cost[k, c] * nb
                u += network[c]
                u -= switching[i, stack[c]]
                u += wa * china[c]
                util[i, c] = u
                out_av[i, c] = avail[k, c]
            if not np.isnan(bonus):
                add = (1.0 if is_gs[i] else 0.0) * bonus
                for c in range(lo, hi):
                    util[i, c] += add
            if not np.isnan(penalty):
                sub = (0.0 if cn_block[k] else 1.0) * penalty
                for c in range(lo, hi):
                    util[i, c] -= sub
            i += 1
    for j in range(extra.shape[0]):
        for c in range(C):
            util[B + j, c] = util[extra[j], c]
            out_av[B + j, c] = out_av[extra[j], c] and cn_col[c]
    return util, out_av


@njit(**_JIT)
def lock_in(maturity, porting, codesign, estate, fleet, total, kappa, a_m, a_p, a_c):
    """Portability and switching cost (B, S), ``model.lock_in.portability`` and
    ``switching_cost`` in one pass with their IEEE operations in their order; ``total`` (B,) is
    each buyer's fleet summed over stacks (by numpy: its summation order is numpy's). Inputs
    are checked as those functions check them (ValueError)."""
    B, S = porting.shape
    for s in range(S):
        if not (0.0 <= maturity[s] <= 1.0):
            raise ValueError("portability: maturity must be in [0, 1]")
        if not (0.0 <= codesign[s] <= 1.0):
            raise ValueError("portability: codesign must be in [0, 1]")
    if kappa < 0:
        raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
    port = np.empty((B, S))
    cost = np.empty((B, S))
    for i in range(B):
        if estate[i] < 0:
            raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
        for s in range(S):
            pl = porting[i, s]
            if not (0.0 <= pl <= 1.0):
                raise ValueError("portability: porting must be in [0, 1]")
            if fleet[i, s] < 0:
                raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
            gap = (1.0 - a_m * maturity[s]) * (1.0 - a_c * codesign[s]) * (1.0 - a_p * pl)
            pt = min(max(1.0 - gap, 0.0), 1.0)  # np.clip (1 - gap is never -0.0)
            port[i, s] = pt
            if total[i] > 0:
                cost[i, s] = kappa * estate[i] * (1.0 - fleet[i, s] / total[i]) * (1.0 - pt)
            else:
                cost[i, s] = 0.0
    return port, cost


@njit(**_JIT)
def market_utility(log_cost, avail, counts, cn_block, beta, nv, switching, stack, alignment, is_gs, china,
                   w_gs, w_other, lo, hi, bonus, penalty, cn_col, cn_mandate, state_funded, region_is_cn, region):
    """``utility`` with its network column nv[stack] and its extra rows found here:
    the mandated share cn_mandate x state-funded x in China of each buyer (the numpy products'
    order) and the buyers where it is > 0. Returns util, avail, that share and those rows."""
    B = beta.shape[0]
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
    network = np.empty(stack.shape[0])
    for c in range(stack.shape[0]):
        network[c] = nv[stack[c]]
    util, av = utility(log_cost, avail, counts, cn_block, beta, network, switching, stack, alignment,
                                     is_gs, china, w_gs, w_other, lo, hi, bonus, penalty, rows, cn_col)
    return util, av, mand, rows


@njit(**_JIT)
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
