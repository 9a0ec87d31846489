"""History replay against observed figures (issue 9): the baseline's 2022-2025 part over seeds,
aggregated the way each observed figure is defined, next to its calibration band.

Market figures (docs/SOURCES.md#market-history) come from ``model.run.run_one`` tables; published system figures
(docs/SOURCES.md#systems) from the cluster core and the catalog, identical for every seed. The observed
values, bands and sources are ``model/data/observed.csv``. Pure: returns a frame, prints
nothing; ``chipwar validate`` renders it.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import InputError
from model.main_guard import refuse_unguarded_script
from model.market_figures import FIT_BEFORE, MARKET_FIGURES, role  # noqa: F401  (re-exported)
from model.months import month_label

#: the replayed history (the baseline's first 48 months)
HISTORY_START: str = "2022-01"
HISTORY_END: str = "2025-12"
#: fixed so that the shipped calibration verdict is reproducible
DEFAULT_ROOT_SEED: int = 20220101
#: the model interval is this quantile range of the per-seed figures
INTERVAL_Q: tuple[float, float] = (0.05, 0.95)

COLUMNS: tuple[str, ...] = ("metric", "period", "observed", "low", "high", "model_mean", "model_lo",
                            "model_hi", "in_band", "role", "kind", "source", "unit", "months", "basis")

# ------------------------------------------------------------------------------------ periods
_ONE = re.compile(r"^(\d{4})(?:-(\d\d)|-H([12])|-Q([1-4]))?$")


def _bounds(token: str) -> tuple[int, int]:
    """First and last month (as year*12 + month-1) of YYYY, YYYY-MM, YYYY-Hn or YYYY-Qn."""
    m = _ONE.match(token)
    if not m:
        raise InputError(f"period {token!r}: expected YYYY, YYYY-MM, YYYY-Hn, YYYY-Qn or A..B")
    year, month, half, quarter = m.groups()
    base = int(year) * 12
    if month:
        return base + int(month) - 1, base + int(month) - 1
    if half:
        return base + 6 * (int(half) - 1), base + 6 * int(half) - 1
    if quarter:
        return base + 3 * (int(quarter) - 1), base + 3 * int(quarter) - 1
    return base, base + 11


def _month(k: int) -> str:
    return month_label(k)


def period_months(period: str) -> list[str]:
    """Every month YYYY-MM of an observed.csv period (``2024``, ``2023-H1``, ``2021-02..2022-01``)."""
    parts = period.split("..")
    if len(parts) > 2:
        raise InputError(f"period {period!r}: expected one period or a range A..B")
    lo, hi = _bounds(parts[0])[0], _bounds(parts[-1])[1]
    if hi < lo:
        raise InputError(f"period {period!r}: ends before it starts")
    return [_month(k) for k in range(lo, hi + 1)]


def _history_months() -> list[str]:
    return period_months(f"{HISTORY_START}..{HISTORY_END}")


# ------------------------------------------------------------------------------------ market figures
# Each takes the run's tables and the months of the period inside the run; returns one number.
# ------------------------------------------------------------------------------------ system figures
def system_figures() -> dict[str, tuple[float, str]]:
    """Published-figure counterparts from the catalog and the cluster core: name -> (value, basis).

    Same inputs as tests/test_cluster.py: NVL72 and CM384 at one system each (BF16 peak and
    all-in power from ``evaluate`` on a BF16 workload); the serving calibration cases of
    SERVING_CASES (DeepSeek-R1 on CloudMatrix 384 with the core's deployment search, the 15 ms
    case being the decode workload with ``tpot_s`` = 0.015; SGLang's 96 H100 at its published
    deployments); Llama 3 405B on 8,192 and 16,384 HGX H100; Megatron 1T on 3,072 HGX A100 and MT-NLG
    530B on 2,240, 2,800 and 3,360 (mean); DeepSeek-V3 on 2,048 HGX H800 as a fraction of BF16 peak.
    """
    from model.catalog import load_catalog
    from model.cluster import Offerings, Workloads, evaluate

    cat = load_catalog()
    off = Offerings.from_frame(cat.systems, cat.chips)

    def idx(system_id: str) -> int:
        hit = np.flatnonzero(off.ids == system_id)
        if len(hit) == 0:
            raise InputError(f"catalog has no system {system_id!r} needed by validate")
        return int(hit[0])

    out: dict[str, tuple[float, str]] = {}
    n = off.n_per_system.astype(np.float64)
    bf16 = evaluate(off, Workloads.load(ids=["llama3-405b-train"]), n_accel=n)
    for name, sid in (("nvl72", "gb200-nvl72"), ("cm384", "cloudmatrix-384")):
        i = idx(sid)
        peak_pflops = float(bf16.peak_pflops[i, 0, 0])
        power_kw = float(bf16.power_kw[i, 0, 0])
        basis = f"{sid}, {int(n[i])} accelerators"
        out[f"{name}_bf16_pflops"] = (peak_pflops, f"{basis}: core peak at BF16")
        out[f"{name}_hbm_tb"] = (float(n[i] * off.hbm_gb[i] / 1000.0), f"{basis}: catalog HBM GB x n")
        out[f"{name}_hbm_bw_tb_s"] = (float(n[i] * off.hbm_tb_s[i]), f"{basis}: catalog HBM TB/s x n")
        out[f"{name}_power_kw"] = (power_kw, f"{basis}: core all-in power")
        out[f"{name}_w_per_tflop"] = (power_kw / peak_pflops, f"{basis}: all-in kW / BF16 PFLOPS")

    out.update(serving_figures(off, idx))
    for name, sid, wid, n_acc in (("llama3_405b_mfu_8k_h100", "hgx-h100", "llama3-405b-train", 8192),
                                  ("llama3_405b_mfu_16k_h100", "hgx-h100", "llama3-405b-train", 16384),
                                  ("megatron_1t_a100_frac_peak", "hgx-a100", "megatron-1t-train", 3072)):
        res = evaluate(off.take([idx(sid)]), Workloads.load(ids=[wid]), n_accel=n_acc)
        out[name] = (float(res.mfu[0, 0, 0]), f"core MFU, {wid} on {n_acc:,} {sid}")
    # MT-NLG's published 36-40 % spans its three cluster sizes (126, 121, 113 TFLOPS per GPU on
    # 2,240, 2,800, 3,360 A100): the counterpart is the core's mean over the same three sizes.
    a100, mtnlg = off.take([idx("hgx-a100")]), Workloads.load(ids=["mt-nlg-530b-train"])
    mfus = [float(evaluate(a100, mtnlg, n_accel=g).mfu[0, 0, 0]) for g in MTNLG_GPUS]
    out["mtnlg_530b_a100_mfu"] = (float(np.mean(mfus)), "core MFU, mt-nlg-530b-train on hgx-a100, mean over "
                                  + ", ".join(f"{g:,}" for g in MTNLG_GPUS) + " GPUs")
    h800 = off.take([idx("hgx-h800")])
    v3 = Workloads.load(ids=["deepseek-v3-train"])
    res = evaluate(h800, v3, n_accel=2048)
    frac = res.tokens_per_s_per_accel[0, 0, 0] * 6.0 * v3.params_active[0] / (h800.bf16_tflops[0] * 1e12)
    out["deepseek_v3_h800_bf16_frac"] = (float(frac), "core tokens/s x 6 x 37B / BF16 peak, deepseek-v3-train "
                                                      "on 2,048 hgx-h800")
    return out


#: Cluster sizes of MT-NLG 530B's published throughput (arXiv 2201.11990: 280, 350, 420 DGX A100).
MTNLG_GPUS: tuple[int, ...] = (2240, 2800, 3360)


#: Serving calibration cases (issue 15; docs/ODD.md [C4f]): name -> (system, workload, changes to
#: the shipped workload, fixed (ep, tp) or None for the core's own search, basis). CloudMatrix
#: 384 runs the shipped workloads (they are its set-up: arXiv 2506.12708, INT8, 4K prompts);
#: SGLang on 96 H100 (LMSYS 2025-05-05) ran 2,000-token prompts without MTP, BF16 KV, prefill on
#: 4 nodes (EP 32) and decode on 9 (EP 72) with DP attention, at ~100 ms between tokens.
SERVING_CASES: dict[str, tuple[str, str, dict[str, float], tuple[int, int] | None, str]] = {
    "cm384_decode_tok_s_per_npu": ("cloudmatrix-384", "deepseek-r1-decode", {}, None,
                                   "core search, deepseek-r1-decode (TPOT 50 ms) on CloudMatrix 384"),
    "cm384_decode_tok_s_per_npu_15ms": ("cloudmatrix-384", "deepseek-r1-decode", {"tpot_s": 0.015}, None,
                                        "core search, deepseek-r1-decode with TPOT 15 ms on CloudMatrix 384"),
    "cm384_prefill_tok_s_per_npu": ("cloudmatrix-384", "deepseek-r1-prefill", {}, None,
                                    "core search, deepseek-r1-prefill on CloudMatrix 384"),
    "sglang_h100_decode_tok_s_per_gpu": (
        "hgx-h100", "deepseek-r1-decode",
        {"seq_len": 2000.0, "mtp_depth": 0.0, "attn_fp8": 0.0, "tpot_s": 0.1}, (72, 1),
        "core, EP 72 / DP attention on HGX H100, 2K context, no MTP, BF16 KV, TPOT 100 ms"),
    "sglang_h100_prefill_tok_s_per_gpu": (
        "hgx-h100", "deepseek-r1-prefill", {"seq_len": 2000.0, "attn_fp8": 0.0}, (32, 1),
        "core, EP 32 / DP attention on HGX H100, 2K prompts, BF16 attention"),
}


def serving_case(off, name: str, idx: Callable[[str], int]):
    """The (offering, workload, deployment restriction) of one serving calibration case."""
    from model.cluster import Workloads

    sid, wid, changes, fixed, _ = SERVING_CASES[name]
    wl = Workloads.load(ids=[wid])
    wl = dataclasses.replace(wl, **{k: np.full(1, v) for k, v in changes.items()})
    ep, tp = ([fixed[0]], [fixed[1]]) if fixed else (None, None)
    return off.take([idx(sid)]), wl, ep, tp


def serving_figures(off, idx: Callable[[str], int]) -> dict[str, tuple[float, str]]:
    """Tokens/s per accelerator of every serving calibration case."""
    from model.cluster import serving_deployments

    out = {}
    for name, case in SERVING_CASES.items():
        o, wl, ep, tp = serving_case(off, name, idx)
        out[name] = (float(serving_deployments(o, wl, ep, tp).tokens_per_s[0, 0]), case[4])
    return out


SYSTEM_FIGURES: tuple[str, ...] = (
    "nvl72_bf16_pflops", "nvl72_hbm_tb", "nvl72_hbm_bw_tb_s", "nvl72_power_kw", "nvl72_w_per_tflop",
    "cm384_bf16_pflops", "cm384_hbm_tb", "cm384_hbm_bw_tb_s", "cm384_power_kw", "cm384_w_per_tflop",
    "cm384_decode_tok_s_per_npu", "cm384_decode_tok_s_per_npu_15ms", "cm384_prefill_tok_s_per_npu",
    "sglang_h100_decode_tok_s_per_gpu", "sglang_h100_prefill_tok_s_per_gpu",
    "llama3_405b_mfu_8k_h100", "llama3_405b_mfu_16k_h100", "megatron_1t_a100_frac_peak",
    "mtnlg_530b_a100_mfu", "deepseek_v3_h800_bf16_frac",
)


# ------------------------------------------------------------------------------------ seeds
def seed_list(seeds: int, root_seed: int = DEFAULT_ROOT_SEED) -> list[int]:
    """Run seeds as the sweep runner draws them: SeedSequence(root).spawn(n), 32 bits each."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(root_seed).spawn(seeds)]


