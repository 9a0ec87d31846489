"""The vendors' monthly decisions computed in one pass for all vendors give exactly what each
vendor computed alone (issue 19): the anchored capacity path, the newest own release and the
compliance-variant candidates."""

from __future__ import annotations

import numpy as np
import pytest

from model.components.base import MonthContext
from model.market_model import ChipMarketModel


@pytest.fixture(scope="module")
def mid_run() -> ChipMarketModel:
    m = ChipMarketModel(rng=3)
    while m.month < 2028 * 12 + 3:
        m.step()
    return m


def test_anchor_path_is_the_scalar_path_bit_for_bit():
    m = ChipMarketModel(rng=0)
    checked = 0
    for v in m.vendors:
        path = v._anchor_path(m.start_month)
        assert path, v.vendor_id
        for i, got in enumerate(path):
            want = v._anchor_value(m.start_month + i)
            assert got == want and type(got) is float, (v.vendor_id, i, got, want)
            checked += 1
        # the first month past the table is past the last anchor
        assert (m.start_month + len(path)) / 12.0 > v.anchors[0][-1]
    assert checked > 12 * 24


def test_anchor_path_follows_the_start_month():
    m = ChipMarketModel(rng=0)
    v = m.vendors[0]
    a = list(v._anchor_path(m.start_month))
    b = v._anchor_path(m.start_month + 5)
    assert b == a[5:]
    assert v._anchor_path(m.start_month) == a


def _naive_newest(off, vidx):
    mine = (off.vendor == vidx) & ~off.compliance
    return int(off.available[mine].max()) if mine.any() else None


def test_newest_own_matches_each_vendor_and_follows_launches(mid_run):
    m = mid_run
    off = m.offerings
    got = m.vendors.newest_own(off)
    assert got == [_naive_newest(off, v) for v in range(len(m.vendors))]
    assert any(g is not None for g in got)
    # a launch replaces the columns: the next call sees the new rows
    n0 = len(off)
    m.vendors[0].rd_budget_usd = 0.0
    off.design_successor(int(np.flatnonzero(off.vendor == 0)[0]), 1.5, m.month + 1)
    off.launch(m, MonthContext(m.month))
    assert len(off) == n0 + 1
    again = m.vendors.newest_own(off)
    assert again == [_naive_newest(off, v) for v in range(len(m.vendors))]
    assert again[0] == max(got[0], m.month + 1)


def _naive_candidates(m, rule, vidx):
    off = m.offerings
    age = m.month - off.available
    cand = ((off.vendor == vidx) & ~off.compliance & (age >= -m.p["variant_lag_months"])
            & (age <= m.p["variant_max_age_months"]) & ((age < 0) | off.live))
    if not cand.any():
        return []
    cand &= rule.controlled(off.tpp, off.density, off.io)
    return np.flatnonzero(cand).tolist()


@pytest.mark.parametrize("tpp", [4800.0, 1000.0, 100.0])
def test_variant_candidates_match_each_vendor(mid_run, tpp):
    from model.policy import USRule
    m = mid_run
    rule = USRule(tpp=tpp, tpp_pd=tpp / 2, density=1.0)
    got = m.vendors.variant_candidates(m, rule)
    want = [_naive_candidates(m, rule, v) for v in range(len(m.vendors))]
    assert got == want
    if tpp == 100.0:
        assert sum(map(len, want)) > 0  # the check is not vacuous
    # a new month or another rule is a new pass, not the stored one
    other = USRule(tpp=tpp * 10)
    assert m.vendors.variant_candidates(m, other) == [_naive_candidates(m, other, v)
                                                       for v in range(len(m.vendors))]


def test_variant_candidates_follow_months_and_launches():
    """The controlled mask is kept across months: each month and each launch still match."""
    from model.policy import USRule
    m = ChipMarketModel(rng=4)
    rule = USRule(tpp=300.0, tpp_pd=150.0, density=1.0)
    seen = 0
    while m.month < 2027 * 12:
        n0 = len(m.offerings)
        m.step()
        got = m.vendors.variant_candidates(m, rule)
        assert got == [_naive_candidates(m, rule, v) for v in range(len(m.vendors))], m.month
        seen += len(m.offerings) > n0 and sum(map(len, got)) > 0
    assert seen > 3  # months with a launch and candidates


def test_vendors_built_from_plain_rows_equal_pandas_rows():
    """Set-up reads the vendor table as plain values: every attribute as from a pandas row."""
    from agents.vendor import ChipVendor
    from model.population import load_vendors

    m = ChipMarketModel(rng=1)
    df = load_vendors()
    for v in list(m.vendors):
        ref = ChipVendor(m, v.vidx, df.loc[v.vendor_id])
        for k, a in vars(v).items():
            if k in ("unique_id", "model", "pos"):
                continue
            b = getattr(ref, k)
            assert type(a) is type(b) and repr(a) == repr(b), (v.vendor_id, k)


def test_activation_order_is_shuffle_do_order_and_draws():
    """Vendors.step draws the order the way Mesa's shuffle_do does: the same order, the same
    generator state after (what follows in the month sees the same stream)."""
    from agents.vendor import ChipVendor

    a, b = ChipMarketModel(rng=5), ChipMarketModel(rng=5)
    for m in (a, b):
        while m.month < 2026 * 12:
            m.step()
    assert a.random.getstate() == b.random.getstate()
    seen: list[ChipVendor] = []
    for _ in range(3):
        seen.clear()
        b.agents_by_type[ChipVendor].shuffle_do(lambda v: seen.append(v))
        got = a.vendors.activation_order(a)
        assert [v.vidx for v in got] == [v.vidx for v in seen]
        assert a.random.getstate() == b.random.getstate()
    assert sorted(v.vidx for v in seen) == list(range(len(a.vendors)))


