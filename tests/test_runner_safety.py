"""Sweeps that never delete what is not theirs, keep one writer, survive a dead worker and say
what went wrong in one line (issue 17, sweep side). Fake run functions: fast and exact."""

from __future__ import annotations

import errno
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
from experiments.runner import TABLES, build_design, code_version, load_design, read_tables, run_sweep
from experiments.runner.store import SweepLock
from model.errors import DesignError, InputError
from tests import fake_runs

ROOT = Path(__file__).resolve().parents[1]
FAKE = "tests.fake_runs:fake_run"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "scn.toml"
    p.write_text('name = "test"\n[parameters]\nkappa = 1.0\n', encoding="utf-8")
    return p


def design_file(tmp_path: Path, scenario: Path, body: str = "", name: str = "d.toml") -> Path:
    body = body or ('sampler = "grid"\nreplications = 2\nroot_seed = 3\n[parameters]\n'
                    'kappa = [0.5, 1.25, 2.0]\nus_control_level = [0.2, 0.8]\n')
    p = tmp_path / name
    p.write_text(f'scenario = "{scenario}"\n{body}', encoding="utf-8")
    return p


def sweep(design: Path, out: Path, *extra: str, run_fn: str = FAKE) -> int:
    return main(["sweep", str(design), "--out", str(out), "--run-fn", run_fn, *extra])


def sentinels(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = read_tables(a), read_tables(b)
    for t in TABLES:
        pd.testing.assert_frame_equal(ta[t], tb[t], obj=t)


# --------------------------------------------------------------------------- output folders


def test_overwrite_refuses_a_foreign_manifest_and_keeps_its_files(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)
    foreign = tmp_path / "extension"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"manifest_version": 3, "name": "an extension"}')
    (foreign / "background.js").write_text("console.log('keep me')")
    (foreign / "model").mkdir()
    (foreign / "model" / "x.parquet").write_text("not ours")
    before = sentinels(foreign)
    for flags in (["--overwrite"], ["--resume"], []):
        assert sweep(d, foreign, "--serial", *flags) == 2, flags
        assert str(foreign) in capsys.readouterr().err
    assert sentinels(foreign) == before


def test_overwrite_replaces_our_sweep_but_never_the_current_folder(tmp_path, scenario, capsys,
                                                                    monkeypatch):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    assert sweep(d, out, "--serial") == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "chipwar-sweep" and man["schema"] >= 1
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_text("old")
    assert sweep(d, out, "--serial", "--overwrite") == 0
    assert not (out / "figures").exists()  # the folder was ours: replaced as a whole
    assert read_tables(out)["model"].run_id.nunique() == 12
    monkeypatch.chdir(out)
    before = sentinels(out)
    assert sweep(d, Path("."), "--serial", "--overwrite") == 2
    assert "current folder" in capsys.readouterr().err
    assert sentinels(out) == before


def test_a_chipwar_run_folder_is_not_replaced_by_a_sweep(tmp_path, scenario, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text(json.dumps({"kind": "chipwar-run", "schema": 1}))
    (run_dir / "model.parquet").write_text("a run's table")
    before = sentinels(run_dir)
    assert sweep(design_file(tmp_path, scenario), run_dir, "--serial", "--overwrite") == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert sentinels(run_dir) == before


def test_unwritable_folder_refused_before_any_run(tmp_path, scenario, capsys, monkeypatch):
    import experiments.outdir as outdir

    monkeypatch.setattr(outdir.os, "access", lambda *a, **k: False)  # as if read-only (we are root)
    out = tmp_path / "ro" / "s"
    assert sweep(design_file(tmp_path, scenario), out, "--serial") == 2
    err = capsys.readouterr().err
    assert "cannot write there" in err and str(out) in err and "Traceback" not in err
    assert not out.exists()


def test_disk_full_while_writing_is_one_line_with_the_resume_command(tmp_path, scenario, capsys,
                                                                      monkeypatch):
    import experiments.runner.store as store

    real = store._write_json
    calls = {"n": 0}

    def full_disk(path, obj):
        if path.parent.name == "done":
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, obj)

    monkeypatch.setattr(store, "_write_json", full_disk)
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    assert sweep(d, out, "--serial", "--chunk-size", "2") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "No space left on device" in err and "done" in err and "--resume" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(store, "_write_json", real)
    assert sweep(d, out, "--serial", "--resume") == 0
    assert read_tables(out)["model"].run_id.nunique() == 12


# --------------------------------------------------------------------------- one writer


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    assert sweep(d, out, "--serial") == 0
    lock = SweepLock(out).acquire()  # another writer holds the folder (same PID here)
    try:
        for flags in (["--resume"], ["--overwrite"]):
            assert sweep(d, out, "--serial", *flags) == 2
            err = capsys.readouterr().err
            assert f"PID {os.getpid()}" in err and str(out) in err, err
    finally:
        lock.release()
    assert sweep(d, out, "--serial", "--resume") == 0  # released: the next writer may go


