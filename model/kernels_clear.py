"""Compiled inner loop of the monthly market (docs/ODD.md Eq. M1-M3), one pass per buyer row.

``model.market.clear_market`` is the interface; this module holds its kernel (``model.kernels``
re-exports it and holds ``first_rows``, the first round's rows). Written with numba
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

Later rounds reuse a row's split: a row's logit depends only on its utilities, its availability
and the closed offerings it could buy, so a row none of whose available offerings closed since
its last (plain-logit) split keeps that split, bit for bit, instead of computing it again
(tests/test_clear_kernel.py checks the kernel against the one before this, kept in
tests/clear_oracle.py, on many random markets).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Kernel compile options: cached on disk (first call in a fresh checkout compiles, ~seconds),
# no fastmath (IEEE semantics: results must not depend on the machine's vector width). The row
# helpers are inlined into the kernel (numba IR inlining: no call, no array-view refcounts).
_JIT = dict(cache=True, nogil=True, fastmath=False)


@njit(inline='always', **_JIT)
def _row_probs(u_row, u_out, av_row, blocked, outside, temperature, out):  # noqa: C901 (one pass per row)
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


@njit(inline='always', **_JIT)
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
def clear(demand, utility, available, outside_utility, outside, value, vendor_of, capacity,  # noqa: C901
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
    newly = np.empty(n_alt, dtype=np.int64)  # offerings closed at the end of the last round
    n_new = 0
    # the rows' splits in ``probs`` may be kept: the last round's was the plain logit (not the
    # first round's lumpy draws) and the outside option did not close since
    reuse_ok = False
    for rnd in range(rounds + 1):
        n = rows.shape[0]
        if n == 0:
            break
        # 1. each row's split (logit; lumpy draws in the first round) and the units it wants
        want_o[:] = 0.0
        for j in range(n):
            i = rows[j]
            same = reuse_ok  # the last split stands unless an offering open to the row closed
            if same:
                for q in range(n_new):
                    if available[i, newly[q]]:
                        same = False
                        break
            if not same:
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
        if not tight_any or rnd == rounds:
            break
        rem_total = 0.0  # summed only when the test below decides (same order, same bits)
        for i in range(B):
            rem_total += remaining[i]
        if rem_total <= 1e-12 * total:
            break
        # 3. sold-out vendors close; rows with material unserved demand and an open choice go on
        n_new = 0
        for o in range(O):
            v = vendor_of[o]
            if cap_left[v] <= 1e-9 * max(capacity[v], 1.0) and not blocked[o]:
                blocked[o] = True
                newly[n_new] = o
                n_new += 1
        reuse_ok = not (rnd == 0 and lots > 0) and not (outside and not blocked[O])
        if outside:  # doing without is decided once, up front: rationed orders seek other suppliers
            blocked[O] = True
        keep = 0
        for j in range(n):
            i = rows[j]
            if not remaining[i] > 1e-4 * demand[i]:  # demand: what the row wanted
                continue
            open_ = False
            for o in range(O):
                if available[i, o] and not blocked[o]:
                    open_ = True
                    break
            if open_:
                rows[keep] = i
                if keep != j:  # the row's split moves with it
                    probs[keep, :] = probs[j, :]
                keep += 1
        rows = rows[:keep]
    return alloc, forgone, remaining, first_units
