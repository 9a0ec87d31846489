"""model/market_kernels.py: each compiled pass bit for bit against the numpy code it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from model.core.choice import logit_choice
from model.market_kernels import free_choice
from tests import month_oracles


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("C", [1, 2, 7, 8, 9, 16, 31, 64, 127, 128, 129, 200, 257, 300])
@pytest.mark.parametrize("temperature", [1.0, 0.37, 2.5, 1e-6])
def test_free_choice_is_logit_choice(C, temperature):
    rng = np.random.default_rng(C)
    for B in (1, 3, 29, 40):
        S = 4
        util = rng.normal(0.0, 5.0, (B, C))
        sw = rng.exponential(2.0, (B, S))
        stack = np.sort(rng.integers(0, S, C)).astype(np.int64)
        avail = rng.random((B, C)) < 0.7
        avail[0] = False  # a row with nothing open: all zeros
        util[1 % B, 0] = np.nan  # NaN utility: unavailable
        util[-1, -1] = -np.inf
        util[rng.random((B, C)) < 0.05] = -0.0
        want = logit_choice(util + sw[:, stack], avail, temperature=temperature)
        got = free_choice(util, sw, stack, avail, temperature)
        assert _same(got, want)
        assert not avail[0].any() and not got[0].any()


def test_free_choice_special_rows_and_other_inputs():
    util = np.array([[np.inf, 1.0, np.inf], [0.0, 1.0, 2.0]])
    sw = np.zeros((2, 2))
    stack = np.array([0, 1, 1], dtype=np.int64)
    avail = np.ones((2, 3), dtype=bool)
    want = logit_choice(util + sw[:, stack], avail, temperature=1.0)
    got = free_choice(util, sw, stack, avail, 1.0)
    assert _same(got, want) and got[0].tolist() == [0.5, 0.0, 0.5]
    # an unavailable +inf does not make the row special: it gets probability 0
    avail[0, 0] = False
    assert _same(free_choice(util, sw, stack, avail, 1.0), logit_choice(util + sw[:, stack], avail))
    # a list or float32 input goes to the general function, with its result
    u32 = util.astype(np.float32)
    assert _same(free_choice(u32, sw, stack, avail, 0.5),
                 logit_choice(u32 + sw[:, stack], avail, temperature=0.5))
    with pytest.raises(ValueError, match="temperature"):
        free_choice(util, sw, stack, avail, -1.0)
    # a stack index outside sw's columns is refused, not read out of bounds
    with pytest.raises(IndexError):
        free_choice(util, sw, np.array([0, 1, 2], dtype=np.int64), avail, 1.0)


@pytest.mark.parametrize("drawn", [False, True])
def test_price_tables_are_the_numpy_code(drawn):
    from model.market_kernels import price_tables

    rng = np.random.default_rng(7 + drawn)
    for O, R, V in ((1, 1, 1), (34, 17, 12), (140, 17, 12)):
        avail = rng.random((O, R)) < 0.8
        live = rng.random(O) < 0.6
        approval = np.where(rng.random((O, R)) < 0.3, rng.random((O, R)), 1.0)
        draws = rng.random((O, R)) if drawn else np.zeros((0, 0))
        list_price = rng.uniform(1e3, 4e4, O)
        index = rng.uniform(0.5, 1.5, V)
        vendor = rng.integers(0, V, O).astype(np.int64)
        cn = rng.random(O) < 0.3
        launch = rng.uniform(0.5, 2.0, O)
        levy = np.where(rng.random((O, R)) < 0.2, rng.uniform(0.0, 0.25, (O, R)), 0.0)
        us_mult, ci, share = 1.0 + 0.15 * 0.4, 1.37, 0.5
        # the numpy formulation pricing used
        want_av = avail & live[:, None]
        if drawn:
            want_av &= draws < approval
        price = list_price * index[vendor] * np.where(~cn, us_mult, ci / launch)
        region = price[:, None] * (1.0 + levy * share)
        idx = np.flatnonzero(live)
        got = price_tables(avail, live, draws, approval, list_price, index, vendor, cn, us_mult, ci, launch,
                           levy, share)
        for g, w in zip(got, (want_av, price, region, idx, price[idx])):
            assert _same(g, w)


def _market_inputs(rng, O, R, V, S=4):
    live = rng.random(O) < 0.7
    stack = rng.integers(0, S, O).astype(np.int64)
    cn = rng.random(O) < 0.3
    vendor = rng.integers(0, V, O).astype(np.int64)
    compliance = rng.random(O) < 0.1
    cost = rng.uniform(1e-10, 5.0, (O, R)) * 10.0 ** rng.integers(-10, 3, (O, R))
    cost[~live] = np.inf
    cost[rng.random((O, R)) < 0.02] = np.nan
    available = rng.random((O, R)) < 0.8
    is_cn = np.zeros(R, dtype=bool)
    is_cn[rng.integers(0, R)] = True
    regs = np.sort(rng.choice(R, min(R, 5), replace=False)).astype(np.int64)
    return live, stack, cn, vendor, compliance, cost, available, is_cn, regs


@pytest.mark.parametrize("seed", range(6))
def test_market_columns_utility_and_outside_are_the_numpy_code(seed):
    from model import market_kernels as mk
    from model import month_kernels

    rng = np.random.default_rng(seed)
    O, R, V, S = (1, 34, 90, 140, 7, 60)[seed], 17, 12, 4
    live, stack, cn, vendor, compliance, cost, available, is_cn, regs = _market_inputs(rng, O, R, V, S)
    args = (live, stack, cn, vendor, compliance, S, regs, R, 3, cost, 0, V)
    out, lc, av, cn_block = mk.market_columns(*args, available, is_cn)
    want = month_kernels.columns(*args)
    assert all(_same(np.asarray(a), np.asarray(b)) for a, b in zip(out, want))
    flat = want[6]
    assert _same(lc, np.maximum(np.take(cost, flat), 1e-9))
    assert _same(av, np.take(available, flat)) and _same(cn_block, is_cn[regs])
    # the utility with the mandated rows found in the pass
    K, C = flat.shape
    counts = rng.multinomial(20, np.ones(K) / K).astype(np.int64)
    B = int(counts.sum())
    region = np.repeat(regs, counts)
    beta, align = rng.uniform(0.5, 2.0, B), rng.uniform(-1.0, 1.0, B)
    is_gs, funded = rng.random(B) < 0.4, rng.random(B) < 0.5
    nv, sw = rng.uniform(0.0, 3.0, S), rng.exponential(1.0, (B, S))
    st, china, cn_col, lo, hi = want[1], want[3], want[5], want[7], want[8]
    log_cost = np.log(lc)
    for mandate in (0.0, 0.25):
        mand = mandate * funded * is_cn[region]
        rows = np.flatnonzero(mand > 0)
        u_want, a_want = month_oracles.utility(log_cost, av, counts, cn_block, beta, nv[st], sw, st, align, is_gs,
                                               china, 0.3, 0.7, lo, hi, 0.1, np.nan, rows, cn_col)
        got = month_oracles.market_utility(log_cost, av, counts, cn_block, beta, nv, sw, st, align, is_gs, china,
                                           0.3, 0.7, lo, hi, 0.1, np.nan, cn_col, mandate, funded, is_cn, region)
        for g, w in zip(got, (u_want, a_want, mand, rows)):
            assert _same(g, w)
        # the outside option's inputs, utility and the appended rows
        fleet = rng.exponential(1.0, (B, S)) * (rng.random((B, S)) < 0.7)
        total = fleet.sum(axis=1)
        cap = np.where(rng.random(V) < 0.8, rng.uniform(0.0, 1e5, V), 0.0)
        shares, cheap, w = mk.outside_inputs(a_want[:B], st, fleet, total, S, want[10], cap, want[9])
        ok = want[10] & (cap > 0)
        assert _same(shares, month_kernels.outside_shares(a_want[:B], st, fleet, total, S))
        assert _same(cheap, want[9][ok]) and _same(w, cap[ok])
        if cheap.size:
            la = np.log(cheap)
            got_mean = np.float64(mk.weighted_mean(la, w))
            assert _same(got_mean, np.multiply(la, w).sum() / w.sum())
            assert _same(got_mean, np.float64(np.average(la, weights=w)))
        demand, log_ref, net = rng.exponential(1.0, B), np.log(1.7), shares @ nv
        u0, d = mk.outside_rows(beta, log_ref, net, demand, mand, rows)
        u0_want, d_want = -beta * log_ref + net, demand
        if rows.size:
            d_want = np.concatenate([demand * (1.0 - mand), demand[rows] * mand[rows]])
            u0_want = np.concatenate([u0_want, u0_want[rows]])
        assert _same(u0, u0_want) and _same(d, d_want)
        assert rows.size or d is demand


def test_first_rows_checked():
    from model.kernels import first_rows
    from model.market_kernels import first_rows_checked

    rng = np.random.default_rng(3)
    demand = np.where(rng.random(30) < 0.7, rng.random(30), 0.0)
    avail = rng.random((30, 9)) < 0.3
    vendor = rng.integers(2, 7, 9).astype(np.int64)
    for outside in (False, True):
        rows, lo, hi = first_rows_checked(demand, avail, outside, vendor)
        assert _same(rows, first_rows(demand, avail, outside)) and (lo, hi) == (vendor.min(), vendor.max())
    assert first_rows_checked(demand, avail[:, :0].copy(), True, vendor[:0].copy())[1:] == (0, -1)


def test_ecosystem_step_flags_what_ecosystem_state_refuses():
    from model import month_kernels
    from model.ecosystem import EcosystemState
    from model.market_kernels import ecosystem_step

    rng = np.random.default_rng(5)
    dev, mat = rng.uniform(0.1, 5.0, 4), rng.uniform(0.0, 1.0, 4)
    args = [rng.uniform(0.0, 1.0, 4) for _ in range(7)]
    args[4] = args[3] + 0.01  # rate
    d, m, ok = ecosystem_step(dev, args[0], args[1], args[2], mat, args[3], args[4], args[5], args[6])
    want = month_kernels.ecosystem_relax(dev, args[0], args[1], args[2], mat, args[3], args[4], args[5], args[6])
    assert ok and _same(d, want[0]) and _same(m, want[1])
    EcosystemState(d, m)  # passes its checks
    for bad in (np.inf, np.nan):
        inflow = args[0].copy()
        inflow[2] = bad
        d, m, ok = ecosystem_step(dev, inflow, args[1], args[2], mat, args[3], args[4], args[5], args[6])
        assert not ok
        with pytest.raises(ValueError, match="developers must be finite"):
            EcosystemState(d, m)


@pytest.mark.parametrize("reset", [False, True])
@pytest.mark.parametrize("caps", [False, True])
def test_fleet_step_is_the_numpy_code(reset, caps):
    from model.market_kernels import fleet_step

    rng = np.random.default_rng(11 + 2 * reset + caps)
    B, S, R = 29, 4, 17
    eff, peak = rng.exponential(1e4, (B, S)), rng.exponential(1e4, (B, S))
    kw, capped = rng.exponential(1e3, B), rng.exponential(1e2, B)
    per_buyer = rng.exponential(1e3, (B, 2 * S + 2)) * (rng.random((B, 2 * S + 2)) < 0.6)
    pue, region, tier = rng.uniform(1.1, 1.6, R), rng.integers(0, R, B).astype(np.int64), rng.integers(1, 4, R)
    keep = 1.0 - 1.0 / (12.0 * 5.0)
    want_c = capped.copy()
    if reset:
        want_c[:] = 0.0
    if caps:
        want_c += per_buyer[:, 2 * S + 1] * (tier[region] == 2)
    got = fleet_step(eff, peak, kw, per_buyer, keep, pue, region, S, capped, reset,
                     tier == 2 if caps else np.zeros(0, dtype=bool))
    assert _same(got[0], eff * keep + per_buyer[:, :S]) and _same(got[1], peak * keep + per_buyer[:, S:2 * S])
    assert _same(got[2], kw * keep + per_buyer[:, 2 * S] * pue[region] / 1000.0)
    assert _same(capped, want_c)


def test_network_value_fast_path_is_the_general_one():
    import dataclasses

    from model.ecosystem import EcosystemParams, network_value

    rng = np.random.default_rng(2)
    for w in (0.0, 0.3, 1.0):
        params = dataclasses.replace(EcosystemParams(), dev_weight=w)
        for _ in range(50):
            inst = rng.exponential(1e6, 4) * (rng.random(4) < 0.8)
            dev = rng.exponential(1.0, 4)
            inst[rng.random(4) < 0.1] = -0.0
            fast = network_value(inst, dev, params)
            general = network_value(inst.tolist(), dev.tolist(), params)  # lists: the numpy code
            assert _same(fast, general)
    with pytest.raises(ValueError, match="must be >= 0"):
        network_value(np.array([1.0, -1e-9, 0.0, 2.0]), np.ones(4), EcosystemParams())
    with pytest.raises(ValueError, match="must be >= 0"):
        network_value(np.ones(4), np.array([1.0, 0.0, -2.0, 0.0]), EcosystemParams())
    nan = network_value(np.array([np.nan, 1.0, 0.0, 2.0]), np.ones(4), EcosystemParams())
    assert _same(nan, network_value([np.nan, 1.0, 0.0, 2.0], [1.0] * 4, EcosystemParams()))


def test_bass_hazard_on_python_floats_is_the_numpy_scalar_path():
    from model.lock_in import bass_hazard

    rng = np.random.default_rng(4)
    for _ in range(2000):
        p, q, f = float(rng.uniform(0, 0.1)), float(rng.uniform(0, 1)), float(rng.random())
        fast, numpy_path = bass_hazard(p, q, f, 1.0 / 12.0), bass_hazard(np.float64(p), q, f, 1.0 / 12.0)
        assert _same(fast, numpy_path)
    for bad in ((-0.1, 0.3, 0.5), (0.1, 0.3, float("nan")), (0.1, 0.3, 1.5), (0.1, -0.3, 0.5)):
        with pytest.raises(ValueError, match="bass_hazard"):
            bass_hazard(*bad, 1.0 / 12.0)
