"""[C3] Prefill and [C4] decode: a roofline of separate terms with a deployment search.

For every offering (O) x workload (W) the deployments a serving team would try - expert-parallel
degree ``ep`` (EP_GRID, capped by the workload's experts), tensor parallelism ``tp`` of attention
and dense weights (TP_GRID, within the scale-up domain; tp = 1 is data-parallel attention) - are
a third array axis (K). For each deployment the decode batch comes in closed form: the step
time is a maximum of affine functions of the batch (convex), so the largest batch within the
TPOT target and HBM capacity is a minimum of a few ratios, and tokens/s grows with the batch.
The deployment with the most tokens/s per accelerator wins. Terms per step and accelerator:

* grouped-GEMM compute ``q b 2 P_act / (peak ETA_GEMM)`` and weight traffic ``W_dev / HBM``
  (roofline: the larger counts), attention compute ``q b F_attn ctx / (peak_attn ETA_ATTN)``
  and KV traffic ``b ctx kv / HBM`` (roofline);
* all-to-all dispatch + combine over the scale-up links and, past the domain, the NICs; it
  overlaps SERVE_A2A_OVERLAP of the compute + HBM time (two micro-batches), the rest is exposed;
* tensor-parallel all-reduce of activations (not overlapped) and a fixed per-step overhead.

q = 1 + mtp_depth tokens are verified per sequence and step; 1 + sum(accept^i) are emitted.
Imports nothing of the project outside model.core (CONTRIBUTING.md, "How the code is laid out").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.core import consts as K
from model.core.consts import _TINY, ACT_BYTES, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S, FORMATS, PREFILL
from model.core.data import Offerings, Workloads

#: names of the per-step term times of :class:`Deployments` (seconds per step), in table order
TERMS: tuple[str, ...] = ("gemm_compute", "weights_hbm", "attn_compute", "kv_hbm", "a2a_scaleup",
                          "a2a_scaleout", "a2a_exposed", "tp_allreduce", "overhead", "step")


@dataclass(frozen=True)
class Deployments:
    """Per (O, W, K) candidate deployment: tokens/s per accelerator and the terms behind it."""

    ep: np.ndarray
    tp: np.ndarray
    batch: np.ndarray
    tokens_per_s: np.ndarray
    bound: np.ndarray
    terms: dict[str, np.ndarray]

    def pick(self, k: np.ndarray) -> Deployments:
        """The candidate ``k`` (O, W) of every pair: arrays of shape (O, W)."""
        k = np.asarray(k)
        o, w = k.shape
        zero = np.zeros((o, w), dtype=np.intp)
        io, iw = np.arange(o)[:, None], np.arange(w)[None, :]

        def take(a: np.ndarray) -> np.ndarray:  # a broadcasts to (O, W, K): index, never broadcast
            a = np.asarray(a)
            s0, s1, s2 = (1,) * (3 - a.ndim) + a.shape
            a = a.reshape(s0, s1, s2)
            return a[io if s0 > 1 else zero, iw if s1 > 1 else zero, k if s2 > 1 else zero]

        return Deployments(take(self.ep), take(self.tp), take(self.batch), take(self.tokens_per_s),
                           take(self.bound), {n: take(v) for n, v in self.terms.items()})


def grid(ep: tuple[int, ...] | np.ndarray | None = None,
         tp: tuple[int, ...] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (ep, tp) candidates, shape (1, 1, K) each (default: EP_GRID x TP_GRID)."""
    e, t = np.meshgrid(np.asarray(K.EP_GRID if ep is None else ep, dtype=np.float64),
                       np.asarray(K.TP_GRID if tp is None else tp, dtype=np.float64), indexing="ij")
    return e.reshape(1, 1, -1), t.reshape(1, 1, -1)


def _deployments(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                 ep: np.ndarray, tp: np.ndarray) -> Deployments:
    """[C3]-[C4] every candidate deployment; ``ep`` and ``tp`` as given (not broadcast to (O, W, K))."""
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


def deployments(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                ep: np.ndarray, tp: np.ndarray) -> Deployments:
    """[C3]-[C4] every candidate deployment of every (offering, workload) pair (arrays (O, W, K))."""
    dep = _deployments(off, wl, peak, fmt, ep, tp)
    bc = lambda a: np.broadcast_to(a, dep.tokens_per_s.shape)  # noqa: E731
    return Deployments(bc(dep.ep), bc(dep.tp), bc(dep.batch), dep.tokens_per_s, dep.bound,
                       {k: bc(v) for k, v in dep.terms.items()})


def serve(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
          ep: np.ndarray | None = None, tp: np.ndarray | None = None) -> Deployments:
    """The best deployment of every (offering, workload) pair (arrays (O, W)); ties: first."""
    e, t = grid(ep, tp)
    dep = _deployments(off, wl, peak, fmt, e, t)
    return dep.pick(np.argmax(dep.tokens_per_s, axis=2))