def test_two_resumes_at_once_never_duplicate_rows(tmp_path, scenario, capsys):
    body = ('sampler = "grid"\nreplications = 4\nroot_seed = 5\n[parameters]\n'
            'kappa = [0.5, 1.0, 2.0, 3.0]\nus_control_level = [0.1, 0.9]\n')
    d = design_file(tmp_path, scenario, body)
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(d), "--out", str(out),
           "--workers", "2", "--chunk-size", "1", "--run-fn", "tests.fake_runs:slow_run"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out / "manifest.json").exists():
            time.sleep(0.02)
        assert sweep(d, out, "--workers", "2", "--resume", run_fn="tests.fake_runs:slow_run") == 2
        err = capsys.readouterr().err
        assert f"PID {proc.pid}" in err and "another sweep" in err, err
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0, proc.stderr.read().decode()
    m = read_tables(out)["model"]
    assert m.run_id.nunique() == 32 and not m.duplicated(["run_id", "step"]).any()


# --------------------------------------------------------------------------- code version


def test_resume_after_a_code_change_is_refused_unless_allowed(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    assert sweep(d, out, "--serial", "--chunk-size", "2") == 0
    for p in sorted((out / "done").glob("*.json"))[3:]:  # as if killed part-way
        p.unlink()
    man = json.loads((out / "manifest.json").read_text())
    assert man["code_versions"] == [code_version()]
    man.update(code_version="0123abc-old", code_versions=["0123abc-old"])
    (out / "manifest.json").write_text(json.dumps(man))
    assert sweep(d, out, "--serial", "--resume") == 2
    err = capsys.readouterr().err
    assert "0123abc-old" in err and code_version() in err and "--allow-code-change" in err
    assert json.loads((out / "manifest.json").read_text())["code_version"] == "0123abc-old"
    assert sweep(d, out, "--serial", "--allow-code-change") == 2  # only with --resume
    assert sweep(d, out, "--serial", "--resume", "--allow-code-change") == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["code_version"] == "0123abc-old"  # the first session's, never overwritten
    assert man["code_versions"] == ["0123abc-old", code_version()] and man["sessions"] == 2
    assert read_tables(out)["model"].run_id.nunique() == 12
    assert sweep(d, out, "--serial", "--resume") == 0  # this version is recorded now


# --------------------------------------------------------------------------- options, sizes


@pytest.mark.parametrize("flags, message", [
    (["--workers", "0"], "--workers 0: expected at least 1"),
    (["--dask-local", "0"], "--dask-local 0: expected at least 1"),
    (["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"], "cannot connect within 1 s"),
    (["--serial", "--connect-timeout", "0"], "--connect-timeout 0"),
    (["--serial", "--chunk-size", "0"], "--chunk-size 0"),
    (["--serial", "--max-runs", "0"], "--max-runs 0"),
])
def test_bad_executor_options_exit_2_and_leave_no_folder(flags, message, tmp_path, scenario, capsys):
    out = tmp_path / "new" / "out"
    t0 = time.monotonic()
    assert sweep(design_file(tmp_path, scenario), out, *flags) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "new").exists()
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("body, message", [
    ('root_seed = 1\n[fixed]\nend = "2030-13"\n[parameters]\nkappa = [1.0]\n', "fixed.end: '2030-13'"),
    ('root_seed = 1\n[fixed]\nend = "1850-01"\n[parameters]\nkappa = [1.0]\n', "between 1990 and 2100"),
    ('root_seed = 1\n[fixed]\nstart = "2024-01"\nend = "2023-06"\n[parameters]\nkappa = [1.0]\n',
     "fixed.end = '2023-06': expected a month at or after fixed.start"),
    ('root_seed = 1\n[parameters]\nreaction_start = ["2026-01", "2026-00"]\n',
     "parameters.reaction_start: '2026-00'"),
])
def test_design_dates_must_be_real_months(body, message, tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario, body)
    out = tmp_path / "out"
    assert sweep(d, out, "--serial") == 2
    err = capsys.readouterr().err
    assert message in err and str(d) in err, err
    assert not out.exists()


def test_huge_designs_are_refused_at_once_with_the_estimate(tmp_path, scenario, capsys):
    values = ", ".join(f"{i / 1000:.3f}" for i in range(1000))
    grid = ("root_seed = 1\n[parameters]\n" f"kappa = [{values}]\nus_control_level = [{values}]\n"
            f"alignment_weight = [{values}]\n")
    lhs = 'sampler = "lhs"\nsamples = 2000000000\nroot_seed = 1\n[parameters]\nkappa = [0.5, 4.0]\n'
    for body, n in ((grid, "1,000,000,000 runs"), (lhs, "2,000,000,000 runs")):
        d = design_file(tmp_path, scenario, body)
        t0 = time.monotonic()
        assert sweep(d, tmp_path / "out", "--serial") == 2
        assert time.monotonic() - t0 < 10
        err = capsys.readouterr().err
        assert n in err and "GiB of memory" in err and "--max-runs" in err, err
        assert not (tmp_path / "out").exists()


