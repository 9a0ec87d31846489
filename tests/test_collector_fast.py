"""The model's DataCollector (issue 19): the same table as Mesa's own collector, month by month,
without a deepcopy per reporter; other reporters still go through Mesa's collect."""

from __future__ import annotations

import math
from functools import partial

import pandas as pd
from mesa import DataCollector

from model.market_model import ChipMarketModel, MetricsCollector, latest_metric


def test_same_table_as_mesa_collector():
    m = ChipMarketModel(rng=3, end="2023-06")
    mesa_dc = DataCollector(model_reporters=dict(m.datacollector.model_reporters))
    mesa_dc.collect(m)  # before any month: NaN everywhere, as in ours below
    m.datacollector.collect(m)
    while m.running:
        m.step()
        mesa_dc.collect(m)
    ours, theirs = m.datacollector.get_model_vars_dataframe(), mesa_dc.get_model_vars_dataframe()
    assert len(ours) == 19 and m.datacollector._plan is not None  # the fast path ran
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert math.isnan(ours.iloc[0, 0]) and not ours.iloc[-1].isna().all()
    assert m.datacollector._collection_steps == mesa_dc._collection_steps


def test_other_reporters_take_mesas_path():
    m = ChipMarketModel(rng=3, end="2022-03")
    dc = MetricsCollector(model_reporters={"hhi": partial(latest_metric, "hhi_world"),
                                           "month": lambda mod: [mod.month]})
    while m.running:
        m.step()
        dc.collect(m)
    assert dc._plan is None
    df = dc.get_model_vars_dataframe()
    assert df["month"].tolist() == [[m.start_month + 1], [m.start_month + 2], [m.start_month + 3]]  # after step
    assert df["hhi"].tolist() == list(m.datacollector.get_model_vars_dataframe()["hhi_world"])
