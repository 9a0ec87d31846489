"""Bad-input suite, part 2 (issue 17): output folders, disk faults, Epoch CSVs and the catalog,
`chipwar validate`, the experiment scripts' ``--out`` and docking flags.

Each case asserts the exit status, the message (path, flag or row and column; no traceback) and
that nothing outside the intended folder changed (snapshots with sentinel files; the packaged
data untouched). Resources (memory estimate, limit) are in tests/test_bad_inputs_resources.py.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from experiments import baseline, discovery, docking, export_controls, rare_earth, scenarios, sensitivity
from experiments.outdir import experiment_out, is_ours
from tests.bad_inputs_helpers import REPO, cli, packaged_snapshot, snapshot

EPOCH = REPO / "tests" / "fixtures" / "epoch_sample.csv"
SHORT = ["--end", "2022-02"]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with a sentinel file beside it and inside a folder that is not ours."""
    cwd = tmp_path / "cwd"
    (cwd / "thesis").mkdir(parents=True)
    (cwd / "thesis" / "ch1.tex").write_text("chapter one")
    (tmp_path / "beside.txt").write_text("keep me")
    monkeypatch.chdir(cwd)
    return cwd


# ----------------------------------------------------------------------------- output folders

def _refused(tmp_path, capsys, argv, fragments, rc_expected=2):
    before = snapshot(tmp_path)
    rc, _out, err = cli(argv, capsys)
    assert rc == rc_expected, err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert snapshot(tmp_path) == before
    return err


def test_out_not_empty_and_not_ours_is_refused(tmp_path, work, capsys):
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "thesis"],
             ["--out thesis", "not empty", "--overwrite"])


def test_out_not_ours_is_refused_even_with_overwrite(tmp_path, work, capsys):
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "thesis", "--overwrite"],
             ["--out thesis", "not a chipwar output folder"])


def test_a_foreign_manifest_json_is_not_a_chipwar_marker(tmp_path, work, capsys):
    ext = work / "extension"
    ext.mkdir()
    (ext / "manifest.json").write_text(json.dumps({"name": "browser extension", "version": "1.0"}))
    (ext / "code.js").write_text("precious()")
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "extension", "--overwrite"],
             ["--out extension", "not a chipwar output folder"])


def test_out_naming_a_file_is_refused(tmp_path, work, capsys):
    (work / "notes.txt").write_text("x")
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "notes.txt"],
             ["--out notes.txt", "not a folder"])


@pytest.mark.parametrize("target,why", [
    (".", "current folder"), ("..", "current folder or one of its parents"), ("/", "file-system root"),
])
def test_protected_folders_are_refused(tmp_path, work, capsys, target, why):
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", target, "--overwrite"], [f"--out {target}", why])


def test_home_folder_is_refused(tmp_path, work, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", home, "--overwrite"], ["home folder"])


def test_an_empty_current_folder_is_refused_too(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "."], ["current folder"])


def test_out_under_a_file_is_refused_before_computing(tmp_path, work, capsys):
    (work / "afile").write_text("x")
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "afile/sub/run"],
             ["--out afile/sub/run", "cannot write there", "is a file"])


def test_out_on_a_read_only_file_system_is_refused_before_computing(tmp_path, work, capsys):
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc on this system (the read-only file system used here)")
    _refused(tmp_path, capsys, ["run", *SHORT, "--out", "/proc/chipwar-test-run"],
             ["--out /proc/chipwar-test-run", "cannot write there"])


def test_out_in_a_read_only_folder_is_refused_before_computing(tmp_path, work, capsys):
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (the /proc and file cases cover it)")
        _refused(tmp_path, capsys, ["run", *SHORT, "--out", "ro/run"], ["--out ro/run", "cannot write there"])
    finally:
        ro.chmod(0o755)


def test_an_empty_folder_is_used_and_an_earlier_run_is_replaced_only_with_overwrite(tmp_path, work, capsys):
    (work / "r").mkdir()
    rc, out, err = cli(["run", *SHORT, "--out", "r"], capsys)
    assert rc == 0, err
    manifest = json.loads((work / "r" / "manifest.json").read_text())
    assert manifest["kind"] == "chipwar-run" and manifest["schema"] >= 1 and manifest["seed"] == 0
    assert is_ours(work / "r")
    (work / "r" / "stale.txt").write_text("from before")
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", *SHORT, "--out", "r"], capsys)
    assert rc == 2 and "--overwrite" in err and snapshot(tmp_path) == before
    outside = snapshot(tmp_path, skip=work / "r")
    rc, _, err = cli(["run", *SHORT, "--seed", "1", "--out", "r", "--overwrite"], capsys)
    assert rc == 0, err
    assert json.loads((work / "r" / "manifest.json").read_text())["seed"] == 1
    assert not (work / "r" / "stale.txt").exists()  # replaced as a whole
    assert snapshot(tmp_path, skip=work / "r") == outside
    assert (work / "thesis" / "ch1.tex").read_text() == "chapter one"
    assert not [p for p in work.iterdir() if p.name.startswith(".r.")]  # no staging folder left


