"""The compiled kernels of the core (issue 19) give exactly what their numpy formulations gave:
serving, every field and term of every candidate deployment; training, throughput and FLOP per
token; bit for bit (NaNs and signed zeros included), on the catalog, on random and degenerate
specs and workloads, at many cluster sizes, on restricted grids and under changed constants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model import cluster as C
from model.core import consts as K
from model.core import serve as S
from model.core import train as T
from tests.reference_serve import reference_deployments
from tests.reference_train import reference_train

WL = C.Workloads.load()


def _same(a: S.Deployments, b: S.Deployments) -> None:
    for name in ("ep", "tp", "batch", "tokens_per_s", "bound"):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        shape = np.broadcast_shapes(x.shape, y.shape)
        x, y = np.broadcast_to(x, shape), np.broadcast_to(y, shape)
        assert x.tobytes() == y.tobytes(), name
    assert list(a.terms) == list(b.terms) == list(S.TERMS)
    for name in S.TERMS:
        assert a.terms[name].shape == b.terms[name].shape, name
        assert a.terms[name].tobytes() == b.terms[name].tobytes(), name


def _check(off: C.Offerings, wl: C.Workloads, ep=None, tp=None) -> S.Deployments:
    fmt, peak = C._choose_format(off, wl)
    e, t = S.grid(ep, tp)
    with np.errstate(all="ignore"):
        ref = reference_deployments(off, wl, peak, fmt, e, t)
        new = S._deployments(off, wl, peak, fmt, e, t)
    _same(new, ref)
    return new


def _random_offerings(rng: np.random.Generator, o: int) -> C.Offerings:
    """Specs over wide ranges, with missing formats, zero memory or links, NaN and inf mixed in."""
    def col(lo: float, hi: float, odd: float = 0.1) -> np.ndarray:
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), o))
        pick = rng.random(o)
        x[pick < odd] = 0.0
        x[(pick >= odd) & (pick < 1.5 * odd)] = np.nan
        x[(pick >= 1.5 * odd) & (pick < 1.6 * odd)] = np.inf
        return x

    domain = rng.choice([1, 2, 8, 16, 64, 72, 144, 384, 8192], o).astype(np.int64)
    return C.Offerings(
        ids=np.array([f"s{i}" for i in range(o)], dtype=object),
        chip=np.array([f"c{i}" for i in range(o)], dtype=object),
        stack=rng.choice(["cuda", "rocm", "cann", "other_cn", "unknown"], o).astype(object),
        bf16_tflops=col(5.0, 5000.0), fp8_tflops=col(10.0, 10000.0, 0.3), int8_tops=col(10.0, 10000.0, 0.3),
        hbm_gb=col(4.0, 1000.0), hbm_tb_s=col(0.1, 30.0), scaleup_gb_s=col(10.0, 5000.0),
        scaleout_gb_s=col(1.0, 800.0), domain=domain, watts_allin=col(100.0, 3000.0),
        price_usd_per_accel=col(1e3, 1e5), n_per_system=domain)


def _varied_workloads(rng: np.random.Generator) -> C.Workloads:
    """The packaged workloads with serving parameters moved to their edges (TPOT open, full
    acceptance, latent KV, unknown expert count, FP8 attention)."""
    n = len(WL)
    return dataclasses.replace(
        WL, tpot_s=np.where(rng.random(n) < 0.3, np.nan, WL.tpot_s * rng.uniform(0.2, 3.0, n)),
        mtp_depth=rng.choice([0.0, 1.0, 2.0, 4.0], n), mtp_accept=rng.choice([0.0, 0.5, 0.9, 1.0], n),
        kv_latent=rng.choice([0.0, 1.0], n), n_experts=np.where(rng.random(n) < 0.3, np.nan, WL.n_experts),
        attn_fp8=rng.choice([0.0, 1.0], n), moe_layers=WL.moe_layers * rng.choice([0.0, 1.0], n))


@pytest.fixture(scope="module")
def real():
    from model.catalog import load_catalog

    catalog = load_catalog()
    return C.Offerings.from_frame(catalog.systems, catalog.chips)


def test_kernel_equals_numpy_on_the_catalog(real):
    dep = _check(real, WL)
    assert np.isfinite(dep.tokens_per_s).all() and (dep.tokens_per_s > 0).any()  # a real comparison
    for ep, tp in (([72], [1]), ([1, 8, 320], None), (None, [1]), ([4, 16], [2, 8])):
        _check(real, WL, ep, tp)


@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_numpy_on_random_and_degenerate_specs(seed):
    rng = np.random.default_rng(seed)
    off = _random_offerings(rng, 40)
    dep = _check(off, WL)
    assert np.isnan(dep.bound).any() and (dep.tokens_per_s > 0).any()  # both branches reached
    _check(off, _varied_workloads(rng))


def test_kernel_reads_the_constants_at_call_time(real, monkeypatch):
    """A calibration script sets consts.X: the kernel follows, exactly as the numpy code did."""
    before = _check(real, WL).tokens_per_s.copy()
    for name, value in (("ETA_HBM", 0.5), ("ETA_GEMM", 0.3), ("SERVE_A2A_OVERLAP", 0.9),
                        ("STEP_OVERHEAD_S", 1e-2), ("EP_REDUNDANCY", 1.0), ("MAX_DECODE_BATCH", 8.0),
                        ("STACK_COMPUTE_FACTOR", {"cuda": 0.5})):
        monkeypatch.setattr(K, name, value)
    after = _check(real, WL).tokens_per_s
    assert not np.array_equal(before, after)


def test_serve_picks_the_first_best_candidate(real):
    """serve(): the argmax over candidates, each field taken at that candidate."""
    fmt, peak = C._choose_format(real, WL)
    e, t = S.grid()
    full = S.deployments(real, WL, peak, fmt, e, t)
    best = S.serve(real, WL, peak, fmt)
    k = np.argmax(full.tokens_per_s, axis=2)[..., None]
    at = lambda a: np.take_along_axis(np.asarray(a), k, axis=2)[..., 0]  # noqa: E731
    for name in ("ep", "tp", "batch", "tokens_per_s", "bound"):
        assert at(getattr(full, name)).tobytes() == np.asarray(getattr(best, name)).tobytes(), name
    for name in S.TERMS:
        assert at(full.terms[name]).tobytes() == best.terms[name].tobytes(), name


def test_serve_without_terms_is_serve_less_its_terms(real):
    fmt, peak = C._choose_format(real, WL)
    full, lean = S.serve(real, WL, peak, fmt), S.serve(real, WL, peak, fmt, terms=False)
    assert lean.terms == {} and len(full.terms) == len(S.TERMS)
    for name in ("ep", "tp", "batch", "tokens_per_s", "bound"):
        assert getattr(full, name).tobytes() == getattr(lean, name).tobytes(), name
    e, t = S.grid()  # the default grid serve() keeps per process is grid()'s, and grid() stays fresh
    e[...] = 0.0
    assert S.grid()[0].max() == max(K.EP_GRID)
    assert S.serve(real, WL, peak, fmt).tokens_per_s.tobytes() == full.tokens_per_s.tobytes()


def test_grid_shape_is_checked():
    off = C.Offerings.from_frame(*_tiny_frames())
    fmt, peak = C._choose_format(off, WL)
    with pytest.raises(ValueError, match=r"expected \(1, 1, K\)"):
        S._deployments(off, WL, peak, fmt, np.array([1.0, 8.0]), np.array([1.0, 1.0]))


def _tiny_frames():
    import pandas as pd

    chips = pd.DataFrame({"bf16_tflops": [989.0], "fp8_tflops": [1979.0], "hbm_gb": [80.0],
                          "hbm_tb_s": [3.35], "scaleup_gb_s": [900.0], "stack": ["cuda"]}, index=["h100"])
    systems = pd.DataFrame({"chip": ["h100"], "n_accel": [8], "scaleup_domain": [8],
                            "scaleout_gb_s": [50.0], "watts_allin": [1400.0], "price_usd": [3e5]},
                           index=["hgx"])
    return systems, chips


def _check_train(off: C.Offerings, wl: C.Workloads, n) -> None:
    fmt, peak = C._choose_format(off, wl)
    nn = np.asarray(n, dtype=np.float64)
    nn = np.maximum(np.broadcast_to(nn[:, None] if nn.ndim == 1 else nn, peak.shape), 0.0)  # as performance()
    with np.errstate(all="ignore"):
        ref = reference_train(off, wl, peak, fmt, nn)
        new = T._train(off, wl, peak, fmt, nn)
    for f in dataclasses.fields(ref):
        x, y = np.asarray(getattr(new, f.name)), np.asarray(getattr(ref, f.name))
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), f.name


def _train_workloads(rng: np.random.Generator) -> C.Workloads:
    """The packaged workloads with training layouts moved around: stated or open pipeline depth,
    micro-batch, interleave, tensor and expert parallelism."""
    n = len(WL)
    return dataclasses.replace(
        WL, pp=np.where(rng.random(n) < 0.5, np.nan, rng.choice([1.0, 4.0, 16.0], n)),
        microbatch=rng.choice([1.0, 2.0, 8.0], n),
        interleave=np.where(rng.random(n) < 0.5, np.nan, rng.choice([1.0, 2.0, 8.0], n)),
        tp=rng.choice([1.0, 4.0, 6.0, 8.0, 16.0], n), ep=rng.choice([1.0, 6.0, 8.0, 48.0, 256.0], n),
        batch_tokens=WL.batch_tokens * rng.uniform(0.01, 4.0, n))


def test_train_kernel_equals_numpy_on_the_catalog(real):
    for n in (16384.0, 1.0, 0.0, 1e7, np.arange(len(real)) * 512.0):
        _check_train(real, WL, n)
    fmt, peak = C._choose_format(real, WL)
    assert (T._train(real, WL, peak, fmt, np.full(peak.shape, 16384.0)).tokens_per_s_total > 0).any()


@pytest.mark.parametrize("seed", range(6))
def test_train_kernel_equals_numpy_on_random_and_degenerate_specs(seed):
    rng = np.random.default_rng(100 + seed)
    off = _random_offerings(rng, 40)
    n = np.exp(rng.uniform(0.0, 17.0, (len(off), len(WL))))
    _check_train(off, WL, n)
    _check_train(off, _train_workloads(rng), n)
    _check_train(off, _train_workloads(rng), 4096.0)


def test_fab_scalar_paths_equal_the_array_paths():
    """dies_per_wafer and die_yield on one die (the monthly supply's call) take a path without
    numpy's per-call overhead: the same value, bits and type as on a 0-d array."""
    from model.core import fab

    rng = np.random.default_rng(7)
    areas = np.r_[np.exp(rng.uniform(np.log(1e-3), np.log(1e6), 3000)), 665.0, 1.0, 7e4, 0.0, -5.0, np.inf, np.nan]
    d0s = np.r_[np.exp(rng.uniform(np.log(1e-4), np.log(10.0), len(areas) - 2)), 0.0, np.nan]
    with np.errstate(all="ignore"):
        for a, d in zip(areas, d0s):
            for x, y in ((fab.dies_per_wafer(float(a)), fab.dies_per_wafer(np.asarray(a))),
                         (fab.die_yield(float(a), d), fab.die_yield(np.asarray(a), np.asarray(d))),
                         (fab.die_yield(float(a), float(d)), fab.die_yield(np.asarray(a), np.asarray(d)))):
                assert type(x) is type(y) and np.shape(x) == np.shape(y), (a, d)
                assert np.asarray(x).tobytes() == np.asarray(y).tobytes(), (a, d)
    assert fab.dies_per_wafer(665.0) == fab.dies_per_wafer(np.array([665.0]))[0] > 0


def _check_performance(off: C.Offerings, wl: C.Workloads, n) -> C._Perf:
    from tests.reference_perf import reference_performance

    with np.errstate(all="ignore"):
        ref, new = reference_performance(off, wl, n), C.performance(off, wl, n)
    for f in dataclasses.fields(ref):
        x, y = np.asarray(getattr(new, f.name)), np.asarray(getattr(ref, f.name))
        assert x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes(), f.name
    return new


def test_performance_assembly_equals_its_numpy_composition(real):
    """performance() takes each serving pair's best deployment and builds its fields in one
    compiled pass: the same bits as serve() + numpy's where did, NaN throughput included."""
    for n in (16384.0, 1.0, 0.0, np.arange(len(real)) * 512.0):
        _check_performance(real, WL, n)
    for seed in range(4):
        rng = np.random.default_rng(200 + seed)
        off = _random_offerings(rng, 40)
        new = _check_performance(off, _varied_workloads(rng), np.exp(rng.uniform(0.0, 17.0, len(off))))
        assert (new.bound == -1).any() and (new.bound >= 0).any()
    wl = dataclasses.replace(WL, tpot_s=WL.tpot_s.copy())  # a writeable copy: nothing kept for it
    _check_performance(real, wl, 16384.0)
    wl.tpot_s[:] = wl.tpot_s * 0.25
    _check_performance(real, wl, 16384.0)  # the changed workloads are read afresh
