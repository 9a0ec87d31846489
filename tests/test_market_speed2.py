"""Round 2 of issue 19: the market's further compiled passes and per-process memos give bit for
bit what the numpy code they stand in for gives."""

from __future__ import annotations

import numpy as np
import pytest

from model import month_kernels
from model.energy import power_fill
from model.market_model import ChipMarketModel
from tests import month_oracles


@pytest.fixture(scope="module")
def month():
    """A model in 2030 (fleets on several stacks, a few dozen offerings live)."""
    m = ChipMarketModel(rng=3, end="2030-06")
    m.run_model()
    return m


def _outside_shares_numpy(avail, onehot, fleet, fleet_tot):
    """The formulation the kernel replaces (model/components/choice.py before round 2)."""
    reach = (avail @ onehot) > 0
    est = fleet * reach
    tot = est.sum(axis=1, keepdims=True)
    return np.divide(est, fleet_tot, out=np.zeros_like(est), where=tot > 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outside_shares_kernel_is_the_numpy_formulation(month, seed):
    rng = np.random.default_rng(seed)
    b, S = month.buyers, 4
    fleet = b.fleet_eff.copy()
    fleet[1] = 0.0  # an empty estate
    fleet[2, 1:] = 0.0  # an estate on one stack
    B = fleet.shape[0]
    stack = np.sort(rng.integers(0, S - 1, 12))  # grouped by stack, the last stack never offered
    avail = rng.random((B, stack.size)) < 0.4
    avail[0] = False  # nothing for sale
    avail[2, stack == 0] = False  # its one stack cut off
    onehot = (stack[:, None] == np.arange(S)[None, :]).astype(float)
    fleet_tot = fleet.sum(axis=1, keepdims=True)
    want = _outside_shares_numpy(avail, onehot, fleet, fleet_tot)
    got = month_kernels.outside_shares(avail, stack, fleet, fleet_tot[:, 0], S)
    assert got.tobytes() == want.tobytes()
    assert (want > 0).any() and (want == 0).any() and not want[0].any() and not want[2].any()


def _power_fill_numpy(need_w, pue, region, capacity, used):
    """Power.limit's fill before round 2 (model.energy.power_fill over np.bincount)."""
    need_b = need_w * pue[region] / 1000.0
    need_r = np.bincount(region, weights=need_b, minlength=capacity.size)
    return power_fill(need_r, capacity - used)[region]


def test_power_fill_kernel_is_the_numpy_formulation(month):
    rng = np.random.default_rng(4)
    b, reg = month.buyers, month.regions
    R = len(reg)
    need_w = rng.uniform(0.0, 1e6, len(b.ids))
    need_w[0] = 0.0
    pue = reg.pue
    need_r = np.bincount(b.region, weights=need_w * pue[b.region] / 1000.0, minlength=R)
    used = rng.uniform(0.0, 1e3, R)
    capacity = used + need_r * rng.uniform(0.2, 2.0, R)  # some regions short, some not
    capacity[0] = np.inf
    capacity[1] = used[1] * 0.5  # over its capacity already: no headroom
    capacity[2] = 0.0
    for cap in (capacity, np.full(R, np.inf)):
        want = _power_fill_numpy(need_w, pue, b.region, cap, used)
        fill, short = month_kernels.power_fill(need_w, pue, b.region, cap, used)
        assert fill.tobytes() == want.tobytes() and short == bool((want < 1.0).any())
    assert month_kernels.power_fill(need_w, pue, b.region, np.full(R, np.inf), used)[1] is False
    want = _power_fill_numpy(need_w, pue, b.region, capacity, used)
    assert (want < 1.0).any() and (want == 1.0).any()


def test_relax_keeps_a_scalar_rates_factors_per_process():
    from model import ecosystem

    x, inflow = np.array([3.0, 0.2, 1.0, 0.5]), np.array([0.1, 0.0, 0.3, 0.02])
    for rate in (0.01, 0.0, 0.25, 1e-300):
        ecosystem._DECAY.clear()
        fresh = ecosystem._relax(x, inflow, np.full(4, rate))  # the array path: no memo
        first = ecosystem._relax(x, inflow, rate)
        hit = ecosystem._relax(x, inflow, rate)
        assert fresh.tobytes() == first.tobytes() == hit.tobytes()
    # the key covers the rate's value and the shape
    a = ecosystem._relax(x, inflow, 0.01)
    b = ecosystem._relax(x, inflow, 0.02)
    assert not np.array_equal(a, b)
    assert ecosystem._relax(x[:2], inflow[:2], 0.01).tobytes() == a[:2].tobytes()
    assert (0.01, (4,)) in ecosystem._DECAY and (0.01, (2,)) in ecosystem._DECAY
    for arr in ecosystem._DECAY[(0.01, (4,))]:
        assert not arr.flags.writeable


@pytest.mark.parametrize("n", [0, 1, 4, 7, 8, 9, 17, 29, 64, 127, 128, 129, 200, 255, 256, 257, 1000, 2049])
def test_pairwise_sum_is_numpys_sum(n):
    from model import kernels

    rng = np.random.default_rng(n)
    for _ in range(20):
        a = rng.standard_normal(n + 3) * 10.0 ** rng.uniform(-8, 8, n + 3)
        assert kernels.pairwise_sum(a, 3, n) == float(a[3:].sum())
        assert kernels.pairwise_sum(a, 0, n) == float(a[:n].sum())


@pytest.mark.parametrize("n", [0, 1, 3, 7, 8, 9, 128, 129, 200])
def test_pairwise_sum_keeps_numpys_signed_zeros(n):
    """The one compiled pairwise sum (kernels, metrics, recorder) gives numpy's bits on sums of
    negative zeros too: np.sum is 0.0 + it (numpy's identity first), an np.add.reduceat block its
    first item + it of the rest, a strided column the same as a contiguous one."""
    from model import kernels, metrics

    z = np.full(n + 1, -0.0)
    bits = lambda x: np.float64(x).tobytes()  # noqa: E731 (0.0 and -0.0 differ here, not under ==)
    assert bits(0.0 + kernels.pairwise_sum(z, 1, n)) == bits(np.sum(z[1:]))
    if n <= 128:
        assert bits(metrics._psum_nb(z, n)) == bits(np.sum(z[:n]))
    block = z[0] + kernels.pairwise_sum(np.ascontiguousarray(np.c_[z, z])[:, 1], 1, n)
    assert bits(block) == bits(np.add.reduceat(z, [0])[0])


def test_bass_kernels_are_bass_start_and_the_demand(month):
    from model import kernels
    from model.market import bass_start

    b, reg, p = month.buyers, month.regions, month.p
    rng = np.random.default_rng(5)
    active = rng.random(len(b.ids)) < 0.5
    weight = np.where(b.is_gs, b.share * reg.weight[b.region], 0.0)
    rd = reg.demand(month.month)
    noise = np.exp(rng.normal(0.0, 0.1, len(b.ids)))
    for hazard_p in (0.03, 5.0):
        g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
        want = bass_start(active | ~b.is_gs, weight, hazard_p, p["bass_q"], g1) | ~b.is_gs
        a0, total, on = kernels.bass_weights(active, b.is_gs, b.share, reg.weight, b.region)
        assert total == weight.sum() and on == (weight * (active | ~b.is_gs)).sum()
        from model.lock_in import bass_hazard
        hazard = bass_hazard(hazard_p, p["bass_q"], min(max(on / total, 0.0), 1.0), 1.0 / 12.0)
        got, demand = kernels.bass_demand(a0, g2.random(len(b.ids)), float(hazard), b.is_gs, rd, b.region,
                                          b.share, noise)
        assert np.array_equal(got, want) and got.dtype == want.dtype
        assert demand.tobytes() == (rd[b.region] * b.share * noise * want).tobytes()
    assert (~want).any() or hazard_p == 5.0


@pytest.mark.parametrize("fine", [0.0, 0.25])
def test_deliver_tables_kernel_is_the_numpy_deliveries(month, fine):

    b, off, reg = month.buyers, month.offerings, month.regions
    rng = np.random.default_rng(7)
    O, R, V = len(off), len(reg), len(month.vendors)
    cols = np.flatnonzero(rng.random(O) < 0.6)
    alloc = rng.random((len(b.ids), cols.size)) * (rng.random((len(b.ids), cols.size)) < 0.5) * 1e4
    per_unit = 1.0 / (off.value[cols] * rng.uniform(0.5, 1.0, cols.size))
    region_price = rng.uniform(1e3, 3e4, (O, R))
    levy = np.where(rng.random((O, R)) < 0.3, 0.15, 0.0)
    units = np.zeros((O, R))
    units[cols] = (b.by_region(alloc) * per_unit[None, :]).T
    gross = units * region_price
    net = gross * (1.0 - levy)
    nv = rng.random(O) < 0.4
    if fine:
        net[np.ix_(nv, reg.is_cn)] *= 1.0 - fine
    got = month_oracles.deliver_tables(alloc, per_unit, cols, b.region_starts, b.region[b.region_starts], O, R,
                                 region_price, levy, off.cn, off.vendor, V, fine if fine else np.nan, nv, reg.is_cn)
    assert got[0].tobytes() == units.tobytes() and got[1].tobytes() == gross.tobytes()
    assert got[2].tobytes() == net.tobytes()
    assert got[3] == float(units[off.cn].sum()) and off.cn.any()
    assert got[4].tobytes() == np.bincount(off.vendor, weights=net.sum(axis=1), minlength=V).tobytes()


def test_ecosystem_fast_update_is_the_general_one():
    from model.ecosystem import EcosystemParams, EcosystemState, update_ecosystem

    rng = np.random.default_rng(8)
    params = EcosystemParams()
    state = EcosystemState.initial()
    for t in range(60):
        inst = rng.uniform(0.0, 1e6, 4) * (rng.random(4) < 0.8)
        buy = rng.uniform(0.0, 1e4, 4) * (rng.random(4) < 0.6) if t % 7 else np.zeros(4)
        inv = rng.uniform(0.0, 1.0, 4) * (rng.random(4) < 0.7)
        fast = update_ecosystem(state, inst, buy, inv, params)
        slow = update_ecosystem(state, list(inst), list(buy), list(inv), params)  # lists: the general code
        assert fast.developers.tobytes() == slow.developers.tobytes()
        assert fast.maturity.tobytes() == slow.maturity.tobytes()
        state = fast
    for bad, msg in ((np.array([1.0, np.nan, 0.0, 0.0]), "installed"), (-np.ones(4), "installed")):
        with pytest.raises(ValueError, match=msg):
            update_ecosystem(state, bad, np.zeros(4), np.zeros(4), params)
    with pytest.raises(ValueError, match="purchases"):
        update_ecosystem(state, np.ones(4), np.array([0.0, np.inf, 0.0, 0.0]), np.zeros(4), params)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        update_ecosystem(state, np.ones(4), np.zeros(4), np.full(4, 1.5), params)


def test_kernels_take_numpys_maximum_of_minus_zero():
    """np.maximum(-0.0, 0.0) is 0.0 (np.clip keeps -0.0): the kernels' clamps do the same."""
    h = month_kernels.power_fill(np.ones(1), np.ones(1), np.zeros(1, dtype=np.int64), np.array([-0.0]),
                                 np.zeros(1))[0]
    assert not np.signbit(h[0]) and h[0] == 0.0
    z = np.zeros(1)
    d, m = month_kernels.ecosystem_relax(np.array([-0.0]), z, np.ones(1), z, np.array([-0.0]), z,
                                         np.ones(1), np.ones(1), z)
    assert not np.signbit(d[0]) and np.signbit(m[0])
    assert d.tobytes() == np.maximum(np.array([-0.0]), 0.0).tobytes()
    assert m.tobytes() == np.clip(np.array([-0.0]), 0.0, 1.0).tobytes()


@pytest.mark.parametrize("k", [1, 3])
def test_porting_step_is_porting_decision(k):
    import dataclasses

    from model.ecosystem import EcosystemParams
    from model.lock_in import porting_decision, porting_step

    rng = np.random.default_rng(k)
    B, S = 29, 4
    params = dataclasses.replace(EcosystemParams(), porting_step_per_month=0.02 * k)
    assert params.mandated_porting_stacks
    cur = rng.uniform(0.0, 1.0, (B, S)) * (rng.random((B, S)) < 0.6)
    cur[0] = 1.0
    cur[1, 0] = 0.995  # capped at 1
    save = rng.uniform(0.0, 2.0, (B, S))
    cost = rng.uniform(0.0, 1.0, B) * 0.5
    for mand in (np.zeros(B, dtype=bool), rng.random(B) < 0.3):
        want = porting_decision(save, np.broadcast_to(cost[:, None], save.shape) * k, mand, cur, params)
        got = porting_step(save, cost, k, mand, cur, params)
        assert got.tobytes() == want.tobytes() and (got != cur).any() and (got == 1.0).any()
    bad = cur.copy()
    bad[3, 2] = 1.5
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        porting_step(save, cost, k, mand, bad, params)


def test_investment_memo_is_a_fresh_computation(month):
    eco = month.ecosystems
    start = eco.dates["cann_open_source"]
    for m in (start - 1, start, start + 5, start - 2):
        got = eco.investment(m)
        assert got.tobytes() == eco._investment(m).tobytes()
        got[:] = -1.0  # a copy: the memo is not touched
        assert eco.investment(m).tobytes() == eco._investment(m).tobytes()
    old = eco.p["invest_cann"]
    before = eco.investment(start - 1)
    try:
        eco.p["invest_cann"] = old / 2 + 0.01  # every parameter it reads is in the key
        assert eco.investment(start - 1).tobytes() == eco._investment(start - 1).tobytes()
        assert eco.investment(start - 1).tobytes() != before.tobytes()
    finally:
        eco.p["invest_cann"] = old
    assert eco.investment(start).tobytes() == eco._investment(start).tobytes()
