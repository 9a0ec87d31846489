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
    (["--accelerators", "0"], "--accelerators", "positive"),
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
