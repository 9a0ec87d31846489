"""model/gc_pause.py: the collector is paused over a model's set-up and restored as it was; the
commands and the sweep pool's fork server exit without the collector's final passes."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from model import gc_pause
from model.market_model import ChipMarketModel

ROOT = Path(__file__).resolve().parents[1]


def test_collector_restored_as_it_was():
    assert gc.isenabled()
    with gc_pause.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_pause.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
    with pytest.raises(RuntimeError, match="set-up failed"):
        with gc_pause.collector_paused():
            raise RuntimeError("set-up failed")
    assert gc.isenabled()


def test_set_up_runs_with_the_collector_paused(monkeypatch):
    seen = []
    real = ChipMarketModel.build_world

    def spy(self, vendors_df):
        seen.append(gc.isenabled())
        return real(self, vendors_df)

    monkeypatch.setattr(ChipMarketModel, "build_world", spy)
    m = ChipMarketModel(rng=1, end="2022-03")
    assert seen == [False] and gc.isenabled()
    m.run_model()  # and the run itself with the collector on
    assert gc.isenabled()


def test_freeze_at_exit_registers_gc_freeze_once(monkeypatch):
    registered = []
    monkeypatch.setattr(gc_pause.atexit, "register", registered.append)
    monkeypatch.setattr(gc_pause, "_FREEZE_REGISTERED", False)
    gc_pause.freeze_at_exit()
    gc_pause.freeze_at_exit()
    assert registered == [gc.freeze]


# a probe registered before the code under test runs after its exit handlers (last in, first out);
# the interpreter starts with a few hundred objects of its own in the permanent generation
_PROBE = ("import atexit, gc\n"
          "n0 = gc.get_freeze_count()\n"
          "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > n0 + 1000))\n")


@pytest.mark.parametrize("code", [
    "from experiments.cli import main\nmain(['scenarios'])",  # every chipwar command
    "import model._warm",  # the sweep pool's fork server
    "import model.validate, model.run, model._exit_quick",  # chipwar validate's fork server
], ids=["cli", "fork-server", "validate-server"])
def test_exit_skips_the_final_collections(code):
    res = subprocess.run([sys.executable, "-c", _PROBE + code], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, check=True)
    assert res.stdout.strip().splitlines()[-1] == "frozen at exit: True"


def test_the_other_fork_servers_exit_quickly(monkeypatch):
    """chipwar validate's pool and the analysis scripts' shared pool preload model._exit_quick
    (the servers are only asked for here: ProcessPoolExecutor starts them at its first task)."""
    import argparse
    import multiprocessing.context

    from experiments.analysis import shared_pool
    from model import validate

    asked = []
    monkeypatch.setattr(multiprocessing.context.ForkServerContext, "set_forkserver_preload",
                        lambda self, names: asked.append(list(names)))
    validate._pool(2).shutdown()
    with shared_pool(argparse.Namespace(serial=False, workers=2)):
        pass
    assert len(asked) == 2 and all("model._exit_quick" in names for names in asked)