def test_a_full_disk_while_writing_is_one_line_and_leaves_nothing(tmp_path, work, capsys, monkeypatch):
    def full(self, path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    err = _refused(tmp_path, capsys, ["run", *SHORT, "--out", "r"],
                   ["No space left on device", "model.parquet", "writing the run to r"], rc_expected=1)
    assert len([ln for ln in err.splitlines() if "error" in ln]) == 1 and "chipwar run: error:" in err
    assert not (work / "r").exists()


# ----------------------------------------------------------------------------- Epoch CSVs, catalog

def _epoch_with(tmp_path: Path, column: str, value: str, name: str = "NVIDIA B300 (Blackwell Ultra)") -> Path:
    df = pd.read_csv(EPOCH, dtype=str, keep_default_na=False)
    df.loc[df["Hardware name"] == name, column] = value
    path = tmp_path / "epoch_bad.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def chips_copy(tmp_path):
    path = tmp_path / "chips.csv"
    path.write_bytes((REPO / "model" / "data" / "chips.csv").read_bytes())
    return path


@pytest.mark.parametrize("column,value,fragment", [
    ("TDP (W)", "about 700", "'about 700'"),
    ("Tensor-FP16/BF16 performance (FLOP/s)", "2.25e15?", "'2.25e15?'"),
    ("Memory (bytes)", "inf", "'inf'"),
    ("Release date", "Q3 2025", "'Q3 2025'"),
    ("Release date", "2025-02-30", "'2025-02-30'"),
    ("Process size (nm)", "4N", "'4N'"),
])
def test_epoch_unparseable_cell_names_row_and_column(tmp_path, capsys, chips_copy, column, value, fragment):
    bad = _epoch_with(tmp_path, column, value)
    packaged = packaged_snapshot()
    err = _refused(tmp_path, capsys, ["catalog", "import-epoch", bad, "--chips", chips_copy],
                   ["epoch_bad.csv, row 1", f"column {column!r}", fragment, "--skip-bad-rows", "nothing written"])
    assert err.count("\n") == 1 and packaged_snapshot() == packaged


def test_epoch_skip_bad_rows_reports_the_skip(tmp_path, capsys, chips_copy):
    bad = _epoch_with(tmp_path, "TDP (W)", "n/a?")
    rc, out, err = cli(["catalog", "import-epoch", bad, "--chips", chips_copy, "--skip-bad-rows"], capsys)
    assert rc == 0, err
    assert "skipped NVIDIA B300 (Blackwell Ultra): bad value" in out and "'TDP (W)'" in out
    assert "b300-blackwell-ultra" not in pd.read_csv(chips_copy)["id"].tolist()


@pytest.mark.parametrize("argv,fragments", [
    ([EPOCH], ["refusing to rewrite the packaged model/data/chips.csv", "--in-place", "--chips OUT"]),
    ([EPOCH, "--in-place", "--chips", "x.csv"], ["--chips OUT or --in-place"]),
    (["{tmp}", "--dry-run"], ["is a folder", "Epoch AI hardware CSV"]),
    (["{tmp}/missing.csv", "--dry-run"], ["missing.csv", "file not found"]),
    ([EPOCH, "--chips", "{tmp}"], ["--chips", "is a folder"]),
    ([EPOCH, "--chips", "{tmp}/no/such/chips.csv"], ["does not exist"]),
    ([EPOCH, "--chips", "{tmp}/afile/chips.csv"], ["does not exist"]),
    (["{tmp}/empty.csv", "--dry-run"], ["empty.csv", "not a readable CSV"]),
    (["{tmp}/latin1.csv", "--dry-run"], ["latin1.csv", "not a readable CSV"]),
    (["{tmp}/header.csv", "--dry-run"], ["header.csv", "missing column(s)", "'Hardware name'"]),
])
def test_import_epoch_bad_paths_and_files(tmp_path, monkeypatch, capsys, argv, fragments):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "latin1.csv").write_bytes("Hardware name,Manufacturer\nCaf\u00e9 NPU,X\n".encode("latin-1"))
    (tmp_path / "header.csv").write_text("Name,Maker\nx,y\n")
    packaged = packaged_snapshot()
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in argv]
    _refused(tmp_path, capsys, ["catalog", "import-epoch", *argv], fragments)
    assert packaged_snapshot() == packaged


@pytest.mark.parametrize("flag,target,fragment", [
    ("--chips", "{tmp}", "Is a directory"), ("--systems", "{tmp}/nope.csv", "file not found"),
])
def test_catalog_check_bad_paths(tmp_path, capsys, flag, target, fragment):
    _refused(tmp_path, capsys, ["catalog", "check", flag, target.replace("{tmp}", str(tmp_path))], [fragment])


