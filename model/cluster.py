"""The cluster-performance core: what an offering delivers on a workload, and at what cost.

Pure numpy, vectorised over offerings (O) x workloads (W) x regions (R), and buyers (B) in
:func:`price_and_choose`; no Python loop over any of them. Analytical models only (roofline,
alpha-beta collectives, Calculon-style step-time accounting). Every equation and constant is
listed in docs/ODD.md, "Submodels -> Cluster-performance core"; the section tags in the
comments below (``[C1]`` ...) point there.

Imports nothing of the project but ``model.types``: it is the innermost room (DESIGN §1).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from model.types import HOURS_PER_YEAR

WORKLOADS_CSV: Path = Path(__file__).resolve().parent / "data" / "workloads.csv"

# ---------------------------------------------------------------------------------------------
# Calibration constants (one set for every system; see docs/ODD.md for sources)
# ---------------------------------------------------------------------------------------------
#: Sustained fraction of peak reached by training math (GEMMs + elementwise), before any
#: communication or pipeline bubble. Calibrated to Megatron-LM 1T on 3,072 A100 = 52 % and
#: Llama 3 405B on 16,384 H100 = 41 % MFU (FACTS §2).
ETA_COMPUTE_TRAIN: float = 0.60
#: Achieved collective bus bandwidth / nominal link bandwidth (NCCL busbw on NVLink and
#: 400G NICs is ~70-80 % of line rate; nccl-tests).
ETA_LINK: float = 0.75
#: Per-step latency (alpha) of one collective hop inside a scale-up domain and across NICs, s.
ALPHA_SCALEUP_S: float = 5e-6
ALPHA_SCALEOUT_S: float = 15e-6
#: Virtual pipeline stages per device (interleaved 1F1B): bubble = (pp-1)/(v*m) of compute.
#: Calibrated to Llama 3 405B at 16K GPUs (41 % MFU; Megatron uses v = 2..4).
PIPELINE_INTERLEAVE: float = 3.0
#: Fraction of backward compute that can hide the data-parallel gradient reduction.
DP_OVERLAP: float = 0.8
#: Fraction of compute that can hide MoE all-to-all (DeepSeek DualPipe / two-micro-batch
#: overlap hides most of it; calibrated to CloudMatrix-384 serving, FACTS §2).
A2A_OVERLAP: float = 0.6
#: Bytes of training state per parameter held by its shard: bf16 weight (2) + fp32 gradient
#: (4) + a ZeRO-1 share of fp32 Adam state (~2 at data-parallel degree >= 6).
TRAIN_STATE_BYTES_PER_PARAM: float = 8.0
#: Fraction of HBM given to training state (the rest is activations and workspace).
HBM_STATE_FRACTION: float = 0.5
#: Fraction of HBM usable for serving weights + KV cache.
HBM_SERVING_FRACTION: float = 0.9
#: Bytes per activation element (bf16) for tensor- and pipeline-parallel traffic.
ACT_BYTES: float = 2.0
#: Bytes per gradient element in the data-parallel reduction (bf16 reduce-scatter/all-gather).
GRAD_BYTES: float = 2.0
#: Collectives per transformer layer per micro-batch under Megatron tensor parallelism with
#: sequence parallelism (2 forward + 2 backward all-reduce equivalents; Korthikanti et al. 2022).
TP_COLLECTIVES_PER_LAYER: float = 4.0
#: Sustained fraction of peak for prefill (compute-bound). Calibrated to CloudMatrix-384
#: DeepSeek-R1 INT8 prefill 5,655-6,688 tok/s per NPU (arXiv 2506.12708); SGLang on H800
#: reaches a similar ~0.31 of FP8 peak.
ETA_PREFILL: float = 0.35
#: Sustained fraction of peak for decode math (skinny expert GEMMs, absorbed-MLA attention).
#: Calibrated to CloudMatrix-384 decode 1,943 tok/s per NPU at TPOT < 50 ms.
ETA_DECODE_COMPUTE: float = 0.30
#: Achieved / nominal HBM bandwidth when streaming weights and KV cache (STREAM-like 80 %).
ETA_HBM: float = 0.80
#: Fixed per-layer, per-decode-step overhead (kernel launch, synchronisation), s.
DECODE_LAYER_OVERHEAD_S: float = 30e-6
#: Average / nameplate power while running (Epoch AI energy model: 0.75 x peak).
AVG_POWER_FRACTION: float = 0.75
#: Dense BF16 rate as a fraction of dense FP8 rate, used only when a chip has no BF16 figure
#: (roadmap parts announced with FP8 only). Nvidia Hopper/Blackwell and AMD CDNA3: 0.5.
BF16_PER_FP8: float = 0.5
#: Pipeline depths tried, as multiples of the smallest that fits in memory (deeper pipelines
#: shrink each accelerator's gradient shard at the cost of a larger bubble).
PP_MULTIPLIERS: tuple[int, ...] = (1, 2, 4, 8)
#: Numerical cap on the decode batch when neither TPOT nor HBM bounds it (tokens per step).
MAX_DECODE_BATCH: float = 1e9

#: Workload kinds.
TRAIN, PREFILL, DECODE = 0, 1, 2
KINDS: tuple[str, ...] = ("train", "prefill", "decode")
#: Numeric formats in the order of the Offerings rate columns.
FORMATS: tuple[str, ...] = ("fp8", "int8", "bf16")

_TINY = 1e-300


# ---------------------------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Offerings:
    """Struct of arrays, one entry per offering (a system: chip + domain + network + price).

    Rates are dense per accelerator; bandwidths in GB/s (``scaleup_gb_s`` bidirectional per
    accelerator inside its scale-up domain, ``scaleout_gb_s`` one direction per accelerator).
    """

    ids: np.ndarray
    chip: np.ndarray
    stack: np.ndarray
    bf16_tflops: np.ndarray
    fp8_tflops: np.ndarray
    int8_tops: np.ndarray
    hbm_gb: np.ndarray
    hbm_tb_s: np.ndarray
    scaleup_gb_s: np.ndarray
    scaleout_gb_s: np.ndarray
    domain: np.ndarray
    watts_allin: np.ndarray
    price_usd_per_accel: np.ndarray
    n_per_system: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ids)
        for f in fields(self):
            arr = getattr(self, f.name)
            if np.shape(arr) != (n,):
                raise ValueError(f"Offerings.{f.name} has shape {np.shape(arr)}, expected ({n},)")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: ArrayLike) -> Offerings:
        """A subset (or reordering) of offerings by integer index or boolean mask."""
        return Offerings(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @classmethod
    def from_frame(cls, systems: pd.DataFrame, chips: pd.DataFrame) -> Offerings:
        """Join system rows (index = id, column ``chip``) with their chip rows (index = id).

        No catalog lookup: the market model calls this with derived rows too. A system's own
        ``scaleup_gb_s`` wins over its chip's; a chip with no BF16 figure gets
        BF16_PER_FP8 x its FP8 rate.
        """
        missing = sorted(set(systems["chip"]) - set(chips.index))
        if missing:
            raise ValueError(f"systems name chips not in the chips table: {', '.join(map(str, missing))}")
        ch = chips.loc[systems["chip"].to_numpy()]

        def num(frame: pd.DataFrame, col: str) -> np.ndarray:
            if col not in frame.columns:
                return np.full(len(frame), np.nan)
            return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

        bf16 = num(ch, "bf16_tflops")
        fp8 = num(ch, "fp8_tflops")
        bf16 = np.where(np.isnan(bf16), BF16_PER_FP8 * fp8, bf16)
        scaleup = num(systems, "scaleup_gb_s")
        scaleup = np.where(np.isnan(scaleup), num(ch, "scaleup_gb_s"), scaleup)
        n_sys = num(systems, "n_accel")
        domain = num(systems, "scaleup_domain")
        domain = np.where(np.isnan(domain), 1.0, domain)
        stack = systems["stack"] if "stack" in systems.columns else ch["stack"]
        return cls(
            ids=np.asarray(systems.index.astype(str), dtype=object),
            chip=np.asarray(systems["chip"].astype(str), dtype=object),
            stack=np.asarray(pd.Series(stack).astype(str), dtype=object),
            bf16_tflops=bf16,
            fp8_tflops=fp8,
            int8_tops=num(ch, "int8_tops"),
            hbm_gb=num(ch, "hbm_gb"),
            hbm_tb_s=num(ch, "hbm_tb_s"),
            scaleup_gb_s=np.nan_to_num(scaleup, nan=0.0),
            scaleout_gb_s=np.nan_to_num(num(systems, "scaleout_gb_s"), nan=0.0),
            domain=np.maximum(domain, 1.0).astype(np.int64),
            watts_allin=num(systems, "watts_allin"),
            price_usd_per_accel=num(systems, "price_usd") / n_sys,
            n_per_system=np.nan_to_num(n_sys, nan=1.0).astype(np.int64),
        )


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------
_WL_NUMERIC: tuple[str, ...] = (
    "params_total", "params_active", "params_expert", "n_layers", "moe_layers", "d_model",
    "seq_len", "batch_tokens", "tp", "ep", "top_k", "attn_flops_per_ctx", "kv_bytes_per_token",
    "tpot_s",
)


@dataclass(frozen=True)
class Workloads:
    """Struct of arrays, one entry per workload (see model/data/workloads.csv for meanings).

    ``precision`` is an ordered preference list such as ``"int8|fp8"``; the first format the
    chip has wins and BF16 is the final fallback. ``pref_rank`` (W, 3) encodes it over FORMATS.
    """

    ids: np.ndarray
    kind: np.ndarray
    params_total: np.ndarray
    params_active: np.ndarray
    params_expert: np.ndarray
    n_layers: np.ndarray
    moe_layers: np.ndarray
    d_model: np.ndarray
    seq_len: np.ndarray
    batch_tokens: np.ndarray
    tp: np.ndarray
    ep: np.ndarray
    top_k: np.ndarray
    attn_flops_per_ctx: np.ndarray
    kv_bytes_per_token: np.ndarray
    tpot_s: np.ndarray
    precision: np.ndarray
    pref_rank: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: ArrayLike) -> Workloads:
        """A subset of workloads by integer index or boolean mask."""
        return Workloads(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Workloads:
        """Build from a frame with the workloads.csv columns (index or column ``id``)."""
        df = frame.reset_index() if "id" not in frame.columns else frame
        kinds = df["kind"].astype(str).to_numpy()
        bad = sorted(set(kinds) - set(KINDS))
        if bad:
            raise ValueError(f"workload kind {bad[0]!r}: expected one of {', '.join(KINDS)}")
        prec = df["precision"].astype(str).to_numpy()
        rank = np.full((len(df), len(FORMATS)), 50.0)
        for i, p in enumerate(prec):  # parsing text, once per load (not the hot path)
            for r, fmt in enumerate(p.split("|")):
                if fmt.strip() not in FORMATS:
                    raise ValueError(f"workload {df['id'].iloc[i]!r}: precision {p!r}: "
                                     f"expected formats from {', '.join(FORMATS)} joined by '|'")
                rank[i, FORMATS.index(fmt.strip())] = min(rank[i, FORMATS.index(fmt.strip())], r)
        rank[:, FORMATS.index("bf16")] = np.minimum(rank[:, FORMATS.index("bf16")], 10.0)
        nums = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                for c in _WL_NUMERIC}
        for c in ("params_expert", "moe_layers", "top_k", "batch_tokens", "kv_bytes_per_token"):
            nums[c] = np.nan_to_num(nums[c], nan=0.0)
        for c in ("tp", "ep"):
            nums[c] = np.maximum(np.nan_to_num(nums[c], nan=1.0), 1.0)
        return cls(ids=np.asarray(df["id"].astype(str), dtype=object),
                   kind=np.array([KINDS.index(k) for k in kinds], dtype=np.int64),
                   precision=np.asarray(prec, dtype=object), pref_rank=rank, **nums)

    @classmethod
    def load(cls, path: Path | str | None = None, ids: list[str] | None = None) -> Workloads:
        """Read model/data/workloads.csv (or ``path``), optionally only ``ids`` in that order.
        The packaged file is read once per process (read-only arrays, shared by every model)."""
        if path is None:
            return _packaged_workloads(None if ids is None else tuple(ids))
        return cls._read(path, ids)

    @classmethod
    def _read(cls, path: Path | str, ids: Sequence[str] | None) -> Workloads:
        df = pd.read_csv(path)
        if ids is not None:
            known = list(df["id"].astype(str))
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise KeyError(f"unknown workload {unknown[0]!r}; valid: {', '.join(known)}")
            df = df.set_index("id").loc[list(ids)].reset_index()
        return cls.from_frame(df)


@functools.lru_cache(maxsize=16)
def _packaged_workloads(ids: tuple[str, ...] | None) -> Workloads:
    wl = Workloads._read(WORKLOADS_CSV, ids)
    for f in fields(wl):
        getattr(wl, f.name).flags.writeable = False  # shared between models: nobody may write
    return wl


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoreResult:
    """Every field has shape (O, W, R); NaN where not applicable (e.g. cost of zero output).

    ``peak_pflops`` is at the numeric format the workload runs in on that chip (see
    ``precision``); totals are for ``n_accel`` accelerators.
    """

    peak_pflops: np.ndarray
    effective_pflops: np.ndarray
    mfu: np.ndarray
    tokens_per_s_per_accel: np.ndarray
    power_kw: np.ndarray
    facility_kw: np.ndarray
    usd_per_hour: np.ndarray
    usd_per_effective_pflop_hour: np.ndarray
    usd_per_mtok: np.ndarray
    j_per_token: np.ndarray
    precision: np.ndarray  # index into FORMATS actually used, (O, W, R)

    def unit_cost(self, kind: np.ndarray) -> np.ndarray:
        """Cost per unit of useful work: USD/Mtok for serving, USD/effective-PFLOP-h for training."""
        train = (np.asarray(kind) == TRAIN)[None, :, None]
        return np.where(train, self.usd_per_effective_pflop_hour, self.usd_per_mtok)


@dataclass(frozen=True)
class _Perf:
    """Per (O, W) performance, independent of region."""

    peak_flops: np.ndarray          # per accelerator, FLOP/s at the chosen format
    tokens_per_s_total: np.ndarray  # whole deployment of n accelerators
    useful_flops_per_token: np.ndarray
    n: np.ndarray
    fmt: np.ndarray

    def take(self, idx: ArrayLike) -> _Perf:
        """The rows (offerings) ``idx`` of every array."""
        return _Perf(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[_Perf]) -> _Perf:
        """Offerings of several results stacked (same workloads)."""
        return _Perf(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Perf)})


# ---------------------------------------------------------------------------------------------
# Performance [C1]-[C4]
# ---------------------------------------------------------------------------------------------
def _choose_format(off: Offerings, wl: Workloads) -> tuple[np.ndarray, np.ndarray]:
    """[C1] Per (O, W): index into FORMATS and peak FLOP/s per accelerator at that format."""
    rates = np.stack([off.fp8_tflops, off.int8_tops, off.bf16_tflops], axis=1) * 1e12  # (O, 3)
    has = np.isfinite(rates) & (rates > 0)
    score = np.where(has[:, None, :], wl.pref_rank[None, :, :], np.inf)  # (O, W, 3)
    fmt = np.argmin(score, axis=2)
    peak = np.take_along_axis(np.broadcast_to(rates[:, None, :], score.shape), fmt[..., None], 2)[..., 0]
    return fmt, np.nan_to_num(peak, nan=0.0)


def _train_time(n: np.ndarray, c: dict[str, np.ndarray]) -> np.ndarray:
    """[C2] Step time (s) at n accelerators in use; all other inputs broadcast with n."""
    m = c["t"] * c["pp"]
    dp = n / m
    t_comp = c["C"] / n
    t_tp = c["tp_per_n"] / n
    t_p2p = c["p2p_per_n"] / n
    t_a2a = np.maximum(0.0, c["a2a_per_n"] - A2A_OVERLAP * c["C"]) / n
    g_in = np.minimum(dp, c["g_max"])
    g_out = dp / g_in
    t_dp = (2.0 * (1.0 - 1.0 / g_in) * c["G"] / c["bw_in"]
            + 2.0 * (1.0 - 1.0 / g_out) * c["G"] / g_in / c["bw_out"]
            + c["alpha_dp"])
    t_dp_exposed = np.maximum(0.0, t_dp - DP_OVERLAP * (2.0 / 3.0) * t_comp)
    return t_comp + t_tp + t_p2p + t_a2a + c["bubble"] + t_dp_exposed


def _train_layout(n: np.ndarray, pp: np.ndarray, *, t, ep, seq, batch, d, f_tok, pk, C, tp_per_n,
                  a2a_per_n, p_shard1, g_max, bw_in, bw_out, alpha_dp) -> np.ndarray:
    """[C2] Training tokens/s of the whole job for one pipeline depth ``pp`` (0 if it cannot run)."""
    m = t * pp
    n_min = pp * np.maximum(t, ep)
    n_max = m * np.maximum(batch / seq, 1.0)        # one sequence per micro-batch per replica
    n_used = np.minimum(n, n_max)
    ok = n_used >= n_min
    # [C2c] pipeline point-to-point across domains (forward activations + backward gradients)
    p2p_per_n = np.where(pp > 1, batch * pp * d * ACT_BYTES * 2.0 / bw_out, 0.0)
    # [C2e] pipeline bubble, interleaved 1F1B, one sequence per micro-batch
    bubble = (pp - 1.0) / pp * seq * f_tok / (PIPELINE_INTERLEAVE * t * pk * ETA_COMPUTE_TRAIN)
    # [C2f] data-parallel gradient reduction, hierarchical: inside the domain, then across NICs
    G = p_shard1 / pp * GRAD_BYTES
    c = dict(t=t, pp=pp, C=C, tp_per_n=tp_per_n, p2p_per_n=p2p_per_n, a2a_per_n=a2a_per_n,
             bubble=bubble, G=G, g_max=g_max, bw_in=bw_in, bw_out=bw_out, alpha_dp=alpha_dp)
    # [C2g] operators use the best n' <= n: the step time is a + b/n' + max(0, c + d/n') on each
    # regime of the hierarchical reduction, so its minimum lies at a regime end or exposure onset.
    lo = np.minimum(n_min, n_used)
    cands = [n_used, lo, m * g_max]
    share = DP_OVERLAP * (2.0 / 3.0) * C
    a_in = 2.0 * G / bw_in
    cands.append((a_in * m + share) / np.maximum(a_in + alpha_dp, _TINY))
    a_out = 2.0 * G / g_max / bw_out
    cst = a_in * (1.0 - 1.0 / g_max) + a_out + alpha_dp
    cands.append((a_out * g_max * m + share) / np.maximum(cst, _TINY))
    best = np.full(np.broadcast_shapes(n_used.shape, C.shape), np.inf)
    for cand in cands:  # five candidate sizes, not a loop over offerings or workloads
        cand = np.clip(cand, lo, n_used)
        best = np.minimum(best, _train_time(cand, c))
    return np.where(ok, batch / best, 0.0)


def _train(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray, n: np.ndarray) -> _Perf:
    """[C2] Training throughput of n accelerators on each (O, W) pair."""
    g = lambda a: np.asarray(a, dtype=np.float64)[None, :]  # noqa: E731  (W,) -> (1, W)
    o = lambda a: np.asarray(a, dtype=np.float64)[:, None]  # noqa: E731  (O,) -> (O, 1)
    seq, batch, layers = g(wl.seq_len), g(wl.batch_tokens), g(wl.n_layers)
    p_tot, p_exp, d = g(wl.params_total), g(wl.params_expert), g(wl.d_model)
    ep = g(wl.ep)
    f_tok = 6.0 * g(wl.params_active) + 3.0 * g(wl.attn_flops_per_ctx) * seq / 2.0
    domain = o(off.domain)
    t = np.minimum(g(wl.tp), domain)
    hbm_bytes = o(off.hbm_gb) * 1e9
    # [C2a] pipeline depth from memory: params held per accelerator at pp = 1
    p_shard1 = (p_tot - p_exp) / t + p_exp / ep
    need = p_shard1 * TRAIN_STATE_BYTES_PER_PARAM / (HBM_STATE_FRACTION * np.maximum(hbm_bytes, _TINY))
    pp_min = np.maximum(1.0, np.ceil(need - 1e-9))
    fits = (pp_min <= layers) & (hbm_bytes > 0) & (peak > 0)
    bw_in = np.maximum(o(off.scaleup_gb_s) * 1e9 / 2.0 * ETA_LINK, _TINY)   # one direction
    bw_out = np.maximum(o(off.scaleout_gb_s) * 1e9 * ETA_LINK, _TINY)
    pk = np.maximum(peak, _TINY)
    C = f_tok * batch / (pk * ETA_COMPUTE_TRAIN)      # compute time x accelerators
    # [C2b] tensor parallel inside the domain: ring all-reduce of activations, B*L*t/n tokens-layers
    tp_bytes = batch * layers * t * TP_COLLECTIVES_PER_LAYER * d * ACT_BYTES * 2.0 * (t - 1.0) / t
    n_coll = (batch / seq) * layers * t * TP_COLLECTIVES_PER_LAYER  # collectives x n
    tp_per_n = tp_bytes / bw_in + n_coll * 2.0 * (t - 1.0) * ALPHA_SCALEUP_S
    # [C2d] MoE all-to-all: dispatch (format bytes) + combine (bf16), forward and backward
    disp_bytes = np.where(fmt == FORMATS.index("bf16"), 2.0, 1.0)
    a2a_bytes = batch * g(wl.moe_layers) * g(wl.top_k) * d * (disp_bytes + ACT_BYTES) * 2.0
    f_out = np.clip(1.0 - domain / ep, 0.0, 1.0)
    a2a_per_n = a2a_bytes * np.maximum((1.0 - f_out) / bw_in, f_out / bw_out)
    g_max = np.maximum(1.0, np.floor(domain / t))
    alpha_dp = 2.0 * ALPHA_SCALEUP_S * (g_max > 1) + 2.0 * ALPHA_SCALEOUT_S
    tokens_total = np.zeros(np.broadcast_shapes(n.shape, C.shape))
    for mult in PP_MULTIPLIERS:  # a few pipeline layouts; the operator keeps the fastest
        pp = np.minimum(pp_min * mult, layers)
        tokens_total = np.maximum(tokens_total, np.where(fits, _train_layout(
            n, pp, t=t, ep=ep, seq=seq, batch=batch, d=d, f_tok=f_tok, pk=pk, C=C,
            tp_per_n=tp_per_n, a2a_per_n=a2a_per_n, p_shard1=p_shard1, g_max=g_max,
            bw_in=bw_in, bw_out=bw_out, alpha_dp=alpha_dp), 0.0))
    return _Perf(peak, tokens_total, np.broadcast_to(f_tok, peak.shape), n, fmt)


def _serve(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray, n: np.ndarray) -> _Perf:
    """[C3] Prefill (compute-bound) and [C4] decode (HBM- and compute-bound under a TPOT target)."""
    g = lambda a: np.asarray(a, dtype=np.float64)[None, :]  # noqa: E731
    o = lambda a: np.asarray(a, dtype=np.float64)[:, None]  # noqa: E731
    kind = np.asarray(wl.kind)[None, :]
    ctx, d, ep, tp = g(wl.seq_len), g(wl.d_model), g(wl.ep), g(wl.tp)
    p_tot, p_exp = g(wl.params_total), g(wl.params_expert)
    eight_bit = fmt != FORMATS.index("bf16")
    w_bytes = np.where(eight_bit, 1.0, 2.0)
    pk = np.maximum(peak, _TINY)
    domain = o(off.domain)
    bw_in = np.maximum(o(off.scaleup_gb_s) * 1e9 / 2.0 * ETA_LINK, _TINY)
    bw_out = np.maximum(o(off.scaleout_gb_s) * 1e9 * ETA_LINK, _TINY)
    hbm_bytes = o(off.hbm_gb) * 1e9
    # [C3a] the expert-parallel group grows (never shrinks) until each share of weights fits
    room = HBM_SERVING_FRACTION * hbm_bytes - (p_tot - p_exp) / tp * w_bytes
    with np.errstate(divide="ignore", invalid="ignore"):
        ep_fit = np.where(p_exp > 0, np.ceil(p_exp * w_bytes / np.where(room > 0, room, np.nan) - 1e-9), 1.0)
    fits = (room > 0) & (peak > 0) & np.isfinite(ep_fit)
    ep = np.maximum(ep, np.nan_to_num(ep_fit, nan=1.0))
    weights = ((p_tot - p_exp) / tp + p_exp / ep) * w_bytes       # bytes per accelerator
    f_out = np.clip(1.0 - domain / ep, 0.0, 1.0)
    s_per_byte = np.maximum((1.0 - f_out) / bw_in, f_out / bw_out)
    alpha = np.where(f_out > 0, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S)
    a2a_tok_bytes = g(wl.moe_layers) * g(wl.top_k) * d * (w_bytes + ACT_BYTES)
    # attention math (QK, AV) runs in bf16 whatever the weight format
    pk16 = np.maximum(np.nan_to_num(o(off.bf16_tflops) * 1e12, nan=0.0), _TINY)
    pk16 = np.where(o(off.bf16_tflops) > 0, pk16, pk)
    # [C3] prefill: causal attention over half the prompt on average
    f_pre = 2.0 * g(wl.params_active) + g(wl.attn_flops_per_ctx) * ctx / 2.0
    t_comp = (2.0 * g(wl.params_active) / pk + g(wl.attn_flops_per_ctx) * ctx / 2.0 / pk16) / ETA_PREFILL
    t_pre = t_comp + np.maximum(0.0, a2a_tok_bytes * s_per_byte - A2A_OVERLAP * t_comp)
    tok_pre = 1.0 / t_pre
    # [C4] decode: step time at batch b (tokens per accelerator per step) is a max of affine
    # functions of b (roofline of the weight GEMMs + roofline of attention + partly hidden
    # all-to-all); the largest b within TPOT and HBM sets the rate.
    f_dec = 2.0 * g(wl.params_active) + g(wl.attn_flops_per_ctx) * ctx
    kv_seq = g(wl.kv_bytes_per_token) * ctx
    hbm_bw = np.maximum(o(off.hbm_tb_s) * 1e12 * ETA_HBM, _TINY)
    zero = np.zeros(np.broadcast_shapes(weights.shape, pk.shape, kv_seq.shape))
    gemm = [(weights / hbm_bw + zero, zero),                                 # stream weights
            (zero, 2.0 * g(wl.params_active) / (pk * ETA_DECODE_COMPUTE) + zero)]
    attn = [(zero, kv_seq / hbm_bw + zero),                                  # stream KV cache
            (zero, g(wl.attn_flops_per_ctx) * ctx / (pk16 * ETA_DECODE_COMPUTE) + zero)]
    core = [(ga + aa, gb + ab) for ga, gb in gemm for aa, ab in attn]
    com0 = g(wl.moe_layers) * 2.0 * alpha + zero                             # C(b) = com0 + com1 b
    com1 = a2a_tok_bytes * s_per_byte + zero
    keep = 1.0 - A2A_OVERLAP
    branches = core + [(keep * a0 + com0, keep * a1 + com1) for a0, a1 in core]
    ovh = g(wl.n_layers) * DECODE_LAYER_OVERHEAD_S
    tpot = np.nan_to_num(g(wl.tpot_s), nan=np.inf)
    b_tpot = np.full(zero.shape, np.inf)
    for a0, a1 in branches:  # eight affine pieces of one convex step-time function
        b_tpot = np.minimum(b_tpot, (tpot - ovh - a0) / np.maximum(a1, _TINY))
    kv_room = HBM_SERVING_FRACTION * hbm_bytes - weights
    b_cap = np.where(kv_seq > 0, kv_room / np.where(kv_seq > 0, kv_seq, 1.0), np.inf)
    # an unbounded batch (no latency target, no KV) is capped where the rate has converged
    b = np.clip(np.minimum(b_tpot, b_cap), 0.0, MAX_DECODE_BATCH)
    step = ovh + np.max(np.stack([a0 + a1 * b for a0, a1 in branches]), axis=0)
    tok_dec = np.where(b > 0, b / np.maximum(step, _TINY), 0.0)
    per_accel = np.where(kind == PREFILL, tok_pre, tok_dec)
    per_accel = np.where(fits, per_accel, 0.0)
    f_tok = np.where(kind == PREFILL, f_pre, f_dec)
    return _Perf(peak, per_accel * n, np.broadcast_to(f_tok, peak.shape), n, fmt)


def performance(off: Offerings, wl: Workloads, n_accel: int | np.ndarray = 16384) -> _Perf:
    """Region-independent performance of every (offering, workload) pair at n accelerators."""
    fmt, peak = _choose_format(off, wl)
    n = np.asarray(n_accel, dtype=np.float64)
    if n.ndim == 1:
        n = n[:, None]
    n = np.broadcast_to(n, peak.shape)
    n = np.maximum(n, 0.0)
    train = _train(off, wl, peak, fmt, n)
    serve = _serve(off, wl, peak, fmt, n)
    is_train = (np.asarray(wl.kind) == TRAIN)[None, :]
    return _Perf(
        peak_flops=peak,
        tokens_per_s_total=np.where(is_train, train.tokens_per_s_total, serve.tokens_per_s_total),
        useful_flops_per_token=np.where(is_train, train.useful_flops_per_token, serve.useful_flops_per_token),
        n=n, fmt=fmt)


# ---------------------------------------------------------------------------------------------
# Cost [C5], [C6]
# ---------------------------------------------------------------------------------------------
def capital_recovery_factor(rate: float, life_years: float) -> float:
    """[C6] Annual payment per dollar of capital: r(1+r)^L / ((1+r)^L - 1); 1/L at r = 0."""
    if rate == 0:
        return 1.0 / life_years
    q = (1.0 + rate) ** life_years
    return rate * q / (q - 1.0)


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


# ---------------------------------------------------------------------------------------------
# Choice [C7]
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Export-control metrics and manufacturing [C8], [C9]
# ---------------------------------------------------------------------------------------------
def tpp(dense_tops: ArrayLike, bits: int) -> np.ndarray:
    """[C8] Total Processing Performance (ECCN 3A090): dense TOPS x bit length of the format."""
    return np.asarray(dense_tops, dtype=np.float64) * float(bits)


def performance_density(tpp_value: ArrayLike, die_area_mm2: ArrayLike) -> np.ndarray:
    """[C8] Performance density = TPP / applicable die area (mm^2); NaN without an area."""
    area = np.asarray(die_area_mm2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, np.asarray(tpp_value, dtype=np.float64) / area, np.nan)


def dies_per_wafer(die_area_mm2: ArrayLike, wafer_diameter_mm: float = 300.0) -> np.ndarray:
    """[C9] Gross dies per wafer: pi (D/2)^2 / A - pi D / sqrt(2 A), floored at 0 (edge loss)."""
    a = np.asarray(die_area_mm2, dtype=np.float64)
    d = float(wafer_diameter_mm)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = math.pi * (d / 2.0) ** 2 / a - math.pi * d / np.sqrt(2.0 * a)
    return np.floor(np.maximum(np.nan_to_num(n, nan=0.0, posinf=0.0), 0.0))


def die_yield(die_area_mm2: ArrayLike, defect_density_per_cm2: ArrayLike,
              model: str = "murphy") -> np.ndarray:
    """[C9] Fraction of good dies: Poisson exp(-A D0) or Murphy ((1 - exp(-A D0)) / (A D0))^2."""
    ad = np.asarray(die_area_mm2, dtype=np.float64) / 100.0 * np.asarray(defect_density_per_cm2, dtype=np.float64)
    if model == "poisson":
        return np.exp(-ad)
    if model == "murphy":
        with np.errstate(divide="ignore", invalid="ignore"):
            y = ((1.0 - np.exp(-ad)) / ad) ** 2
        return np.where(ad > 0, y, 1.0)
    raise ValueError(f"yield model {model!r}: expected 'murphy' or 'poisson'")


def cost_per_good_die(wafer_cost_usd: ArrayLike, die_area_mm2: ArrayLike,
                      defect_density_per_cm2: ArrayLike, model: str = "murphy") -> np.ndarray:
    """[C9] Wafer cost / (gross dies per wafer x yield); inf when no good die fits."""
    good = dies_per_wafer(die_area_mm2) * die_yield(die_area_mm2, defect_density_per_cm2, model)
    with np.errstate(divide="ignore"):
        return np.where(good > 0, np.asarray(wafer_cost_usd, dtype=np.float64) / np.where(good > 0, good, 1.0), np.inf)
