"""The market clearing kernel as it was before model/kernels_clear.py reused later rounds' splits
(commit 6985b3b's model/kernels.py, verbatim but for the compile options: not cached on disk): the
oracle tests/test_clear_kernel.py holds the kernel to, bit for bit."""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=False, nogil=True, fastmath=False)


@njit(**_JIT)
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
