"""Lock-in (docs/ODD.md "Lock-in: portability, switching and porting"): how much of a buyer's
software runs on each stack, what switching costs, when buyers port, and Bass adoption timing,
as pure vectorised functions over buyers x stacks (no randomness); the market's monthly porting
step also as one compiled pass (``porting_step``, the same IEEE operations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.types import STACK_INDEX

if TYPE_CHECKING:  # annotations only: model.ecosystem re-exports this module
    from model.ecosystem import EcosystemParams

__all__ = ["portability", "switching_cost", "porting_decision", "porting_step", "bass_hazard"]


def portability(
    maturity: np.ndarray, porting: np.ndarray, codesign: np.ndarray, params: EcosystemParams
) -> np.ndarray:
    """Share of a buyer's software estate that runs on each stack without rewrite, (B, S) in [0, 1].

    1 - P[b, s] = (1 - a_m * maturity[s]) * (1 - a_p * porting[b, s]) * (1 - a_c * codesign[s])
    maturity (S,) and codesign (S,) in [0, 1]; porting (B, S) or (B, 1): buyers' porting levels
    in [0, 1].
    Each factor closes part of the gap independently, so P rises with every input.
    """
    m = np.asarray(maturity, dtype=float)
    c = np.asarray(codesign, dtype=float)
    pl = np.asarray(porting, dtype=float)
    if m.ndim != 1 or c.shape != m.shape:
        raise ValueError(f"portability: maturity {m.shape} and codesign {c.shape} must be (S,)")
    if pl.ndim != 2 or pl.shape[1] not in (1, m.shape[0]):
        raise ValueError(
            f"portability: porting must be (B, {m.shape[0]}) or (B, 1), got {pl.shape}"
        )
    for name, a in (("maturity", m), ("codesign", c), ("porting", pl)):
        if not _in_unit_interval(a):
            raise ValueError(f"portability: {name} must be in [0, 1]")
    p = params
    stack_gap = (1.0 - p.maturity_effect * m) * (1.0 - p.codesign_bonus * c)  # (S,)
    gap = stack_gap * (1.0 - p.porting_effect * pl)  # (B, S) or (B, S) via (B, 1)
    return np.clip(1.0 - np.broadcast_to(gap, (pl.shape[0], m.shape[0])), 0.0, 1.0)


def switching_cost(
    estate: np.ndarray, fleet_shares: np.ndarray, portability: np.ndarray, kappa: float
) -> np.ndarray:
    """Cost for each buyer of moving onto each stack, (B, S), in the units of ``estate`` x kappa.

    C[b, s] = kappa * estate[b] * (1 - share[b, s]) * (1 - portability[b, s]); rows of
    ``fleet_shares`` are normalised inside; a buyer with no fleet pays nothing (nothing to port).
    """
    e = np.asarray(estate, dtype=float)
    f = np.asarray(fleet_shares, dtype=float)
    pt = np.asarray(portability, dtype=float)
    if e.ndim != 1 or f.ndim != 2 or f.shape[0] != e.shape[0] or pt.shape != f.shape:
        raise ValueError(
            f"switching_cost: expected estate (B,), fleet_shares (B, S), portability (B, S); got "
            f"{e.shape}, {f.shape}, {pt.shape}"
        )
    if kappa < 0 or _any_negative(e) or _any_negative(f):
        raise ValueError("switching_cost: kappa, estate and fleet must be >= 0")
    total = f.sum(axis=1, keepdims=True)
    shares = np.divide(f, total, out=np.zeros_like(f), where=total > 0)
    cost = kappa * e[:, None] * (1.0 - shares) * (1.0 - pt)
    return np.where(total > 0, cost, 0.0)


def porting_decision(
    expected_saving: np.ndarray,
    porting_cost: np.ndarray,
    mandated: np.ndarray,
    current: np.ndarray,
    params: EcosystemParams | None = None,
) -> np.ndarray:
    """New porting level per buyer and stack, (B, S) in [0, 1].

    A buyer raises its level on stack s by params.porting_step_per_month when the expected saving
    from being able to use s exceeds this month's porting cost (same currency); mandated buyers
    (B,) bool (Chinese state-funded centres under domestic mandates) also raise it on
    params.mandated_porting_stacks regardless. Levels never fall (ported code stays ported).
    """
    if params is None:
        from model.ecosystem import EcosystemParams  # noqa: F811 (the defaults)

        params = EcosystemParams()
    p = params
    cur = np.asarray(current, dtype=float)
    save = np.asarray(expected_saving, dtype=float)
    cost = np.asarray(porting_cost, dtype=float)
    mand = np.asarray(mandated, dtype=bool)
    shapes_ok = save.shape == cur.shape and cost.shape == cur.shape and mand.shape == cur.shape[:1]
    if cur.ndim != 2 or not shapes_ok:
        raise ValueError(
            f"porting_decision: expected (B, S) saving, cost, current and (B,) mandated; got "
            f"{save.shape}, {cost.shape}, {cur.shape}, {mand.shape}"
        )
    if cur.size and not (cur.min() >= 0 and cur.max() <= 1) and ((cur < 0) | (cur > 1)).any():
        raise ValueError("porting_decision: current porting levels must be in [0, 1]")
    invest = save > cost
    if mand.any() and p.mandated_porting_stacks:
        cols = np.zeros(cur.shape[1], dtype=bool)
        cols[[STACK_INDEX[s] for s in p.mandated_porting_stacks]] = True
        invest = invest | (mand[:, None] & cols[None, :])
    return np.minimum(1.0, cur + p.porting_step_per_month * invest)


def porting_step(expected_saving: np.ndarray, cost_per_buyer: np.ndarray, months: int, mandated: np.ndarray,
                 current: np.ndarray, params: EcosystemParams) -> np.ndarray:
    """``porting_decision(expected_saving, cost, mandated, current, params)`` with the cost
    ``cost_per_buyer[:, None] * months`` on every stack, in one compiled pass for the market's
    arrays (float64 (B, S), (B,) and bool (B,)); the general function for anything else."""
    cur, save, cost, mand = current, expected_saving, cost_per_buyer, mandated
    nd = np.ndarray
    if not (type(cur) is nd and type(save) is nd and type(cost) is nd and type(mand) is nd and cur.ndim == 2
            and save.shape == cur.shape and cost.shape == mand.shape == cur.shape[:1]
            and cur.dtype == save.dtype == cost.dtype == np.float64 and mand.dtype == np.bool_):
        return porting_decision(save, np.broadcast_to(cost[:, None], save.shape) * months, mand, cur, params)
    key = (cur.shape[1], tuple(params.mandated_porting_stacks))
    cols = _MANDATED_COLS.get(key)
    if cols is None:  # the mandated stacks' mask, kept per (stacks, names); only read (by the pass)
        cols = np.zeros(cur.shape[1], dtype=bool)
        if params.mandated_porting_stacks:
            cols[[STACK_INDEX[s] for s in params.mandated_porting_stacks]] = True
        _MANDATED_COLS[key] = cols
    out, bad = _porting_pass(save, cost, float(months), mand, cols, cur, float(params.porting_step_per_month))
    if bad:
        raise ValueError("porting_decision: current porting levels must be in [0, 1]")
    return out


_MANDATED_COLS: dict = {}  # porting_step's masks of the mandated stacks (a handful of keys per process)


@njit(**JIT)
def _porting_pass(save, cost, months, mandated, cols, cur, step):
    """porting_decision's operations per element: invest where saving > cost x months (or a
    mandated buyer on a mandated stack), min(1, cur + step x invest); and whether any current
    level is outside [0, 1]."""
    B, S = cur.shape
    out = np.empty((B, S))
    bad = False
    for i in range(B):
        c = cost[i] * months
        for s in range(S):
            x = cur[i, s]
            if x < 0 or x > 1:
                bad = True
            invest = save[i, s] > c or (mandated[i] and cols[s])
            y = x + step * (1.0 if invest else 0.0)
            out[i, s] = 1.0 if 1.0 < y else y  # np.minimum(1.0, y): NaN kept
    return out, bad


def _in_unit_interval(a: np.ndarray) -> bool:
    """Every entry in [0, 1] and none NaN (an empty array passes): two reductions, NaN failing
    both comparisons, instead of five passes."""
    return not a.size or bool(a.min() >= 0 and a.max() <= 1)


def _any_negative(a: np.ndarray) -> bool:
    """``(a < 0).any()`` (NaN is not negative), one reduction when nothing is negative."""
    return bool(a.size and not a.min() >= 0 and (a < 0).any())


def bass_hazard(
    p: float | np.ndarray,
    q: float | np.ndarray,
    adopted_fraction: float | np.ndarray,
    dt_years: float = 1.0 / 12.0,
) -> np.ndarray:
    """Chance a not-yet-adopting buyer starts within dt: 1 - exp(-(p + q F) dt), Bass (1969).

    p (innovation) and q (imitation) are per year (typical p ~ 0.03, q ~ 0.38); F is the adopted
    fraction of the buyer's reference population in [0, 1]. Broadcasts over its arguments.
    """
    if type(p) is float and type(q) is float and type(adopted_fraction) is float and type(dt_years) is float:
        # Python floats (the market's monthly call): the same checks and IEEE operations, numpy's expm1
        if p < 0 or q < 0 or dt_years < 0:
            raise ValueError("bass_hazard: p, q and dt_years must be >= 0")
        if not 0 <= adopted_fraction <= 1:
            raise ValueError("bass_hazard: adopted_fraction must be in [0, 1]")
        return -np.expm1(-(p + q * adopted_fraction) * dt_years)
    if all(isinstance(x, (float, int, np.floating, np.integer)) for x in (p, q, adopted_fraction)):
        # scalars (the market's monthly call): the same checks and IEEE operations, without arrays
        pa, qa, fa = np.float64(p), np.float64(q), np.float64(adopted_fraction)
        if pa < 0 or qa < 0 or dt_years < 0:
            raise ValueError("bass_hazard: p, q and dt_years must be >= 0")
        if not 0 <= fa <= 1:
            raise ValueError("bass_hazard: adopted_fraction must be in [0, 1]")
        return -np.expm1(-(pa + qa * fa) * dt_years)
    pa = np.asarray(p, dtype=float)
    qa = np.asarray(q, dtype=float)
    fa = np.asarray(adopted_fraction, dtype=float)
    if (pa < 0).any() or (qa < 0).any() or dt_years < 0:
        raise ValueError("bass_hazard: p, q and dt_years must be >= 0")
    if ((fa < 0) | (fa > 1)).any() or np.isnan(fa).any():
        raise ValueError("bass_hazard: adopted_fraction must be in [0, 1]")
    return -np.expm1(-(pa + qa * fa) * dt_years)
