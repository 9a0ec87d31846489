"""The sweep runner: designs, seeds, executors, streaming, failures and resume (fake run functions)."""

from __future__ import annotations

import concurrent.futures as cf
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.runner import (
    TABLES,
    SerialExecutor,
    build_design,
    load_design,
    read_tables,
    run_sweep,
    uses_process_pool,
)
from model.errors import DesignError, InputError
from tests import fake_runs

FAKE = "tests.fake_runs:fake_run"


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    """A minimal valid scenario file (the shipped ones may not exist yet)."""
    p = tmp_path / "scn.toml"
    p.write_text('name = "test"\n[parameters]\nkappa = 1.0\n', encoding="utf-8")
    return str(p)


def grid(scenario: str, **over) -> dict:
    spec = {"scenario": scenario, "sampler": "grid", "replications": 2, "root_seed": 11,
            "fixed": {"end": "2026-12"},
            "parameters": {"kappa": [0.5, fake_runs.FAIL_KAPPA, 2.0], "us_control_level": [0.2, 0.8]}}
    spec.update(over)
    return spec


def assert_tables_equal(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert set(a) == set(b) == set(TABLES)
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)


def test_executors_give_identical_tables(scenario, tmp_path):
    design = build_design(grid(scenario))
    run_sweep(design, tmp_path / "serial", run_fn=FAKE, serial=True)
    ref = read_tables(tmp_path / "serial")
    assert len(ref["model"]) == design.n_runs * fake_runs.N_STEPS
    run_sweep(design, tmp_path / "pool", run_fn=fake_runs.fake_run, workers=2)
    assert_tables_equal(ref, read_tables(tmp_path / "pool"))
    run_sweep(design, tmp_path / "pool3", run_fn=FAKE, workers=2, chunk_size=5)
    assert_tables_equal(ref, read_tables(tmp_path / "pool3"))
    res = run_sweep(design, tmp_path / "dask", run_fn=FAKE, dask_local=2)
    assert res.n_ok == design.n_runs and "Dask" in res.executor
    assert_tables_equal(ref, read_tables(tmp_path / "dask"))


def test_seeds_stable_distinct_and_on_every_row(scenario, tmp_path):
    d1, d2 = build_design(grid(scenario)), build_design(grid(scenario))
    seeds = [r.seed for r in d1.runs()]
    assert seeds == [r.seed for r in d2.runs()]
    assert len(set(seeds)) == len(seeds) == 12
    # the documented derivation, independently
    kids = np.random.SeedSequence(11).spawn(12)
    assert seeds == [int(k.generate_state(1)[0]) for k in kids]
    other = build_design(grid(scenario, root_seed=12))
    assert not set(seeds) & {r.seed for r in other.runs()}
    run_sweep(d1, tmp_path / "s", run_fn=FAKE, serial=True)
    tables = read_tables(tmp_path / "s")
    by_id = {r.run_id: r for r in d1.runs()}
    for t, df in tables.items():
        assert df["seed"].ne(-1).all() and df["run_id"].isin(by_id).all(), t
        assert (df["seed"] == df["run_id"].map(lambda i: by_id[i].seed)).all(), t
        assert (df["replication"] == df["run_id"].map(lambda i: by_id[i].replication)).all(), t
        assert (df["kappa"] == df["run_id"].map(lambda i: by_id[i].varied["kappa"])).all(), t
    # replications of one design point differ, because their seeds do
    m = tables["model"]
    a = m[m.run_id == "00000-000"].cn_domestic_share.to_numpy()
    b = m[m.run_id == "00000-001"].cn_domestic_share.to_numpy()
    assert not np.allclose(a, b)


