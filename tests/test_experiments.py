"""Experiment scripts (issue 6): outcome extraction, lock-in, the sensitivity and discovery maths
on functions whose answer is known, and each script's --quick run end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import discovery, export_controls, rare_earth, scenarios, sensitivity
from experiments.analysis import (
    bloc_price,
    lock_in,
    month_label,
    month_number,
    outcomes,
    param_column,
    resolve_month,
    summarise,
    wilson_interval,
)
from model.errors import InputError

MONTHS = [month_label(month_number("2030-01") + i) for i in range(24)]  # 2030-01 .. 2031-12


def _adoption(
    shares: dict[str, dict[str, list[dict[str, float]] | dict[str, float]]],
) -> pd.DataFrame:
    """Adoption rows from {run: {bloc: {stack: share} (every month) or [per-month dicts]}}."""
    rows = []
    for run, blocs in shares.items():
        for bloc, spec in blocs.items():
            for i, date in enumerate(MONTHS):
                mix = spec[i] if isinstance(spec, list) else spec
                for stack, share in mix.items():
                    rows.append(
                        {
                            "run_id": run,
                            "step": i,
                            "date": date,
                            "region": bloc,
                            "bloc": bloc,
                            "stack": stack,
                            "installed_h100e": 1000.0 * share,
                            "purchased_h100e": 0.0,
                            "spend_usd": 0.0,
                        }
                    )
    return pd.DataFrame(rows)


LOCKED_US = {"cuda": 0.95, "rocm": 0.05}
LOCKED_CN = {"cann": 0.93, "other_cn": 0.07}
SPLIT_CN = {"cann": 0.85, "other_cn": 0.15}


def test_lock_in_needs_both_blocs_one_stack_for_a_year():
    late = [SPLIT_CN] * 18 + [LOCKED_CN] * 6  # locked only in the last 6 months
    flip = [{"cann": 0.95, "other_cn": 0.05}] * 18 + [{"cann": 0.05, "other_cn": 0.95}] * 6
    ad = _adoption(
        {
            "split": {"us": LOCKED_US, "cn": LOCKED_CN, "gs": {"cuda": 0.5, "cann": 0.5}},
            "cn_mixed": {"us": LOCKED_US, "cn": SPLIT_CN},
            "same": {"us": LOCKED_US, "cn": {"cuda": 0.96, "cann": 0.04}},
            "late": {"us": LOCKED_US, "cn": late},
            "flip": {"us": LOCKED_US, "cn": flip},
            "empty_cn": {"us": LOCKED_US, "cn": {"cann": 0.0}},
        }
    )
    li = lock_in(ad, "2031-12").set_index("run_id")
    assert li.loc["split", "locked_in"] and li.loc["split", "lock_in_kind"] == "split"
    assert li.loc["same", "locked_in"] and li.loc["same", "lock_in_kind"] == "same"
    for run in ("cn_mixed", "late", "flip", "empty_cn"):
        assert not li.loc[run, "locked_in"], run
        assert li.loc[run, "lock_in_kind"] == "none"
    assert li.loc["cn_mixed", "cn_top_stack"] == "cann"
    assert li.loc["cn_mixed", "cn_top_share"] == pytest.approx(0.85)
    assert li.loc["flip", "cn_top_stack"] == "other_cn"
    # a lower threshold accepts China's 85 %; a 6-month window accepts the late lock-in
    assert lock_in(ad, "2031-12", share=0.8).set_index("run_id").loc["cn_mixed", "locked_in"]
    assert lock_in(ad, "2031-12", months=6).set_index("run_id").loc["late", "locked_in"]
    assert not lock_in(ad, "2031-12", months=7).set_index("run_id").loc["late", "locked_in"]
    # before the late lock-in, at mid-2031 it was not locked even on a 1-month window
    assert not lock_in(ad, "2031-06", months=1).set_index("run_id").loc["late", "locked_in"]


def _model(runs: dict[str, float]) -> pd.DataFrame:
    rows = []
    for run, kappa in runs.items():
        for i, date in enumerate(MONTHS):
            rows.append(
                {
                    "run_id": run,
                    "seed": 7,
                    "replication": 0,
                    "step": i,
                    "date": date,
                    "bifurcation_index": kappa * i / 100,
                    "cn_domestic_share": 0.5,
                    "us_control_level": 0.76,
                    "param_us_control_level": 0.5,
                    "kappa": kappa,
                }
            )
    return pd.DataFrame(rows)


def test_outcomes_one_row_per_run_at_the_month_with_varied_columns():
    model = _model({"a": 1.0, "b": 2.0})
    ad = _adoption(
        {"a": {"us": LOCKED_US, "cn": LOCKED_CN}, "b": {"us": LOCKED_US, "cn": SPLIT_CN}}
    )
    oc = outcomes({"model": model, "adoption": ad}, "2031-06").set_index("run_id")
    assert list(oc.index) == ["a", "b"]
    assert (oc["month"] == "2031-06").all()
    assert oc.loc["b", "bifurcation_index"] == pytest.approx(2.0 * 17 / 100)  # step 17 = 2031-06
    assert oc.loc["a", "kappa"] == 1.0
    assert oc.loc["a", "us_control_level"] == 0.76  # the metric, not the swept starting level
    assert param_column(oc, "us_control_level") == "param_us_control_level"
    assert oc.loc["a", "param_us_control_level"] == 0.5 and param_column(oc, "kappa") == "kappa"
    assert oc.loc["a", "locked_in"] and not oc.loc["b", "locked_in"]
    # None -> the last month every run reached; a month past the end is refused
    assert str(outcomes({"model": model, "adoption": ad}, None)["month"].iloc[0]) == "2031-12"
    short = model[~((model["run_id"] == "b") & (model["date"] > "2031-03"))]
    assert resolve_month(short, None) == "2031-03"
    with pytest.raises(InputError, match="2031-06.*end earlier"):
        resolve_month(short, "2031-06")
    with pytest.raises(InputError, match="YYYY-MM"):
        resolve_month(model, "2031-6")
    s = summarise(oc.reset_index(), ["kappa"], ["bifurcation_index"])
    assert list(s["lock_in_prob"]) == [1.0, 0.0]


def test_wilson_interval_and_bloc_price():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson_interval(5, 10)
    assert lo < 0.5 < hi and lo + hi == pytest.approx(1.0)
    v = pd.DataFrame(
        {
            "run_id": ["r"] * 4,
            "date": ["2030-01"] * 4,
            "vendor": ["nvidia", "amd", "huawei", "nvidia"],
            "units": [1.0, 3.0, 100.0, 0.0],
            "price_usd": [10.0, 20.0, 1.0, 1e9],
        }
    )
    p = bloc_price(v, "us")
    assert p["price_usd"].iloc[0] == pytest.approx((10 + 60) / 4)  # huawei and zero units ignored
    assert bloc_price(v, "cn")["price_usd"].iloc[0] == pytest.approx(1.0)


def test_shock_outcomes_measure_bargaining_and_price_against_the_reference():
    rows = []
    for run, level in (("ref", 0.0), ("shock", 1.0)):
        for date in MONTHS:
            n = month_number(date) - month_number("2030-07")  # the shock starts 2030-07
            ctl = 0.7 if (level == 0 or n < 2) else max(0.4, 0.7 - 0.1 * (n - 1))
            rows.append(
                {
                    "run_id": run,
                    "date": date,
                    "us_control_level": ctl,
                    "rare_earth_restriction": level if 0 <= n < 6 else 0.0,
                    "price": 100.0 * (1.2 if level and 0 <= n < 18 else 1.0),
                }
            )
    m = pd.DataFrame(rows)
    price = m[["run_id", "date", "price"]].rename(columns={"price": "price_usd"})
    shocks = pd.DataFrame(
        {
            "run_id": ["ref", "shock"],
            "rare_earth_shock_level": [0.0, 1.0],
            "rare_earth_shock_start": ["2030-07", "2030-07"],
            "rare_earth_shock_months": [6, 6],
        }
    )
    so = rare_earth.shock_outcomes(m.drop(columns="price"), price, shocks).set_index("run_id")
    assert so.loc["shock", "us_control_at_shock"] == pytest.approx(0.7)
    assert so.loc["shock", "us_control_drop"] == pytest.approx(0.3)
    assert so.loc["shock", "loosen_lag_months"] == 2  # first below 0.7 two months after the start
    assert np.isnan(so.loc["ref", "loosen_lag_months"])
    assert so.loc["shock", "rare_earth_peak"] == 1.0
    assert so.loc["shock", "us_price_change"] == pytest.approx(0.2)  # window = 6 + 12 months
    assert so.loc["ref", "us_price_change"] == pytest.approx(0.0)
    assert so.loc["shock", "us_control_concession"] == pytest.approx(4.5 / 18)  # 0.1+0.2+14*0.3
    assert so.loc["ref", "us_control_concession"] == pytest.approx(0.0)


def test_morris_ranks_an_influential_input_above_an_inert_one():
    from SALib.sample import morris as ms

    prob = sensitivity.problem_of(["big", "none", "small"], [[0, 1], [0, 1], [0, 1]])
    x = ms.sample(prob, 20, num_levels=4, seed=1)
    y = 5 * x[:, 0] + 0.5 * x[:, 2] ** 2
    si = sensitivity.morris_indices(prob, x, y, seed=1)
    mu = si[si["index"] == "mu_star"].set_index("parameter")["value"]
    assert mu["big"] == pytest.approx(5.0) and mu["none"] == pytest.approx(0.0)
    assert mu["big"] > mu["small"] > mu["none"]
    y[3] = np.nan  # a failed run drops its trajectory only
    si2 = sensitivity.morris_indices(prob, x, y, seed=1)
    assert si2.set_index(["parameter", "index"]).loc[("big", "mu_star"), "value"] == pytest.approx(
        5.0
    )
    with pytest.raises(InputError, match="trajector"):
        sensitivity.morris_indices(prob, x[:-1], y[:-1])


def test_pawn_separates_an_influential_input_from_the_noise_floor():
    from scipy.stats import qmc

    rng = np.random.default_rng(3)
    x = qmc.LatinHypercube(2, rng=rng).random(300)
    y = np.where(x[:, 0] > 0.5, 1.0, 0.0) + rng.normal(0, 0.1, 300)  # bimodal, driven by x0
    prob = sensitivity.problem_of(["driver", "inert"], [[0, 1], [0, 1]])
    si = sensitivity.pawn_indices(prob, x, y, rng, slices=10, bootstrap=50).set_index("parameter")
    assert list(si.index) == ["driver", "inert", "dummy"]
    floor = si.loc["dummy", "value"] + si.loc["dummy", "conf"]
    assert si.loc["driver", "value"] - si.loc["driver", "conf"] > floor
    assert si.loc["inert", "value"] < floor
    assert (si["conf"] > 0).all()


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(0, 1, (600, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    box = discovery.find_box(x, y, min_density=0.9, bounds={"a": (0, 1), "b": (0, 1), "c": (0, 1)})
    lim = box.limits.set_index("parameter")
    assert lim.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and lim.loc["a", "high"] == 1.0
    assert lim.loc["b", "high"] == pytest.approx(0.3, abs=0.05) and lim.loc["b", "low"] == 0.0
    assert list(lim["restricted"]) == [True, True, False]
    assert box.density >= 0.9 and box.coverage > 0.8 and box.res_dim == 2
    none = discovery.find_box(x, np.zeros(600, dtype=bool))
    assert none.chosen == -1 and np.isnan(none.coverage) and "no run" in none.note


@pytest.mark.parametrize(
    "module, extra, files",
    [
        (export_controls, [], ["outcomes.csv", "summary.csv", "figures/phase_bifurcation.png"]),
        (rare_earth, ["--no-plots"], ["shock_outcomes.csv", "summary.csv", "paths.csv"]),
        (
            scenarios,
            ["--only", "baseline,no_controls", "--no-plots"],
            ["outcomes.csv", "final_metrics.csv", "paths.csv", "baseline/manifest.json"],
        ),
        (sensitivity, ["--no-plots", "--bootstrap", "20"], ["indices.csv", "morris/manifest.json"]),
        (discovery, ["--threshold", "0.2"], ["box.csv", "box_stats.csv", "outcomes.csv"]),
    ],
)
def test_quick_run_writes_its_tables(tmp_path, module, extra, files):
    out = tmp_path / module.__name__.split(".")[-1]
    assert module.main(["--quick", "--out", str(out), "--serial", *extra]) == 0
    for f in files:
        assert (out / f).is_file(), f
    if module is sensitivity:
        idx = pd.read_csv(out / "indices.csv")
        assert list(idx.columns) == ["parameter", "index", "value", "conf", "outcome", "method"]
        assert set(idx["method"]) == {"morris", "pawn"}
        assert set(idx["outcome"]) == {"bifurcation_index", "cn_domestic_share"}
    if module is scenarios:
        fm = pd.read_csv(out / "final_metrics.csv")
        assert list(fm["scenario"]) == ["baseline", "no_controls"]
        oc = pd.read_csv(out / "outcomes.csv")  # same seeds in each scenario
        seeds = oc.groupby("scenario")["seed"].apply(sorted)
        assert len({tuple(v) for v in seeds}) == 1 and len(seeds.iloc[0]) == 2


@pytest.mark.parametrize(
    "module, argv",
    [
        (export_controls, ["--seeds", "0"]),
        (rare_earth, ["--design", "no/such/design.toml"]),
        (scenarios, ["--only", "atlantis"]),
        (discovery, ["--metric", "happiness"]),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, module, argv):
    out = tmp_path / "out"
    assert module.main(["--quick", "--out", str(out), "--serial", *argv]) == 2
    assert not out.exists()


def test_bad_option_exits_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        sensitivity.main(["--month", "2030-13", "--out", str(tmp_path)])
    assert exc.value.code == 2


def test_guard_maps_bad_input_to_2_and_all_runs_failed_to_1(capsys):
    from experiments.analysis import AllRunsFailed, guard

    def bad() -> int:
        raise InputError("--seeds 0: expected at least 1")

    def failed() -> int:
        raise AllRunsFailed("every run failed; tracebacks in x/failures.jsonl")

    assert guard(bad) == 2 and guard(failed) == 1 and guard(lambda: 0) == 0
    assert "failures.jsonl" in capsys.readouterr().err
