"""Supply's per-run wafer table (issue 19): each month's Eq. S1 from the table has the bits of
the scalar wafer_packages, and packages_available gives the same with or without it."""

from __future__ import annotations

import math

import pytest

from model.components.supply import Supply
from model.params import defaults
from model.population import load_vendors
from model.supply import DIES_PER_PACKAGE, SupplyState, load_supply, packages_available, wafer_packages, wafer_path


def test_wafer_path_matches_scalar_bit_for_bit():
    df = load_supply()
    lo, hi = 2015 * 12, 2060 * 12
    wafers, good = wafer_path(df, lo, hi)
    assert len(wafers) == len(good) == hi - lo + 1
    for ai_share, shock in ((0.3, 1.0), (0.17, 0.55)):
        for i, month in enumerate(range(lo, hi + 1)):
            fast = float(wafers[i] * ai_share * shock * good[i] / DIES_PER_PACKAGE)
            slow = wafer_packages(df, month, ai_share, shock)
            assert fast == slow or (math.isnan(fast) and math.isnan(slow)), month


def test_packages_available_with_precomputed_wafers():
    df = load_supply()
    for hbm_rule in (False, True):
        st = SupplyState(hbm_stock=1e6, die_bank=5e5)
        slow = packages_available(df, st, 2026 * 12 + 3, ai_share=0.2, shock=0.9, hbm_rule=hbm_rule,
                                  die_bank_open=True, domestic_hbm_stacks=10.0, stacks_per_package=8.0)
        fw = wafer_packages(df, 2026 * 12 + 3, 0.2, 0.9)
        fast = packages_available(df, st, 2026 * 12 + 3, ai_share=0.2, shock=0.9, hbm_rule=hbm_rule,
                                  die_bank_open=True, domestic_hbm_stacks=10.0, stacks_per_package=8.0,
                                  from_wafers=fw)
        assert fast == slow


def test_supply_table_covers_the_run():
    p = defaults()
    v = load_vendors()
    start, end = 2022 * 12, 2035 * 12 + 11
    s = Supply(p, {"reaction_start": start, "domestic_hbm_start": start}, v, start, end)
    lo, wafers, _good = s._wafers
    assert lo <= start and lo + len(wafers) - 1 >= end


def _coverage_numpy(model):
    """Supply.coverage as it was computed in numpy (np.maximum.at over the live offerings)."""
    import numpy as np

    off = model.offerings
    cn_v = [v for v in model.vendors if v.bloc == "cn"]
    cap_units = np.array([v.capacity_units for v in cn_v])
    value = model.ecosystems.software.effective_value(off)
    top = np.full(len(model.vendors), -np.inf)
    live = np.flatnonzero(off.live)
    np.maximum.at(top, off.vendor[live], value[live])
    has = np.zeros(len(model.vendors), bool)
    has[off.vendor[live]] = True
    best = np.array([top[v.vidx] if has[v.vidx] else 0.0 for v in cn_v])
    demand = model.regions.demand(model.month)[model.regions.is_cn].sum()
    return float((cap_units * best).sum() / demand) if demand > 0 else 0.0


@pytest.mark.filterwarnings("ignore:invalid value encountered in maximum")  # numpy's, on the NaN
def test_coverage_is_the_numpy_computation_each_month():
    import numpy as np

    from model.market_model import ChipMarketModel

    m = ChipMarketModel(rng=5, end="2029-12")
    seen = set()
    while m.running:
        m.step()
        got, want = m.supply.coverage(m), _coverage_numpy(m)
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), m.month
        seen.add(len(m.offerings))
    assert len(seen) > 5 and got > 0  # launches happened, so the live rows were rebuilt
    # a NaN value takes numpy's NaN rule
    off = m.offerings
    v = off.value.copy()
    v[np.flatnonzero(off.live & np.isin(off.vendor, [x.vidx for x in m.vendors if x.bloc == "cn"]))[0]] = np.nan
    off.value = v
    m.ecosystems.software.efficiency = np.ones_like(m.ecosystems.software.efficiency)
    assert math.isnan(m.supply.coverage(m)) and math.isnan(_coverage_numpy(m))
