"""The cluster-performance core: hand-checked formulas, published figures, calibration targets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from model import cluster as C
from model.types import HOURS_PER_YEAR


# ------------------------------------------------------------------ helpers
def _frames(**over):
    chips = pd.DataFrame([
        dict(id="x1", stack="cuda", bf16_tflops=1000.0, fp8_tflops=2000.0, int8_tops=2000.0,
             hbm_gb=100.0, hbm_tb_s=4.0, scaleup_gb_s=900.0),
        dict(id="y1", stack="cann", bf16_tflops=np.nan, fp8_tflops=1000.0, int8_tops=np.nan,
             hbm_gb=128.0, hbm_tb_s=3.0, scaleup_gb_s=784.0),
        dict(id="z1", stack="cann", bf16_tflops=800.0, fp8_tflops=np.nan, int8_tops=1600.0,
             hbm_gb=128.0, hbm_tb_s=3.2, scaleup_gb_s=784.0),
    ]).set_index("id")
    systems = pd.DataFrame([
        dict(id="sx", chip="x1", n_accel=8, scaleup_domain=8, scaleup_gb_s=900.0, scaleout_gb_s=50.0,
             watts_allin=1000.0, price_usd=800_000.0),
        dict(id="sy", chip="y1", n_accel=64, scaleup_domain=64, scaleup_gb_s=np.nan, scaleout_gb_s=50.0,
             watts_allin=1500.0, price_usd=3_200_000.0),
        dict(id="sz", chip="z1", n_accel=384, scaleup_domain=384, scaleup_gb_s=784.0, scaleout_gb_s=50.0,
             watts_allin=1456.0, price_usd=8_000_000.0),
    ]).set_index("id")
    return systems, chips


def _dense_prefill(**kw) -> C.Workloads:
    row = dict(id="toy", kind="prefill", params_total=10e9, params_active=10e9, params_expert=0,
               n_layers=40, moe_layers=0, d_model=5120, seq_len=2048, batch_tokens=np.nan,
               precision="bf16", tp=1, ep=1, top_k=0, attn_flops_per_ctx=0.0,
               kv_bytes_per_token=0.0, tpot_s=np.nan)
    row.update(kw)
    return C.Workloads.from_frame(pd.DataFrame([row]))


@pytest.fixture(scope="module")
def catalog():
    from model.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="module")
def real(catalog):
    return C.Offerings.from_frame(catalog.systems, catalog.chips)


def _idx(off: C.Offerings, sid: str) -> int:
    return int(np.flatnonzero(off.ids == sid)[0])


# ------------------------------------------------------------------ data structures
def test_from_frame_joins_chip_and_fills_gaps():
    off = C.Offerings.from_frame(*_frames())
    assert list(off.ids) == ["sx", "sy", "sz"] and len(off) == 3
    assert off.price_usd_per_accel[0] == pytest.approx(100_000.0)
    assert off.bf16_tflops[1] == pytest.approx(C.BF16_PER_FP8 * 1000.0)  # fp8-only roadmap chip
    assert off.scaleup_gb_s[1] == pytest.approx(784.0)                   # system NaN -> chip figure
    assert list(off.stack) == ["cuda", "cann", "cann"]
    sub = off.take([2, 0])
    assert list(sub.ids) == ["sz", "sx"] and sub.domain.tolist() == [384, 8]


def test_from_frame_refuses_unknown_chip():
    systems, chips = _frames()
    with pytest.raises(ValueError, match="x1"):
        C.Offerings.from_frame(systems, chips.drop(index="x1"))


def test_workloads_load_selects_in_order_and_refuses_unknown():
    wl = C.Workloads.load(ids=["deepseek-r1-decode", "llama3-405b-train"])
    assert list(wl.ids) == ["deepseek-r1-decode", "llama3-405b-train"]
    assert wl.kind.tolist() == [C.DECODE, C.TRAIN]
    with pytest.raises(KeyError, match="llama3-405b-train"):
        C.Workloads.load(ids=["nope"])
    full = C.Workloads.load()
    assert {"llama3-405b-train", "deepseek-v3-train", "deepseek-r1-prefill", "deepseek-r1-decode",
            "megatron-1t-train"} <= set(full.ids)
    df = pd.read_csv(C.WORKLOADS_CSV)
    assert df["source"].notna().all() and (df["source"].str.len() > 20).all()


def test_packaged_workloads_are_read_once_and_cannot_be_changed(tmp_path):
    ids = ["deepseek-r1-decode", "llama3-405b-train"]
    first = C.Workloads.load(ids=ids)
    assert C.Workloads.load(ids=ids) is first  # every model shares one read of the file
    with pytest.raises(ValueError, match="read-only"):
        first.params_active[0] = 1.0
    # another file is read every time, into arrays of its own
    df = pd.read_csv(C.WORKLOADS_CSV)
    df.loc[df["id"] == "deepseek-r1-decode", "params_active"] = 1e9
    path = tmp_path / "workloads.csv"
    df.to_csv(path, index=False)
    mine = C.Workloads.load(path, ids=ids)
    assert mine.params_active[0] == 1e9 and first.params_active[0] != 1e9
    assert C.Workloads.load(path, ids=ids) is not mine


def test_precision_preference_and_fallback():
    off = C.Offerings.from_frame(*_frames())
    wl = C.Workloads.load(ids=["deepseek-v3-train", "deepseek-r1-decode", "llama3-405b-train"])
    fmt, peak = C._choose_format(off, wl)
    f = {k: i for i, k in enumerate(C.FORMATS)}
    # x1 has everything: fp8 training, int8 serving, bf16 dense training
    assert fmt[0].tolist() == [f["fp8"], f["int8"], f["bf16"]]
    # z1 (Ascend-like: no FP8) falls back to bf16 for fp8 training, serves in int8
    assert fmt[2].tolist() == [f["bf16"], f["int8"], f["bf16"]]
    assert peak[2, 1] == pytest.approx(1600e12) and peak[2, 0] == pytest.approx(800e12)
    # y1 (fp8 only): serving falls through int8 -> fp8
    assert fmt[1, 1] == f["fp8"]


# ------------------------------------------------------------------ hand-checked formulas
def test_prefill_dense_is_compute_bound_by_hand():
    off = C.Offerings.from_frame(*_frames()).take([0])
    wl = _dense_prefill()
    r = C.evaluate(off, wl, n_accel=8, elec_usd_kwh=[0.08], pue=[1.2])
    tokens = C.PREFILL_TOKENS_PER_ACCEL
    step = 40 * C.STEP_LAYER_OVERHEAD_S + C.STEP_OVERHEAD_S + tokens * 2 * 10e9 / (1000e12 * C.ETA_GEMM)
    assert r.tokens_per_s_per_accel[0, 0, 0] == pytest.approx(tokens / step)
    assert r.mfu[0, 0, 0] == pytest.approx(tokens * 2 * 10e9 / step / 1000e12)
    assert r.mfu[0, 0, 0] < C.ETA_GEMM
    assert r.peak_pflops[0, 0, 0] == pytest.approx(8.0)
    d = C.serving_deployments(off, wl)
    assert d.tp[0, 0] == 1 and C.BOUNDS[int(d.bound[0, 0])] == "compute"


def test_decode_step_by_hand_at_a_fixed_deployment():
    """One dense decode deployment (tp 1, no all-to-all) worked by hand: the batch fills TPOT."""
    off = C.Offerings.from_frame(*_frames()).take([0])
    wl = _dense_prefill(kind="decode", tpot_s=0.05, kv_bytes_per_token=100e3, attn_flops_per_ctx=1e6)
    d = C.serving_deployments(off, wl, ep=[1], tp=[1])
    fixed = 40 * C.STEP_LAYER_OVERHEAD_S + C.STEP_OVERHEAD_S
    gemm = 2 * 10e9 / (1000e12 * C.ETA_GEMM)            # per sequence
    weights = 10e9 * 2 / (4e12 * C.ETA_HBM)              # per step
    attn = max(1e6 * 2048 / (1000e12 * C.ETA_ATTN), 2048 * 100e3 / (4e12 * C.ETA_HBM))
    b = min((0.05 - fixed) / (gemm + attn), (0.05 - fixed - weights) / attn,
            (0.9 * 100e9 - 20e9) / (2048 * 100e3))
    step = fixed + max(gemm * b, weights) + attn * b
    assert d.batch[0, 0] == pytest.approx(b)
    assert d.tokens_per_s[0, 0] == pytest.approx(b / step)
    assert d.terms["step"][0, 0] == pytest.approx(step) and step <= 0.05 * (1 + 1e-9)
    # MTP: one draft token accepted 80 % of the time emits 1.8 tokens per (longer) step
    mtp = C.serving_deployments(off, dataclasses.replace(wl, mtp_depth=np.array([1.0]),
                                                         mtp_accept=np.array([0.8])), ep=[1], tp=[1])
    assert mtp.tokens_per_s[0, 0] > d.tokens_per_s[0, 0]


def test_cost_by_hand():
    off = C.Offerings.from_frame(*_frames()).take([0])
    wl = _dense_prefill()
    r = C.evaluate(off, wl, n_accel=16, elec_usd_kwh=np.array([0.10, 0.05]), pue=np.array([1.5, 1.1]),
                   levy=0.25, energy_subsidy=np.array([[0.0, 0.5]]), life_years=4.0, rate=0.10)
    crf = 0.10 * 1.1 ** 4 / (1.1 ** 4 - 1)
    capex = 16 * 100_000 * 1.25 * crf / HOURS_PER_YEAR
    kw = 16 * 1000 / 1000
    for j, (elec, pue, sub) in enumerate([(0.10, 1.5, 0.0), (0.05, 1.1, 0.5)]):
        energy = kw * pue * C.AVG_POWER_FRACTION * elec * (1 - sub)
        assert r.power_kw[0, 0, j] == pytest.approx(16.0)
        assert r.facility_kw[0, 0, j] == pytest.approx(kw * pue)
        assert r.usd_per_hour[0, 0, j] == pytest.approx(capex + energy)
        tok = r.tokens_per_s_per_accel[0, 0, j] * 16
        assert r.usd_per_mtok[0, 0, j] == pytest.approx((capex + energy) / (tok * 3600) * 1e6)
        assert r.usd_per_effective_pflop_hour[0, 0, j] == pytest.approx(
            (capex + energy) / r.effective_pflops[0, 0, j])
    assert C.capital_recovery_factor(0.0, 4.0) == pytest.approx(0.25)


def test_not_runnable_gives_zero_throughput_and_nan_cost():
    off = C.Offerings.from_frame(*_frames()).take([0])
    wl = _dense_prefill(params_total=500e9, params_active=500e9)  # 1 TB of bf16: 125 GB even at TP 8
    r = C.evaluate(off, wl)
    assert r.tokens_per_s_per_accel[0, 0, 0] == 0.0
    assert math.isnan(r.usd_per_mtok[0, 0, 0]) and math.isnan(r.usd_per_effective_pflop_hour[0, 0, 0])
    assert r.usd_per_hour[0, 0, 0] > 0


def test_shapes_broadcast_over_regions_and_levies():
    off = C.Offerings.from_frame(*_frames())
    wl = C.Workloads.load()
    levy = np.zeros((3, 4))
    levy[0, 1] = 0.25
    r = C.evaluate(off, wl, elec_usd_kwh=np.full(4, 0.08), pue=1.2, levy=levy)
    assert r.usd_per_hour.shape == (3, len(wl), 4)
    assert (r.usd_per_hour[0, :, 1] > r.usd_per_hour[0, :, 0]).all()
    np.testing.assert_allclose(r.usd_per_hour[1, :, 1], r.usd_per_hour[1, :, 0])


# ------------------------------------------------------------------ export-control and fab helpers
def test_tpp_and_density():
    assert C.tpp(148, 16) == pytest.approx(2368)            # H20 (docs/SOURCES.md#chips)
    assert C.tpp(989.4, 16) == pytest.approx(15830.4)       # H100 ~15,832
    assert C.performance_density(C.tpp(989.4, 16), 814) == pytest.approx(15830.4 / 814)
    assert np.isnan(C.performance_density(1000.0, np.nan))


def test_dies_yield_and_cost_per_good_die():
    dpw = C.dies_per_wafer(np.array([814.0, 100.0]))
    assert dpw[0] == math.floor(math.pi * 150 ** 2 / 814 - math.pi * 300 / math.sqrt(2 * 814))  # 63
    assert dpw[1] > 600
    assert C.die_yield(100.0, 0.1, "poisson") == pytest.approx(math.exp(-0.1))
    assert C.die_yield(100.0, 0.1, "murphy") == pytest.approx(((1 - math.exp(-0.1)) / 0.1) ** 2)
    a = np.linspace(50, 800, 16)
    assert (C.die_yield(a, 0.2, "murphy") >= C.die_yield(a, 0.2, "poisson")).all()
    assert np.all(np.diff(C.die_yield(a, 0.2)) < 0)
    cost = C.cost_per_good_die(17000.0, 814.0, 0.1, "poisson")
    assert cost == pytest.approx(17000.0 / (63 * math.exp(-0.814)))
    # DUV multi-patterning: higher defect density -> dearer good dies
    assert C.cost_per_good_die(17000.0, 665.0, 0.5) > C.cost_per_good_die(17000.0, 665.0, 0.1)
    with pytest.raises(ValueError, match="murphy"):
        C.die_yield(100.0, 0.1, "seeds")


# ------------------------------------------------------------------ choice
def test_logit_choice_softmax_mask_and_temperature():
    u = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p = C.logit_choice(u)
    np.testing.assert_allclose(p[0], np.exp(u[0]) / np.exp(u[0]).sum())
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    avail = np.array([[True, False, True], [False, False, False]])
    p = C.logit_choice(u, avail)
    assert p[0, 1] == 0.0 and p[1].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(p[0, [0, 2]], np.exp([1, 3]) / np.exp([1, 3]).sum())
    big = C.logit_choice(np.array([1e5, 1e5 - 1.0, -1e5]))          # no overflow
    assert np.isfinite(big).all() and big.sum() == pytest.approx(1.0)
    hot = C.logit_choice(np.array([1.0, 2.0]), temperature=100.0)
    assert abs(hot[0] - hot[1]) < 0.01
    ties = C.logit_choice(np.array([[3.0, 1.0, 3.0]]), temperature=0.0)
    assert ties.tolist() == [[0.5, 0.0, 0.5]]
    nan_u = C.logit_choice(np.array([np.nan, 0.0]))
    assert nan_u.tolist() == [0.0, 1.0]
    col = C.logit_choice(u.T, axis=0)
    np.testing.assert_allclose(col.T, C.logit_choice(u))


def test_price_and_choose_matches_hand_utilities():
    off = C.Offerings.from_frame(*_frames())
    wl = C.Workloads.load(ids=["deepseek-r1-decode", "llama3-405b-train"])
    beta = np.array([0.0, 2.0, 5.0])
    aff = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, -1.0]])
    avail = np.array([[True, True, True], [True, False, True]])  # (R, O): region 1 bans sy
    res, p = C.price_and_choose(off, wl, price_sensitivity=beta, affinity=aff, available=avail,
                                elec_usd_kwh=np.array([0.08, 0.10]), pue=np.array([1.1, 1.3]))
    assert p.shape == (3, 2, 2, 3)
    cost = res.unit_cost(wl.kind).transpose(1, 2, 0)
    for b in range(3):
        for w in range(2):
            for r in range(2):
                u = aff[b] - beta[b] * np.log(cost[w, r])
                ok = avail[r] & np.isfinite(u)
                np.testing.assert_allclose(p[b, w, r], C.logit_choice(u, ok), atol=1e-12)
    assert (p[:, :, 1, 1] == 0.0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    # a more price-sensitive buyer puts more weight on the cheapest offering
    cheapest = np.argmin(np.where(avail[0], cost[0, 0], np.inf))
    _, p2 = C.price_and_choose(off, wl, price_sensitivity=np.array([1.0, 8.0]),
                               elec_usd_kwh=[0.08, 0.10], pue=[1.1, 1.3])
    assert p2[1, 0, 0, cheapest] > p2[0, 0, 0, cheapest]
    _, p0 = C.price_and_choose(off, wl, price_sensitivity=np.array([1.0]), temperature=0.0,
                               elec_usd_kwh=[0.08, 0.10], pue=[1.1, 1.3])
    assert p0[0, 0, 0, cheapest] == 1.0


# ------------------------------------------------------------------ published figures (docs/SOURCES.md#systems)
def test_published_system_figures(real):
    wl = C.Workloads.load(ids=["llama3-405b-train"])              # a BF16 workload
    n = real.n_per_system.astype(float)
    r = C.evaluate(real, wl, n_accel=n)
    nvl, cm = _idx(real, "gb200-nvl72"), _idx(real, "cloudmatrix-384")
    figures = {  # name: (nvl72, cm384)
        "dense BF16 PFLOPS": ((r.peak_pflops[nvl, 0, 0], 180.0), (r.peak_pflops[cm, 0, 0], 300.0)),
        "HBM TB": ((n[nvl] * real.hbm_gb[nvl] / 1000, 13.8), (n[cm] * real.hbm_gb[cm] / 1000, 49.2)),
        "HBM TB/s": ((n[nvl] * real.hbm_tb_s[nvl], 576.0), (n[cm] * real.hbm_tb_s[cm], 1229.0)),
        "all-in kW": ((r.power_kw[nvl, 0, 0], 145.0), (r.power_kw[cm, 0, 0], 559.0)),
    }
    for name, pairs in figures.items():
        for got, want in pairs:
            assert got == pytest.approx(want, rel=0.10), name
    w_per_tflop = lambda i: r.power_kw[i, 0, 0] * 1000 / (r.peak_pflops[i, 0, 0] * 1000)  # noqa: E731
    assert w_per_tflop(nvl) == pytest.approx(0.81, rel=0.10)
    assert w_per_tflop(cm) / w_per_tflop(nvl) == pytest.approx(2.3, abs=0.3)


# ------------------------------------------------------------------ calibration targets
def test_llama3_405b_mfu_on_16k_h100(real):
    wl = C.Workloads.load(ids=["llama3-405b-train"])
    r = C.evaluate(real.take([_idx(real, "hgx-h100")]), wl, n_accel=16384)
    assert 0.35 <= r.mfu[0, 0, 0] <= 0.48                       # published 0.38-0.41


def test_megatron_1t_mfu_on_3072_a100(real):
    wl = C.Workloads.load(ids=["megatron-1t-train"])
    r = C.evaluate(real.take([_idx(real, "hgx-a100")]), wl, n_accel=3072)
    assert 0.45 <= r.mfu[0, 0, 0] <= 0.58                       # published 0.52


def test_serving_calibration_targets_within_15_percent(real):
    """Issue 15: the five serving figures the core is fitted on, each within +-15 %."""
    from model import validate as V

    targets = {"cm384_decode_tok_s_per_npu": 1943, "cm384_decode_tok_s_per_npu_15ms": 538,
               "cm384_prefill_tok_s_per_npu": 5655, "sglang_h100_decode_tok_s_per_gpu": 2790,
               "sglang_h100_prefill_tok_s_per_gpu": 6540}
    got = V.serving_figures(real, lambda s: _idx(real, s))
    for name, want in targets.items():
        assert got[name][0] == pytest.approx(want, rel=0.15), name
    r = C.evaluate(real.take([_idx(real, "cloudmatrix-384")]), C.Workloads.load(ids=["deepseek-r1-decode"]),
                   n_accel=384)
    assert r.precision[0, 0, 0] == C.FORMATS.index("int8")


def test_kernel_ceilings_bound_the_efficiencies():
    """FlashMLA on H800 (~660 of 989 BF16 TFLOPS, ~3,000 of 3,350 GB/s), DeepGEMM (~1,550 of
    1,979 FP8 TFLOPS): the fitted efficiencies stay at or under these ceilings."""
    assert C.ETA_ATTN <= 660 / 989 and C.ETA_HBM <= 3000 / 3350 + 1e-9 and C.ETA_GEMM <= 1550 / 1979
    assert max(C.STACK_COMPUTE_FACTOR.values()) <= 1.0


def test_deepseek_r1_decode_h200_ahead_of_h100_and_h20_compute_bound(real):
    wl = C.Workloads.load(ids=["deepseek-r1-decode"])
    sel = [_idx(real, s) for s in ("hgx-h100", "hgx-h200", "hgx-h20")]
    d = C.serving_deployments(real.take(sel), wl)
    h100, h200, h20 = d.tokens_per_s[:, 0]
    assert h200 >= 1.25 * h100
    assert h20 < 0.5 * h100
    assert C.BOUNDS[int(d.bound[2, 0])] == "compute"


def test_stylised_comparisons(real):
    """Orderings an analyst expects, not pinned numbers."""
    wl = C.Workloads.load(ids=["deepseek-v3-train", "deepseek-r1-decode", "llama3-405b-train"])
    r = C.evaluate(real, wl, n_accel=16384)
    nvl, cm, h100, h800, h20 = (_idx(real, s) for s in
                                ("gb200-nvl72", "cloudmatrix-384", "hgx-h100", "hgx-h800", "hgx-h20"))
    # MoE training: the all-to-all stays inside NVL72 / CM384 domains and spills on HGX-8
    assert r.mfu[nvl, 0, 0] > 1.5 * r.mfu[h100, 0, 0]
    assert r.mfu[cm, 0, 0] > 1.5 * r.mfu[h100, 0, 0]
    # H800's cut NVLink costs dense (tensor-parallel) training efficiency
    assert r.mfu[h800, 2, 0] < r.mfu[h100, 2, 0]
    # the H20 is a much weaker training part than the H100, per accelerator
    assert r.effective_pflops[h20, 2, 0] < 0.3 * r.effective_pflops[h100, 2, 0]
    # CM384 uses far more power per unit of useful work than NVL72
    j = r.j_per_token
    assert j[cm, 1, 0] > 1.5 * j[nvl, 1, 0]
