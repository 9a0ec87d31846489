"""The numpy formulation of the training step time and throughput ([C2]) that the compiled
kernel ``model.core.train._train_kernel`` replaced (issue 19), kept as the reference the kernel
must equal bit for bit (tests/test_core_kernels.py). Not used by the model."""

from __future__ import annotations

import numpy as np

from model.core.consts import (
    _TINY,
    A2A_OVERLAP,
    ACT_BYTES,
    ALPHA_SCALEOUT_S,
    ALPHA_SCALEUP_S,
    DP_OVERLAP,
    ETA_COMPUTE_TRAIN,
    ETA_LINK,
    FORMATS,
    GRAD_BYTES,
    HBM_STATE_FRACTION,
    PIPELINE_INTERLEAVE,
    PP_MULTIPLIERS,
    TP_COLLECTIVES_PER_LAYER,
    TRAIN_STATE_BYTES_PER_PARAM,
)
from model.core.data import Offerings, Workloads, _Perf


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
                  a2a_per_n, p_shard1, g_max, bw_in, bw_out, alpha_dp, mb, v_wl, layers) -> np.ndarray:
    """[C2] Training tokens/s of the whole job for one pipeline depth ``pp`` (0 if it cannot run)."""
    m = t * pp
    n_min = pp * np.maximum(t, ep)
    n_max = m * np.maximum(batch / (seq * mb), 1.0)   # at least one micro-batch of mb sequences per replica
    n_used = np.minimum(n, n_max)
    ok = n_used >= n_min
    # [C2e] virtual stages per device: the workload's schedule, else the fitted value; each
    # virtual stage holds at least one layer
    v = np.minimum(np.where(np.isfinite(v_wl), v_wl, PIPELINE_INTERLEAVE), np.maximum(1.0, np.floor(layers / pp)))
    # [C2c] pipeline point-to-point across domains (forward activations + backward gradients),
    # split over the t tensor-parallel ranks (scatter/gather) and sent once per virtual stage
    p2p_per_n = np.where(pp > 1, batch * pp * v * d * ACT_BYTES * 2.0 / bw_out, 0.0)
    # [C2e] pipeline bubble of 1F1B: (pp - 1) / v passes of one micro-batch (mb sequences)
    # through one stage, i.e. a fraction (pp - 1) / (v m) of the compute with m micro-batches
    bubble = (pp - 1.0) / pp * mb * seq * f_tok / (v * t * pk * ETA_COMPUTE_TRAIN)
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


def reference_train(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray, n: np.ndarray) -> _Perf:
    """[C2] Training throughput of n accelerators on each (O, W) pair, in numpy."""
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
    # [C2a] a workload that states its pipeline depth runs at it (deeper only where memory needs)
    pp_wl, mb, v_wl = g(wl.pp), g(wl.microbatch), g(wl.interleave)
    tokens_total = np.zeros(np.broadcast_shapes(n.shape, C.shape))
    for mult in PP_MULTIPLIERS:  # a few pipeline layouts; the operator keeps the fastest
        pp = np.minimum(np.where(np.isfinite(pp_wl), np.maximum(pp_wl, pp_min), pp_min * mult), layers)
        tokens_total = np.maximum(tokens_total, np.where(fits, _train_layout(
            n, pp, t=t, ep=ep, seq=seq, batch=batch, d=d, f_tok=f_tok, pk=pk, C=C,
            tp_per_n=tp_per_n, a2a_per_n=a2a_per_n, p_shard1=p_shard1, g_max=g_max,
            bw_in=bw_in, bw_out=bw_out, alpha_dp=alpha_dp, mb=mb, v_wl=v_wl, layers=layers), 0.0))
    return _Perf(peak, tokens_total, np.broadcast_to(f_tok, peak.shape), n, fmt)

