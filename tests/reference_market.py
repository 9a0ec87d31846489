"""The numpy formulation of the monthly market clearing (Eq. M1-M3), kept as the test oracle.

model/kernels_clear.py compiles the same algorithm row by row; tests/test_market.py checks that
``model.market.clear_market`` and this reference agree on random markets (same random draws).
Not used by the model.
"""

from __future__ import annotations

import numpy as np

from model.cluster import logit_choice


def clear_market_reference(demand: np.ndarray, utility: np.ndarray, available: np.ndarray,
                           value: np.ndarray, vendor_of: np.ndarray, capacity: np.ndarray,
                           rng: np.random.Generator, *, lots: int = 8, rounds: int = 6,
                           temperature: float = 1.0, outside_utility: np.ndarray | None = None):
    """Allocate demand (B,) in effective H100e over offerings (O,) under vendor capacity (V,).

    ``utility`` (B, O) is the deterministic logit utility; ``available`` (B, O) masks offerings a
    buyer may not buy (banned, unlicensed, not yet released): they get probability exactly 0.
    ``value`` (O,) is effective H100e per unit; ``vendor_of`` (O,) the vendor index of each
    offering. ``lots`` > 0 draws each buyer's first-round split from a multinomial over its
    choice probabilities (lumpy procurement); ``lots`` = 0 uses the expected split.
    Returns (alloc, forgone, unmet, first-round units per vendor).
    """
    if outside_utility is not None:  # the outside option: not buying, unlimited "capacity" (Eq. M1b)
        B0 = utility.shape[0]
        utility = np.hstack([utility, np.asarray(outside_utility, float).reshape(B0, 1)])
        available = np.hstack([available, np.ones((B0, 1), dtype=bool)])
        value = np.append(value, 1.0)
        vendor_of = np.append(vendor_of, capacity.shape[0])
        capacity = np.append(np.asarray(capacity, dtype=float), np.inf)
    B, O = utility.shape
    V = capacity.shape[0]
    remaining = np.asarray(demand, dtype=float).copy()
    wanted = remaining.copy()
    total = max(float(remaining.sum()), 1.0)
    alloc = np.zeros((B, O))
    capacity = np.asarray(capacity, dtype=float)
    cap_left = np.maximum(capacity, 0.0)
    blocked = np.zeros(O, dtype=bool)  # offerings of sold-out vendors
    first_units = np.zeros(V)
    rows = np.flatnonzero(available.any(axis=1) & (remaining > 0))
    for rnd in range(rounds + 1):  # ``rounds`` tranches, then one spill round past sold-out vendors
        if rows.size == 0:
            break
        full = rows.size == B  # all buyers: plain slices, no fancy-index copies
        sel = slice(None) if full else rows
        mask = available[sel] & ~blocked[None, :] if blocked.any() else available[sel]
        probs = logit_choice(utility[sel], mask, temperature=temperature)
        if rnd == 0 and lots > 0:
            probs = _lumpy(probs, lots, rng)
        rem = remaining[sel]
        want_units_o = (rem @ probs) / value  # (O,) units wanted of each offering
        vendor_units = np.bincount(vendor_of, weights=want_units_o, minlength=V)
        if rnd == 0:
            first_units = vendor_units
        # A vendor whose orders fit fills them all; one that is short releases its capacity in
        # equal tranches over the rounds (orders arrive through the month): demand that finds its
        # first choices sold out competes for later tranches (Eq. M3).
        tight = vendor_units > cap_left * (1.0 + 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            fill_v = np.where(tight, np.minimum(1.0, (cap_left / max(rounds - rnd, 1)) / vendor_units), 1.0)
        fill_o = fill_v[vendor_of]
        probs *= fill_o[None, :]
        probs *= rem[:, None]  # now: effective H100e delivered (n, O)
        if full:
            alloc += probs
        else:
            alloc[rows] += probs
        remaining[sel] = np.maximum(rem - probs.sum(axis=1), 0.0)
        cap_left = np.maximum(cap_left - np.bincount(vendor_of, weights=want_units_o * fill_o, minlength=V), 0.0)
        if not tight.any() or remaining.sum() <= 1e-12 * total or rnd == rounds:
            break
        blocked |= (cap_left <= 1e-9 * np.maximum(capacity, 1.0))[vendor_of]
        if outside_utility is not None:  # the outside option is a first-round choice only
            blocked[-1] = True
        # buyers go on only while a material part of their demand (> 1e-4) is still unserved
        rows = rows[remaining[rows] > 1e-4 * wanted[rows]]
        rows = rows[(available[rows] & ~blocked[None, :]).any(axis=1)]
    forgone = np.zeros(B)
    if outside_utility is not None:
        forgone = alloc[:, -1].copy()
        alloc, value, first_units = alloc[:, :-1], value[:-1], first_units[:-1]
    return alloc, forgone, remaining, first_units


def _lumpy(probs: np.ndarray, lots: int, rng: np.random.Generator) -> np.ndarray:
    """Eq. M2: each row's month is ``lots`` independent draws from its choice probabilities
    (inverse CDF, vectorised); returns the drawn shares. Rows of zeros stay zeros."""
    n, O = probs.shape
    cum = np.cumsum(probs, axis=1)
    last = O - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)  # last alternative with probability > 0
    u = rng.random((n, lots)) * cum[:, -1:]
    idx = np.empty((n, lots), dtype=np.int64)
    for k in range(lots):
        idx[:, k] = np.minimum((cum < u[:, k:k + 1]).sum(axis=1), last)
    counts = np.bincount((idx + (np.arange(n) * O)[:, None]).ravel(), minlength=n * O).astype(float)
    out = counts.reshape(n, O) / lots
    out[cum[:, -1] <= 0] = 0.0
    return out