def test_policy_factors_match_factor_for_every_vendor():
    """Supply.factors (the US term and the entity-list cut worked out once) is factor per vendor,
    bit for bit, with the rare-earth cut on and an entity listing inside the run."""
    m = ChipMarketModel(rng=1)
    listed = next(v for v in m.vendors if v.bloc == "cn")
    m.supply.entity_listed[listed.vendor_id] = m.start_month + 30
    m.p["rare_earth_capacity_cut"] = 0.3
    cut_seen = set()
    while m.month < 2027 * 12:
        m.step()
        got = m.supply.factors(m.vendors.agents, m.month)
        want = [m.supply.factor(v, m.month) for v in m.vendors]
        assert got == want
        assert [type(g) for g in got] == [type(w) for w in want]
        assert all(str(g) == str(w) for g, w in zip(got, want))
        cut_seen |= {g for g in got if g < 1.0}
    assert len(cut_seen) >= 2  # the rare-earth cut and the listing both bit


def _oracle_move(v, m, util):
    """The vendor's month before issue 19's one pass (ChipVendor.step's first part, as it was),
    on a copy of the vendor: capital, capacity path, the policy factor, the price index."""
    import math
    import types

    p = m.p
    w = types.SimpleNamespace(**{k: getattr(v, k) for k in (
        "bloc", "ipo_month", "capital_usd", "base_capacity", "rd_budget_usd", "price_index",
        "capacity_growth", "anchors")})
    if w.bloc == "cn":
        shock = p["capital_shock"]
        if w.ipo_month is not None and m.month == w.ipo_month:
            w.rd_budget_usd += w.capital_usd * shock
        cn_cap = m.vendors.cn_base_capacity
        if cn_cap > 0:
            w.rd_budget_usd += p["cn_state_fund_usd_per_year"] / 12.0 * shock * w.base_capacity / cn_cap
    years, caps = w.anchors
    if m.month / 12.0 <= years[-1]:
        path = v._anchor_path(m.start_month)
        i = m.month - m.start_month
        cap = path[i] if 0 <= i < len(path) else v._anchor_value(m.month)
    elif w.base_capacity <= 0:
        cap = caps[-1]
    else:
        cap = w.base_capacity * (1.0 + w.capacity_growth) ** (1.0 / 12.0)
        if math.isfinite(util) and util > 1.0 and m.month >= m.dates["reaction_start"]:
            cap *= 1.0 + p["capacity_expansion_rate"] * min(util - 1.0, 1.0)
    w.base_capacity = cap
    w.capacity_units = cap * m.supply.factor(v, m.month)
    if math.isfinite(util) and util > 0:
        w.price_index *= math.exp(p["price_adjust_rate"] * math.log(min(max(util, 0.25), 4.0)))
    w.price_index = float(min(max(w.price_index, p["price_index_min"]), p["price_index_max"]))
    return w


def test_vendors_pass_is_each_vendors_old_step_bit_for_bit():
    """Every month of a run with capital raised, expansion and the rare-earth cut: the one pass
    over vendors gives each vendor's state, value and type, as its own step did (the oracle)."""
    m = ChipMarketModel(rng=2)
    m.p["rare_earth_capacity_cut"] = 0.3
    numpy_typed = 0
    while m.running:
        before, ctx = None, MonthContext(m.month)
        for phase in m.plan:
            if phase.name == "vendors.step":
                m.vendors.cn_base_capacity = sum(v.base_capacity for v in m.vendors if v.bloc == "cn")
                before = [_oracle_move(v, m, m.vendors.utilisation[v.vidx]) for v in m.vendors]
            phase(m, ctx)
            if phase.name == "vendors.step":
                # a next generation designed this month spends the budget (after the move)
                spent = {int(n["vendor"]) for n, _r in m.offerings._pending if n["_after"] >= 0}
                for v, w in zip(m.vendors, before):
                    if v.vidx in spent:
                        assert v.rd_budget_usd == 0.0
                        w.rd_budget_usd = 0.0
                    for k in ("base_capacity", "capacity_units", "price_index", "rd_budget_usd"):
                        x, y = getattr(v, k), getattr(w, k)
                        assert type(x) is type(y) and repr(x) == repr(y), (m.month, v.vendor_id, k, x, y)
                    numpy_typed += type(v.base_capacity) is not float
        m.datacollector.collect(m)
        m.month += 1
        m.running = m.month <= m.end_month
    assert numpy_typed > 0  # the numpy-float capacities (expansion) are among those checked


def test_own_rows_are_each_vendors_own_offerings_and_follow_launches(mid_run):
    m = mid_run
    off = m.offerings

    def naive():
        return [np.flatnonzero((off.vendor == v) & ~off.compliance).tolist() for v in range(len(m.vendors))]

    assert m.vendors.own_rows(off) == naive() and any(m.vendors.own_rows(off))
    off.design_successor(int(np.flatnonzero(off.vendor == 1)[0]), 1.2, m.month + 2)
    off.launch(m, MonthContext(m.month))
    assert m.vendors.own_rows(off) == naive() and m.vendors.own_rows(off)[1][-1] == len(off) - 1
