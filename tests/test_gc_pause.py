"""model/gc_pause.py: the collector is paused over a model's set-up and restored as it was."""

from __future__ import annotations

import gc

import pytest

from model import gc_pause
from model.market_model import ChipMarketModel


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
