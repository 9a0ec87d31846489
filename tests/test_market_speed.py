"""The market phases' fast paths give bit for bit what the general functions they stand in for
give (issue 19: a run cheaper, its results unchanged)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.core.choice import _hourly_cost, _price
from model.market_model import ChipMarketModel
from model.policy import _isin


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
