"""The porting decision's free-choice logit at firm-level populations (issue 19):
``logit_choice(util + sw[:, stack], avail, temperature)`` in two compiled passes around numpy's
exp (model.market_kernels.free_choice calls them).

Unlike ``market_kernels``'s first version, no (B, C) mask is written and read back: the exponent
of an unavailable entry is -701 (below the clip's -700), so its exponential (~3.6e-305) is below
that of any available entry (>= e^-700 ~ 9.9e-305) and the normalising pass sets it to the +0.0
that ``w *= ok`` gave it (an available one times 1.0 is itself). (-inf or an underflowing
exponent would spare that test but sends numpy's exp down its slow path: 0.23 -> 0.41-0.78 ms
at 10^4 buyers.) The maximum and the clip are selects. The same IEEE operations on every
available entry, in the same order, so the same bits (tests/test_kernels_logit.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.kernels_fleet import row_sum

_OFF = -701.0  # an unavailable entry's exponent
_TINY = 5e-305  # between numpy's e^-701 (~3.63e-305) and e^-700 (~9.86e-305)


@njit(**JIT)
def logit_shift(util, sw, stack, avail, temperature):
    """The exponents (B, C): for an available entry (utility > -inf, NaN is -inf, and ``avail``)
    (u - the row's maximum over them) / temperature clipped to [-700, 0], else -701; and
    ``special`` when a row's maximum is +inf (logit_choice's tie branch: the caller runs it)."""
    B, C = util.shape
    w = np.empty((B, C))
    special = False
    scaled = temperature != 1.0
    for i in range(B):
        umax = -np.inf
        any_ok = False
        for c in range(C):
            u = util[i, c] + sw[i, stack[c]]
            o = u > -np.inf and avail[i, c]  # False for NaN
            any_ok = any_ok or o
            x = u - (0.0 if o else 1e300)  # np.max(u - (~ok) * 1e300) (NaN never above the maximum)
            umax = x if x > umax else umax
            w[i, c] = u if o else -np.inf
        if any_ok and umax == np.inf:
            special = True
        for c in range(C):
            x = w[i, c]
            if x > -np.inf:
                x = x - umax
                if scaled:
                    x /= temperature
                x = 0.0 if x > 0.0 else x  # np.minimum(w, 0.0), then np.maximum(w, -700.0)
                x = -700.0 if x < -700.0 else x
            else:
                x = _OFF
            w[i, c] = x
    return w, special


@njit(**JIT)
def logit_norm(w):
    """The exponentials ``w`` (in place) of unavailable entries (below ``_TINY``) set to 0.0, then
    each row divided by its sum (np.sum along the row: 0.0 plus the pairwise sum) where > 0."""
    B, C = w.shape
    for i in range(B):
        for c in range(C):
            w[i, c] = 0.0 if w[i, c] < _TINY else w[i, c]
        s = 0.0 + row_sum(w, i, C)
        d = s if s > 0 else 1.0
        for c in range(C):
            w[i, c] /= d
    return w


def warm_up() -> None:
    """Compile (or load) the kernels for the market's argument types (model.market_kernels.warm_up
    calls it)."""
    u = np.zeros((2, 2))
    w, _ = logit_shift(u, u, np.arange(2, dtype=np.int64), np.ones((2, 2), dtype=np.bool_), 1.0)
    logit_norm(w)
