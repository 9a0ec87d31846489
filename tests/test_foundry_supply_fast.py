"""The foundry's capacity cut, China's supply response and the share cut on floats (issue 19)
give, month by month, what their numpy code gave (kept here as oracles), with and without a
Taiwan or a SMIC disruption."""

from __future__ import annotations

import numpy as np
import pytest

from model.components.base import MonthContext
from model.foundry import Disruption
from model.market_model import ChipMarketModel


def _bits(x) -> str:
    return np.float64(x).tobytes().hex()


def _cap_oracle(m):
    """Foundry.cap as it was: capacities in numpy, np.minimum and np.sum over the US bloc."""
    fd = m.supply.foundry
    pace, h = float(fd.p["foundry_outside_ramp"]), float(fd.p["foundry_headroom"])
    f, out = fd._capability(m.month, pace, h, fd.availability(m.month))
    if not fd.p["foundry_layer"]:
        f = np.ones_like(f)
    before = np.array([v.capacity_units for v in m.vendors])
    after = before.copy()
    for v in m.vendors:
        if f[v.vidx] < 1.0:
            after[v.vidx] = v.capacity_units * float(f[v.vidx])
    total = after[fd.us].sum()
    made_out = np.minimum(before * out, after)[fd.us].sum()
    return after, np.minimum(f, 1.0), float(made_out / total) if total > 0 else 0.0


@pytest.mark.parametrize("case", ["none", "taiwan", "smic", "no_layer"])
def test_foundry_cap_and_supply_are_the_numpy_code_every_month(case):
    kw = {"taiwan_disruption_depth": 0.7} if case == "taiwan" else {}
    if case == "no_layer":
        kw["foundry_layer"] = False
    m = ChipMarketModel(rng=6, end="2029-12", **kw)
    if case == "smic":
        m.supply.foundry.disrupt(Disruption("smic", 0.5, 2026 * 12 + 6, 12))
    cut, ai_moves = 0, 0
    while m.running:
        ctx = MonthContext(m.month)
        for phase in m.plan:
            fd, sp = m.supply.foundry, m.supply
            if phase.name == "foundry.cap":
                want = _cap_oracle(m)
            if phase.name == "supply.update":
                a = fd.availability(m.month)
                for i, site in enumerate(fd.sites):
                    assert _bits(fd.site_availability(site, m.month)) == _bits(a[i])
                cn = [v.vidx for v in m.vendors if v.bloc == "cn"]
                short = float(np.max(m.vendors.utilisation[cn]))
                share0 = sp.ai_share
            phase(m, ctx)
            if phase.name == "foundry.cap":
                caps, factor, outside = want
                got = np.array([v.capacity_units for v in m.vendors])
                assert got.tobytes() == caps.tobytes() and fd.factor.tobytes() == factor.tobytes()
                assert _bits(fd.outside_share) == _bits(outside) and type(fd.outside_share) is float
                cut += bool((factor < 1.0).any())
            if phase.name == "supply.update" and sp.p["cn_supply_model"]:
                want_share = share0
                if m.month >= sp.dates["reaction_start"] and short > 1.0:
                    grow = 1.0 + sp.p["cn_supply_response"] * min(short - 1.0, 1.0)
                    want_share = min(share0 * grow, sp.p["smic_ai_share_max"])
                assert _bits(sp.ai_share) == _bits(want_share), m.month
                ai_moves += sp.ai_share != share0
        m.datacollector.collect(m)
        m.month += 1
        m.running = m.month <= m.end_month
    if case == "taiwan":
        assert cut > 6  # the disruption's months cut capacity: the cut path is checked
    assert ai_moves > 0 or case != "none"


def test_undisrupted_capability_key_is_availabilitys():
    m = ChipMarketModel(rng=0)
    fd = m.supply.foundry
    assert fd._undisrupted()
    for month in (m.start_month, 2027 * 12):
        assert fd._ones[1] == fd.availability(month).tobytes()
        assert fd._ones[0].tolist() == fd.availability(month).tolist()
    fd.disrupt(Disruption("smic", 0.5, 2027 * 12, 12))
    assert not fd._undisrupted()
    assert fd.site_availability("smic", 2027 * 12) == 0.5
