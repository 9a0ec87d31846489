"""`chipwar validate`: history replay against observed.csv; aggregation by hand; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from model import validate as V
from model.errors import InputError
from model.population import load_observed

OBS_COLUMNS = ["metric", "period", "value", "low", "high", "unit", "kind", "source", "note"]


def write_observed(path: Path, rows: list[dict]) -> Path:
    base = {"unit": "fraction", "kind": "estimate", "source": "test fixture", "note": ""}
    pd.DataFrame([{**base, **r} for r in rows], columns=OBS_COLUMNS).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------ the shipped calibration
CALIBRATION_PENDING = pytest.mark.xfail(
    strict=True, reason="issue 16: the unit/value-basis bands (observed.csv) are not yet fitted: domestic "
    "unit shares 2022-23 too high, value share 2024 too low, Nvidia's FY2025 China share at 0.16+")


@CALIBRATION_PENDING
@pytest.mark.slow  # the history replay over five seeds
def test_cli_exit_0_on_shipped_calibration(capsys):
    """Issue 9: every observed figure of model/data/observed.csv lies in its band over 5 seeds."""
    rc = main(["validate", "--seeds", "5"])
    out = capsys.readouterr().out
    verdict = out.strip().splitlines()[-1]
    assert rc == 0, verdict
    assert "calibration holds" in verdict


def test_every_shipped_figure_has_a_row_with_observed_value_and_source():
    obs = load_observed()
    df = V.validate(seeds=1)
    assert list(df.columns) == list(V.COLUMNS)
    assert list(zip(df["metric"], df["period"])) == list(zip(obs["metric"], obs["period"]))
    assert np.allclose(df["observed"], obs["value"]) and (df["source"] == obs["source"]).all()
    assert df["model_mean"].notna().all()
    assert (df["model_lo"] <= df["model_mean"] + 1e-12).all()
    assert (df["model_mean"] <= df["model_hi"] + 1e-12).all()
    expect = (df["low"] <= df["model_mean"]) & (df["model_mean"] <= df["high"])
    assert (df["in_band"] == expect).all()


# ------------------------------------------------------------------------------ forced bands
@pytest.fixture
def market_rows() -> list[dict]:
    """A few market figures with bands nothing can miss (fractions in [0, 1])."""
    return [
        {"metric": "nvidia_china_revenue_share", "period": "2022-02..2023-01", "value": 0.2,
         "low": 0.0, "high": 1.0},
        {"metric": "cn_domestic_share", "period": "2024", "value": 0.3, "low": 0.0, "high": 1.0},
        {"metric": "huawei_units_cn", "period": "2024", "value": 1.0, "low": 0.0, "high": 1e12,
         "unit": "units"},
    ]


def test_cli_exit_0_when_every_band_holds(tmp_path, market_rows, capsys):
    path = write_observed(tmp_path / "obs.csv", market_rows)
    assert main(["validate", "--seeds", "1", "--observed", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("✓") == 3 and "✗" not in out
    assert "3/3 figures in band" in out.splitlines()[-1]


def test_cli_exit_1_when_a_band_is_forced_out_of_range(tmp_path, market_rows, capsys):
    market_rows[0].update(value=0.95, low=0.94, high=0.96)  # no model gives Nvidia 95 % from China
    path = write_observed(tmp_path / "obs.csv", market_rows)
    assert main(["validate", "--seeds", "1", "--observed", str(path)]) == 1
    out = capsys.readouterr().out
    bad = [line for line in out.splitlines() if "✗" in line]
    assert len(bad) == 1 and bad[0].startswith("nvidia_china_revenue_share")
    assert "OUT OF BAND: nvidia_china_revenue_share 2022-02..2023-01" in out.splitlines()[-1]

    df = V.validate(seeds=1, observed_path=path)
    assert df["in_band"].tolist() == [False, True, True]


def test_system_figure_out_of_band_is_reported_not_failing(tmp_path, capsys):
    path = write_observed(tmp_path / "obs.csv", [
        {"metric": "nvl72_bf16_pflops", "period": "2025", "value": 90, "low": 80, "high": 100,
         "unit": "PFLOPS"}])
    assert main(["validate", "--seeds", "1", "--observed", str(path)]) == 0
    out = capsys.readouterr().out
    assert "(reported, not failing): nvl72_bf16_pflops 2025" in out
    df = V.validate(seeds=1, observed_path=path)
    assert df.loc[0, "model_mean"] == pytest.approx(180.0, rel=0.01)  # 72 x 2.5 PFLOPS
    assert df.loc[0, "model_lo"] == df.loc[0, "model_hi"] == df.loc[0, "model_mean"]


def test_csv_and_json_formats(tmp_path, market_rows, capsys):
    path = write_observed(tmp_path / "obs.csv", market_rows)
    assert main(["validate", "--seeds", "1", "--observed", str(path), "--format", "json"]) == 0
    cap = capsys.readouterr()
    records = json.loads(cap.out)
    assert [r["metric"] for r in records] == [r["metric"] for r in market_rows]
    assert all(r["in_band"] is True for r in records) and "3/3" in cap.err
    assert main(["validate", "--seeds", "1", "--observed", str(path), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",")[:11] == list(V.COLUMNS[:11]) and len(lines) == 4


def test_bad_input_exits_2(tmp_path, capsys):
    unknown = write_observed(tmp_path / "u.csv", [
        {"metric": "gdp_growth", "period": "2024", "value": 0.02, "low": 0.0, "high": 0.1}])
    assert main(["validate", "--seeds", "1", "--observed", str(unknown)]) == 2
    assert "gdp_growth" in capsys.readouterr().err
    outside = write_observed(tmp_path / "o.csv", [
        {"metric": "cn_domestic_share", "period": "2030", "value": 0.5, "low": 0.0, "high": 1.0}])
    assert main(["validate", "--seeds", "1", "--observed", str(outside)]) == 2
    assert "outside the replayed history" in capsys.readouterr().err
    assert main(["validate", "--seeds", "0"]) == 2
    with pytest.raises(InputError):
        V.validate(seeds=0)


# ------------------------------------------------------------------------------ seeds and the pool
def test_seeds_come_from_seed_sequence():
    s = V.seed_list(4, root_seed=7)
    children = np.random.SeedSequence(7).spawn(4)
    assert s == [int(c.generate_state(1)[0]) for c in children]
    assert V.seed_list(4, root_seed=8) != s and len(set(s)) == 4


def test_pool_gives_the_serial_answer(tmp_path, market_rows):
    path = write_observed(tmp_path / "obs.csv", market_rows)
    serial = V.validate(seeds=3, root_seed=11, observed_path=path, workers=1)
    pooled = V.validate(seeds=3, root_seed=11, observed_path=path, workers=2)
    pd.testing.assert_frame_equal(serial, pooled)
    assert (serial["model_hi"] >= serial["model_lo"]).all()


# ------------------------------------------------------------------------------ aggregation by hand
def test_period_months():
    assert V.period_months("2024") == [f"2024-{m:02d}" for m in range(1, 13)]
    assert V.period_months("2023-H2")[0] == "2023-07" and len(V.period_months("2023-H2")) == 6
    assert V.period_months("2025-Q4") == ["2025-10", "2025-11", "2025-12"]
    fy = V.period_months("2021-02..2022-01")
    assert fy[0] == "2021-02" and fy[-1] == "2022-01" and len(fy) == 12
    assert V.period_months("2023-01..2023-06") == V.period_months("2023-H1")
    with pytest.raises(InputError):
        V.period_months("2024-02..2023-01")


def _toy_tables() -> dict[str, pd.DataFrame]:
    vendors = pd.DataFrame([
        # date, vendor, product, region, units, revenue_usd, price_usd
        ("2024-01", "nvidia", "hgx-h100", "us", 100.0, 900.0, 30.0),
        ("2024-01", "nvidia", "hgx-h20", "cn", 40.0, 100.0, 10.0),
        ("2024-02", "nvidia", "hgx-h100", "us", 10.0, 90.0, 30.0),
        ("2024-02", "nvidia", "hgx-h20", "cn", 20.0, 910.0, 10.0),
        ("2024-02", "nvidia", "hgx-h20", "in", 5.0, 50.0, 10.0),      # the H20 sold elsewhere
        ("2024-02", "nvidia", "hgx-h100", "cn", 7.0, 0.0, 30.0),      # not an H20
        ("2024-02", "huawei", "atlas-800-910b", "cn", 30.0, 300.0, 20.0),
        ("2024-02", "huawei", "cloudmatrix-384", "cn", 384.0, 800.0, 5.0),
        ("2024-02", "huawei", "atlas-800-910b", "ru", 8.0, 80.0, 20.0),
        ("2023-12", "huawei", "atlas-800-910b", "cn", 1000.0, 1.0, 20.0),  # outside the period
    ], columns=["date", "vendor", "product", "region", "units", "revenue_usd", "price_usd"])
    model = pd.DataFrame({"date": ["2024-01", "2024-02", "2024-03"],
                          "cn_domestic_share": [0.9, 0.1, np.nan]})
    adoption = pd.DataFrame([
        ("2024-01", "cn", "cann", 10.0), ("2024-01", "cn", "cuda", 0.0),
        ("2024-02", "cn", "cann", 30.0), ("2024-02", "cn", "cuda", 60.0),
        ("2024-02", "us", "cuda", 1e6),                                 # not China
        ("2024-03", "cn", "cuda", 0.0),
    ], columns=["date", "region", "stack", "purchased_h100e"])
    return {"vendors": vendors, "model": model, "adoption": adoption}


def test_market_figures_by_hand():
    t = _toy_tables()
    months = ["2024-01", "2024-02", "2024-03"]
    f = {k: fn for k, (fn, _basis) in V.MARKET_FIGURES.items()}
    # revenue summed then divided: (100 + 910 + 0) / (900 + 100 + 90 + 910 + 50 + 0), not a mean of ratios
    assert f["nvidia_china_revenue_share"](t, months) == pytest.approx(1010 / 2050)
    # purchases-weighted: (0.9 x 10 + 0.1 x 90) / 100; the month without purchases has no weight
    assert f["cn_domestic_share"](t, months) == pytest.approx(0.18)
    assert f["h20_units_cn"](t, months) == pytest.approx(60.0)
    # China's units and spending on Chinese vendors' chips: units with units, value with value
    assert f["cn_domestic_unit_share"](t, months) == pytest.approx(414 / 481)
    assert f["cn_domestic_value_share"](t, months) == pytest.approx(2520 / 3330)
    assert f["huawei_units_cn"](t, months) == pytest.approx(414.0)
    assert f["huawei_units_cn"](t, ["2023-12"]) == pytest.approx(1000.0)
    assert np.isnan(f["nvidia_china_revenue_share"](t, ["2025-01"]))
