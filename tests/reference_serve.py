"""The numpy formulation of the serving deployment search ([C3]-[C4]) that the compiled kernel
``model.core.serve._deploy_kernel`` replaced (issue 19), kept as the reference the kernel must
equal bit for bit (tests/test_core_kernels.py). Not used by the model."""

from __future__ import annotations

import numpy as np

from model.core import consts as K
from model.core.consts import _TINY, ACT_BYTES, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S, FORMATS, PREFILL
from model.core.data import Offerings, Workloads
from model.core.serve import Deployments


def reference_deployments(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                            ep: np.ndarray, tp: np.ndarray) -> Deployments:
    """[C3]-[C4] every candidate deployment, in numpy; ``ep`` and ``tp`` as given (not broadcast)."""
    o = lambda a: np.asarray(a, dtype=np.float64)[:, None, None]  # noqa: E731  (O,) -> (O, 1, 1)
    g = lambda a: np.asarray(a, dtype=np.float64)[None, :, None]  # noqa: E731  (W,) -> (1, W, 1)
    prefill = (np.asarray(wl.kind) == PREFILL)[None, :, None]
    ctx, d, n_layers, moe = g(wl.seq_len), g(wl.d_model), g(wl.n_layers), g(wl.moe_layers)
    p_tot, p_exp, p_act, top_k = g(wl.params_total), g(wl.params_expert), g(wl.params_active), g(wl.top_k)
    pk = np.maximum(peak, _TINY)[..., None]
    sw = o([K.STACK_COMPUTE_FACTOR.get(str(x), 1.0) for x in off.stack])   # [C4f] stack software factor
    eight_bit = (fmt != FORMATS.index("bf16"))[..., None]
    wb = np.where(eight_bit, 1.0, 2.0)                                  # bytes per weight
    # [C4a] attention and KV in FP8 where the workload allows it and the chip has FP8
    fp8 = np.nan_to_num(o(off.fp8_tflops), nan=0.0) * 1e12
    bf16 = np.nan_to_num(o(off.bf16_tflops), nan=0.0) * 1e12
    attn8 = (g(wl.attn_fp8) > 0) & (fp8 > 0)
    pk_attn = np.minimum(np.where(attn8, fp8, np.where(bf16 > 0, bf16, pk)), pk)
    pk_attn = np.maximum(pk_attn, _TINY)
    kv_tok = g(wl.kv_bytes_per_token) * np.where(attn8, 0.5, 1.0)       # KV bytes per token of context
    # [C4b] deployment: experts sharded over ep, attention + dense weights over tp
    domain = o(off.domain)
    cap = np.nan_to_num(g(wl.n_experts) * K.EP_REDUNDANCY, nan=np.inf)
    valid = (tp <= np.minimum(domain, ep)) & ((ep <= cap) | (ep == ep.min()))
    w_dev = ((p_tot - p_exp) / tp + p_exp / ep) * wb                    # weight bytes per accelerator
    kv_rep = np.where(g(wl.kv_latent) > 0, tp, 1.0)                    # MLA latent KV: TP replicates it
    kv_seq = ctx * kv_tok * kv_rep                                      # per sequence share, bytes
    room = K.HBM_SERVING_FRACTION * o(off.hbm_gb) * 1e9 - w_dev
    hbm = np.maximum(o(off.hbm_tb_s) * 1e12 * K.ETA_HBM, _TINY)
    bw_up = np.maximum(o(off.scaleup_gb_s) * 1e9 / 2.0 * K.ETA_LINK, _TINY)   # one direction
    bw_out = np.maximum(o(off.scaleout_gb_s) * 1e9 * K.ETA_LINK, _TINY)
    # [C4c] all-to-all copies per token: every remote expert over scale-up; past the domain each
    # token crosses the NICs once per remote domain it has experts in (then fans out inside)
    n_dom = ep / domain
    copies_out = np.where(n_dom > 1, (n_dom - 1.0) * (1.0 - (1.0 - 1.0 / np.maximum(n_dom, 1.0)) ** top_k), 0.0)
    copies_up = top_k * (1.0 - 1.0 / ep)
    tok_bytes = moe * d * (wb + ACT_BYTES)                              # dispatch (format) + combine (bf16)
    has_a2a = (moe > 0) & (p_exp > 0) & (ep > 1)
    alpha = np.where(n_dom > 1, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S)
    c0 = np.where(has_a2a, moe * 2.0 * alpha, 0.0)
    # tokens per sequence and step: verified q, emitted 1 + a + a^2 + ...
    depth, acc = g(wl.mtp_depth), g(wl.mtp_accept)
    q = np.where(prefill, 1.0, 1.0 + depth)
    emit = np.where(prefill, 1.0, (1.0 - acc ** (depth + 1.0)) / np.maximum(1.0 - acc, 1e-12))
    emit = np.where(acc >= 1.0, 1.0 + depth, emit)
    attn_ctx = np.where(prefill, ctx / 2.0, ctx)                        # causal prefill: half on average
    # slopes per unit of batch (sequences for decode, tokens for prefill) and intercepts, s
    gc1 = q * 2.0 * p_act / (pk * K.ETA_GEMM * sw)
    gm0 = w_dev / hbm
    ac1 = q * g(wl.attn_flops_per_ctx) * attn_ctx / (pk_attn * K.ETA_ATTN * sw)
    am1 = np.where(prefill, kv_tok * kv_rep, kv_seq) / hbm              # prefill writes, decode reads
    cu1 = np.where(has_a2a, q * tok_bytes * copies_up / bw_up, 0.0)
    co1 = np.where(has_a2a, q * tok_bytes * copies_out / bw_out, 0.0)
    tp1 = n_layers * 4.0 * (tp - 1.0) * q * d * ACT_BYTES / bw_up       # 2 ring all-reduces per layer
    fixed = n_layers * K.STEP_LAYER_OVERHEAD_S + K.STEP_OVERHEAD_S + n_layers * 4.0 * (tp - 1.0) * ALPHA_SCALEUP_S
    a1 = np.maximum(ac1, am1)
    keep = 1.0 - K.SERVE_A2A_OVERLAP
    pieces = []  # step(b) = fixed + tp1 b + max(P, C + keep P), P = max(gc1 b, gm0) + a1 b
    for p0, p1 in ((0.0, gc1 + a1), (gm0, a1)):
        pieces.append((fixed + p0, tp1 + p1))
        for cc in (cu1, co1):
            pieces.append((fixed + c0 + keep * p0, tp1 + cc + keep * p1))
    # [C4d] batch: decode the largest within TPOT and capacity; prefill a fixed chunk
    tpot = np.nan_to_num(g(wl.tpot_s), nan=np.inf)
    budget = tpot * emit
    b_tpot = np.full(np.broadcast_shapes(gc1.shape, room.shape, tp.shape), np.inf)
    for p0, p1 in pieces:
        b_tpot = np.minimum(b_tpot, (budget - p0) / np.maximum(p1, _TINY))
    b_cap = np.where(kv_seq > 0, room / np.where(kv_seq > 0, kv_seq, 1.0), np.inf)
    b_dec = np.clip(np.minimum(b_tpot, b_cap), 0.0, K.MAX_DECODE_BATCH)
    kv_pre = kv_tok * kv_rep
    pre_cap = np.where(kv_pre > 0, room / np.where(kv_pre > 0, kv_pre, 1.0), np.inf)
    b_pre = np.minimum(K.PREFILL_TOKENS_PER_ACCEL, np.maximum(pre_cap, 0.0))
    b = np.where(prefill, b_pre, b_dec)
    ok = valid & (room > 0) & (peak[..., None] > 0) & (b >= np.where(prefill, 1.0, 1.0 / tp))
    step = np.max(np.stack(np.broadcast_arrays(*[p0 + p1 * b for p0, p1 in pieces])), axis=0)
    tok = np.where(ok, b * emit / np.maximum(step, _TINY), 0.0)
    # [C4e] the terms at that batch and the resource that binds
    t = {"gemm_compute": gc1 * b, "weights_hbm": gm0 + 0.0 * b, "attn_compute": ac1 * b, "kv_hbm": am1 * b,
         "a2a_scaleup": c0 + cu1 * b, "a2a_scaleout": np.where(n_dom > 1, c0, 0.0) + co1 * b}
    p_time = np.maximum(t["gemm_compute"], t["weights_hbm"]) + np.maximum(t["attn_compute"], t["kv_hbm"])
    comm = np.maximum(t["a2a_scaleup"], t["a2a_scaleout"])
    t["a2a_exposed"] = np.maximum(0.0, comm - K.SERVE_A2A_OVERLAP * p_time)
    t["tp_allreduce"] = tp1 * b + n_layers * 4.0 * (tp - 1.0) * ALPHA_SCALEUP_S
    t["overhead"] = n_layers * K.STEP_LAYER_OVERHEAD_S + K.STEP_OVERHEAD_S + 0.0 * b
    t["step"] = step
    compute = (np.where(t["gemm_compute"] >= t["weights_hbm"], t["gemm_compute"], 0.0)
               + np.where(t["attn_compute"] >= t["kv_hbm"], t["attn_compute"], 0.0))
    up = t["a2a_scaleup"] >= t["a2a_scaleout"]
    share = np.stack(np.broadcast_arrays(
        compute, p_time - compute, np.where(up, t["a2a_exposed"], 0.0) + t["tp_allreduce"],
        np.where(up, 0.0, t["a2a_exposed"]), t["overhead"]))
    bound = np.argmax(share, axis=0).astype(np.float64)
    capacity_bound = ~prefill & (b_cap <= b_tpot) & np.isfinite(b_cap)
    bound = np.where(capacity_bound, float(K.BOUNDS.index("capacity")), bound)
    return Deployments(ep, tp, np.where(ok, b, 0.0), tok, np.where(ok, bound, np.nan),
                       {k: np.where(ok, v, np.nan) for k, v in t.items()})
