"""[C2] Training step time and throughput (Calculon-style accounting, alpha-beta collectives).

One compiled pass per (offering, workload) pair (numba): at a few arrays of a few elements the
numpy formulation was per-call overhead, not arithmetic. tests/reference_train.py keeps that
formulation and tests/test_core_kernels.py checks the kernel equals it bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from model.core._jit import JIT
from model.core._jit import mn as _mn
from model.core._jit import mx as _mx
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
from model.core.data import Offerings, Workloads, _Perf, workload_memo

_JIT = JIT  # model/core/_jit.py: cached, IEEE semantics, numpy's error model


@njit(**_JIT)
def _step_time(n, m, C, tp_per_n, p2p_per_n, a2a_per_n, bubble, G, g_max, bw_in, bw_out, alpha_dp, c):
    """[C2] Step time (s) at n accelerators in use."""
    a2a_ov, dp_ov = c[6], c[7]
    dp = n / m
    t_comp = C / n
    t_tp = tp_per_n / n
    t_p2p = p2p_per_n / n
    t_a2a = _mx(0.0, a2a_per_n - a2a_ov * C) / n
    g_in = _mn(dp, g_max)
    g_out = dp / g_in
    t_dp = (2.0 * (1.0 - 1.0 / g_in) * G / bw_in
            + 2.0 * (1.0 - 1.0 / g_out) * G / g_in / bw_out
            + alpha_dp)
    t_dp_exposed = _mx(0.0, t_dp - dp_ov * (2.0 / 3.0) * t_comp)
    return t_comp + t_tp + t_p2p + t_a2a + bubble + t_dp_exposed


@njit(**_JIT)
def _train_kernel(domain_o, hbm_gb, scaleup, scaleout, peak, bf16_fmt, n_ow, seq_w, batch_w, layers_w,
                  p_tot_w, p_exp_w, d_w, ep_w, p_act_w, attn_w, tp_w, moe_w, top_k_w, pp_w, mb_w, v_w,
                  mults, c):
    """[C2] Training tokens/s (row 0) and useful FLOP per token (row 1) of every (O, W) pair: the
    same IEEE operations in the same order as the numpy formulation (tests/reference_train.py)."""
    tiny, tsb, hsf, eta_link, eta_ct, tpc, _a2a, dp_ov, act, a_up, a_out, grad, pil = c[:13]
    O, W = peak.shape
    out = np.empty((2, O, W))
    cands = np.empty(5)
    for o in range(O):
        domain = domain_o[o]
        hbm_bytes = hbm_gb[o] * 1e9
        bw_in = _mx(scaleup[o] * 1e9 / 2.0 * eta_link, tiny)
        bw_out = _mx(scaleout[o] * 1e9 * eta_link, tiny)
        for w in range(W):
            seq, batch, layers, d, ep = seq_w[w], batch_w[w], layers_w[w], d_w[w], ep_w[w]
            f_tok = 6.0 * p_act_w[w] + 3.0 * attn_w[w] * seq / 2.0
            out[1, o, w] = f_tok
            t = _mn(tp_w[w], domain)
            p_shard1 = (p_tot_w[w] - p_exp_w[w]) / t + p_exp_w[w] / ep
            need = p_shard1 * tsb / (hsf * _mx(hbm_bytes, tiny))
            pp_min = _mx(1.0, np.ceil(need - 1e-9))
            fits = (pp_min <= layers) and (hbm_bytes > 0) and (peak[o, w] > 0)
            pk = _mx(peak[o, w], tiny)
            C = f_tok * batch / (pk * eta_ct)
            tp_bytes = batch * layers * t * tpc * d * act * 2.0 * (t - 1.0) / t
            n_coll = (batch / seq) * layers * t * tpc
            tp_per_n = tp_bytes / bw_in + n_coll * 2.0 * (t - 1.0) * a_up
            disp = 2.0 if bf16_fmt[o, w] else 1.0
            a2a_bytes = batch * moe_w[w] * top_k_w[w] * d * (disp + act) * 2.0
            f_out = 1.0 - domain / ep
            f_out = 0.0 if f_out < 0.0 else (1.0 if f_out > 1.0 else f_out)  # np.clip, constant bounds
            a2a_per_n = a2a_bytes * _mx((1.0 - f_out) / bw_in, f_out / bw_out)
            g_max = _mx(1.0, np.floor(domain / t))
            alpha_dp = 2.0 * a_up * (1.0 if g_max > 1 else 0.0) + 2.0 * a_out
            pp_wl, mb, v_wl = pp_w[w], mb_w[w], v_w[w]
            n = n_ow[o, w]
            tokens = 0.0
            for i in range(mults.shape[0]):
                pp = _mn(_mx(pp_wl, pp_min) if np.isfinite(pp_wl) else pp_min * mults[i], layers)
                m = t * pp
                n_min = pp * _mx(t, ep)
                n_max = m * _mx(batch / (seq * mb), 1.0)
                n_used = _mn(n, n_max)
                ok = n_used >= n_min
                v = _mn(v_wl if np.isfinite(v_wl) else pil, _mx(1.0, np.floor(layers / pp)))
                p2p_per_n = batch * pp * v * d * act * 2.0 / bw_out if pp > 1 else 0.0
                bubble = (pp - 1.0) / pp * mb * seq * f_tok / (v * t * pk * eta_ct)
                G = p_shard1 / pp * grad
                lo = _mn(n_min, n_used)
                share = dp_ov * (2.0 / 3.0) * C
                a_in = 2.0 * G / bw_in
                a_o = 2.0 * G / g_max / bw_out
                cst = a_in * (1.0 - 1.0 / g_max) + a_o + alpha_dp
                cands[0] = n_used
                cands[1] = lo
                cands[2] = m * g_max
                cands[3] = (a_in * m + share) / _mx(a_in + alpha_dp, tiny)
                cands[4] = (a_o * g_max * m + share) / _mx(cst, tiny)
                best = 0.0
                for j in range(5):
                    x = _mn(_mx(cands[j], lo), n_used)  # np.clip with array bounds
                    s = _step_time(x, m, C, tp_per_n, p2p_per_n, a2a_per_n, bubble, G, g_max,
                                   bw_in, bw_out, alpha_dp, c)
                    best = s if j == 0 else _mn(best, s)
                layout = batch / best if ok else 0.0
                layout = layout if fits else 0.0
                tokens = layout if i == 0 else _mx(tokens, layout)
            out[0, o, w] = _mx(0.0, tokens)
    return out


def _train_args(wl: Workloads) -> tuple[np.ndarray, ...]:
    """The workloads' arrays the training kernel reads, in its order (see workload_memo)."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return (f(wl.seq_len), f(wl.batch_tokens), f(wl.n_layers), f(wl.params_total), f(wl.params_expert),
            f(wl.d_model), f(wl.ep), f(wl.params_active), f(wl.attn_flops_per_ctx), f(wl.tp), f(wl.moe_layers),
            f(wl.top_k), f(wl.pp), f(wl.microbatch), f(wl.interleave))


