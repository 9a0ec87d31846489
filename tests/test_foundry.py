"""The foundry layer (model/foundry.py, model/components/foundry.py, Eq. F1-F4): its data, the
``foundry_disruption`` event and scenario, and the stylized facts of a Taiwan disruption over
seeds - it lowers the US/China compute ratio during the shock, more so with a slower ramp
outside Taiwan, raises US-bloc prices, and leaves China's package pool alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import bloc_price
from model.catalog import load_catalog
from model.errors import InputError, ScenarioError
from model.foundry import Disruption, load_shares, load_sites
from model.market_model import ChipMarketModel
from model.population import load_vendors
from model.run import run_one
from model.scenario import load_scenario

SEEDS = (1, 2, 3)
WINDOW = ("2027-01", "2028-06")  # a 12-month disruption from 2027-01 and its recovery


def test_every_vendor_has_shares_that_sum_to_one_with_a_source():
    sites, shares = load_sites(), load_shares()
    named = {"tsmc_taiwan", "tsmc_arizona", "samsung", "intel", "smic", "cowos_taiwan", "cowos_outside"}
    assert named <= set(sites.index)
    assert set(load_vendors().index) <= set(shares["vendor"])
    assert shares["source"].str.strip().astype(bool).all() and sites["source"].str.strip().astype(bool).all()
    tot = shares.groupby(["vendor", "kind", "year"])["share"].sum()
    assert np.allclose(tot, 1.0)


def test_catalog_fabs_agree_with_the_vendors_wafer_sites():
    """Every US-bloc chip of the catalog is made by TSMC; its vendor's wafer sites are TSMC's."""
    chips = load_catalog().chips
    us = chips[chips["home_bloc"] == "us"]
    assert us["fab"].astype(str).str.upper().str.contains("TSMC").all()
    shares = load_shares()
    wafer = shares[(shares["kind"] == "wafer") & shares["vendor"].isin(set(us["vendor"])) & (shares["share"] > 0)]
    assert set(wafer["site"]) <= {"tsmc_taiwan", "tsmc_arizona"}


def test_bad_share_files_are_refused_with_file_and_row(tmp_path):
    good = load_shares()
    bad = good.copy()
    bad.loc[0, "share"] = 0.7
    path = tmp_path / "foundry_shares.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"foundry_shares.csv: nvidia wafer shares of 2022 sum to"):
        load_shares(path)
    bad = good.copy()
    bad.loc[0, "site"] = "tsmc_mars"
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match="unknown site 'tsmc_mars'"):
        load_shares(path)
    bad = good.copy()
    bad.loc[0, "source"] = ""
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match="'source' has an empty cell"):
        load_shares(path)


def test_disruption_availability_depth_length_and_recovery():
    d = Disruption("taiwan", 0.8, start=100, months=3, recovery_months=3)
    got = [d.availability(m) for m in range(98, 108)]
    assert got[:2] == [1.0, 1.0]
    assert got[2:5] == pytest.approx([0.2, 0.2, 0.2])
    assert got[5:8] == pytest.approx([0.4, 0.6, 0.8])
    assert got[8:] == [1.0, 1.0]


def _scenario(tmp_path, body: str):
    path = tmp_path / "s.toml"
    head = 'name = "s"\nextends = "baseline"\n[[events]]\ndate = "2027-01"\nkind = "foundry_disruption"\n'
    path.write_text(head + body + "\n")
    return path


@pytest.mark.parametrize("body, match", [
    ('site = "tsmc_mars"\ndepth = 0.5\nmonths = 6', "site = 'tsmc_mars': unknown site; expected one of"),
    ('site = "taiwan"\ndepth = 1.5\nmonths = 6', r"depth = 1.5: expected a share"),
    ('site = "taiwan"\ndepth = 0.5', "missing key 'months'"),
    ('site = "taiwan"\ndepth = 0.5\nmonths = 6\nlength = 3', "unknown key 'length'"),
])
def test_bad_disruption_events_are_refused(tmp_path, body, match):
    with pytest.raises(ScenarioError, match=match):
        load_scenario(_scenario(tmp_path, body))


def test_the_shipped_scenario_and_an_event_disrupt_like_the_parameters(tmp_path):
    spec = load_scenario("taiwan_disruption")
    ev = [e for e in spec.events if e.kind == "foundry_disruption"]
    assert len(ev) == 1 and ev[0].fields["site"] == "taiwan" and ev[0].date == "2027-01"
    path = _scenario(tmp_path, 'site = "taiwan"\ndepth = 0.8\nmonths = 12\nrecovery_months = 12')
    shock = {"taiwan_disruption_depth": 0.8, "taiwan_disruption_months": 12, "taiwan_disruption_recovery_months": 12}
    ev_model = ChipMarketModel(str(path), rng=5, end="2028-06")
    par_model = ChipMarketModel("baseline", rng=5, end="2028-06", **shock)
    for m in (ev_model, par_model):
        m.run_model()
    for month in range(2026 * 12, 2029 * 12):  # the same availability of every site, month by month
        np.testing.assert_array_equal(ev_model.supply.foundry.availability(month),
                                      par_model.supply.foundry.availability(month))
    assert ev_model.supply.foundry.availability(2027 * 12)[:1].tolist() == pytest.approx([0.2])
    # a month with a scripted event has the regulators stand aside (ScriptedEvents), so the
    # tables agree exactly up to the month before it; both shocks lower the ratio while they last
    by_event, by_param = ev_model.tables()["model"], par_model.tables()["model"]
    before = by_event["date"] < "2027-01"
    pd.testing.assert_frame_equal(by_event[before].drop(columns="run_id"), by_param[before].drop(columns="run_id"))
    none = run_one({"scenario": "baseline", "end": "2028-06"}, 5)["model"]
    win = by_event["date"].between("2027-06", "2028-06").to_numpy()
    ref = none["us_cn_compute_ratio"].to_numpy()[win].mean()
    for t in (by_event, by_param):
        assert t["us_cn_compute_ratio"].to_numpy()[win].mean() < 0.98 * ref


def _window(seed: int, **overrides) -> tuple[float, float, float]:
    t = run_one({"scenario": "baseline", "end": "2028-12", **overrides}, seed)
    m = t["model"]
    w = m["date"].between(*WINDOW)
    price = bloc_price(t["vendors"], "us")
    pw = price[price["date"].between(*WINDOW)]["price_usd"].mean()
    outside = float(m.loc[w, "us_capacity_outside_taiwan_share"].mean())
    return float(m.loc[w, "us_cn_compute_ratio"].mean()), float(pw), outside


@pytest.fixture(scope="module")
def shock_runs():
    shock = {"taiwan_disruption_depth": 0.9, "taiwan_disruption_months": 12, "taiwan_disruption_recovery_months": 6}
    return {s: {"none": _window(s), "slow": _window(s, foundry_outside_ramp=0.0, **shock),
                "fast": _window(s, foundry_outside_ramp=3.0, **shock)} for s in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_taiwan_disruption_lowers_the_compute_ratio_more_with_a_slower_ramp(shock_runs, seed):
    r = shock_runs[seed]
    assert r["slow"][0] < 0.95 * r["none"][0]
    assert r["slow"][0] < r["fast"][0]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_taiwan_disruption_raises_us_bloc_prices(shock_runs, seed):
    r = shock_runs[seed]
    assert r["slow"][1] > 1.1 * r["none"][1]
    assert r["fast"][1] >= r["none"][1]


@pytest.mark.parametrize("seed", SEEDS)
def test_capacity_outside_taiwan_share_follows_the_ramp(shock_runs, seed):
    r = shock_runs[seed]
    assert 0.0 <= r["none"][2] < 0.05  # 2027-28: a little Arizona wafer output, no packaging outside yet
    assert r["slow"][2] == 0.0
    assert 0.0 < r["fast"][2] <= 1.0


def test_chinas_pool_is_exposed_to_smic_not_to_taiwan():
    """In the shock's first month (same state before it), China's package pool is what it would
    have been under a full Taiwan disruption, and smaller under a SMIC one; later months differ
    only through the market (China's vendors sell more, drawing the HBM stock down faster)."""
    pools = {}
    # an HBM stock that never binds, so that the pool is the wafer term (with the 2022-24
    # calibration the stockpile binds by 2027 and would hide any wafer shock)
    big = {"hbm_stockpile_stacks": 1e9}
    for label, kw in (("none", big), ("taiwan", {**big, "taiwan_disruption_depth": 1.0}), ("smic", big)):
        m = ChipMarketModel("baseline", rng=3, end="2027-01", **kw)
        if label == "smic":
            m.supply.foundry.disrupt(Disruption("smic", 0.5, 2027 * 12, 12))
        while m.running:
            m.step()
        pools[label] = (m.supply.packages, m.supply.foundry.factor.copy(), m.vendors.ids)
    assert pools["taiwan"][0] == pools["none"][0]
    assert pools["smic"][0] < pools["none"][0]
    ids = pools["none"][2]
    f = pools["taiwan"][1]
    assert f[ids.index("nvidia")] < 0.1 and f[ids.index("huawei")] == 1.0
    assert pools["smic"][1][ids.index("huawei")] == pytest.approx(0.5)


def test_share_table_cache_is_bit_identical_and_keyed_on_month_and_pace():
    """Issue 19: ShareTable.at is cached per process; a hit equals a fresh computation bit for bit,
    and month, pace and the table's content are all in the key."""
    from model.foundry import ShareTable

    ids = list(load_vendors().index)
    table = ShareTable(ids, load_shares(), load_sites())
    for month, pace in ((2024 * 12, 1.0), (2030 * 12 + 5, 1.0), (2030 * 12 + 5, 2.0), (2030 * 12 + 5, 0.0)):
        first, again = table.at(month, pace), table.at(month, pace)
        assert again is first and not first.flags.writeable
        assert np.array_equal(first, table._at(month, pace))
    assert not np.array_equal(table.at(2030 * 12 + 5, 0.0), table.at(2030 * 12 + 5, 2.0))
    shares = load_shares()
    row = shares.index[shares["share"] > 0][0]
    shares.loc[row, "share"] = shares.loc[row, "share"] * 0.5
    other = ShareTable(ids, shares, load_sites())
    assert other._key != table._key
