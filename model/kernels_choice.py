"""The outside option's estate shares at firm-level populations (issue 19).

``model.month_kernels.outside_shares`` allocates a reach mask per buyer and reads every column of
the buyer's row; the month's columns are grouped by stack, so here a stack is in reach as soon as
one of its run of columns is open (the rest of the run is skipped) and nothing is allocated per
buyer. Same IEEE operations in the same order, so the same bits (tests/test_kernels_choice.py
checks it against month_kernels); a stack index that is not grouped in ascending order (or out of
range) goes to the month_kernels function itself. (The utility's pass, month_kernels.utility,
was tried the same way, a stack's columns at a time: twice slower at 10^4 buyers, not kept.)
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
        tot = 0.0
        for s in range(S):
            est[s] = fleet[b, s] * (1.0 if reach[s] else 0.0)
            tot += est[s]
        if tot > 0:
            for s in range(S):
                shares[b, s] = est[s] / total[b]
    return shares


def warm_up() -> None:
    """Compile (or load) the kernel for the market's argument types (model.market_kernels.warm_up
    calls it)."""
    u = np.zeros((2, 2))
    outside_shares(np.ones((2, 2), dtype=np.bool_), np.arange(2, dtype=np.int64), u, np.zeros(2), 2)
