"""The small phases' caches (issue 19) give what a fresh computation gives, bit for bit, and
their keys cover every input: foundry capability, AI power capacity, regional demand, China's
coverage and the software's stack efficiency."""

from __future__ import annotations

import numpy as np
import pytest

from model.components import foundry as foundry_mod
from model.components import power as power_mod
from model.energy import ai_power_share, power_capacity_kw
from model.foundry import ALL_TAIWAN, Disruption
from model.market_model import ChipMarketModel


@pytest.fixture()
def model() -> ChipMarketModel:
    m = ChipMarketModel(rng=5)
    while m.month < 2026 * 12 + 2:
        m.step()
    return m


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def test_foundry_capability_hit_is_fresh_and_key_covers_inputs(model):
    fd = model.supply.foundry
    month = model.month
    a = fd.availability(month)
    fresh = fd._capability(month, float(fd.p["foundry_outside_ramp"]), float(fd.p["foundry_headroom"]), a)
    foundry_mod._CAPABILITY.clear()
    first, hit = fd.capability(month), fd.capability(month)
    assert all(_same(x, y) for x, y in zip(first, fresh)) and hit[0] is first[0]
    with pytest.raises(ValueError):
        first[0][0] = 0.5  # read-only: a caller cannot spoil the cache
    for key, value in (("foundry_headroom", 0.7), ("foundry_outside_ramp", 0.0)):
        old = fd.p[key]
        fd.p[key] = value
        for mo in (month, month + 60):
            got = fd.capability(mo)
            want = fd._capability(mo, float(fd.p["foundry_outside_ramp"]), float(fd.p["foundry_headroom"]),
                                  fd.availability(mo))
            assert all(_same(x, y) for x, y in zip(got, want))
        if key == "foundry_headroom":
            assert not _same(fd.capability(month)[0], first[0])  # the headroom is in the key
        fd.p[key] = old
    fd.disrupt(Disruption(ALL_TAIWAN, 0.6, month, 6, 3))
    hit_after = fd.capability(month)
    want = fd._capability(month, float(fd.p["foundry_outside_ramp"]), float(fd.p["foundry_headroom"]),
                          fd.availability(month))
    assert all(_same(x, y) for x, y in zip(hit_after, want))
    assert not _same(hit_after[0], first[0])  # the disruption is in the key


def test_power_capacity_hit_is_fresh_and_key_covers_inputs(model):
    pw = model.power
    power_mod._CAPACITY.clear()
    for month in (model.month, 2031 * 12, 2020 * 12):
        share = ai_power_share(month, pw.p["ai_power_share_2022"], pw.p["ai_power_share_2030"])
        fresh = power_capacity_kw(month, pw.dc_gw, pw.add_gw, pw.add_growth, share)
        assert _same(pw.ai_capacity_kw(month), fresh) and _same(pw.ai_capacity_kw(month), fresh)
    before = pw.ai_capacity_kw(2031 * 12).copy()
    pw.p["power_add_growth_cn"] = pw.p["power_add_growth_cn"] + 0.2
    pw.on_set(model, {"power_add_growth_cn"})
    after = pw.ai_capacity_kw(2031 * 12)
    share = ai_power_share(2031 * 12, pw.p["ai_power_share_2022"], pw.p["ai_power_share_2030"])
    assert _same(after, power_capacity_kw(2031 * 12, pw.dc_gw, pw.add_gw, pw.add_growth, share))
    assert not _same(after, before)
    pw.p["ai_power_share_2030"] = pw.p["ai_power_share_2030"] * 0.5
    assert not _same(pw.ai_capacity_kw(2031 * 12), after)


def test_ai_power_share_is_the_clipped_line():
    for month in range(2015 * 12, 2040 * 12):
        t = np.clip((month / 12.0 - 2022.0) / 8.0, 0.0, 1.0)
        assert ai_power_share(month, 0.1, 0.4) == float(0.1 + (0.4 - 0.1) * t)


