"""The cluster-performance core: what an offering delivers on a workload, and at what cost.

Pure numpy, vectorised over offerings (O) x workloads (W) x regions (R), buyers (B) in
:func:`price_and_choose` and candidate serving deployments (K) inside the core; no Python loop
over any of them. Analytical models only (roofline with separate terms, alpha-beta collectives,
Calculon-style step-time accounting). Every equation and constant is listed in docs/ODD.md,
"Submodels -> Cluster-performance core"; the section tags (``[C1]`` ...) point there.

This module is the facade of ``model.core`` (constants, data, training, serving, cost, choice,
fab); the project calls it. Imports nothing of the project but ``model.types`` and
``model.core``: it is the innermost room (CONTRIBUTING.md, "How the code is laid out").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.core import consts as _K
from model.core.choice import _price, capital_recovery_factor, logit_choice
from model.core.consts import (  # noqa: F401  (re-exported: the core's public constants)
    _TINY,
    A2A_OVERLAP,
    ACT_BYTES,
    ALPHA_SCALEOUT_S,
    ALPHA_SCALEUP_S,
    AVG_POWER_FRACTION,
    BF16_PER_FP8,
    BOUNDS,
    DECODE,
    DP_OVERLAP,
    EP_GRID,
    EP_REDUNDANCY,
    ETA_ATTN,
    ETA_COMPUTE_TRAIN,
    ETA_GEMM,
    ETA_HBM,
    ETA_LINK,
    FORMATS,
    HBM_SERVING_FRACTION,
    KINDS,
    MAX_DECODE_BATCH,
    PREFILL,
    PREFILL_TOKENS_PER_ACCEL,
    SERVE_A2A_OVERLAP,
    STACK_COMPUTE_FACTOR,
    STEP_LAYER_OVERHEAD_S,
    STEP_OVERHEAD_S,
    TP_GRID,
    TRAIN,
)
from model.core.data import SERVING_CSV, WORKLOADS_CSV, CoreResult, Offerings, Workloads, _Perf, workload_memo  # noqa: F401
from model.core.fab import cost_per_good_die, die_yield, dies_per_wafer, performance_density, tpp  # noqa: F401
from model.core.serve import TERMS, Deployments, _grid_of, best_of, deploy_table, deployments, grid, serve  # noqa: F401
from model.core.train import _train

__all__ = [
    "TRAIN", "PREFILL", "DECODE", "FORMATS", "BOUNDS", "TERMS", "Offerings", "Workloads", "CoreResult",
    "Deployments", "performance", "serving_deployments", "evaluate", "price", "price_and_choose",
    "logit_choice", "capital_recovery_factor", "tpp", "performance_density", "dies_per_wafer",
    "die_yield", "cost_per_good_die",
]


# ---------------------------------------------------------------------------------------------
# Performance [C1]-[C4]
# ---------------------------------------------------------------------------------------------
def _choose_format(off: Offerings, wl: Workloads) -> tuple[np.ndarray, np.ndarray]:
    """[C1] Per (O, W): index into FORMATS and peak FLOP/s per accelerator at that format."""
    rates = np.stack([off.fp8_tflops, off.int8_tops, off.bf16_tflops], axis=1) * 1e12  # (O, 3)
    has = np.isfinite(rates) & (rates > 0)
    score = np.where(has[:, None, :], wl.pref_rank[None, :, :], np.inf)  # (O, W, 3)
    fmt = np.argmin(score, axis=2)
    peak = rates[np.arange(len(rates))[:, None], fmt]  # (O, W): each pair's rate at its format
    return fmt, (peak if np.isfinite(peak).all() else np.nan_to_num(peak, nan=0.0))



def performance(off: Offerings, wl: Workloads, n_accel: int | np.ndarray = 16384) -> _Perf:
    """Region-independent performance of every (offering, workload) pair at n accelerators.

    Serving runs the best deployment of the search ([C4b]) on each accelerator (its
    ``ep``, ``tp``, ``batch`` and binding resource ``bound`` are in the result; NaN / -1 for
    training), so serving throughput is per accelerator x n.
    """
    fmt, peak = _choose_format(off, wl)
    n = np.asarray(n_accel, dtype=np.float64)
    if n.ndim == 1:
        n = n[:, None]
    n = np.broadcast_to(n, peak.shape)
    n = np.maximum(n, 0.0)
    train = _train(off, wl, peak, fmt, n)
    e, t = _grid_of(tuple(_K.EP_GRID), tuple(_K.TP_GRID))
    is_train, f_serve = workload_memo(wl, "performance", _serving_flops)
    res = best_of(deploy_table(off, wl, peak, fmt, e, t), _as_f64(e).reshape(-1), _as_f64(t).reshape(-1),
                  train.tokens_per_s_total, train.useful_flops_per_token, n, is_train, f_serve)
    return _Perf(peak_flops=peak, tokens_per_s_total=res[0], useful_flops_per_token=res[1], n=n, fmt=fmt,
                 ep=res[2], tp=res[3], batch=res[4], bound=res[5])  # bound: a code 0-5 or -1, never NaN


def _as_f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _serving_flops(wl: Workloads) -> tuple[np.ndarray, np.ndarray]:
    """(W,) training flags and (W,) useful FLOPs per served token (2 P_active + attention over the
    context; half the context on average while prefilling)."""
    kind = np.asarray(wl.kind)
    ctx = np.asarray(wl.seq_len, dtype=np.float64)
    f_serve = 2.0 * np.asarray(wl.params_active, dtype=np.float64) + np.asarray(
        wl.attn_flops_per_ctx, dtype=np.float64) * np.where(kind == PREFILL, ctx / 2.0, ctx)
    return np.ascontiguousarray(kind == TRAIN), np.ascontiguousarray(f_serve)


def serving_deployments(off: Offerings, wl: Workloads, ep: Any = None, tp: Any = None,
                        best: bool = True) -> Deployments:
    """[C4] The serving deployments behind :func:`performance` with every term per step.

    ``ep``/``tp`` restrict the search (e.g. ``ep=[72], tp=[1]`` for one fixed deployment);
    ``best`` False returns every candidate (arrays (O, W, K)) instead of the chosen one (O, W).
    """
    fmt, peak = _choose_format(off, wl)
    if best:
        return serve(off, wl, peak, fmt, ep, tp)
    e, t = grid(ep, tp)
    return deployments(off, wl, peak, fmt, e, t)


# ---------------------------------------------------------------------------------------------
# Cost [C5], [C6] and choice [C7]
# ---------------------------------------------------------------------------------------------
def evaluate(off: Offerings, wl: Workloads, *, n_accel: int | np.ndarray = 16384,
             elec_usd_kwh: np.ndarray | float = 0.08, pue: np.ndarray | float = 1.2,
             levy: np.ndarray | float = 0.0, energy_subsidy: np.ndarray | float = 0.0,
             life_years: float = 4.0, rate: float = 0.10) -> CoreResult:
    """Price every offering for every workload and region; all outputs shape (O, W, R).

    ``elec_usd_kwh`` and ``pue`` are per region (R,); ``levy`` (fraction of hardware price) and
    ``energy_subsidy`` (fraction of the energy price) broadcast to (O, R); ``n_accel`` is a
    scalar, per offering (O,) or per pair (O, W).
    """
    perf = performance(off, wl, n_accel)
    return _price(off, perf, elec_usd_kwh=elec_usd_kwh, pue=pue, levy=levy,
                  energy_subsidy=energy_subsidy, life_years=life_years, rate=rate)


def price(off: Offerings, perf: _Perf, *, elec_usd_kwh: Any = 0.08, pue: Any = 1.2, levy: Any = 0.0,
          energy_subsidy: Any = 0.0, life_years: float = 4.0, rate: float = 0.10) -> CoreResult:
    """[C5]-[C6] Costs for performance already computed with :func:`performance`.

    ``evaluate`` = ``performance`` + ``price``; the market model re-prices every month (prices,
    levies, power) while an offering's hardware performance stays what it was at launch.
    """
    return _price(off, perf, elec_usd_kwh=elec_usd_kwh, pue=pue, levy=levy,
                  energy_subsidy=energy_subsidy, life_years=life_years, rate=rate)



def price_and_choose(off: Offerings, wl: Workloads, *, price_sensitivity: np.ndarray,
                     affinity: np.ndarray | None = None, available: np.ndarray | None = None,
                     temperature: float = 1.0, n_accel: int | np.ndarray = 16384,
                     elec_usd_kwh: np.ndarray | float = 0.08, pue: np.ndarray | float = 1.2,
                     levy: np.ndarray | float = 0.0, energy_subsidy: np.ndarray | float = 0.0,
                     life_years: float = 4.0, rate: float = 0.10,
                     ) -> tuple[CoreResult, np.ndarray]:
    """[C7] The market's hot path: price all offerings, then each buyer's choice probabilities.

    Utility of offering o to buyer b for workload w in region r:
    ``U = affinity[b, o] - price_sensitivity[b] * ln(unit_cost[o, w, r])`` (unit cost = USD per
    million tokens for serving, USD per effective PFLOP-hour for training). ``affinity`` (B, O)
    carries stack network value, switching cost, alignment and bundles from the market model;
    ``available`` broadcasts to (B, W, R, O) (a banned offering is unavailable, not expensive).
    Returns the CoreResult and probabilities of shape (B, W, R, O) summing to 1 over O.
    """
    res = evaluate(off, wl, n_accel=n_accel, elec_usd_kwh=elec_usd_kwh, pue=pue, levy=levy,
                   energy_subsidy=energy_subsidy, life_years=life_years, rate=rate)
    cost = res.unit_cost(wl.kind)                                     # (O, W, R)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_cost = np.log(np.where(cost > 0, cost, np.nan)).transpose(1, 2, 0)   # (W, R, O)
    finite = np.isfinite(log_cost)
    beta = np.asarray(price_sensitivity, dtype=np.float64)
    u = np.multiply(beta[:, None, None, None], np.where(finite, log_cost, 0.0)[None])  # (B, W, R, O)
    np.negative(u, out=u)
    if affinity is not None:
        u += np.asarray(affinity, dtype=np.float64)[:, None, None, :]
    if temperature == 0:
        mask = np.broadcast_to(finite, u.shape)
        if available is not None:
            mask = mask & np.broadcast_to(np.asarray(available, dtype=bool), u.shape)
        return res, logit_choice(u, mask, 0.0, axis=-1)
    # in-place stable softmax over the offering axis (same result as logit_choice, less memory)
    if not finite.all():
        np.copyto(u, -np.inf, where=~finite)
    if available is not None:
        avail = np.asarray(available, dtype=bool)
        if not avail.all():
            np.copyto(u, -np.inf, where=~avail)
    umax = u.max(axis=-1, keepdims=True)
    umax[~np.isfinite(umax)] = 0.0
    u -= umax
    if temperature != 1.0:
        u /= temperature
    np.exp(u, out=u)
    s = u.sum(axis=-1, keepdims=True)
    s[s == 0] = 1.0
    u /= s
    return res, u

