"""Firm-level buyer populations (issue 8): aggregates keep their meaning at any population size."""

from __future__ import annotations

import numpy as np

from agents.buyer import GlobalSouthBuyer
from agents.hyperscaler import Hyperscaler
from model.market_model import ChipMarketModel
from model.run import run_one
from tests.test_market_model import _check_invariants

SEEDS = range(10)
TOL = 0.06  # stated tolerance on mean final stack shares by bloc (absolute share points)


def _bloc_shares(adoption):
    last = adoption[adoption["step"] == adoption["step"].max()]
    g = last.groupby(["bloc", "stack"])["installed_h100e"].sum()
    return (g / g.groupby(level=0).transform("sum")).unstack().fillna(0.0)


def test_firm_population_matches_country_level_in_distribution():
    country = [_bloc_shares(run_one({"end": "2028-12"}, s)["adoption"]) for s in SEEDS]
    firms = [_bloc_shares(run_one({"end": "2028-12", "n_firms_per_country": 10,
                                   "n_firms_per_hyperscaler_region": 10}, s)["adoption"]) for s in SEEDS]
    mc = sum(country) / len(country)
    mf = sum(firms) / len(firms)
    diff = (mc - mf).abs()
    assert (diff <= TOL).all().all(), diff.round(3)


def test_firms_are_heterogeneous_agents_with_the_same_demand_totals():
    m1 = ChipMarketModel(rng=4, end="2022-03")
    m10 = ChipMarketModel(rng=4, end="2022-03", n_firms_per_country=10, n_firms_per_hyperscaler_region=10)
    assert len(m10.agents_by_type[GlobalSouthBuyer]) == 10 * len(m1.agents_by_type[GlobalSouthBuyer])
    assert len(m10.agents_by_type[Hyperscaler]) == len(m1.agents_by_type[Hyperscaler]) + 2 * 9
    for m in (m1, m10):  # each country's firms share its demand exactly
        b = m.buyers
        gs = np.bincount(b.region[b.is_gs], weights=b.share[b.is_gs])
        np.testing.assert_allclose(gs[gs > 0], 1.0)
    b = m10.buyers
    assert b.beta[b.is_gs].std() > 0 and b.estate[b.is_gs].std() > 0 and b.alignment[b.is_gs].std() > 0
    assert b.share[b.is_gs].max() > 3 * b.share[b.is_gs].min()  # heavy-tailed sizes
    one = m10.agents_by_type[GlobalSouthBuyer].to_list()[0]
    assert one.region in set(m10.regions.ids) and isinstance(one.fleet_h100e, dict)


def test_invariants_hold_at_ten_thousand_buyers():
    m = ChipMarketModel(rng=9, end="2024-06", n_firms_per_country=588, n_firms_per_hyperscaler_region=588)
    assert len(m.buyers.ids) >= 10_000
    while m.running:
        m.step()
        _check_invariants(m)
    t = m.tables()
    assert t["model"]["bifurcation_index"].between(0, 1).all()
    v = t["vendors"]
    per = v.groupby(["step", "vendor"]).agg(units=("units", "sum"), cap=("capacity_units", "first"))
    assert (per["units"] <= per["cap"] * (1 + 1e-9)).all()
