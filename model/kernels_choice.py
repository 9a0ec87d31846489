"""The outside option's estate shares at firm-level populations (issue 19), and the reference
cost's inputs (model.components.choice.reference_cost) beside them.

``model.month_kernels.outside_shares`` allocates a reach mask per buyer and reads every column of
the buyer's row; the month's columns are grouped by stack, so here a stack is in reach as soon as
one of its run of columns is open (the rest of the run is skipped) and nothing is allocated per
buyer. Same IEEE operations in the same order, so the same bits (tests/test_kernels_choice.py
checks it against month_kernels); a stack index that is not grouped in ascending order (or out of
range) goes to the month_kernels function itself. (The utility's pass, now model/kernels_utility.py,
was tried the same way, a stack's columns at a time: twice slower at 10^4 buyers, not kept.)
``switching`` is the former lock-in pass's switching cost (``lock_in`` of tests/month_oracles.py)
without the portability table the market does not read (its (B, S) writes spared, the per-stack and
per-buyer factors taken once).
``outside_inputs_blocks`` reads the availability of each region block (K, C) instead of each
buyer's row, where those rows are still their block's (no tier cap has closed a column).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model import month_kernels
from model.core._jit import JIT


@njit(**JIT)
def _runs(stack, n_stacks):
    """The runs of equal ``stack`` entries (start, stop, stack), or none (n = -1) when the entries
    are not grouped in ascending order or leave 0..n_stacks - 1."""
    C = stack.shape[0]
    runs = np.empty((C, 3), dtype=np.int64)
    n = 0
    for c in range(C):
        s = stack[c]
        if s < 0 or s >= n_stacks or (c and s < stack[c - 1]):
            return runs, -1
        if c == 0 or s != stack[c - 1]:
            runs[n, 0], runs[n, 2] = c, s
            if n:
                runs[n - 1, 1] = c
            n += 1
    if n:
        runs[n - 1, 1] = C
    return runs, n


@njit(**JIT)
def outside_shares(avail, stack, fleet, total, n_stacks):
    """``month_kernels.outside_shares`` (same arguments and results), a stack's columns at a time:
    a stack is in reach when any of its columns is open."""
    runs, G = _runs(stack, n_stacks)
    if G < 0:
        return month_kernels.outside_shares(avail, stack, fleet, total, n_stacks)
    B = avail.shape[0]
    S = n_stacks
    shares = np.zeros((B, S))
    est = np.empty(S)
    reach = np.empty(S, dtype=np.bool_)
    for b in range(B):
        for s in range(S):
            reach[s] = False
        for g in range(G):
            for c in range(runs[g, 0], runs[g, 1]):
                if avail[b, c]:
                    reach[runs[g, 2]] = True
                    break
        tot = 0.0  # month_kernels.outside_shares's operations (inline: a call per buyer costs more)
        for s in range(S):
            est[s] = fleet[b, s] * (1.0 if reach[s] else 0.0)
            tot += est[s]
        if tot > 0:
            for s in range(S):
                shares[b, s] = est[s] / total[b]
    return shares


@njit(**JIT)
def reference_inputs(present, cap, cheapest):
    """The vendors with an offering and capacity > 0: their cheapest costs (for numpy's log) and
    capacities, in vendor order (Eq. M1c)."""
    V = cap.shape[0]
    n = 0
    for v in range(V):
        if present[v] and cap[v] > 0:
            n += 1
    cheap = np.empty(n)
    w = np.empty(n)
    j = 0
    for v in range(V):
        if present[v] and cap[v] > 0:
            cheap[j] = cheapest[v]
            w[j] = cap[v]
            j += 1
    return cheap, w


@njit(**JIT)
def outside_inputs_blocks(avail, counts, stack, fleet, total, n_stacks, present, cap, cheapest):
    """``market_kernels.outside_inputs`` for buyers whose availability is their region block's:
    ``avail`` (K, C) holds for the next ``counts[k]`` buyers (counts summing to the buyers),
    the reach found once per block. Same results, same bits."""
    B = fleet.shape[0]
    K, C = avail.shape
    n = 0
    for k in range(K):
        n += counts[k]
    if n != B:
        raise ValueError("outside_inputs_blocks: the blocks' counts must sum to the buyers")
    S = n_stacks
    shares = np.zeros((B, S))
    est = np.empty(S)
    reach = np.empty(S, dtype=np.bool_)
    b = 0
    for k in range(K):
        for s in range(S):
            reach[s] = False
        for c in range(C):
            if avail[k, c]:
                reach[stack[c]] = True
        for _ in range(counts[k]):
            tot = 0.0  # month_kernels.outside_shares's operations (inline: a call per buyer costs more)
            for s in range(S):
                est[s] = fleet[b, s] * (1.0 if reach[s] else 0.0)
                tot += est[s]
            if tot > 0:
                for s in range(S):
                    shares[b, s] = est[s] / total[b]
            b += 1
    cheap, w = reference_inputs(present, cap, cheapest)
    return shares, cheap, w


@njit(**JIT)
def switching(maturity, porting, codesign, estate, fleet, total, kappa, a_m, a_p, a_c):
    """``lock_in(...)[1]`` of tests/month_oracles.py: the switching cost (B, S), with its checks (ValueError,
    in its order) and its IEEE operations in their order."""
    B, S = porting.shape
    for s in range(S):
        if not (0.0 <= maturity[s] <= 1.0):
            raise ValueError("portability: maturity must be in [0, 1]")
        if not (0.0 <= codesign[s] <= 1.0):
            raise ValueError("portability: codesign must be in [0, 1]")
    if kappa < 0:
        raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
    mc = np.empty(S)  # (1 - a_m maturity) x (1 - a_c codesign): the gap's first product
    for s in range(S):
        mc[s] = (1.0 - a_m * maturity[s]) * (1.0 - a_c * codesign[s])
    cost = np.empty((B, S))
    for i in range(B):
        if estate[i] < 0:
            raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
        ke = kappa * estate[i]
        t = total[i]
        for s in range(S):
            pl = porting[i, s]
            if not (0.0 <= pl <= 1.0):
                raise ValueError("portability: porting must be in [0, 1]")
            if fleet[i, s] < 0:
                raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
            pt = min(max(1.0 - mc[s] * (1.0 - a_p * pl), 0.0), 1.0)
            cost[i, s] = ke * (1.0 - fleet[i, s] / t) * (1.0 - pt) if t > 0 else 0.0
    return cost


def warm_up() -> None:
    """Compile (or load) the kernel for the market's argument types (model.market_kernels.warm_up
    calls it)."""
    u, z, b = np.zeros((2, 2)), np.zeros(2), np.zeros(2, dtype=np.bool_)
    i2 = np.arange(2, dtype=np.int64)
    outside_shares(np.ones((2, 2), dtype=np.bool_), i2, u, z, 2)
    outside_inputs_blocks(np.ones((1, 2), dtype=np.bool_), np.array([2]), i2, u, z, 2, b, z, z)
    switching(z, u, z, z, u, z, 1.0, 0.5, 0.5, 0.5)
