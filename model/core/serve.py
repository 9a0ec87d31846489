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
One compiled pass (numba) over every (O, W, K); tests/reference_serve.py keeps the numpy
formulation it replaced and tests/test_core_kernels.py checks the two agree bit for bit.
Imports nothing of the project outside model.core (CONTRIBUTING.md, "How the code is laid out").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numba import njit

from model.core import consts as K
from model.core._jit import JIT
from model.core._jit import mn as _mn
from model.core._jit import mx as _mx
from model.core.consts import _TINY, ACT_BYTES, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S, FORMATS, PREFILL
from model.core.data import Offerings, Workloads, workload_memo

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

    def pick(self, k: np.ndarray, terms: bool = True) -> Deployments:
        """The candidate ``k`` (O, W) of every pair: arrays of shape (O, W) (``terms`` False: no
        terms, for a caller that reads only the deployment and its throughput)."""
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
                           take(self.bound), {n: take(v) for n, v in self.terms.items()} if terms else {})


def grid(ep: tuple[int, ...] | np.ndarray | None = None,
         tp: tuple[int, ...] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (ep, tp) candidates, shape (1, 1, K) each (default: EP_GRID x TP_GRID)."""
    e, t = np.meshgrid(np.asarray(K.EP_GRID if ep is None else ep, dtype=np.float64),
                       np.asarray(K.TP_GRID if tp is None else tp, dtype=np.float64), indexing="ij")
    return e.reshape(1, 1, -1), t.reshape(1, 1, -1)


_JIT = JIT  # model/core/_jit.py: cached, IEEE semantics, numpy's error model
_BIG = float(np.finfo(np.float64).max)


@njit(**_JIT)
def _clip(x, lo, hi):
    """np.clip of a float (NaN stays NaN)."""
    return lo if x < lo else (hi if x > hi else x)


@njit(**_JIT)
def _n2n(x, nan):
    """np.nan_to_num of a float: NaN -> ``nan``, +-inf -> +-largest float."""
    if x != x:
        return nan
    if x == np.inf:
        return _BIG
    if x == -np.inf:
        return -_BIG
    return x


@njit(**_JIT)
def _deploy_kernel(sw, fp8_t, bf16_t, domain_o, hbm_gb, hbm_tb_s, scaleup, scaleout, peak, eight,
                   prefill, ctx_w, d_w, nl_w, moe_w, p_tot_w, p_exp_w, p_act_w, top_k_w, attn_fp8,
                   kv_bpt, n_exp, kv_latent, depth_w, acc_w, acc_pow, attn_fl, tpot_s, ep_k, tp_k,
                   ep_min, pow_out, c):
    """[C3]-[C4] every (O, W, K) deployment: rows batch, tokens/s, bound, then TERMS; the same
    IEEE operations in the same order as the numpy formulation (tests/reference_serve.py)."""
    (tiny, act, a_out, a_up, ep_red, hsf, eta_hbm, eta_link, eta_gemm, eta_attn, slo, so,
     overlap, max_b, pre_tok, cap_code) = c
    O, W = peak.shape
    Kn = ep_k.shape[0]
    out = np.empty((13, O, W, Kn))
    keep = 1.0 - overlap
    p0 = np.empty(6)
    p1 = np.empty(6)
    share = np.empty(5)
    for o in range(O):
        fp8 = _n2n(fp8_t[o], 0.0) * 1e12
        bf16 = _n2n(bf16_t[o], 0.0) * 1e12
        domain = domain_o[o]
        hbm = _mx(hbm_tb_s[o] * 1e12 * eta_hbm, tiny)
        bw_up = _mx(scaleup[o] * 1e9 / 2.0 * eta_link, tiny)
        bw_out = _mx(scaleout[o] * 1e9 * eta_link, tiny)
        for w in range(W):
            pre = prefill[w]
            pk = _mx(peak[o, w], tiny)
            wb = 1.0 if eight[o, w] else 2.0
            ctx, d, nl, moe, top_k = ctx_w[w], d_w[w], nl_w[w], moe_w[w], top_k_w[w]
            attn8 = (attn_fp8[w] > 0) and (fp8 > 0)
            pk_attn = _mx(_mn(fp8 if attn8 else (bf16 if bf16 > 0 else pk), pk), tiny)
            kv_tok = kv_bpt[w] * (0.5 if attn8 else 1.0)
            cap = _n2n(n_exp[w] * ep_red, np.inf)
            depth, acc = depth_w[w], acc_w[w]
            q = 1.0 if pre else 1.0 + depth
            emit = 1.0 if pre else (1.0 - acc_pow[w]) / _mx(1.0 - acc, 1e-12)
            if acc >= 1.0:
                emit = 1.0 + depth
            attn_ctx = ctx / 2.0 if pre else ctx
            budget = _n2n(tpot_s[w], np.inf) * emit
            tok_bytes = moe * d * (wb + act)
            gc1 = q * 2.0 * p_act_w[w] / (pk * eta_gemm * sw[o])
            ac1 = q * attn_fl[w] * attn_ctx / (pk_attn * eta_attn * sw[o])
            for k in range(Kn):
                ep, tp = ep_k[k], tp_k[k]
                valid = (tp <= _mn(domain, ep)) and ((ep <= cap) or (ep == ep_min))
                w_dev = ((p_tot_w[w] - p_exp_w[w]) / tp + p_exp_w[w] / ep) * wb
                kv_rep = tp if kv_latent[w] > 0 else 1.0
                kv_seq = ctx * kv_tok * kv_rep
                room = hsf * hbm_gb[o] * 1e9 - w_dev
                n_dom = ep / domain
                copies_out = (n_dom - 1.0) * (1.0 - pow_out[o, w, k]) if n_dom > 1 else 0.0
                copies_up = top_k * (1.0 - 1.0 / ep)
                has_a2a = (moe > 0) and (p_exp_w[w] > 0) and (ep > 1)
                alpha = a_out if n_dom > 1 else a_up
                c0 = moe * 2.0 * alpha if has_a2a else 0.0
                gm0 = w_dev / hbm
                am1 = (kv_tok * kv_rep if pre else kv_seq) / hbm
                cu1 = q * tok_bytes * copies_up / bw_up if has_a2a else 0.0
                co1 = q * tok_bytes * copies_out / bw_out if has_a2a else 0.0
                tp1 = nl * 4.0 * (tp - 1.0) * q * d * act / bw_up
                fixed = nl * slo + so + nl * 4.0 * (tp - 1.0) * a_up
                a1 = _mx(ac1, am1)
                j = 0
                for h in range(2):
                    q0 = 0.0 if h == 0 else gm0
                    q1 = gc1 + a1 if h == 0 else a1
                    p0[j] = fixed + q0
                    p1[j] = tp1 + q1
                    p0[j + 1] = fixed + c0 + keep * q0
                    p1[j + 1] = tp1 + cu1 + keep * q1
                    p0[j + 2] = fixed + c0 + keep * q0
                    p1[j + 2] = tp1 + co1 + keep * q1
                    j += 3
                b_tpot = np.inf
                for j in range(6):
                    b_tpot = _mn(b_tpot, (budget - p0[j]) / _mx(p1[j], tiny))
                b_cap = room / kv_seq if kv_seq > 0 else np.inf
                b_dec = _clip(_mn(b_tpot, b_cap), 0.0, max_b)
                kv_pre = kv_tok * kv_rep
                pre_cap = room / kv_pre if kv_pre > 0 else np.inf
                b_pre = _mn(pre_tok, _mx(pre_cap, 0.0))
                b = b_pre if pre else b_dec
                ok = valid and (room > 0) and (peak[o, w] > 0) and (b >= (1.0 if pre else 1.0 / tp))
                step = p0[0] + p1[0] * b
                for j in range(1, 6):
                    step = _mx(step, p0[j] + p1[j] * b)
                tok = b * emit / _mx(step, tiny)
                gemm, weights, attn, kv = gc1 * b, gm0 + 0.0 * b, ac1 * b, am1 * b
                up_t = c0 + cu1 * b
                out_t = (c0 if n_dom > 1 else 0.0) + co1 * b
                p_time = _mx(gemm, weights) + _mx(attn, kv)
                exposed = _mx(0.0, _mx(up_t, out_t) - overlap * p_time)
                tp_ar = tp1 * b + nl * 4.0 * (tp - 1.0) * a_up
                over = nl * slo + so + 0.0 * b
                compute = (gemm if gemm >= weights else 0.0) + (attn if attn >= kv else 0.0)
                up = up_t >= out_t
                share[0] = compute
                share[1] = p_time - compute
                share[2] = (exposed if up else 0.0) + tp_ar
                share[3] = 0.0 if up else exposed
                share[4] = over
                bound = 0  # np.argmax: the first NaN, else the first largest
                for j in range(5):
                    if share[j] != share[j]:
                        bound = j
                        break
                    if share[j] > share[bound]:
                        bound = j
                if (not pre) and (b_cap <= b_tpot) and np.isfinite(b_cap):
                    bnd = cap_code
                else:
                    bnd = float(bound)
                nan = np.nan
                out[0, o, w, k] = b if ok else 0.0
                out[1, o, w, k] = tok if ok else 0.0
                out[2, o, w, k] = bnd if ok else nan
                out[3, o, w, k] = gemm if ok else nan
                out[4, o, w, k] = weights if ok else nan
                out[5, o, w, k] = attn if ok else nan
                out[6, o, w, k] = kv if ok else nan
                out[7, o, w, k] = up_t if ok else nan
                out[8, o, w, k] = out_t if ok else nan
                out[9, o, w, k] = exposed if ok else nan
                out[10, o, w, k] = tp_ar if ok else nan
                out[11, o, w, k] = over if ok else nan
                out[12, o, w, k] = step if ok else nan
    return out


def _serve_args(wl: Workloads) -> tuple[np.ndarray, ...]:
    """The workloads' arrays the deployment kernel reads, in its order (see workload_memo)."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    depth, acc = f(wl.mtp_depth), f(wl.mtp_accept)
    return (np.ascontiguousarray(np.asarray(wl.kind) == PREFILL), f(wl.seq_len), f(wl.d_model), f(wl.n_layers),
            f(wl.moe_layers), f(wl.params_total), f(wl.params_expert), f(wl.params_active), f(wl.top_k),
            f(wl.attn_fp8), f(wl.kv_bytes_per_token), f(wl.n_experts), f(wl.kv_latent), depth, acc,
            f(acc ** (depth + 1.0)), f(wl.attn_flops_per_ctx), f(wl.tpot_s))


def _deployments(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                 ep: np.ndarray, tp: np.ndarray) -> Deployments:
    """[C3]-[C4] every candidate deployment; ``ep`` and ``tp`` as given (not broadcast to (O, W, K))."""
    res = deploy_table(off, wl, peak, fmt, ep, tp)
    return Deployments(ep, tp, res[0], res[1], res[2], dict(zip(TERMS, res[3:])))


def deploy_table(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                 ep: np.ndarray, tp: np.ndarray) -> np.ndarray:
    """The deployment kernel's table (13, O, W, K): rows batch, tokens/s, bound, then TERMS."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    e, t = f(ep), f(tp)
    if e.ndim != 3 or e.shape[:2] != (1, 1) or t.shape != e.shape:
        raise ValueError(f"ep and tp: shapes {e.shape} and {t.shape}, expected (1, 1, K) each (see grid)")
    e1, t1 = e.reshape(-1), t.reshape(-1)
    domain = f(off.domain)
    wla = workload_memo(wl, "serve", _serve_args)
    top_k = wla[8]
    # the two powers stay numpy's (its pow may be a vector routine; the kernel's would be libm's)
    pow_out = (1.0 - 1.0 / np.maximum(e / domain[:, None, None], 1.0)) ** top_k[None, :, None]
    sw = f([K.STACK_COMPUTE_FACTOR.get(str(x), 1.0) for x in off.stack])   # [C4f] stack software factor
    c = (_TINY, ACT_BYTES, ALPHA_SCALEOUT_S, ALPHA_SCALEUP_S, K.EP_REDUNDANCY, K.HBM_SERVING_FRACTION,
         K.ETA_HBM, K.ETA_LINK, K.ETA_GEMM, K.ETA_ATTN, K.STEP_LAYER_OVERHEAD_S, K.STEP_OVERHEAD_S,
         K.SERVE_A2A_OVERLAP, K.MAX_DECODE_BATCH, K.PREFILL_TOKENS_PER_ACCEL, float(K.BOUNDS.index("capacity")))
    return _deploy_kernel(
        sw, f(off.fp8_tflops), f(off.bf16_tflops), domain, f(off.hbm_gb), f(off.hbm_tb_s),
        f(off.scaleup_gb_s), f(off.scaleout_gb_s), f(peak), np.ascontiguousarray(fmt != FORMATS.index("bf16")),
        *wla, e1, t1, float(e1.min()), f(pow_out), c)


def deployments(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
                ep: np.ndarray, tp: np.ndarray) -> Deployments:
    """[C3]-[C4] every candidate deployment of every (offering, workload) pair (arrays (O, W, K))."""
    dep = _deployments(off, wl, peak, fmt, ep, tp)
    bc = lambda a: np.broadcast_to(a, dep.tokens_per_s.shape)  # noqa: E731
    return Deployments(bc(dep.ep), bc(dep.tp), bc(dep.batch), dep.tokens_per_s, dep.bound,
                       {k: bc(v) for k, v in dep.terms.items()})


@functools.lru_cache(maxsize=8)
def _grid_of(ep: tuple, tp: tuple) -> tuple[np.ndarray, np.ndarray]:
    """:func:`grid` of the default candidates, once per process per grid (read-only arrays)."""
    e, t = grid(ep, tp)
    e.flags.writeable = t.flags.writeable = False
    return e, t


def serve(off: Offerings, wl: Workloads, peak: np.ndarray, fmt: np.ndarray,
          ep: np.ndarray | None = None, tp: np.ndarray | None = None, *, terms: bool = True) -> Deployments:
    """The best deployment of every (offering, workload) pair (arrays (O, W)); ties: first.
    ``terms`` False leaves the per-step terms out (``terms`` is then empty)."""
    if ep is None and tp is None:  # the grid as the constants say now (a calibration may set them)
        e, t = _grid_of(tuple(K.EP_GRID), tuple(K.TP_GRID))
    else:
        e, t = grid(ep, tp)
    dep = _deployments(off, wl, peak, fmt, e, t)
    return dep.pick(np.argmax(dep.tokens_per_s, axis=2), terms)


@njit(**_JIT)
def best_of(table, ep_k, tp_k, train_tok, train_flops, n, is_train, f_serve):
    """[C4] ``performance``'s (O, W) fields from the training result and the deployment table:
    rows tokens/s of n accelerators, useful FLOPs per token, ep, tp, batch, bound. A serving pair
    runs its deployment of most tokens/s (np.argmax: the first maximum, or the first NaN); a
    training pair has NaN deployment fields and bound -1, as are a serving pair's NaN bounds."""
    O, W, Kn = table.shape[1], table.shape[2], table.shape[3]
    out = np.empty((6, O, W))
    for o in range(O):
        for w in range(W):
            if is_train[w]:
                out[0, o, w] = train_tok[o, w]
                out[1, o, w] = train_flops[o, w]
                out[2, o, w] = out[3, o, w] = out[4, o, w] = np.nan
                out[5, o, w] = -1.0
                continue
            best, top = 0, table[1, o, w, 0]
            if top == top:
                for k in range(1, Kn):
                    v = table[1, o, w, k]
                    if v != v:
                        best = k
                        break
                    if v > top:
                        best, top = k, v
            out[0, o, w] = table[1, o, w, best] * n[o, w]
            out[1, o, w] = f_serve[w]
            out[2, o, w] = ep_k[best]
            out[3, o, w] = tp_k[best]
            out[4, o, w] = table[0, o, w, best]
            b = table[2, o, w, best]
            out[5, o, w] = -1.0 if b != b else b
    return out