def _seed_figures(seed: int, specs: list[tuple[str, list[str]]]) -> list[float]:
    """One history run; the market figure of every (metric, months) spec. Runs in a worker."""
    from model.run import run_one

    tables = run_one({"end": HISTORY_END}, seed)
    return [MARKET_FIGURES[metric][0](tables, months) for metric, months in specs]


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool safe under spawn/forkserver: the task is a module-level function here. Its
    fork server, which holds the command's stdout, exits without the collector's final passes
    (``model._exit_quick``): a piped ``chipwar validate`` ends when its parent does."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["model.validate", "model.run", "model._exit_quick"])
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _run_seeds(seeds: list[int], specs: list[tuple[str, list[str]]], workers: int,
               on_seed: Callable[[], None] | None = None) -> np.ndarray:
    """(seeds, specs) array of market figures, in seed order; ``on_seed()`` after each replay."""
    if not specs:
        return np.empty((len(seeds), 0))
    done = on_seed or (lambda: None)
    rows = []
    # no pool inside a worker process (a sweep task, or a script re-imported by spawn/forkserver)
    in_worker = multiprocessing.parent_process() is not None
    if len(seeds) > 2 and workers > 1 and not in_worker:
        refuse_unguarded_script("a pool of worker processes", "workers=1")
        with _pool(min(workers, len(seeds))) as pool:
            for row in pool.map(_seed_figures, seeds, [specs] * len(seeds)):
                rows.append(row)
                done()
    else:
        for s in seeds:
            rows.append(_seed_figures(s, specs))
            done()
    return np.asarray(rows, dtype=np.float64).reshape(len(seeds), len(specs))


