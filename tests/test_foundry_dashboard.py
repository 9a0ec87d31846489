"""The dashboard fires a Taiwan disruption: a depth slider among the levers and a start month,
applied on Reset like every setting, shown in the lever table, and the same run as run_one."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.dashboard import LEVERS, State, disruption_start_choices
from experiments.dashboard_views import status_html
from model.run import run_one


def test_the_dashboard_fires_a_taiwan_disruption_on_reset():
    assert "taiwan_disruption_depth" in [n for n, _l, _s in LEVERS]
    assert "2027-01" in disruption_start_choices()
    st = State()
    st.set_setting("taiwan_disruption_depth", 0.9)
    st.set_setting("taiwan_disruption_start", "2027-01")
    html = status_html(st.run.value, 0, st.settings.value, st.scenario.value)
    assert "Taiwan disruption depth" in html and "press Reset to apply them" in html
    st.guarded("Reset", st.reset)()
    r = st.run.value
    assert r.done.wait(120) and st.message.value is None and r.error is None
    assert r.p["taiwan_disruption_depth"] == pytest.approx(0.9)
    html = status_html(r, r.months, st.settings.value, st.scenario.value)
    assert "2027-01" in html and "press Reset" not in html
    want = run_one({"scenario": "baseline", "taiwan_disruption_depth": 0.9}, 0)["model"]
    got = r.tables["model"]
    cols = [c for c in want.columns if c != "run_id"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), want[cols].reset_index(drop=True))
    ratio = got.set_index("date")["us_cn_compute_ratio"]
    base = run_one({"scenario": "baseline"}, 0)["model"].set_index("date")["us_cn_compute_ratio"]
    assert ratio["2027-06"] < base["2027-06"]