def test_max_runs_is_the_limit(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)  # 6 points x 2 replications
    with pytest.raises(DesignError, match="12 runs"):
        load_design(d, max_runs=11)
    assert load_design(d, max_runs=12).n_runs == 12
    assert sweep(d, tmp_path / "o", "--serial", "--max-runs", "11") == 2
    assert "more than 11 runs (the --max-runs limit)" in capsys.readouterr().err
    assert sweep(d, tmp_path / "o", "--serial", "--max-runs", "12") == 0


# --------------------------------------------------------------------------- dead workers


def test_a_worker_killed_mid_sweep_is_replaced_and_the_sweep_completes(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)
    ref = tmp_path / "ref"
    assert sweep(d, ref, "--serial") == 0
    out = tmp_path / "s"
    assert sweep(d, out, "--workers", "2", "--chunk-size", "2",
                 run_fn="tests.fake_runs:kill_once_run") == 0
    assert (tmp_path / "killed-once.flag").exists()  # a worker really was SIGKILLed
    err = capsys.readouterr().err
    assert "a worker process died; starting a new pool" in err and "Traceback" not in err
    assert_same_tables(ref, out)
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "finished" and man["counts"]["ok"] == 12
    assert not [p for t in TABLES for p in (out / t).iterdir() if p.name.startswith(".")]


def test_a_worker_that_keeps_dying_ends_in_one_line_with_the_resume_command(tmp_path, scenario,
                                                                           capsys):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    rc = sweep(d, out, "--workers", "2", "--chunk-size", "2", run_fn="tests.fake_runs:always_kill_run")
    cap = capsys.readouterr()
    err = [x for x in cap.err.splitlines() if x.startswith("chipwar sweep: error")]
    assert rc == 1 and len(err) == 1, (rc, cap.out, cap.err)
    assert "died 4 times" in err[0] and f"--out {out} --resume" in err[0]
    assert "--run-fn tests.fake_runs:always_kill_run" in err[0]
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "interrupted"
    done = read_tables(out)["model"]
    assert 0 < done.run_id.nunique() < 12 and not done.duplicated(["run_id", "step"]).any()
    # the work kept is exact: resuming with a run function that no longer kills completes it
    man["run_fn"] = FAKE
    (out / "manifest.json").write_text(json.dumps(man))
    assert sweep(d, out, "--serial", "--resume") == 0
    ref = tmp_path / "ref"
    assert sweep(d, ref, "--serial") == 0
    assert_same_tables(ref, out)


def test_a_caller_owned_pool_that_breaks_is_a_clean_interruption(tmp_path, scenario):
    import concurrent.futures as cf
    import multiprocessing

    from experiments.runner import SweepInterrupted

    design = build_design({"scenario": str(scenario), "root_seed": 1, "replications": 2,
                           "parameters": {"kappa": [0.5, fake_runs.FAIL_KAPPA]}})
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        with pytest.raises(SweepInterrupted, match="cannot be replaced"):
            run_sweep(design, tmp_path / "s", run_fn="tests.fake_runs:always_kill_run",
                      executor=pool, chunk_size=1)
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["status"] == "interrupted"


# --------------------------------------------------------------------------- progress


def test_progress_lines_when_not_on_a_terminal(tmp_path, scenario, capsys):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    assert sweep(d, out, "--serial") == 0
    err = capsys.readouterr().err
    assert "12/12 runs (" in err and "ETA" in err, err  # (chipwar plot: tests/test_plots.py)


def test_progress_false_is_silent(tmp_path, scenario, capsys):
    design = load_design(design_file(tmp_path, scenario))
    run_sweep(design, tmp_path / "s", run_fn=FAKE, serial=True, progress=False)
    assert "runs (" not in capsys.readouterr().err


def test_lock_is_released_when_the_writer_is_killed(tmp_path, scenario):
    d = design_file(tmp_path, scenario)
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(d), "--out", str(out),
           "--workers", "2", "--chunk-size", "1", "--run-fn", "tests.fake_runs:slow_run"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((out / "done").glob("*.json"))) < 2:
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    SweepLock(out).acquire().release()  # the OS dropped the dead writer's lock
    with pytest.raises(InputError, match="not empty"):
        run_sweep(load_design(d), out, run_fn="tests.fake_runs:slow_run", serial=True)
    res = run_sweep(load_design(d), out, run_fn="tests.fake_runs:slow_run", serial=True, resume=True)
    assert res.n_resumed >= 2 and res.n_resumed + res.n_ok == 12