def test_samplers(scenario, tmp_path):
    ranges = {"kappa": [0.5, 4.0], "us_control_level": [0.1, 0.9]}
    lhs = build_design(grid(scenario, sampler="lhs", samples=10, parameters=ranges))
    assert lhs.points.shape == (10, 2)
    assert lhs.points.kappa.between(0.5, 4.0).all()
    # Latin: each of 10 equal strata of each parameter holds exactly one point
    strata = np.floor((lhs.points.kappa - 0.5) / 3.5 * 10).astype(int)
    assert sorted(strata) == list(range(10))
    again = build_design(grid(scenario, sampler="lhs", samples=10, parameters=ranges))
    pd.testing.assert_frame_equal(lhs.points, again.points)
    other = build_design(grid(scenario, sampler="lhs", samples=10, parameters=ranges, root_seed=5))
    assert not np.allclose(lhs.points.kappa, other.points.kappa)
    sob = build_design(grid(scenario, sampler="sobol", samples=8, parameters=ranges))
    assert len(sob.points) == 8 * (2 * 2 + 2)
    mor = build_design(grid(scenario, sampler="morris", samples=3, parameters=ranges))
    assert len(mor.points) == 3 * (2 + 1)
    assert mor.points.us_control_level.between(0.1, 0.9).all()
    g = build_design(grid(scenario))
    assert len(g.points) == 6 and g.n_runs == 12
    assert list(g.points.itertuples(index=False, name=None))[:2] == [(0.5, 0.2), (0.5, 0.8)]

    (tmp_path / "pts.csv").write_text("kappa,us_control_level\n1.0,0.3\n2.5,0.7\n", encoding="utf-8")
    (tmp_path / "pts.toml").write_text(
        "[[points]]\nkappa = 1.0\nus_control_level = 0.3\n[[points]]\nkappa = 2.5\n"
        "us_control_level = 0.7\n", encoding="utf-8")
    for name in ("pts.csv", "pts.toml"):
        spec = {"scenario": scenario, "sampler": "table", "table": name, "root_seed": 1}
        (tmp_path / "d.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in spec.items()),
                                         encoding="utf-8")
        t = load_design(tmp_path / "d.toml")
        assert t.points.to_dict("records") == [{"kappa": 1.0, "us_control_level": 0.3},
                                               {"kappa": 2.5, "us_control_level": 0.7}], name


def test_quick_shrinks_the_design(scenario):
    spec = grid(scenario, parameters={"kappa": [0.5, 1.0, 2.0, 3.0], "us_control_level": [0.2, 0.8]})
    q = build_design(spec, quick=True)
    assert q.replications == 1 and len(q.points) == 4
    assert build_design(spec, quick=True, replications=3).replications == 3
    lhs = grid(scenario, sampler="lhs", samples=50, parameters={"kappa": [0.5, 4.0]})
    assert len(build_design(lhs, quick=True).points) == 4


def test_failures_recorded_others_complete_and_resume_retries(scenario, tmp_path):
    design = build_design(grid(scenario))
    out = tmp_path / "f"
    res = run_sweep(design, out, run_fn="tests.fake_runs:failing_run", workers=2)
    bad = {r.run_id for r in design.runs() if r.varied["kappa"] == fake_runs.FAIL_KAPPA}
    assert (res.n_ok, res.n_failed) == (8, 4) and len(bad) == 4
    lines = [json.loads(x) for x in (out / "failures.jsonl").read_text().splitlines()]
    assert {x["run_id"] for x in lines} == bad
    assert all("ZeroDivisionError: fake model failure" in x["traceback"] for x in lines)
    assert all(x["params"]["kappa"] == fake_runs.FAIL_KAPPA and x["seed"] > 0 for x in lines)
    tables = read_tables(out)
    assert set(tables["model"].run_id) == {r.run_id for r in design.runs()} - bad
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["failed"] == 4 and manifest["status"] == "finished"
    # resume retries only the failed runs; the failure log is not duplicated
    res2 = run_sweep(design, out, run_fn="tests.fake_runs:failing_run", serial=True, resume=True)
    assert (res2.n_resumed, res2.n_ok, res2.n_failed) == (8, 0, 4)
    assert len((out / "failures.jsonl").read_text().splitlines()) == 4
    assert_tables_equal(tables, read_tables(out))


