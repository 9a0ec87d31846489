"""[C5]-[C6] cost per hour and per unit of work; [C7] the buyers' multinomial-logit choice."""

from __future__ import annotations

from typing import Any

import numpy as np

from model.core.consts import _TINY, AVG_POWER_FRACTION
from model.core.data import CoreResult, Offerings, _Perf
from model.types import HOURS_PER_YEAR


def capital_recovery_factor(rate: float, life_years: float) -> float:
    """[C6] Annual payment per dollar of capital: r(1+r)^L / ((1+r)^L - 1); 1/L at r = 0."""
    if rate == 0:
        return 1.0 / life_years
    q = (1.0 + rate) ** life_years
    return rate * q / (q - 1.0)



def _price(off: Offerings, perf: _Perf, *, elec_usd_kwh: Any, pue: Any, levy: Any,
           energy_subsidy: Any, life_years: float, rate: float) -> CoreResult:
    elec = np.atleast_1d(np.asarray(elec_usd_kwh, dtype=np.float64))
    pue_r = np.atleast_1d(np.asarray(pue, dtype=np.float64))
    n_reg = np.broadcast_shapes(elec.shape, pue_r.shape)[0]
    O, W = perf.peak_flops.shape
    shape = (O, W, n_reg)
    lv = np.broadcast_to(np.asarray(levy, dtype=np.float64), (O, n_reg))[:, None, :]
    sub = np.broadcast_to(np.asarray(energy_subsidy, dtype=np.float64), (O, n_reg))[:, None, :]
    n = perf.n[..., None]                                                     # (O, W, 1)
    tok = perf.tokens_per_s_total[..., None]
    eff_pflops = tok * perf.useful_flops_per_token[..., None] / 1e15
    peak_pflops = n * perf.peak_flops[..., None] / 1e15
    mfu = np.where(peak_pflops > 0, eff_pflops / np.maximum(peak_pflops, _TINY), 0.0)
    power_kw = n * off.watts_allin[:, None, None] / 1000.0                  # [C5]
    facility_kw = power_kw * pue_r[None, None, :]
    energy_usd_h = facility_kw * AVG_POWER_FRACTION * elec[None, None, :] * (1.0 - sub)
    crf = capital_recovery_factor(rate, life_years)
    capex_usd_h = n * off.price_usd_per_accel[:, None, None] * (1.0 + lv) * crf / HOURS_PER_YEAR
    usd_h = capex_usd_h + energy_usd_h                                      # [C6]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_pflop_h = np.where(eff_pflops > 0, usd_h / eff_pflops, np.nan)
        per_mtok = np.where(tok > 0, usd_h / (tok * 3600.0) * 1e6, np.nan)
        j_tok = np.where(tok > 0, facility_kw * AVG_POWER_FRACTION * 1000.0 / tok, np.nan)
        tok_acc = np.where(n > 0, tok / n, 0.0)
    b = lambda a: np.broadcast_to(a, shape)  # noqa: E731
    return CoreResult(
        peak_pflops=b(peak_pflops), effective_pflops=b(eff_pflops), mfu=b(mfu),
        tokens_per_s_per_accel=b(tok_acc), power_kw=b(power_kw), facility_kw=b(facility_kw),
        usd_per_hour=b(usd_h), usd_per_effective_pflop_hour=b(per_pflop_h),
        usd_per_mtok=b(per_mtok), j_per_token=b(j_tok), precision=b(perf.fmt[..., None]))




def _hourly_cost(n: np.ndarray, watts: np.ndarray, price: np.ndarray, *, elec: np.ndarray,
                 pue: np.ndarray, levy: np.ndarray, energy_subsidy: np.ndarray | None,
                 life_years: float, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """[C5]-[C6] for one workload, the two figures the monthly pricing reads: USD per hour (O, R)
    and power in kW (O,) of ``n`` (O,) accelerators drawing ``watts`` (O,) each, bought at
    ``price`` (O,), in regions with ``elec`` (R,) and ``pue`` (R,); ``levy`` and
    ``energy_subsidy`` (O, R), a subsidy of None being none. The same IEEE operations, in the
    same order, as :func:`_price` (tests/test_market_speed.py checks it bit for bit), without
    its other nine arrays."""
    power_kw = n * watts / 1000.0
    energy = power_kw[:, None] * pue[None, :]
    energy *= AVG_POWER_FRACTION
    energy *= elec[None, :]
    if energy_subsidy is not None:
        energy *= 1.0 - energy_subsidy
    capex = (n * price)[:, None] * (1.0 + levy)
    capex *= capital_recovery_factor(rate, life_years)
    capex /= HOURS_PER_YEAR
    capex += energy
    return capex, power_kw


def logit_choice(utility: np.ndarray, available: np.ndarray | None = None, temperature: float = 1.0,
                 axis: int = -1) -> np.ndarray:
    """[C7] Multinomial-logit probabilities along ``axis``: softmax(U / temperature).

    Stable (max-shifted). Unavailable alternatives (``available`` False, or NaN utility) get
    probability exactly 0; a row with nothing available is all zeros. Temperature 0 is the
    deterministic best choice, ties split evenly.
    """
    u = np.asarray(utility, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature = {temperature}: expected >= 0")
    nan = np.isnan(u)
    if nan.any():  # NaN utility = unavailable (rare: cleaned once, so no NaN reaches the sums)
        u = np.where(nan, -np.inf, u)
    ok = u > -np.inf  # -inf utility: probability 0
    if available is not None:
        ok &= np.asarray(available, dtype=bool)
    # Max over the available alternatives: push unavailable ones far down (a multiply, not a
    # where with a scalar, which is several times slower on large arrays).
    umax = np.max(u - (~ok) * 1e300, axis=axis, keepdims=True) if u.size else np.zeros(u.shape[:-1] + (1,))
    any_ok = np.any(ok, axis=axis, keepdims=True)
    if temperature == 0 or np.any((umax == np.inf) & any_ok):
        w = np.where(ok, u, -np.inf)
        umax = np.max(w, axis=axis, keepdims=True)
        top = ok & (w == umax) & any_ok
        cnt = np.sum(top, axis=axis, keepdims=True)
        return np.where(top, 1.0 / np.maximum(cnt, 1), 0.0)
    w = u - np.where(any_ok, umax, 0.0)
    if temperature != 1.0:
        w /= temperature
    # clip to [-700, 0]: no overflow from unavailable entries, no slow sub-normal exp() path
    np.minimum(w, 0.0, out=w)
    np.maximum(w, -700.0, out=w)
    np.exp(w, out=w)
    w *= ok  # unavailable -> exactly 0
    s = np.sum(w, axis=axis, keepdims=True)
    w /= np.where(s > 0, s, 1.0)
    return w


