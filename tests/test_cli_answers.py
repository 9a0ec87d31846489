"""`chipwar summary | params | scenarios | export` and the nearest-name answers to typos."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from experiments import api
from experiments.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A folder with two short run folders: baseline and no_controls, seed 1."""
    root = tmp_path_factory.mktemp("answers")
    for name in ("baseline", "no_controls"):
        api.run_scenario(name, seed=1, end="2022-06", out=root / name)
    return root


def _run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_summary_json_matches_the_api_and_is_per_scenario(runs, capsys):
    rc, out, _ = _run(capsys, "summary", runs, "--format", "json")
    assert rc == 0
    data = json.loads(out)
    s = api.summary(runs)
    assert len(data["vendors"]) == len(s.vendors) and len(data["metrics"]) == len(s.metrics)
    assert {r["group"] for r in data["metrics"]} == {"baseline", "no_controls"}
    first = data["vendors"][0]
    assert first["units"] == pytest.approx(float(s.vendors["units"].iloc[0]))


def test_summary_filters_and_text(runs, capsys):
    rc, out, _ = _run(capsys, "summary", runs, "--vendor", "huawei", "--region", "cn", "--table", "vendors")
    assert rc == 0
    assert "== baseline" in out and "== no_controls" in out
    body = [line.split() for line in out.splitlines() if line.strip().startswith("cn ")]
    assert body and all(parts[2] == "huawei" for parts in body)
    rc, out, _ = _run(capsys, "summary", runs, "--format", "csv", "--table", "metrics")
    df = pd.read_csv(io.StringIO(out))
    assert list(df["year"].unique()) == [2022] and set(df["group"]) == {"baseline", "no_controls"}


def test_summary_unknown_vendor_is_answered(runs, capsys):
    rc, _, err = _run(capsys, "summary", runs, "--vendor", "huawey")
    assert rc == 2 and "did you mean huawei" in err


def test_params_filters_by_word_and_suggests(capsys):
    rc, out, _ = _run(capsys, "params", "levy")
    assert rc == 0 and "licence_levy" in out and "kappa" not in out
    rc, out, _ = _run(capsys, "params", "--format", "json")
    rows = json.loads(out)
    assert {"name", "default", "range", "unit", "source", "doc"} <= set(rows[0])
    assert len(rows) == len(api.parameters())
    rc, _, err = _run(capsys, "params", "kapa")
    assert rc == 2 and "did you mean kappa" in err


def test_scenarios_lists_all_and_marks_the_test_bench(capsys):
    rc, out, _ = _run(capsys, "scenarios")
    assert rc == 0
    for name in api.scenarios()["name"]:
        assert name in out
    line = next(x for x in out.splitlines() if x.startswith("arthur_docking"))
    assert "[test" in line or "test bench" in out.split("arthur_docking", 1)[1].split("\n\n")[0]
    rc, out, _ = _run(capsys, "scenarios", "h200_opening")
    assert rc == 0 and "December-2025 H200 deal" in out and "us_licence" in out
    rc, _, err = _run(capsys, "scenarios", "h200_openin")
    assert rc == 2 and "did you mean h200_opening" in err


def test_mistyped_subcommand_and_choice_are_answered(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sumary"])
    assert exc.value.code == 2 and "did you mean summary" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["price", "--format", "tabel"])
    assert "did you mean table" in capsys.readouterr().err


def test_unknown_parameter_in_set_is_answered(tmp_path, capsys):
    rc, _, err = _run(capsys, "run", "--set", "us_contrl_level=0.5", "--out", tmp_path / "x")
    assert rc == 2 and "did you mean us_control_level" in err
    assert not (tmp_path / "x").exists()


def test_export_writes_csv_and_refuses_to_overwrite(runs, tmp_path, capsys):
    dest = tmp_path / "csv"
    rc, out, _ = _run(capsys, "export", runs / "baseline", "--csv", "--out", dest)
    assert rc == 0 and "wrote 5 CSV files" in out
    model = pd.read_csv(dest / "model.csv")
    ref = pd.read_parquet(runs / "baseline" / "model.parquet")
    assert list(model.columns[:2]) == ["group", "scenario"]
    pd.testing.assert_series_equal(model["bifurcation_index"], ref["bifurcation_index"])
    before = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    rc, _, err = _run(capsys, "export", runs / "baseline", "--csv", "--out", dest)
    assert rc == 2 and "--overwrite" in err
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir()} == before  # nothing written
    rc, _, _ = _run(capsys, "export", runs / "baseline", "--csv", "--out", dest, "--overwrite")
    assert rc == 0
    rc, _, _ = _run(capsys, "export", runs, "--csv")  # a folder of runs: CSVs beside them
    both = pd.read_csv(runs / "vendors.csv")
    assert set(both["group"]) == {"baseline", "no_controls"}
    rc, _, err = _run(capsys, "export", tmp_path / "missing", "--csv")
    assert rc == 2 and "not a folder" in err