def _train(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray, n: np.ndarray) -> _Perf:
    """[C2] Training throughput of n accelerators on each (O, W) pair.

    Per pair: the pipeline depth from memory ([C2a]; a workload that states its depth runs at
    it, deeper only where memory needs), then for each of a few layouts (PP_MULTIPLIERS x that
    depth) tensor parallelism inside the domain ([C2b]), pipeline point-to-point ([C2c]), MoE
    all-to-all ([C2d]), the 1F1B bubble with virtual stages ([C2e]) and the hierarchical
    data-parallel reduction ([C2f]) at the best n' <= n of five candidate sizes ([C2g]: the
    step time is a + b/n' + max(0, c + d/n') on each regime, so its minimum lies at a regime
    end or exposure onset); the operator keeps the fastest layout.
    """
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    c = (_TINY, TRAIN_STATE_BYTES_PER_PARAM, HBM_STATE_FRACTION, ETA_LINK, ETA_COMPUTE_TRAIN,
         TP_COLLECTIVES_PER_LAYER, A2A_OVERLAP, DP_OVERLAP, ACT_BYTES, ALPHA_SCALEUP_S, ALPHA_SCALEOUT_S,
         GRAD_BYTES, PIPELINE_INTERLEAVE)
    res = _train_kernel(
        f(off.domain), f(off.hbm_gb), f(off.scaleup_gb_s), f(off.scaleout_gb_s), f(peak),
        np.ascontiguousarray(fmt == FORMATS.index("bf16")), f(np.broadcast_to(n, np.shape(peak))),
        *workload_memo(wl, "train", _train_args), f(PP_MULTIPLIERS), c)
    return _Perf(peak, res[0], res[1], n, fmt)