# ------------------------------------------------------------------------------------ validate
def validate(seeds: int = 5, root_seed: int = DEFAULT_ROOT_SEED,
             observed_path: str | Path | None = None, workers: int | None = None,
             on_seed: Callable[[], None] | None = None) -> pd.DataFrame:
    """Replay the baseline's history over ``seeds`` seeds; one row per observed figure.

    ``on_seed()`` is called after each history replay (progress). ``model_mean`` is the mean
    over seeds of the figure aggregated over its period;
    ``model_lo``/``model_hi`` the 5-95 % range over seeds; ``in_band`` = low <= mean <= high.
    A period only partly inside the run is aggregated over the months inside (``months``);
    one wholly outside, or a metric the model cannot produce, is refused (InputError).
    """
    from model.population import load_observed

    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise InputError(f"seeds = {seeds!r}: expected a positive integer")
    if workers is not None and workers < 1:
        raise InputError(f"workers = {workers!r}: expected a positive integer")
    obs = load_observed(observed_path)
    where_ = str(observed_path) if observed_path else "model/data/observed.csv"
    known = sorted([*MARKET_FIGURES, *SYSTEM_FIGURES])
    unknown = sorted(set(obs["metric"]) - set(known))
    if unknown:
        raise InputError(f"{where_}: metric {unknown[0]!r} has no model counterpart; "
                         f"known: {', '.join(known)}")

    history = set(_history_months())
    specs: list[tuple[str, list[str]]] = []
    spec_of_row: dict[int, int] = {}
    months_of_row: dict[int, tuple[int, int]] = {}
    for i, r in obs.iterrows():
        if r["metric"] not in MARKET_FIGURES:
            continue
        all_months = period_months(r["period"])
        inside = [m for m in all_months if m in history]
        if not inside:
            raise InputError(f"{where_}: {r['metric']} period {r['period']!r} lies outside the "
                             f"replayed history {HISTORY_START}..{HISTORY_END}")
        spec_of_row[i] = len(specs)
        months_of_row[i] = (len(inside), len(all_months))
        specs.append((r["metric"], inside))

    run_seeds = seed_list(int(seeds), root_seed)
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, len(run_seeds))
    per_seed = _run_seeds(run_seeds, specs, n_workers, on_seed)
    system = system_figures() if any(m in SYSTEM_FIGURES for m in obs["metric"]) else {}

    rows = []
    for i, r in obs.iterrows():
        if i in spec_of_row:
            x = per_seed[:, spec_of_row[i]]
            x = x[np.isfinite(x)]
            mean = float(x.mean()) if len(x) else np.nan
            lo, hi = (float(q) for q in np.quantile(x, INTERVAL_Q)) if len(x) else (np.nan, np.nan)
            inside, total = months_of_row[i]
            months = f"{inside}/{total}"
            basis = MARKET_FIGURES[r["metric"]][1]
        else:
            mean, basis = system[r["metric"]]
            lo = hi = mean
            months = "-"
        rows.append({
            "metric": r["metric"], "period": r["period"], "observed": float(r["value"]),
            "low": float(r["low"]), "high": float(r["high"]), "model_mean": mean,
            "model_lo": lo, "model_hi": hi,
            "in_band": bool(np.isfinite(mean) and r["low"] <= mean <= r["high"]),
            "role": role(r["metric"], period_months(r["period"])[0]),
            "kind": r["kind"], "source": r["source"], "unit": r["unit"], "months": months,
            "basis": basis,
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))
