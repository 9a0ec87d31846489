"""The composition ``model.cluster.performance`` had before its (O, W) fields were assembled in one
compiled pass (issue 19): the serving search's best deployment (``serve``), the training kernel,
and numpy's where over the two. The oracle of tests/test_core_kernels.py."""

from __future__ import annotations

import numpy as np

from model import cluster as C
from model.core import serve as S
from model.core import train as T


def reference_performance(off: C.Offerings, wl: C.Workloads, n_accel=16384) -> C._Perf:
    fmt, peak = C._choose_format(off, wl)
    n = np.asarray(n_accel, dtype=np.float64)
    if n.ndim == 1:
        n = n[:, None]
    n = np.maximum(np.broadcast_to(n, peak.shape), 0.0)
    train = T._train(off, wl, peak, fmt, n)
    dep = S.serve(off, wl, peak, fmt, terms=False)
    g = lambda a: np.asarray(a, dtype=np.float64)[None, :]  # noqa: E731
    kind = np.asarray(wl.kind)[None, :]
    ctx = g(wl.seq_len)
    f_serve = 2.0 * g(wl.params_active) + g(wl.attn_flops_per_ctx) * np.where(kind == C.PREFILL, ctx / 2.0, ctx)
    is_train = kind == C.TRAIN
    nan = np.full(peak.shape, np.nan)
    return C._Perf(
        peak_flops=peak,
        tokens_per_s_total=np.where(is_train, train.tokens_per_s_total, dep.tokens_per_s * n),
        useful_flops_per_token=np.where(is_train, train.useful_flops_per_token, np.broadcast_to(f_serve, peak.shape)),
        n=n, fmt=fmt, ep=np.where(is_train, nan, dep.ep), tp=np.where(is_train, nan, dep.tp),
        batch=np.where(is_train, nan, dep.batch),
        bound=np.where(is_train | np.isnan(dep.bound), -1.0, dep.bound))
