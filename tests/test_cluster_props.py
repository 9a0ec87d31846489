"""Physical invariants of the cluster core over random valid system specs (hypothesis)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import cluster as C

WL = C.Workloads.load()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def offerings(draw, size=None):
    o = draw(size if size is not None else st.integers(1, 3))
    f = lambda lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=o, max_size=o)))  # noqa: E731
    bf16 = f(20.0, 5000.0)
    has_fp8 = np.array(draw(st.lists(st.booleans(), min_size=o, max_size=o)))
    has_int8 = np.array(draw(st.lists(st.booleans(), min_size=o, max_size=o)))
    domain = np.array(draw(st.lists(st.sampled_from([1, 8, 16, 72, 384, 8192]), min_size=o, max_size=o)))
    return C.Offerings(
        ids=np.array([f"s{i}" for i in range(o)], dtype=object),
        chip=np.array([f"c{i}" for i in range(o)], dtype=object),
        stack=np.array(["cuda"] * o, dtype=object),
        bf16_tflops=bf16,
        fp8_tflops=np.where(has_fp8, 2.0 * bf16, np.nan),
        int8_tops=np.where(has_int8, 2.0 * bf16, np.nan),
        hbm_gb=f(16.0, 512.0), hbm_tb_s=f(0.3, 20.0), scaleup_gb_s=f(16.0, 4000.0),
        scaleout_gb_s=f(3.0, 400.0), domain=domain.astype(np.int64), watts_allin=f(150.0, 4000.0),
        price_usd_per_accel=f(2000.0, 80000.0), n_per_system=domain.astype(np.int64),
    )


def _replace(off: C.Offerings, **kw) -> C.Offerings:
    d = {k: getattr(off, k) for k in off.__dataclass_fields__}
    d.update(kw)
    return C.Offerings(**d)


def _tokens(off: C.Offerings, n=4096.0) -> np.ndarray:
    return C.evaluate(off, WL, n_accel=n).tokens_per_s_per_accel[..., 0] * n


@SETTINGS
@given(offerings(), st.floats(1.0, 1e6))
def test_effective_never_exceeds_peak(off, n):
    r = C.evaluate(off, WL, n_accel=n)
    assert (r.effective_pflops <= r.peak_pflops * (1 + 1e-9)).all()
    assert ((r.mfu >= 0) & (r.mfu <= 1)).all()
    assert (r.tokens_per_s_per_accel >= 0).all()


@SETTINGS
@given(offerings(), st.sampled_from(["hbm_tb_s", "scaleup_gb_s", "scaleout_gb_s"]), st.floats(1.0, 20.0))
def test_throughput_non_decreasing_in_any_bandwidth(off, field, factor):
    before = _tokens(off)
    after = _tokens(_replace(off, **{field: getattr(off, field) * factor}))
    assert (after >= before * (1 - 1e-9) - 1e-9).all()


@SETTINGS
@given(offerings(), st.floats(0.0, 0.5), st.floats(0.0, 0.5), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_cost_non_decreasing_in_energy_price_and_levy(off, e1, de, l1, dl):
    lo = C.evaluate(off, WL, elec_usd_kwh=np.array([e1]), levy=l1)
    hi_e = C.evaluate(off, WL, elec_usd_kwh=np.array([e1 + de]), levy=l1)
    hi_l = C.evaluate(off, WL, elec_usd_kwh=np.array([e1]), levy=l1 + dl)
    for hi in (hi_e, hi_l):
        assert (hi.usd_per_hour >= lo.usd_per_hour).all()
        ok = np.isfinite(lo.usd_per_mtok)
        assert (hi.usd_per_mtok[ok] >= lo.usd_per_mtok[ok]).all()
        ok = np.isfinite(lo.usd_per_effective_pflop_hour)
        assert (hi.usd_per_effective_pflop_hour[ok] >= lo.usd_per_effective_pflop_hour[ok]).all()


@SETTINGS
@given(offerings(), st.floats(1.0, 3e5), st.floats(1.0, 10.0))
def test_adding_accelerators_never_lowers_total_throughput(off, n, factor):
    r1 = C.evaluate(off, WL, n_accel=n)
    r2 = C.evaluate(off, WL, n_accel=n * factor)
    assert (r2.effective_pflops >= r1.effective_pflops * (1 - 1e-9) - 1e-12).all()


def test_training_throughput_saturates():
    """Beyond one micro-batch per replica, more accelerators add nothing: no layout uses more than
    t x L x B/S (8 x 126 layers x 2,048 sequences = 2.06M for Llama 3 405B)."""
    off = _h100_like()
    wl = C.Workloads.load(ids=["llama3-405b-train"])
    eff = [C.evaluate(off, wl, n_accel=n).effective_pflops[0, 0, 0] for n in (4096, 16384, 1e5, 2.1e6, 1e8, 1e9)]
    assert eff[0] < eff[1] < eff[2] < eff[3]
    assert eff[4] == pytest.approx(eff[3])
    assert eff[5] == pytest.approx(eff[3])
    mfu = C.evaluate(off, wl, n_accel=1e9).mfu[0, 0, 0]
    assert mfu < 0.1  # idle accelerators are still paid for
    # too few accelerators to hold the model: no throughput at all
    assert C.evaluate(off, wl, n_accel=8).effective_pflops[0, 0, 0] == 0.0


# ------------------------------------------------------------------ serving physics (issue 15)
DECODE_WL = C.Workloads.load(ids=["deepseek-r1-decode", "deepseek-r1-prefill"])


def _serve(off: C.Offerings, wl: C.Workloads = DECODE_WL, **kw) -> C.Deployments:
    return C.serving_deployments(off, wl, **kw)


@SETTINGS
@given(offerings(), st.floats(1.01, 10.0))
def test_decode_non_decreasing_in_hbm_bandwidth_and_strictly_where_hbm_binds(off, factor):
    before = _serve(off)
    after = _serve(_replace(off, hbm_tb_s=off.hbm_tb_s * factor))
    assert (after.tokens_per_s >= before.tokens_per_s * (1 - 1e-12)).all()
    hbm = (before.bound == C.BOUNDS.index("hbm")) & (before.tokens_per_s > 0)
    assert (after.tokens_per_s[hbm] > before.tokens_per_s[hbm]).all()


@SETTINGS
@given(offerings(), st.floats(1.0, 10.0))
def test_more_hbm_capacity_never_lowers_throughput(off, factor):
    before = _serve(off).tokens_per_s
    after = _serve(_replace(off, hbm_gb=off.hbm_gb * factor)).tokens_per_s
    assert (after >= before * (1 - 1e-12)).all()


@SETTINGS
@given(offerings(), st.floats(0.005, 0.2), st.floats(0.1, 1.0))
def test_tighter_tpot_never_raises_throughput(off, tpot, tighter):
    wl = DECODE_WL.take([0])
    loose = _serve(off, dataclasses.replace(wl, tpot_s=np.array([tpot]))).tokens_per_s
    tight = _serve(off, dataclasses.replace(wl, tpot_s=np.array([tpot * tighter]))).tokens_per_s
    assert (tight <= loose * (1 + 1e-12)).all()


@SETTINGS
@given(offerings(), st.sampled_from(C.EP_GRID), st.sampled_from(C.TP_GRID))
def test_chosen_deployment_never_worse_than_a_fixed_one(off, ep, tp):
    best = _serve(off).tokens_per_s
    fixed = _serve(off, ep=[ep], tp=[tp]).tokens_per_s
    assert (best >= fixed * (1 - 1e-12)).all()
    every = C.serving_deployments(off, DECODE_WL, best=False).tokens_per_s
    np.testing.assert_allclose(best, every.max(axis=2))


@SETTINGS
@given(offerings())
def test_serving_terms_add_up_and_stay_under_peak(off):
    d = _serve(off)
    ok = d.tokens_per_s > 0
    t = d.terms
    p = np.maximum(t["gemm_compute"], t["weights_hbm"]) + np.maximum(t["attn_compute"], t["kv_hbm"])
    total = p + t["a2a_exposed"] + t["tp_allreduce"] + t["overhead"]
    np.testing.assert_allclose(total[ok], t["step"][ok], rtol=1e-9)
    r = C.evaluate(off, DECODE_WL, n_accel=1.0)
    assert (r.effective_pflops <= r.peak_pflops * (1 + 1e-9)).all()


def _h100_like(**kw) -> C.Offerings:
    base = dict(
        ids=np.array(["h"], dtype=object), chip=np.array(["h"], dtype=object),
        stack=np.array(["cuda"], dtype=object), bf16_tflops=np.array([989.0]),
        fp8_tflops=np.array([1979.0]), int8_tops=np.array([1979.0]), hbm_gb=np.array([80.0]),
        hbm_tb_s=np.array([3.35]), scaleup_gb_s=np.array([900.0]), scaleout_gb_s=np.array([50.0]),
        domain=np.array([8]), watts_allin=np.array([1275.0]), price_usd_per_accel=np.array([34000.0]),
        n_per_system=np.array([8]))
    base.update(kw)
    return C.Offerings(**base)


def test_h100_compute_with_twice_the_bandwidth_decodes_faster():
    wl = DECODE_WL.take([0])
    slow = _serve(_h100_like(), wl).tokens_per_s[0, 0]
    fast = _serve(_h100_like(hbm_tb_s=np.array([6.7])), wl).tokens_per_s[0, 0]
    assert fast > slow > 0