def test_regional_demand_kept_only_for_the_same_inputs(model):
    reg = model.regions
    month = model.month
    fresh = reg._demand(month)
    got = reg.demand(month)
    assert _same(got, fresh)
    got[:] = 0.0  # a copy: the caller's array is its own
    assert _same(reg.demand(month), fresh)
    reg.software_index *= 1.25
    assert _same(reg.demand(month), reg._demand(month)) and not _same(reg.demand(month), fresh)
    reg.p["gs_demand_catchup"] += 0.1
    assert _same(reg.demand(month), reg._demand(month))
    assert _same(reg.demand(month + 1), reg._demand(month + 1))


def test_coverage_is_each_vendors_best_live_product(model):
    off = model.offerings
    value = model.ecosystems.software.effective_value(off)
    cn_v = [v for v in model.vendors if v.bloc == "cn"]
    best = np.zeros(len(cn_v))
    for i, v in enumerate(cn_v):
        sel = (off.vendor == v.vidx) & off.live
        best[i] = value[sel].max() if sel.any() else 0.0
    cap = np.array([v.capacity_units for v in cn_v])
    demand = model.regions.demand(model.month)[model.regions.is_cn].sum()
    assert model.supply.coverage(model) == float((cap * best).sum() / demand)
    assert (best > 0).sum() >= 3


def test_stack_efficiency_kept_per_efficiency_and_mix(model):
    sw = model.ecosystems.software
    mix = model.offerings.mix

    def fresh(eff, mix):
        w = np.array([mix[[0, 1]].sum(), mix[[2, 3]].sum()])
        return eff @ (w / w.sum())

    sw.efficiency = sw.efficiency * np.array([[1.1, 1.3]])
    first = sw.stack_efficiency(mix)
    assert _same(first, fresh(sw.efficiency, mix))
    first[:] = -1.0  # a copy
    assert _same(sw.stack_efficiency(mix), fresh(sw.efficiency, mix))
    other = np.array([0.7, 0.1, 0.1, 0.1])
    assert _same(sw.stack_efficiency(other), fresh(sw.efficiency, other))
    sw.efficiency = sw.efficiency * 1.5
    assert _same(sw.stack_efficiency(other), fresh(sw.efficiency, other))


def test_effective_value_kept_per_table_and_efficiency(model):
    from model.components.base import MonthContext
    from model.components.software import WORKLOAD_CLASS
    sw, off = model.ecosystems.software, model.offerings

    def fresh():
        if (sw.efficiency == 1.0).all():
            return off.value
        mult = sw.efficiency[off.stack][:, WORKLOAD_CLASS]
        return np.maximum((off.thr / off._ref_thr[None, :] * mult) @ off.mix, 1e-3)

    sw.efficiency = sw.efficiency * np.array([[1.2, 1.4]])
    got = sw.effective_value(off)
    assert _same(got, fresh())
    got[:] = 0.0  # a copy
    assert _same(sw.effective_value(off), fresh())
    off.design_successor(int(np.flatnonzero(off.live)[0]), 1.3, model.month)
    off.launch(model, MonthContext(model.month))  # new columns: a new value
    assert len(sw.effective_value(off)) == len(off) and _same(sw.effective_value(off), fresh())
    sw.efficiency = sw.efficiency * 1.1
    assert _same(sw.effective_value(off), fresh())
    kept = sw.effective_value(off, copy=False)  # the kept array itself, for readers
    assert kept is sw.effective_value(off, copy=False) and _same(kept, fresh())
    sw.efficiency = np.ones_like(sw.efficiency)  # back to 1: the table's own value
    assert sw.effective_value(off) is off.value


def test_control_level_is_level_for_rule():
    from agents.regulator import control_level
    from model.policy import USRule, level_for_rule, rule_for_level
    rules = [rule_for_level(x) for x in np.linspace(0.0, 1.0, 41)]
    rules += [USRule(), USRule(tpp=4800.0, io_gb_s=600.0), USRule(tpp=4800.0, tpp_pd=1600.0, density=5.92)]
    for rule in rules + rules:  # the second pass reads the cache
        assert control_level(rule) == level_for_rule(rule)
    r = rule_for_level(0.7)
    r.hbm_to_china = not r.hbm_to_china  # not a threshold: the level does not read it
    assert control_level(r) == level_for_rule(r)
