"""The market phases' fast paths give bit for bit what the general functions they stand in for
give (issue 19: a run cheaper, its results unchanged)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.core.choice import _hourly_cost, _price
from model.market_model import ChipMarketModel
from model.policy import _isin
from tests import month_oracles


@pytest.fixture(scope="module")
def month():
    """A model in 2030 (a few dozen offerings live, licences and bans in force)."""
    m = ChipMarketModel(rng=3, end="2030-06")
    m.run_model()
    return m


@pytest.mark.parametrize("subsidy", [0.0, 0.3])
def test_hourly_cost_is_the_core_price_bit_for_bit(month, subsidy):
    off, reg = month.offerings, month.regions
    rng = np.random.default_rng(5)
    idx = np.flatnonzero(off.update_live(month.month))
    core, decode = off.core.take(idx), off.decode_perf.take(idx)
    price = core.price_usd_per_accel * rng.uniform(0.5, 2.0, idx.size)
    levy = rng.choice([0.0, 0.15, 0.25], (idx.size, len(reg)))
    sub = np.where(rng.random((idx.size, len(reg))) < 0.3, subsidy, 0.0)
    elec = reg.elec * rng.uniform(1.0, 1.5, len(reg))
    want = _price(dataclasses.replace(core, price_usd_per_accel=price), decode, elec_usd_kwh=elec,
                  pue=reg.pue, levy=levy, energy_subsidy=sub, life_years=4.0, rate=0.1)
    usd_h, kw = _hourly_cost(decode.n[:, 0], core.watts_allin, price, elec=elec, pue=reg.pue, levy=levy,
                             energy_subsidy=sub if subsidy else None, life_years=4.0, rate=0.1)
    assert usd_h.tobytes() == np.ascontiguousarray(want.usd_per_hour[:, 0, :]).tobytes()
    assert kw.tobytes() == np.ascontiguousarray(want.power_kw[:, 0, 0]).tobytes()
    assert idx.size > 10 and (levy > 0).any()


def test_isin_is_numpys(month):
    reg, off = month.regions, month.offerings
    for names in [("cn",), ("in", "br", "nowhere"), (), tuple(reg.ids)]:
        assert np.array_equal(_isin(reg.ids, names), np.isin(reg.ids, list(names)))
    for tiers in [(3,), (2, 3), (1, 2, 3), ()]:
        assert np.array_equal(_isin(reg.tier, tiers), np.isin(reg.tier, tiers))
    chips = tuple(off.chip[::3])
    assert np.array_equal(_isin(off.chip, chips), np.isin(off.chip, list(chips)))


def test_month_columns_and_reference_cost_are_the_direct_ones():
    """The market's columns and the reference cost (from the columns pass's minima) equal their
    direct computation every month of a run, launches and retirements included."""
    from model.components import choice

    seen = {"months": 0, "launches": set()}
    trade = choice.BuyersChoice.trade

    def checked(self, model, ctx):
        off, b = model.offerings, model.buyers
        counts, regs = self._region_blocks(b)
        c = self._columns(off, model.regions, regs, ctx.cost, len(model.vendors))
        seen["launches"].add(len(off))
        cols = np.flatnonzero(off.live)
        cols = cols[np.argsort(off.stack[cols], kind="stable")]
        assert np.array_equal(c.cols, cols) and np.array_equal(c.stack, off.stack[cols])
        assert np.array_equal(c.vendor, off.vendor[cols]) and np.array_equal(c.cn, off.cn[cols])
        assert np.array_equal(c.china, np.where(off.cn[cols], 1.0, -1.0))
        assert np.array_equal(c.onehot.argmax(axis=1), off.stack[cols]) and (c.onehot.sum(axis=1) == 1).all()
        cann = np.flatnonzero(off.stack[cols] == choice.STACK_INDEX["cann"])
        assert (c.cann is None) == (cann.size == 0)
        if cann.size:
            assert (c.cann.start, c.cann.stop) == (cann[0], cann[-1] + 1)
        direct = ctx.cost[np.ix_(cols, regs)].T
        assert np.array_equal(np.take(ctx.cost, c.flat), direct)
        fast = choice.reference_cost(model, ctx.cost, model.vendors.capacities(), c)
        assert fast == choice.reference_cost(model, ctx.cost)  # bit for bit
        seen["months"] += 1
        return trade(self, model, ctx)

    choice.BuyersChoice.trade = checked  # before the model binds its plan
    try:
        ChipMarketModel(rng=2, end="2032-12").run_model()
    finally:
        choice.BuyersChoice.trade = trade
    assert seen["months"] > 100 and len(seen["launches"]) > 5


@pytest.mark.parametrize("bonus,penalty", [(np.nan, np.nan), (0.4, np.nan), (0.4, 0.7), (0.0, 0.2)])
def test_utility_kernel_is_the_numpy_formulation(bonus, penalty):
    """month_kernels.utility = the numpy utility (buyer_utility, region blocks repeated, CANN terms)."""
    from model.market import buyer_utility

    rng = np.random.default_rng(11)
    K, C, S = 5, 23, 4
    counts = np.array([3, 1, 0, 6, 2], dtype=np.int64)
    B = int(counts.sum())
    log_cost = np.log(rng.uniform(1e2, 1e5, (K, C)))
    avail = rng.random((K, C)) < 0.7
    cn_block = np.array([False, True, False, False, True])
    beta, alignment = rng.uniform(0.5, 3.0, B), rng.uniform(-1, 1, B)
    is_gs = rng.random(B) < 0.5
    nv, sw = rng.uniform(0, 2, S), rng.uniform(0, 5, (B, S))
    stack = np.sort(rng.integers(0, S, C))
    china = np.where(rng.random(C) < 0.3, 1.0, -1.0)
    lo, hi = np.searchsorted(stack, (2, 3)).tolist()
    extra, cn_col = np.array([4, 0, 4], dtype=np.int64), china > 0
    util_all, av_all = month_oracles.utility(log_cost, avail, counts, cn_block, beta, nv[stack], sw, stack,
                                             alignment, is_gs, china, 0.8, 0.3, lo, hi, bonus, penalty, extra, cn_col)
    util, av = util_all[:B], av_all[:B]
    assert util_all.tobytes()[util.nbytes:] == util[extra].tobytes()
    assert np.array_equal(av_all[B:], av[extra] & cn_col[None, :]) and av_all[B:].any()
    weight = np.where(is_gs, 0.8, 0.3)
    align = (weight * alignment)[:, None] * china[None, :]
    want = buyer_utility(np.repeat(log_cost, counts, axis=0), beta, nv[stack][None, :], np.take(sw, stack, axis=1),
                         align)
    if not np.isnan(bonus):
        want[:, lo:hi] += (is_gs * bonus)[:, None]
    if not np.isnan(penalty):
        want[:, lo:hi] -= (~np.repeat(cn_block, counts) * penalty)[:, None]
    assert hi > lo and util.tobytes() == want.tobytes()
    assert np.array_equal(av, np.repeat(avail, counts, axis=0))


def test_lock_in_kernel_is_portability_and_switching_cost():
    from model.ecosystem import EcosystemParams, portability, switching_cost

    rng = np.random.default_rng(4)
    P = EcosystemParams()
    B, S = 40, 4
    mat, cod = rng.uniform(0, 1, S), np.array([0.0, 0.0, 0.7, 0.0])
    porting = np.where(rng.random((B, S)) < 0.3, 0.0, rng.uniform(0, 1, (B, S)))
    porting[0] = 1.0
    estate = rng.uniform(0, 3, B)
    fleet = np.where(rng.random((B, S)) < 0.4, 0.0, rng.uniform(0, 1e6, (B, S)))
    fleet[1] = 0.0  # a buyer with no fleet pays nothing
    total = fleet.sum(axis=1)
    port, sw = month_oracles.lock_in(mat, porting, cod, estate, fleet, total, 2.0, P.maturity_effect,
                               P.porting_effect, P.codesign_bonus)
    want_port = portability(mat, porting, cod, P)
    assert port.tobytes() == want_port.tobytes()
    assert sw.tobytes() == switching_cost(estate, fleet, want_port, 2.0).tobytes()
    assert (sw[1] == 0).all() and (sw[2:] > 0).any()
    bad = [(mat - 2, porting, estate, fleet, 1.0, "maturity"), (mat, porting + 2, estate, fleet, 1.0, "porting"),
           (mat, porting, -estate, fleet, 1.0, "estate"), (mat, porting, estate, -fleet, 1.0, "fleet"),
           (mat, porting, estate, fleet, -1.0, "kappa")]
    for m_, pl, e, f, k, what in bad:
        with pytest.raises(ValueError, match=what if what in ("maturity", "porting") else "must be >= 0"):
            month_oracles.lock_in(m_, pl, cod, e, f, f.sum(axis=1), k, 0.6, 0.8, 0.3)


def test_fast_availability_is_the_rule_engine_under_many_policies(month):
    """availability_fast (name masks extended across views, compiled fill) = availability, for
    growing views of one table and policies with every kind of licence, ban and rule."""
    import dataclasses as dc

    from model.policy import Licence, OfferingView, availability, availability_fast, rule_for_level

    off, reg = month.offerings, month.regions
    v = off.view
    rng = np.random.default_rng(9)
    memo: dict = {}
    chips = [str(c) for c in v.chip]
    checked, seen = 0, np.zeros(3, dtype=bool)
    for n in (10, 25, 25, 40, len(v.chip)):  # views that grow (and one asked twice)
        view = OfferingView(*(getattr(v, f.name)[:n] for f in dc.fields(OfferingView) if f.name != "cache"))
        for level in (0.0, 0.5, 0.9):
            pol = dc.replace(month.policy, us_rule=rule_for_level(level), licences=[], cn_bans=set())
            for k in range(3):
                pats = tuple(rng.choice(chips, 3)) + (("compliance",), ("us_all",), ())[k]
                regions = tuple(rng.choice(list(reg.ids), 4))
                pol.licences.append(Licence(match=pats, regions=regions, levy=float(rng.choice([0.0, 0.15, 0.25])),
                                            approval=float(rng.choice([1.0, 0.7])), start=month.month - k))
            pol.cn_bans = {chips[0], "compliance"} if level > 0 else set()
            pol.us_bloc_buys_cn = level == 0.5
            for when in (month.month - 1, month.month):
                want = availability(pol, view, reg.tier, reg.ids, reg.is_cn, when)
                got = availability_fast(pol, view, reg.tier, reg.ids, reg.is_cn, when, memo)
                for g, w in zip(got, want):
                    assert g.dtype == w.dtype and g.tobytes() == w.tobytes()
                seen |= [not want[0].all(), (want[1] > 0).any(), (want[2] < 1).any()]
                checked += 1
    assert checked == 30 and seen.all()  # every table took more than its default somewhere


@pytest.mark.parametrize("subsidy,discount", [(0.0, None), (0.3, None), (0.0, 0.2), (0.25, 0.35)])
def test_unit_cost_kernel_is_the_numpy_pricing(month, subsidy, discount):
    """month_kernels.unit_cost = the numpy pricing: _hourly_cost / units in use x hours / value,
    inf off sale, the bundle discount on CANN rows x Global-South regions."""
    from model import month_kernels
    from model.core.choice import capital_recovery_factor
    from model.core.consts import AVG_POWER_FRACTION
    from model.types import HOURS_PER_MONTH, HOURS_PER_YEAR, STACK_INDEX

    off, reg = month.offerings, month.regions
    rng = np.random.default_rng(8)
    O, R = len(off), len(reg)
    idx = np.flatnonzero(rng.random(O) < 0.6)
    price = off.core.price_usd_per_accel * rng.uniform(0.5, 2.0, O)
    levy = rng.choice([0.0, 0.15, 0.25], (O, R))
    elec, value = reg.elec * rng.uniform(1.0, 1.5, R), off.value * rng.uniform(0.5, 1.0, O)
    n, watts = off.decode_perf.n[idx, 0], off.core.watts_allin[idx]
    sub = None
    if subsidy:
        sub = np.zeros((idx.size, R))
        sub[np.ix_(off.cn[idx], reg.is_cn)] = subsidy
    usd_h, kw = _hourly_cost(n, watts, price[idx], elec=elec, pue=reg.pue, levy=levy[idx] * 0.5,
                             energy_subsidy=sub, life_years=4.0, rate=0.1)
    want = np.full((O, R), np.inf)
    want[idx] = usd_h / (kw * 1000.0 / watts)[:, None] * HOURS_PER_MONTH / value[idx, None]
    cann = off.stack == STACK_INDEX["cann"]
    if discount is not None:
        want[np.ix_(cann, reg.is_gs)] *= 1.0 - discount
    got = month_kernels.unit_cost(idx, n, watts, price[idx], elec, reg.pue, levy, 0.5, off.cn, reg.is_cn,
                                  subsidy if subsidy else np.nan, capital_recovery_factor(0.1, 4.0), value,
                                  cann, reg.is_gs, np.nan if discount is None else discount,
                                  HOURS_PER_MONTH, HOURS_PER_YEAR, AVG_POWER_FRACTION)
    assert got.tobytes() == want.tobytes()
    assert np.isfinite(got).sum() == idx.size * R and (off.cn[idx].any() or not subsidy) and cann.any()


@pytest.mark.parametrize("stacks", [[2, 2, 3], [3, 0, 1, 0], [2, 0, 2, 2], [2], [], [3, 3]])
def test_columns_kernel_cann_block_at_any_place(stacks):
    """Stable grouping by stack, the CANN block wherever it falls, the flat index, and the
    vendors' minima with np.minimum's NaN rule."""
    from model import month_kernels

    stack = np.array(stacks, dtype=np.int64)
    n = stack.size
    live = np.ones(n, dtype=bool)
    live[1:2] = False
    vendor = np.arange(n, dtype=np.int64) % 2
    cost = np.arange(2.0 * n).reshape(n, 2) + 1.0
    if n > 2:
        cost[2, 1] = np.nan
    cols, st, onehot, china, ve, cn, flat, lo, hi, cheapest, present = month_kernels.columns(
        live, stack, live, vendor, np.zeros(n, dtype=bool), 4, np.array([0, 1], dtype=np.int64), 2, 2, cost, 1, 2)
    want = np.flatnonzero(live)
    want = want[np.argsort(stack[want], kind="stable")]
    assert np.array_equal(cols, want) and np.array_equal(st, stack[want]) and np.array_equal(ve, vendor[want])
    cann = np.flatnonzero(st == 2)
    assert (lo, hi) == ((cann[0], cann[-1] + 1) if cann.size else (lo, lo))
    assert np.array_equal(flat, np.array([[0], [1]]) + 2 * want[None, :])
    assert np.array_equal(onehot.argmax(axis=1), st) and (onehot.sum(axis=1) == 1).all()
    ref = np.full(2, np.inf)
    with np.errstate(invalid="ignore"):  # the NaN is meant
        np.minimum.at(ref, vendor[live], cost[live, 1])
    assert ref.tobytes() == cheapest.tobytes() and np.array_equal(present, np.bincount(vendor[live], minlength=2) > 0)


def test_kernels_warm_up_and_divide_by_zero_as_numpy():
    """warm_up compiles every kernel (the sweep runner's fork server calls it), and a zero
    divisor gives numpy's inf/NaN, not Python's ZeroDivisionError."""
    from model import kernels, month_kernels
    from model.core.choice import capital_recovery_factor

    kernels.warm_up()
    b = np.zeros(2, dtype=bool)
    n, watts, value = np.array([4.0, 0.0]), np.array([700.0, 700.0]), np.array([0.0, 1.0])
    got = month_kernels.unit_cost(np.arange(2), n, watts, np.ones(2), np.ones(2), np.ones(2), np.zeros((2, 2)), 1.0,
                                  b, b, np.nan, capital_recovery_factor(0.1, 4.0), value, b, b, np.nan, 730.0,
                                  8760.0, 0.75)
    with np.errstate(divide="ignore", invalid="ignore"):
        usd_h, kw = _hourly_cost(n, watts, np.ones(2), elec=np.ones(2), pue=np.ones(2), levy=np.zeros((2, 2)),
                                 energy_subsidy=None, life_years=4.0, rate=0.1)
        want = usd_h / (kw * 1000.0 / watts)[:, None] * 730.0 / value[:, None]
    assert got.tobytes() == want.tobytes() and np.isinf(got[0]).all() and np.isnan(got[1]).all()


def test_delivery_weights_kernel_is_the_numpy_one(month):
    from model import month_kernels

    off = month.offerings
    rng = np.random.default_rng(2)
    S = 4
    cols = np.flatnonzero(rng.random(len(off)) < 0.5)
    C = cols.size
    per_unit = 1.0 / (off.value[cols] * rng.uniform(0.5, 1.0, C))
    ctl = rng.random(C) < 0.3
    want = np.zeros((C, 2 * S + 2))
    want[np.arange(C), off.stack[cols]] = 1.0
    want[np.arange(C), S + off.stack[cols]] = off.peak[cols] * per_unit
    want[:, 2 * S] = off.core.watts_allin[cols] * per_unit
    want[:, 2 * S + 1] = np.where(ctl, off.peak[cols] * per_unit, 0.0)
    got = month_kernels.delivery_weights(cols, off.stack, off.peak, off.core.watts_allin, per_unit, ctl, S)
    assert got.tobytes() == want.tobytes() and ctl.any() and C > 5


def test_fold_rows_kernel_is_the_numpy_fold():
    from model import month_kernels

    rng = np.random.default_rng(6)
    B, C = 9, 7
    rows = np.array([1, 4, 8], dtype=np.int64)
    alloc, unmet, forgone = rng.random((B + 3, C)), rng.random(B + 3), rng.random(B + 3)
    before = alloc.copy()
    got = month_kernels.fold_rows(alloc, unmet, forgone, B, rows)
    for g, arr in zip(got, (alloc, unmet, forgone)):
        main = arr[:B].copy()
        main[rows] += arr[B:]
        assert g.tobytes() == main.tobytes()
    assert np.array_equal(alloc, before)  # the inputs are left as they were