# ----------------------------------------------------------------------------- validate

@pytest.mark.parametrize("argv,fragments", [
    (["--root-seed", "-1"], ["--root-seed -1", "[0, 2**63)"]),
    (["--root-seed", str(2**64)], [f"--root-seed {2**64}"]),
    (["--seeds", "0"], ["--seeds 0", "[1, 10000]"]),
    (["--seeds", "1000000000"], ["--seeds 1000000000"]),
    (["--workers", "0"], ["--workers 0"]),
    (["--observed", "{tmp}"], ["--observed", "is a folder"]),
    (["--observed", "{tmp}/missing.csv"], ["missing.csv", "file not found"]),
    (["--seeds", "x"], ["--seeds", "'x'"]),
])
def test_validate_bad_flags(tmp_path, monkeypatch, capsys, argv, fragments):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    _refused(tmp_path, capsys, ["validate", *argv], fragments)


def test_validate_reports_progress_off_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(["validate", "--seeds", "1", "--format", "json"], capsys)
    assert rc in (0, 1) and "1/1 history replays" in err


# ----------------------------------------------------------------------------- experiment scripts

SCRIPTS = [baseline, discovery, export_controls, rare_earth, scenarios, sensitivity]


@pytest.mark.parametrize("module", SCRIPTS, ids=lambda m: m.__name__.split(".")[-1])
@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_experiment_out_not_ours_is_refused(tmp_path, work, capsys, module, overwrite):
    before = snapshot(tmp_path)
    rc = module.main(["--quick", "--serial", "--out", "thesis", *(["--overwrite"] if overwrite else [])])
    err = capsys.readouterr().err
    assert rc == 2 and "--out thesis" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("module,target,fragment", [
    (baseline, "notes.txt", "not a folder"), (scenarios, ".", "current folder"), (sensitivity, "/", "root"),
], ids=["baseline-file", "scenarios-cwd", "sensitivity-root"])
def test_experiment_out_file_or_protected_is_refused(tmp_path, work, capsys, module, target, fragment):
    (work / "notes.txt").write_text("x")
    before = snapshot(tmp_path)
    rc = module.main(["--quick", "--serial", "--out", target, "--overwrite"])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and snapshot(tmp_path) == before


def test_experiment_folder_holding_sweeps_carries_its_own_marker(tmp_path):
    out = experiment_out(tmp_path / "exp", overwrite=False, script="scenarios", holds_sweeps=True)
    assert is_ours(out) and json.loads((out / "manifest.json").read_text())["script"] == "scenarios"
    # a folder with only that marker (a run stopped early) counts as empty; with results it does not
    assert experiment_out(out, overwrite=False, script="scenarios", holds_sweeps=True) == out
    (out / "outcomes.csv").write_text("x")
    with pytest.raises(Exception, match="not empty"):
        experiment_out(out, overwrite=False, script="scenarios", holds_sweeps=True)
    assert experiment_out(out, overwrite=True, script="scenarios", holds_sweeps=True) == out


@pytest.mark.parametrize("argv,fragment", [
    (["--runs", "0"], "--runs 0"), (["--seed", "-1"], "--seed -1"), (["--workers", "0"], "--workers 0"),
])
def test_docking_bad_flags(capsys, argv, fragment):
    assert docking.main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_docking_reports_progress_off_a_terminal(capsys):
    df = docking.arthur(3, 0, arrivals=60, workers=1, progress=None)
    assert len(df) == 3 and "3/3 docking runs" in capsys.readouterr().err


# ----------------------------------------------------------------------------- damaged tables

@pytest.mark.parametrize("table", ["model", "vendors"])
def test_plot_of_a_run_with_a_damaged_table_is_one_line(tmp_path, work, capsys, table):
    run = work / "run"
    rc, _out, err = cli(["run", *SHORT, "--out", run], capsys)
    assert rc == 0, err
    (run / f"{table}.parquet").write_text("not parquet")
    err = _refused(tmp_path, capsys, ["plot", run, "--out", work / "figs"],
                   [f"{table}.parquet", "not a readable Parquet table"])
    assert not (work / "figs").exists()


def test_reading_a_sweep_with_a_damaged_part_names_the_part(tmp_path, work, capsys):
    from experiments.runner import read_tables
    from model.errors import InputError

    sweep = work / "sweep"
    rc, _out, err = cli(["sweep", REPO / "experiments" / "designs" / "smoke.toml", "--serial", "--out", sweep],
                        capsys)
    assert rc == 0, err
    part = sorted((sweep / "model").glob("*.parquet"))[0]
    part.write_bytes(b"PAR1 damaged")
    with pytest.raises(InputError, match=rf"{part.name}: not a readable Parquet table"):
        read_tables(sweep)
