"""The monthly market: every buyer's demand split over the offerings open to it, in one call.

A multinomial logit on cost per useful work, network value, switching cost, alignment and
policy penalties (docs/ODD.md Eq. M1); procurement is lumpy (each buyer's month is ``lots``
draws from its choice probabilities, Eq. M2); where demand for a vendor exceeds its capacity
every buyer is filled pro rata and the unmet part spills to its next choices in the same month
(Eq. M3). One call for all buyers; its loops over buyers and offerings are compiled
(model/kernels_clear.py), none runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import kernels, market_kernels
from model.ecosystem import bass_hazard


@dataclass
class Clearing:
    """What the market cleared this month."""

    alloc: np.ndarray  # (B, O) effective H100e delivered to each buyer from each offering
    value: np.ndarray  # (O,) effective H100e per unit of each offering
    unmet: np.ndarray  # (B,) effective H100e demanded but not delivered (rationed out)
    forgone: np.ndarray  # (B,) effective H100e the buyer chose not to buy (the outside option)
    vendor_demand_units: np.ndarray  # (V,) first-round units wanted per vendor (for pricing)
    cols: np.ndarray | None = None  # offering index of each column, when a subset was traded

    @property
    def units(self) -> np.ndarray:
        """(B, O) accelerator units delivered (computed on demand: one pass over alloc)."""
        return self.alloc / self.value[None, :]


def clear_market(demand: np.ndarray, utility: np.ndarray, available: np.ndarray,
                 value: np.ndarray, vendor_of: np.ndarray, capacity: np.ndarray,
                 rng: np.random.Generator, *, lots: int = 8, rounds: int = 6,
                 temperature: float = 1.0, outside_utility: np.ndarray | None = None) -> Clearing:
    """Allocate demand (B,) in effective H100e over offerings (O,) under vendor capacity (V,).

    ``utility`` (B, O) is the deterministic logit utility; ``available`` (B, O) masks offerings a
    buyer may not buy (banned, unlicensed, not yet released): they get probability exactly 0.
    ``value`` (O,) is effective H100e per unit; ``vendor_of`` (O,) the vendor index of each
    offering. ``lots`` > 0 draws each buyer's first-round split from ``lots`` draws over its
    choice probabilities (lumpy procurement, Eq. M2); ``lots`` = 0 uses the expected split.
    ``outside_utility`` (B,) adds the outside option (Eq. M1b): not buying, always open, unlimited.
    The clearing itself runs in the compiled kernel ``model.kernels.clear``.
    """
    # One machine-code signature for every call: C-ordered, writable arrays of fixed dtypes
    # (a read-only view, e.g. from broadcast_to, would compile - and cache - a second variant).
    utility = _arg(utility, np.float64)
    B, O = utility.shape
    available = _arg(available, np.bool_, (B, O))
    demand = _arg(_vec(demand, B), np.float64)
    value = _arg(_vec(value, O), np.float64)
    vendor_of = _arg(_vec(vendor_of, O), np.int64)
    capacity = _arg(capacity if _is_vec(capacity) else np.reshape(capacity, -1), np.float64)
    outside = outside_utility is not None
    # the first round's rows and vendor_of's range, in one compiled pass
    rows, v_lo, v_hi = market_kernels.first_rows_checked(demand, available, outside, vendor_of)
    if O and (v_lo < 0 or v_hi >= capacity.shape[0]):
        raise ValueError(f"vendor_of must index capacity (0..{capacity.shape[0] - 1}); got {v_lo}..{v_hi}")
    lots, rounds = int(lots), int(rounds)
    if lots < 0 or rounds < 0 or temperature < 0:
        raise ValueError(f"lots = {lots}, rounds = {rounds}, temperature = {temperature}: expected >= 0")
    u0 = _arg(outside_utility, np.float64, (B,)) if outside else _NO_OUTSIDE
    draws = rng.random((rows.size, lots)) if lots > 0 else np.zeros((rows.size, 0))
    alloc, forgone, unmet, first_units = kernels.clear(
        demand, utility, available, u0, outside, value, vendor_of, capacity, rows, draws,
        lots, rounds, float(temperature))
    return Clearing(alloc=alloc, value=value, unmet=unmet, forgone=forgone,
                    vendor_demand_units=first_units)


_NO_OUTSIDE = np.zeros(0)  # no outside option (the kernel does not read it)


def _is_vec(x) -> bool:
    return type(x) is np.ndarray and x.ndim == 1


def _vec(x, n: int) -> np.ndarray:
    """``np.reshape(x, n)`` (a 1-D array of n items is itself)."""
    return x if type(x) is np.ndarray and x.shape == (n,) else np.reshape(x, n)


def _arg(x, dtype, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a C-ordered, writable array of ``dtype`` (broadcast to ``shape``); copies only
    when it must."""
    if (type(x) is np.ndarray and x.dtype == dtype and x.flags.c_contiguous and x.flags.writeable
            and (shape is None or x.shape == shape)):
        return x  # what np.require would return: the array itself
    x = np.asarray(x)
    if shape is not None and x.shape != shape:
        x = np.broadcast_to(x, shape)
    return np.require(x, dtype=dtype, requirements=("C", "W"))


def buyer_utility(log_cost: np.ndarray, beta: np.ndarray, network: np.ndarray,
                  switching: np.ndarray, alignment_term: np.ndarray,
                  extra: np.ndarray | float = 0.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """U[b, o] = -beta_b * ln(cost per useful work[o, r(b)]) + network[b, o] - switching[b, o]
    + alignment[b, o] + extra[b, o]  (docs/ODD.md Eq. M1). All inputs broadcast to (B, O);
    ``out`` (e.g. ``log_cost`` itself) is filled in place to spare large temporaries."""
    u = np.multiply(log_cost, -np.asarray(beta)[:, None], out=out)
    u += network
    u -= switching
    u += alignment_term
    if not np.isscalar(extra) or extra != 0.0:
        u += extra
    return u


def bass_start(active: np.ndarray, weight: np.ndarray, p: float, q: float,
               rng: np.random.Generator, dt_years: float = 1.0 / 12.0) -> np.ndarray:
    """Bass (1969) timing for inactive buyers: hazard 1 - exp(-(p + q F) dt), F = adopted share
    of demand weight (docs/ODD.md Eq. M4). Returns the new ``active`` mask."""
    total = weight.sum()
    frac = (weight * active).sum() / total if total > 0 else 0.0
    hazard = bass_hazard(p, q, min(max(frac, 0.0), 1.0), dt_years)
    start = (~active) & (rng.random(active.shape[0]) < hazard)
    return active | start
