"""``chipwar sweep`` starts the pool's fork server before it parses its command line (issue 19),
only when the arguments choose the local process pool, with the runner's own preload list."""

from __future__ import annotations

import pytest

from experiments import pool_start
from experiments.runner.base import DEFAULT_RUN_FN


@pytest.fixture
def started(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(pool_start.multiprocessing.forkserver, "ensure_running", lambda: calls.append(["run"]))

    class Ctx:
        def set_forkserver_preload(self, mods):
            calls.append(list(mods))

    monkeypatch.setattr(pool_start.multiprocessing, "get_context", lambda how: Ctx())
    return calls


def test_the_default_run_function_is_the_runners():
    assert pool_start.DEFAULT_RUN_FN == DEFAULT_RUN_FN == "model.run:run_tables"


@pytest.mark.parametrize("args, pool", [
    (["d.toml"], True), (["d.toml", "--workers", "2"], True), (["d.toml", "--workers=3"], True),
    (["d.toml", "--serial"], False), (["d.toml", "--scheduler", "tcp://h:8786"], False),
    (["d.toml", "--dask-local=2"], False), (["d.toml", "--workers", "0"], False),
    (["d.toml", "--workers", "two"], False), (["d.toml", "--workers"], False), (["--help"], False),
])
def test_only_the_local_pool_starts_the_server(started, args, pool):
    assert pool_start.start_for_sweep_args(args) is pool
    assert bool(started) is pool
    if pool:
        assert started == [["__main__", "experiments.runner", "model.run", "model._warm"], ["run"]]


def test_the_server_preloads_what_the_runner_asks_for(started):
    from experiments.runner import executors

    assert pool_start.start_for_sweep_args(["d.toml", "--run-fn", "tests.helpers:cheap"])
    assert started[0] == ["__main__", "experiments.runner", "tests.helpers"]  # no model: no warm-up
    started.clear()
    executors._pool_context(("model.run",), start=False)
    assert started == [["__main__", "experiments.runner", "model.run", "model._warm"]]
