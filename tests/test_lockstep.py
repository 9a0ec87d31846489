"""Runs stepped together (experiments/runner/lockstep.py) give exactly the tables of separate runs."""

from __future__ import annotations

import pytest

import model.components.offerings as offerings_mod
from experiments.runner import build_design, read_tables, run_sweep
from experiments.runner.lockstep import run_lockstep
from model.run import run_tables

RUNS = [({"scenario": "baseline"}, 11), ({"scenario": "baseline"}, 12),
        ({"scenario": "baseline", "kappa": 2.0, "us_control_level": 0.8}, 11),
        ({"scenario": "rare_earth_embargo", "end": "2029-06"}, 13),
        ({"scenario": "baseline", "end": "2026-09"}, 14),  # ends first: the others go on
        ({"scenario": "arthur_docking"}, 15)]  # another month plan: runs on its own


def _same(a, b) -> bool:
    """Same schema and values, exactly (NaN equal to NaN in the same place)."""
    return a.schema == b.schema and a.to_pandas().equals(b.to_pandas())


def test_lockstep_tables_equal_separate_runs():
    offerings_mod._PERF_CACHE.clear()
    together = run_lockstep([p for p, _s in RUNS], [s for _p, s in RUNS])
    offerings_mod._PERF_CACHE.clear()
    for (params, seed), got in zip(RUNS, together):
        want = run_tables(params, seed)
        assert not isinstance(got, str), got
        for name in ("model", "adoption", "vendors"):
            assert _same(got[name], want[name]), (params, seed, name)


def test_a_failing_run_is_reported_and_the_others_go_on():
    params = [{"scenario": "baseline", "end": "2024-06"}, {"scenario": "baseline", "kappa": -5.0},
              {"scenario": "baseline", "end": "2024-06"}]
    out = run_lockstep(params, [1, 2, 3])
    assert isinstance(out[1], str) and "kappa" in out[1]
    for i in (0, 2):
        assert _same(out[i]["model"], run_tables(params[i], i + 1)["model"])


@pytest.mark.parametrize("workers", [None])
def test_sweep_chunks_use_lockstep_and_match_serial_runs(tmp_path, workers):
    """A sweep (serial, one chunk of several runs: stepped together) writes the same tables as
    the runs one by one (a run function other than the default is never stepped together)."""
    design = build_design({"scenario": "baseline", "sampler": "grid", "replications": 2, "root_seed": 7,
                           "fixed": {"end": "2027-06"}, "parameters": {"kappa": [0.5, 2.0]}})

    def one_by_one(params, seed):
        return run_tables(params, seed)

    run_sweep(design, tmp_path / "a", serial=True, progress=False, chunk_size=4)
    run_sweep(design, tmp_path / "b", serial=True, progress=False, run_fn=one_by_one)
    a, b = read_tables(tmp_path / "a"), read_tables(tmp_path / "b")
    for name in ("model", "adoption", "vendors"):
        assert a[name].equals(b[name]), name
