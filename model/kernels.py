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


@njit(**_JIT)
def utility(log_cost, avail, counts, cn_block, beta, network, switching, stack, alignment, is_gs,
            china, w_gs, w_other, lo, hi, bonus, penalty):
    """Buyers' utility (Eq. M1) and availability, (B, C), from region-level ``log_cost`` and
    ``avail`` (K, C) whose row k holds for the next ``counts[k]`` buyers (buyers sorted by region):
    U = -beta ln(cost) + network[c] - switching[b, stack[c]] + w_b alignment_b china[c], with
    w_b = ``w_gs`` for Global-South buyers, ``w_other`` otherwise; on the columns lo:hi (CANN)
    ``bonus`` for Global-South buyers and minus ``penalty`` outside China (blocks with
    ``cn_block`` False); NaN skips the term. The numpy formulation's IEEE operations in its
    order, in one pass (tests/test_market_speed.py checks it bit for bit)."""
    B = beta.shape[0]
    C = stack.shape[0]
    util = np.empty((B, C))
    out_av = np.empty((B, C), dtype=np.bool_)
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
    utility(u[:1].copy(), available[:1].copy(), np.array([2], dtype=np.int64), b[:1].copy(), z, z,
            np.zeros((2, 1)), np.zeros(2, dtype=np.int64), z, b, z, 1.0, 1.0, 0, 2, np.nan, np.nan)
    lock_in(z, u, z, z, u, z, 1.0, 0.5, 0.5, 0.5)
    availability(b, b, np.zeros((1, 2), dtype=np.bool_), np.zeros((1, 2), dtype=np.bool_), z[:1].copy(),
                 z[:1].copy(), b, np.full(2, -1, dtype=np.int64), b, b, False, b, b)
