"""experiments.api and experiments.summary: the analyst's Python entry points.

Summaries are checked against hand-computed tables; runs, designs and pricing end to end on
short horizons, and against the CLI (`chipwar price`, `chipwar run`) they wrap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import api
from experiments.summary import Tables, summarise
from model.errors import InputError


def _hand_tables() -> Tables:
    """Two groups: A with runs a1, a2 (huawei absent from a2), B with run b1; two years."""
    vend = pd.DataFrame([
        # run, group, date, vendor, region, units, revenue
        ("a1", "A", "2026-01", "nvidia", "cn", 10.0, 100.0),
        ("a1", "A", "2026-12", "nvidia", "cn", 10.0, 100.0),
        ("a1", "A", "2026-06", "huawei", "cn", 20.0, 300.0),
        ("a2", "A", "2026-03", "nvidia", "cn", 40.0, 400.0),
        ("a1", "A", "2026-03", "nvidia", "us", 50.0, 500.0),
        ("a2", "A", "2027-01", "nvidia", "cn", 8.0, 80.0),
        ("b1", "B", "2026-02", "huawei", "cn", 5.0, 50.0),
    ], columns=["run_id", "group", "date", "vendor", "region", "units", "revenue_usd"])
    dates = ["2026-01", "2026-06", "2026-12", "2027-01"]
    model = pd.DataFrame([(r, g, d, i / 10) for r, g in (("a1", "A"), ("a2", "A"), ("b1", "B"))
                          for i, d in enumerate(dates)],
                         columns=["run_id", "group", "date", "bifurcation_index"])
    adop = pd.DataFrame([
        ("a1", "A", "2026-01", "cn", "cn", "cuda", 30.0),
        ("a1", "A", "2026-06", "cn", "cn", "cann", 10.0),
        ("a2", "A", "2026-03", "cn", "cn", "other_cn", 20.0),
        ("a2", "A", "2026-03", "us", "us", "cann", 99.0),  # not China: ignored by cn_domestic_share
        ("b1", "B", "2026-02", "cn", "cn", "cann", 7.0),
    ], columns=["run_id", "group", "date", "region", "bloc", "stack", "purchased_h100e"])
    return Tables(model=model, adoption=adop, vendors=vend)


def test_summary_is_per_group_mean_over_runs_with_absent_vendors_as_zero():
    s = summarise(_hand_tables())
    v = s.vendors.set_index(["group", "region", "year", "vendor"])
    # A, cn, 2026: nvidia (10 + 10 + 40) / 2 runs = 30; huawei 20 / 2 = 10 (absent from a2)
    assert v.loc[("A", "cn", 2026, "nvidia"), "units"] == pytest.approx(30.0)
    assert v.loc[("A", "cn", 2026, "huawei"), "units"] == pytest.approx(10.0)
    assert v.loc[("A", "cn", 2026, "nvidia"), "revenue_usd"] == pytest.approx(300.0)
    assert v.loc[("A", "cn", 2026, "nvidia"), "unit_share"] == pytest.approx(0.75)
    assert v.loc[("A", "cn", 2026, "huawei"), "revenue_share"] == pytest.approx(150 / 450)
    assert v.loc[("A", "us", 2026, "nvidia"), "unit_share"] == pytest.approx(1.0)
    # B is never mixed into A
    assert v.loc[("B", "cn", 2026, "huawei"), "units"] == pytest.approx(5.0)
    assert ("B", "cn", 2026, "nvidia") not in v.index
    m = s.metrics.set_index(["group", "year"])
    assert m.loc[("A", 2026), "runs"] == 2 and m.loc[("A", 2026), "months"] == 3
    assert m.loc[("A", 2026), "bifurcation_index"] == pytest.approx(0.2)  # year-end (2026-12) value
    assert m.loc[("A", 2027), "bifurcation_index"] == pytest.approx(0.3)
    assert m.loc[("A", 2026), "cn_domestic_share"] == pytest.approx(30 / 60)  # (10 + 20) / (30 + 10 + 20)
    assert m.loc[("B", 2026), "cn_domestic_share"] == pytest.approx(1.0)
    assert m.loc[("A", 2026), "nvidia_china_revenue_share"] == pytest.approx(600 / 1100)
    by_bloc = summarise(_hand_tables(), by="bloc").vendors
    assert set(by_bloc["bloc"]) == {"cn", "us"}
    with pytest.raises(InputError, match="by = 'country'"):
        summarise(_hand_tables(), by="country")


def test_summary_text_has_one_block_per_group():
    text = summarise(_hand_tables()).to_text()
    assert text.count("== A (2 runs)") == 1 and text.count("== B (1 run)") == 1
    assert text.index("== A") < text.index("== B")


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    t = api.run_scenario("baseline", seed=3, end="2022-06", params={"kappa": 2.0}, out=out)
    return out, t


def test_run_scenario_returns_and_writes_the_same_tables(one_run):
    out, t = one_run
    assert t.groups == ["baseline"] and t.n_runs == 1
    assert list(t.model["date"]) == [f"2022-{m:02d}" for m in range(1, 7)]
    back = api.read(out)
    assert back.kind == "run"
    cols = [c for c in t.model.columns if c not in ("group", "scenario", "run_id")]
    pd.testing.assert_frame_equal(back.model[cols], t.model[cols])
    from model.run import run_one

    ref = run_one({"scenario": "baseline", "kappa": 2.0, "end": "2022-06"}, 3)
    pd.testing.assert_frame_equal(ref["vendors"].reset_index(drop=True),
                                  t.vendors[ref["vendors"].columns].reset_index(drop=True))


def test_run_design_labels_each_point_and_never_mixes_them(tmp_path):
    spec = {"scenario": "baseline", "sampler": "grid", "replications": 2, "root_seed": 7,
            "fixed": {"end": "2022-04"}, "parameters": {"kappa": [0.5, 3.0], "bundle_bonus": [0.5]}}
    t = api.run_design(spec, tmp_path / "sw", serial=True)
    assert t.kind == "sweep" and t.n_runs == 4
    assert t.groups == ["kappa=0.5, bundle_bonus=0.5", "kappa=3, bundle_bonus=0.5"]
    s = api.summary(tmp_path / "sw")
    first = t.vendors[t.vendors["group"] == t.groups[0]]
    year = first[first["date"].str.startswith("2022")]
    expect = year.groupby("vendor")["units"].sum() / 2
    got = s.vendors[(s.vendors["group"] == t.groups[0])].groupby("vendor")["units"].sum()
    pd.testing.assert_series_equal(got.sort_index(), expect.sort_index(), check_names=False)


def test_run_scenarios_share_seeds_across_scenarios(tmp_path):
    t = api.run_scenarios(["baseline", "no_controls"], replications=2, end="2022-03", out=tmp_path,
                          serial=True)
    assert t.groups == ["baseline", "no_controls"]
    seeds = t.model.groupby("group")["seed"].unique()
    assert sorted(seeds["baseline"]) == sorted(seeds["no_controls"])
    assert len(set(seeds["baseline"])) == 2


def test_price_at_electricity_is_the_core_and_agrees_with_chipwar_price():
    df = api.price_at_electricity(["cloudmatrix-384", "gb200-nvl72"], [0.0, 0.08, 0.16], pue=1.1)
    ref = api.price("deepseek-r1-decode", ["cloudmatrix-384", "gb200-nvl72"], region="us")  # 0.08 USD/kWh, PUE 1.1
    for sid in ("cloudmatrix-384", "gb200-nvl72"):
        row = df[df["system"] == sid].set_index("elec_usd_kwh")
        assert row.loc[0.08, "usd_per_mtok"] == pytest.approx(
            float(ref.set_index("system").loc[sid, "usd_per_mtok"]), rel=1e-12)
        c = row["usd_per_mtok"].to_numpy()
        assert c[0] < c[1] < c[2] and c[2] - c[1] == pytest.approx(c[1] - c[0], rel=1e-9)  # linear in price
        assert row.loc[0.0, "energy_share"] == 0.0
    share = df[df["elec_usd_kwh"] == 0.08].set_index("system")["energy_share"]
    assert share["cloudmatrix-384"] > share["gb200-nvl72"]  # CM384 draws ~2.3x the power per FLOP


def test_unknown_names_are_answered_with_the_nearest():
    with pytest.raises(InputError, match="did you mean baseline"):
        api.check_scenario("basline")
    with pytest.raises(InputError, match="did you mean adoption"):
        api.figure("adoptoin", _hand_tables())
    with pytest.raises(InputError, match="did you mean cloudmatrix-384"):
        api.price_at_electricity(["cloudmatrix384"], [0.1])
    with pytest.raises(InputError, match="elec_usd_kwh"):
        api.price_at_electricity(["gb200-nvl72"], [-0.1])
    with pytest.raises(InputError, match="did you mean kappa"):
        api.run_scenario("baseline", params={"kapa": 1.0}, end="2022-02")


def test_parameters_cover_the_registry_with_sources():
    from model.params import PARAMETERS

    df = api.parameters()
    assert set(df["name"]) == set(PARAMETERS)
    row = df.set_index("name").loc["licence_levy"]
    assert row["default"] == 0.25 and row["range"] == "[0, 1]" and "policy-timeline" in row["source"]
    levy = api.parameters("levy")
    assert len(levy) >= 2 and levy.apply(lambda r: "levy" in (r["name"] + r["doc"] + r["source"]).lower(),
                                         axis=1).all()
    assert api.parameters("no-such-word-anywhere").empty


def test_scenarios_lists_every_file_with_its_question():
    from model.scenario import SCENARIO_DIR

    df = api.scenarios()
    assert set(df["name"]) == {p.stem for p in SCENARIO_DIR.glob("*.toml")}
    assert df["question"].str.endswith("?").all()
    assert df.set_index("name")["test_bench"].to_dict()["arthur_docking"]
    assert df["test_bench"].sum() == 1


def test_figure_draws_through_the_plots_module(one_run):
    _out, t = one_run
    fig = api.figure("adoption", t)
    assert fig.axes and any(ax.lines for ax in fig.axes)
    fig = api.figure("offerings", api.price("deepseek-r1-decode"))
    assert fig.axes
    assert np.isfinite(api.price("llama3-405b-train")["usd_per_effective_pflop_hour"].iloc[0])


def test_run_folders_of_one_scenario_group_by_the_parameters_that_differ(tmp_path):
    for seed, kappa in ((1, 1.0), (2, 1.0), (1, 5.0)):
        api.run_scenario("baseline", seed=seed, end="2022-02", params={"kappa": kappa},
                         out=tmp_path / f"k{kappa:g}-s{seed}")
    t = api.read(tmp_path)
    assert t.kind == "runs" and t.n_runs == 3
    assert sorted(t.groups) == ["baseline: kappa=1", "baseline: kappa=5"]
    assert t.model.groupby("group")["run_id"].nunique().to_dict() == {"baseline: kappa=1": 2,
                                                                    "baseline: kappa=5": 1}
