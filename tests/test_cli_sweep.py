"""`chipwar sweep`: exit codes, refused designs, failing runs, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import TABLES, load_design, read_tables, run_sweep
from tests import fake_runs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "scn.toml"
    p.write_text('name = "test"\n[parameters]\nkappa = 1.0\n', encoding="utf-8")
    return p


def write_design(tmp_path: Path, scenario: Path, body: str, name: str = "d.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'scenario = "{scenario}"\n{body}', encoding="utf-8")
    return p


GOOD = """sampler = "grid"
replications = 2
root_seed = 3
[parameters]
kappa = [0.5, 1.25, 2.0]
us_control_level = [0.2, 0.8]
"""

BAD = {
    "unknown top key": ('sampelr = "grid"\nroot_seed = 1\n[parameters]\nkappa = [1.0]\n',
                        "unknown key 'sampelr'"),
    "unknown sampler": ('sampler = "latin"\nroot_seed = 1\n[parameters]\nkappa = [1.0]\n',
                        "sampler = 'latin': expected one of grid, lhs"),
    "unknown parameter": ('root_seed = 1\n[parameters]\nkapa = [1.0]\n',
                          "unknown parameter 'kapa'"),
    "grid value out of range": ('root_seed = 1\n[parameters]\nkappa = [1.0, -1.0]\n',
                                "kappa = -1.0: expected a number in [0,"),
    "range end out of range": ('sampler = "lhs"\nsamples = 4\nroot_seed = 1\n[parameters]\n'
                               'us_control_level = [0.2, 1.5]\n', "us_control_level = 1.5"),
    "empty list": ('root_seed = 1\n[parameters]\nkappa = []\n', "expected a non-empty list"),
    "low >= high": ('sampler = "sobol"\nsamples = 8\nroot_seed = 1\n[parameters]\n'
                    'kappa = [2.0, 1.0]\n', "expected low < high"),
    "range not a pair": ('sampler = "lhs"\nsamples = 4\nroot_seed = 1\n[parameters]\n'
                         'kappa = [1.0, 2.0, 3.0]\n', "expected [low, high]"),
    "missing samples": ('sampler = "lhs"\nroot_seed = 1\n[parameters]\nkappa = [1.0, 2.0]\n',
                        "missing key 'samples'"),
    "sobol not power of 2": ('sampler = "sobol"\nsamples = 6\nroot_seed = 1\n[parameters]\n'
                             'kappa = [1.0, 2.0]\n', "power of 2"),
    "replications < 1": ('replications = 0\nroot_seed = 1\n[parameters]\nkappa = [1.0]\n',
                         "replications = 0: expected an integer >= 1"),
    "non-integer root_seed": ('root_seed = 1.5\n[parameters]\nkappa = [1.0]\n',
                              "root_seed = 1.5: expected an integer"),
    "missing root_seed": ('[parameters]\nkappa = [1.0]\n', "missing key 'root_seed'"),
    "bad fixed value": ('root_seed = 1\n[fixed]\nus_control_level = "high"\n[parameters]\n'
                        'kappa = [1.0]\n', "fixed.us_control_level"),
    "fixed and varied": ('root_seed = 1\n[fixed]\nkappa = 1.0\n[parameters]\nkappa = [1.0]\n',
                         "'kappa' is both fixed and varied"),
    "no parameters": ('root_seed = 1\n', "[parameters]: missing or empty"),
    "table file missing": ('sampler = "table"\ntable = "nope.csv"\nroot_seed = 1\n',
                           "table = 'nope.csv': file not found"),
    "table unknown column": ('sampler = "table"\ntable = "pts.csv"\nroot_seed = 1\n',
                             "column 'kapa'"),
    "not TOML": ('root_seed = [\n', "not valid TOML"),
    "missing scenario file": ('root_seed = 1\n[parameters]\nkappa = [1.0]\n', "scenario"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_design_exits_2_and_writes_nothing(case, tmp_path, scenario, capsys):
    body, message = BAD[case]
    (tmp_path / "pts.csv").write_text("kapa,us_control_level\n1.0,0.5\n", encoding="utf-8")
    if case == "missing scenario file":
        scenario = tmp_path / "absent.toml"
    design = write_design(tmp_path, scenario, body)
    out = tmp_path / "out"
    rc = main(["sweep", str(design), "--out", str(out), "--serial", "--run-fn", "tests.fake_runs:fake_run"])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and str(design) in err, err
    assert not out.exists()


def test_bad_options_exit_2(tmp_path, scenario, capsys):
    design = write_design(tmp_path, scenario, GOOD)
    out = tmp_path / "out"
    for extra in (["--replications", "0"], ["--run-fn", "tests.fake_runs:nope"],
                  ["--run-fn", "no_such_module:f"], ["--resume", "--overwrite"]):
        args = ["sweep", str(design), "--out", str(out), "--serial", "--run-fn", "tests.fake_runs:fake_run"]
        assert main(args + extra) == 2, extra
        assert not out.exists()
    assert main(["sweep", str(tmp_path / "missing.toml"), "--out", str(out),
                 "--run-fn", "tests.fake_runs:fake_run"]) == 2
    assert "not found" in capsys.readouterr().err


def test_failing_runs_exit_1_and_the_rest_complete(tmp_path, scenario, capsys):
    design = write_design(tmp_path, scenario, GOOD)
    out = tmp_path / "out"
    rc = main(["sweep", str(design), "--out", str(out), "--workers", "2",
               "--run-fn", "tests.fake_runs:failing_run"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "4 of 12 runs failed" in text and str(out) in text
    failed = [json.loads(x)["run_id"] for x in (out / "failures.jsonl").read_text().splitlines()]
    assert sorted(failed) == ["00002-000", "00002-001", "00003-000", "00003-001"]
    assert read_tables(out)["model"].run_id.nunique() == 8
    # a second run into the same directory is refused without --resume
    assert main(["sweep", str(design), "--out", str(out), "--serial",
                 "--run-fn", "tests.fake_runs:fake_run"]) == 2


def test_default_out_dir_and_success(tmp_path, scenario, capsys, monkeypatch):
    design = write_design(tmp_path, scenario, GOOD, name="mygrid.toml")
    monkeypatch.chdir(tmp_path)
    rc = main(["sweep", str(design), "--serial", "--quick", "--run-fn", "tests.fake_runs:fake_run"])
    assert rc == 0
    out = tmp_path / "outputs" / "sweep-mygrid"
    assert f"wrote {Path('outputs') / 'sweep-mygrid'}" in capsys.readouterr().out
    # --quick: grid cut to first/last values, one replication
    assert read_tables(out)["model"].run_id.nunique() == 2 * 2


def test_kill_minus_9_then_resume_equals_uninterrupted(tmp_path, scenario):
    body = ("sampler = \"grid\"\nreplications = 2\nroot_seed = 5\n[parameters]\n"
            "kappa = [0.5, 1.0, 2.0, 3.0, 4.0, 5.0]\nus_control_level = [0.1, 0.4, 0.6, 0.9]\n")
    design = write_design(tmp_path, scenario, body)
    n_runs = load_design(design).n_runs
    assert n_runs == 48
    ref = tmp_path / "ref"
    run_sweep(load_design(design), ref, run_fn=fake_runs.fake_run, serial=True)

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(design), "--out", str(out),
           "--workers", "2", "--chunk-size", "2", "--run-fn", "tests.fake_runs:slow_run"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "done").glob("*.json"))) >= 3:
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, mid-write
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done_at_kill = len(list((out / "done").glob("*.json")))
    assert 3 <= done_at_kill < n_runs // 2, "the sweep was not interrupted part-way"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    res = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "already done" in res.stdout
    got, want = read_tables(out), read_tables(ref)
    for t in TABLES:
        pd.testing.assert_frame_equal(got[t], want[t], obj=t)
    assert not got["model"].duplicated(["run_id", "step"]).any()
    assert got["model"].run_id.nunique() == n_runs
    assert json.loads((out / "manifest.json").read_text())["sessions"] == 2
