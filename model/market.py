"""The monthly market: every buyer's demand split over the offerings open to it, in one call.

A multinomial logit on cost per useful work, network value, switching cost, alignment and
policy penalties (docs/ODD.md Eq. M1); procurement is lumpy (each buyer's month is ``lots``
draws from its choice probabilities, Eq. M2); where demand for a vendor exceeds its capacity
every buyer is filled pro rata and the unmet part spills to its next choices in the same month
(Eq. M3). Vectorised over buyers and offerings: no Python loop over either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.cluster import logit_choice
from model.ecosystem import bass_hazard


@dataclass
class Clearing:
    """What the market cleared this month."""

    alloc: np.ndarray  # (B, O) effective H100e delivered to each buyer from each offering
    units: np.ndarray  # (B, O) accelerator units delivered
    unmet: np.ndarray  # (B,) effective H100e demanded but not delivered (rationed out)
    forgone: np.ndarray  # (B,) effective H100e the buyer chose not to buy (the outside option)
    vendor_demand_units: np.ndarray  # (V,) first-round units wanted per vendor (for pricing)


def clear_market(demand: np.ndarray, utility: np.ndarray, available: np.ndarray,
                 value: np.ndarray, vendor_of: np.ndarray, capacity: np.ndarray,
                 rng: np.random.Generator, *, lots: int = 8, rounds: int = 6,
                 temperature: float = 1.0, outside_utility: np.ndarray | None = None) -> Clearing:
    """Allocate demand (B,) in effective H100e over offerings (O,) under vendor capacity (V,).

    ``utility`` (B, O) is the deterministic logit utility; ``available`` (B, O) masks offerings a
    buyer may not buy (banned, unlicensed, not yet released): they get probability exactly 0.
    ``value`` (O,) is effective H100e per unit; ``vendor_of`` (O,) the vendor index of each
    offering. ``lots`` > 0 draws each buyer's first-round split from a multinomial over its
    choice probabilities (lumpy procurement); ``lots`` = 0 uses the expected split.
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
    demand = np.asarray(demand, dtype=float)
    remaining = demand.copy()
    alloc = np.zeros((B, O))
    cap_left = np.maximum(np.asarray(capacity, dtype=float), 0.0)
    mask = available.copy()
    onehot = np.zeros((O, V))
    onehot[np.arange(O), vendor_of] = 1.0
    first_units = np.zeros(V)
    for rnd in range(rounds):
        has = mask.any(axis=1) & (remaining > 0)
        if not has.any():
            break
        probs = logit_choice(utility, mask, temperature=temperature)
        probs[~has] = 0.0
        if rnd == 0 and lots > 0:
            safe = np.where(has[:, None], probs, 0.0)
            safe[~has, 0] = 1.0  # rows with nothing available draw a dummy, zeroed below
            safe /= safe.sum(axis=1, keepdims=True)
            draws = rng.multinomial(lots, safe)
            probs = np.where(has[:, None], draws / lots, 0.0)
        want = remaining[:, None] * probs  # (B, O) effective H100e
        want_units = want / value[None, :]
        vendor_units = want_units.sum(axis=0) @ onehot  # (V,)
        if rnd == 0:
            first_units = vendor_units
        # Capacity is released in equal tranches over the rounds (orders arrive through the month):
        # demand that finds its first choices sold out competes for later tranches (Eq. M3).
        tranche = cap_left / (rounds - rnd)
        with np.errstate(divide="ignore", invalid="ignore"):
            fill_v = np.where(vendor_units > 0, np.minimum(1.0, tranche / vendor_units), 1.0)
        fill_o = onehot @ fill_v  # (O,)
        got = want * fill_o[None, :]
        alloc += got
        remaining = np.maximum(remaining - got.sum(axis=1), 0.0)
        cap_left = np.maximum(cap_left - (want_units * fill_o[None, :]).sum(axis=0) @ onehot, 0.0)
        exhausted_o = (onehot @ (cap_left <= 1e-9 * np.maximum(capacity, 1.0)).astype(float)) > 0
        mask = mask & ~exhausted_o[None, :]
        if remaining.sum() <= 1e-12 * max(demand.sum(), 1.0):
            break
    units = alloc / value[None, :]
    forgone = np.zeros(B)
    if outside_utility is not None:
        forgone = alloc[:, -1].copy()
        alloc, units, first_units = alloc[:, :-1], units[:, :-1], first_units[:-1]
    return Clearing(alloc=alloc, units=units, unmet=remaining, forgone=forgone,
                    vendor_demand_units=first_units)


def buyer_utility(log_cost: np.ndarray, beta: np.ndarray, network: np.ndarray,
                  switching: np.ndarray, alignment_term: np.ndarray,
                  extra: np.ndarray | float = 0.0) -> np.ndarray:
    """U[b, o] = -beta_b * ln(cost per useful work[o, r(b)]) + network[b, o] - switching[b, o]
    + alignment[b, o] + extra[b, o]  (docs/ODD.md Eq. M1). All inputs broadcast to (B, O)."""
    return -beta[:, None] * log_cost + network - switching + alignment_term + extra


def bass_start(active: np.ndarray, weight: np.ndarray, p: float, q: float,
               rng: np.random.Generator, dt_years: float = 1.0 / 12.0) -> np.ndarray:
    """Bass (1969) timing for inactive buyers: hazard 1 - exp(-(p + q F) dt), F = adopted share
    of demand weight (docs/ODD.md Eq. M4). Returns the new ``active`` mask."""
    total = weight.sum()
    frac = (weight * active).sum() / total if total > 0 else 0.0
    hazard = bass_hazard(p, q, min(max(frac, 0.0), 1.0), dt_years)
    start = (~active) & (rng.random(active.shape[0]) < hazard)
    return active | start
