"""The offering table's monthly question in one compiled pass (issue 19): which offerings are in
production this month (Eq. V8). Booleans and integer comparisons only, so the pass gives exactly
the numpy expressions' answer (tests/test_launch_fast.py keeps them as its oracle)."""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT


@njit(**JIT)
def live_mask(available, ends, successor, compliance, parent_idx, month, life, supersede):
    """(O,) released (available <= month), before the end of production (month < ends), younger
    than ``life`` months, and not superseded: a successor shipped ``supersede`` months ago (not for
    a compliance variant), or, for a variant, its parent so superseded."""
    n = available.shape[0]
    superseded = np.empty(n, np.bool_)
    cut = month - supersede
    for o in range(n):
        s = successor[o]
        superseded[o] = s >= 0 and available[s] <= cut and not compliance[o]
    live = np.empty(n, np.bool_)
    for o in range(n):
        a = available[o]
        par = parent_idx[o]
        gone = superseded[o] or (par >= 0 and superseded[par])
        live[o] = a <= month and month < ends[o] and month - a < life and not gone
    return live