def test_run_fn_receives_scenario_fixed_and_varied(scenario, tmp_path):
    seen = []

    def recording(params, seed):
        seen.append((dict(params), seed))
        return fake_runs.fake_run(params, seed)

    design = build_design(grid(scenario))
    run_sweep(design, tmp_path / "o", run_fn=recording, serial=True)
    assert [s for _, s in seen] == [r.seed for r in design.runs()]
    first = seen[0][0]
    assert first == {"scenario": scenario, "end": "2026-12", "kappa": 0.5, "us_control_level": 0.2,
                     "run_id": "00000-000", "replication": 0}


def test_run_fn_returning_bad_tables_is_a_run_failure(scenario, tmp_path):
    def no_vendors(params, seed):
        t = fake_runs.fake_run(params, seed)
        del t["vendors"]
        return t

    res = run_sweep(build_design(grid(scenario)), tmp_path / "o", run_fn=no_vendors, serial=True)
    assert res.n_failed == 12
    assert "no 'vendors' DataFrame" in (tmp_path / "o" / "failures.jsonl").read_text()


def test_resume_after_crash_drops_orphans_and_matches(scenario, tmp_path):
    design = build_design(grid(scenario, replications=3))
    run_sweep(design, tmp_path / "ref", run_fn=FAKE, serial=True, chunk_size=2)
    out = tmp_path / "crash"
    run_sweep(design, out, run_fn=FAKE, serial=True, chunk_size=2)
    # simulate a SIGKILL: some chunks wrote parts but no marker, one part half-written
    markers = sorted((out / "done").glob("*.json"))
    for m in markers[3:]:
        m.unlink()
    (out / "model" / "00004-002.parquet").write_bytes(b"PAR1 half a part")
    (out / "adoption" / ".00005-000.parquet.tmp-999").write_bytes(b"junk")
    (out / ".manifest.json.tmp-999").write_text("{")
    got_before = read_tables(out)  # only marked chunks are read, never the orphans
    assert got_before["model"].run_id.nunique() == 6
    res = run_sweep(design, out, run_fn=FAKE, serial=True, resume=True)
    assert res.n_resumed == 6 and res.n_ok == design.n_runs - 6
    got = read_tables(out)
    assert_tables_equal(read_tables(tmp_path / "ref"), got)
    assert not got["model"].duplicated(["run_id", "step"]).any()
    assert not list(out.rglob(".*tmp*"))
    marked = {p for m in (out / "done").glob("*.json") for p in json.loads(m.read_text())["parts"].values()}
    on_disk = {f"{t}/{p.name}" for t in TABLES for p in (out / t).iterdir()}
    assert on_disk == marked  # orphans and temp files are gone
    # resuming a finished sweep does nothing and changes nothing
    res = run_sweep(design, out, run_fn=FAKE, serial=True, resume=True)
    assert (res.n_resumed, res.n_ok, res.n_chunks) == (design.n_runs, 0, 0)
    assert_tables_equal(got, read_tables(out))


def test_output_dir_rules(scenario, tmp_path):
    design = build_design(grid(scenario, replications=1))
    out = tmp_path / "o"
    run_sweep(design, out, run_fn=FAKE, serial=True)
    with pytest.raises(InputError, match="not empty"):
        run_sweep(design, out, run_fn=FAKE, serial=True)
    changed = build_design(grid(scenario, replications=1, root_seed=99))
    with pytest.raises(DesignError, match="differs"):
        run_sweep(changed, out, run_fn=FAKE, serial=True, resume=True)
    res = run_sweep(changed, out, run_fn=FAKE, serial=True, overwrite=True)
    assert res.n_ok == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 99 and len(manifest["design_table"]) == 6
    assert {"mesa", "numpy", "pandas", "pyarrow"} <= set(manifest["packages"])
    assert manifest["code_version"] and manifest["finished"]
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a chipwar output folder"):
        run_sweep(design, stranger, run_fn=FAKE, serial=True, overwrite=True)
    assert (stranger / "notes.txt").exists()


def test_automatic_chunks_amortise_short_runs(scenario, tmp_path):
    spec = grid(scenario, sampler="lhs", samples=100, replications=2,
                parameters={"kappa": [0.5, 4.0]})
    res = run_sweep(build_design(spec), tmp_path / "c", run_fn=FAKE, serial=True)
    assert res.n_ok == 200
    # serial: ~4 chunks over the sweep (after the first single-run probes), not 200
    assert res.n_chunks <= 12
    assert len(list((tmp_path / "c" / "model").glob("*.parquet"))) == res.n_chunks


