"""`chipwar price`: exit codes, output formats and the JSON contract."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from experiments.cli import main
from experiments.commands.price import JSON_KEYS


def _run(capsys, *argv):
    code = main(["price", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, word, valid", [
    (["--systems", "gb200-nvl72,nope-9000"], "nope-9000", "cloudmatrix-384"),
    (["--workload", "gpt-99-train"], "gpt-99-train", "deepseek-r1-decode"),
    (["--region", "mars"], "mars", "us, cn, gs"),
    (["--accelerators", "0"], "--accelerators", "whole number from 1 to 10,000,000"),
    (["--accelerators", "1e20"], "1e20", "whole number from 1 to 10,000,000"),
    (["--accelerators", "-5"], "-5", "whole number from 1"),
    (["--accelerators", "2.5"], "2.5", "whole number"),
    (["--accelerators", "many"], "many", "whole number"),
    (["--pue", "0.5"], "--pue", "from 1 to 5"),
    (["--elec-usd-kwh", "-1"], "--elec-usd-kwh", "from 0 to 10"),
    (["--systems", ","], "--systems", "comma-separated"),
])
def test_bad_input_exits_2_with_valid_ids(capsys, argv, word, valid):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert word in err and valid in err


def test_json_contract_and_ranking(capsys):
    code, out, _ = _run(capsys, "--systems", "hgx-h100,gb200-nvl72,cloudmatrix-384", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [tuple(r) for r in rows] == [JSON_KEYS] * 3
    assert {r["system"] for r in rows} == {"hgx-h100", "gb200-nvl72", "cloudmatrix-384"}
    costs = [r["usd_per_mtok"] for r in rows]
    assert costs == sorted(costs)                       # ranked by USD per million tokens
    by = {r["system"]: r for r in rows}
    assert by["cloudmatrix-384"]["accelerators"] == 384  # serving default: one system
    assert by["cloudmatrix-384"]["power_kw"] == pytest.approx(559, rel=0.1)
    assert all(r["workload"] == "deepseek-r1-decode" and r["region"] == "us" for r in rows)


def test_training_replicates_to_n_and_ranks_by_pflop_hour(capsys):
    code, out, _ = _run(capsys, "--workload", "llama3-405b-train", "--format", "json", "--region", "cn")
    assert code == 0
    rows = json.loads(out)
    assert all(r["accelerators"] == 16384 for r in rows)
    ranked = [r["usd_per_effective_pflop_hour"] for r in rows if r["usd_per_effective_pflop_hour"] is not None]
    assert ranked == sorted(ranked) and len(ranked) > 10
    nulls = [r for r in rows if r["usd_per_effective_pflop_hour"] is None]
    assert rows[len(ranked):] == nulls                  # cannot-run rows last, as null


def test_csv_and_table(capsys):
    code, out, _ = _run(capsys, "--format", "csv", "--accelerators", "768",
                        "--systems", "cloudmatrix-384,hgx-h20")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns[: len(JSON_KEYS)]) == list(JSON_KEYS)
    assert (df["accelerators"] == 768).all() and "available" in df.columns
    code, out, _ = _run(capsys)
    assert code == 0
    lines = out.splitlines()
    for unit in ("USD/Mtok", "USD/h", "IT kW", "tok/s/accel", "avail"):
        assert unit in lines[0]
    assert set(lines[1]) <= {"-", " "}
    widths = {len(line) for line in lines[2:] if line and line[0] in " 0123456789"}
    assert len(widths) == 1                              # aligned columns
    assert any("atlas-960-superpod" in line for line in lines)  # roadmap systems included


def test_bound_batch_ep_in_json_and_null_for_training(capsys):
    code, out, _ = _run(capsys, "--systems", "hgx-h100,hgx-h200,hgx-h20,cloudmatrix-384", "--format", "json")
    assert code == 0
    by = {r["system"]: r for r in json.loads(out)}
    bounds = {"compute", "hbm", "scale-up", "scale-out", "latency", "capacity"}
    assert all(r["bound_by"] in bounds and r["batch"] > 0 and r["ep"] >= 1 for r in by.values())
    assert by["hgx-h200"]["tokens_per_s_per_accel"] >= 1.25 * by["hgx-h100"]["tokens_per_s_per_accel"]
    assert by["hgx-h20"]["bound_by"] == "compute"
    code, out, _ = _run(capsys, "--workload", "llama3-405b-train", "--systems", "hgx-h100", "--format", "json")
    row = json.loads(out)[0]
    assert row["bound_by"] is None and row["batch"] is None and row["ep"] is None


def test_energy_price_and_pue_override_the_region(capsys):
    args = ("--systems", "cloudmatrix-384", "--format", "json")
    _, base, _ = _run(capsys, *args)
    _, cheap, _ = _run(capsys, *args, "--elec-usd-kwh", "0.02", "--pue", "1.1")
    _, dear, _ = _run(capsys, *args, "--elec-usd-kwh", "0.30")
    b, c, d = (json.loads(x)[0] for x in (base, cheap, dear))
    assert c["usd_per_hour"] < b["usd_per_hour"] < d["usd_per_hour"]
    assert c["facility_kw"] == pytest.approx(c["power_kw"] * 1.1)
    assert c["tokens_per_s_per_accel"] == b["tokens_per_s_per_accel"]   # power price moves cost only
    # by hand: energy = site kW x 0.75 average draw x price
    assert d["usd_per_hour"] - b["usd_per_hour"] == pytest.approx(b["facility_kw"] * 0.75 * (0.30 - 0.08), rel=1e-6)


def test_explain_table_names_deployment_bound_and_terms(capsys):
    code, out, _ = _run(capsys, "--systems", "hgx-h100,hgx-h200,cloudmatrix-384", "--explain")
    assert code == 0
    tail = out.split("\n\n")
    explain = next(block for block in tail if block.startswith("system "))
    lines = explain.splitlines()
    for col in ("EP", "TP", "batch", "bound", "GEMM", "weights", "KV", "a2a out", "ovh", "step"):
        assert col in lines[0]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"hgx-h100", "hgx-h200", "cloudmatrix-384"}
    assert rows["cloudmatrix-384"][1] == "int8"
    code, out, _ = _run(capsys, "--systems", "hgx-h100", "--explain", "--format", "csv")
    df = pd.read_csv(io.StringIO(out))
    assert df.loc[0, "ms_step"] <= 50 * 1.85 + 1e-6          # within TPOT x tokens emitted per step
    code, out, _ = _run(capsys, "--workload", "llama3-405b-train", "--explain", "--systems", "hgx-h100")
    assert code == 0 and "no serving deployment" in out