def test_run_ids_sort_in_run_order_even_for_large_designs(scenario):
    d = build_design(grid(scenario, replications=1001, parameters={"kappa": [0.5, 1.0]}))
    ids = [r.run_id for r in d.runs()]
    assert ids[:2] == ["00000-0000", "00000-0001"] and ids[-1] == "00001-1000"
    assert ids == sorted(ids) and len(set(ids)) == 2002


class FlakyExecutor(SerialExecutor):
    """Serial, but the second task fails outside the run function (like a killed Dask worker)."""

    def __init__(self):
        self.n = 0

    def submit(self, fn, /, *args, **kwargs):
        self.n += 1
        if self.n == 2:
            fut = cf.Future()
            fut.set_exception(RuntimeError("worker lost"))
            return fut
        return super().submit(fn, *args, **kwargs)


def test_a_failed_task_fails_its_runs_and_the_sweep_goes_on(scenario, tmp_path):
    design = build_design(grid(scenario))
    res = run_sweep(design, tmp_path / "o", run_fn=FAKE, executor=FlakyExecutor(), chunk_size=2)
    assert (res.n_ok, res.n_failed) == (10, 2)
    lines = [json.loads(x) for x in (tmp_path / "o" / "failures.jsonl").read_text().splitlines()]
    assert [x["run_id"] for x in lines] == ["00001-000", "00001-001"]
    assert "RuntimeError: worker lost" in lines[0]["traceback"]
    res = run_sweep(design, tmp_path / "o", run_fn=FAKE, serial=True, resume=True)
    assert (res.n_resumed, res.n_ok, res.n_failed) == (10, 2, 0)
    assert (tmp_path / "o" / "failures.jsonl").read_text() == ""
    assert read_tables(tmp_path / "o")["model"].run_id.nunique() == 12


class _RecordingExecutor(cf.Executor):
    """Runs tasks in-process and records the ``out_dir`` each chunk was given. Not a type the
    runner knows to share its file system (as with a remote Dask cluster): tables travel back."""

    def __init__(self) -> None:
        self.out_dirs: list[str | None] = []

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN201 - Executor signature
        self.out_dirs.append(args[-1])
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future, as executors do
            fut.set_exception(exc)
        return fut


class _LocalRecordingExecutor(_RecordingExecutor, cf.ThreadPoolExecutor):
    """The same, but a local executor type: workers write their own Parquet parts."""


def test_parts_written_by_workers_or_sent_back_to_the_parent_are_the_same(scenario, tmp_path):
    design = build_design(grid(scenario))
    remote, local = _RecordingExecutor(), _LocalRecordingExecutor()
    run_sweep(design, tmp_path / "remote", run_fn=FAKE, executor=remote)
    run_sweep(design, tmp_path / "local", run_fn=FAKE, executor=local)
    assert remote.out_dirs and all(d is None for d in remote.out_dirs)  # tables came back
    assert local.out_dirs and all(d == str((tmp_path / "local").resolve()) for d in local.out_dirs)
    assert_tables_equal(read_tables(tmp_path / "remote"), read_tables(tmp_path / "local"))
    for d in ("remote", "local"):  # every worker temp file published, none left behind
        leftovers = [p for t in TABLES for p in (tmp_path / d / t).iterdir() if p.name.startswith(".")]
        assert leftovers == []


def test_only_the_process_pool_starts_its_server_early():
    # the fork server is launched before the sweep is set up only when it will be used
    assert uses_process_pool(None, None, None, None, False)
    assert uses_process_pool(None, 2, None, None, False)
    assert not uses_process_pool(None, 0, None, None, False)  # refused later with a message
    assert not uses_process_pool(SerialExecutor(), None, None, None, False)
    assert not uses_process_pool(None, None, "tcp://h:8786", None, False)
    assert not uses_process_pool(None, None, None, 2, False)
    assert not uses_process_pool(None, None, None, None, True)
