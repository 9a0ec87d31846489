"""The dashboard page builds, its recorded runs are exactly `run_one`'s, the cursor never passes
the run's end, errors land on the page, and `chipwar dashboard` refuses bad addresses.
(The real-browser test is tests/test_dashboard_browser.py.)"""

from __future__ import annotations

import re
import socket

import ipyvuetify as v
import ipywidgets
import numpy as np
import pandas as pd
import pytest
import solara

from experiments import cli
from experiments.commands.dashboard import bind
from experiments.dashboard import LEVERS, Page, State
from experiments.dashboard_runs import (
    Comparison,
    RecordedRun,
    SeedBand,
    dashboard_scenarios,
    run_params,
    scenario_settings,
)
from experiments.dashboard_views import (
    band_figure,
    compare_figure,
    csv_bytes,
    price_html,
    stack_share_figure,
    status_html,
)
from model.errors import InputError
from model.run import run_one
from model.scenario import available_scenarios
from model.types import STACKS


def _month(html: str) -> str:
    return re.search(r'id="chipwar-month">([^<]*)<', html).group(1)


def _same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in ("model", "adoption", "vendors"):
        pd.testing.assert_frame_equal(a[name].drop(columns="run_id"), b[name].drop(columns="run_id"))


@pytest.fixture(scope="module")
def run() -> RecordedRun:
    return RecordedRun("baseline", None, 0, start=False).run_here()


def test_page_builds_with_plain_controls_and_named_tabs():
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    labels = sorted(b.children[0] for b in rc.find(v.Btn).widgets if isinstance(b.children[0], str))
    assert {"Reset", "▶ Play", "Step", "End"} <= set(labels)
    sliders = [str(s.label) for s in rc.find(v.Slider).widgets]
    for _name, label, _step in LEVERS:  # every lever shows its value in its label
        assert any(re.fullmatch(rf"{re.escape(label)}: \d+\.\d\d", s) for s in sliders), (label, sliders)
    assert any(s.startswith("Play speed: ") for s in sliders)
    assert not any(j in s for s in sliders for j in ("Render Interval", "Play Interval", "Use Threads"))
    scen = rc.find(v.Select, label="Scenario").widget
    offered = [i if isinstance(i, str) else i["value"] for i in scen.items]
    assert "arthur_docking" in available_scenarios() and "arthur_docking" not in offered
    assert offered == dashboard_scenarios() and "baseline" in offered
    tabs = [t.children[0] for t in rc.find(v.Tab).widgets]
    assert tabs == ["This run", "Seeds", "Compare"]
    assert len(rc.find(ipywidgets.Image).widgets) == 3


def test_recorded_run_is_run_one_and_shows_one_month_everywhere(run):
    _same_tables(run.tables, run_one({"scenario": "baseline"}, 0))
    assert run.months == run.total == 168 and run.error is None
    for months in (1, 37, run.months):
        label = run.month_label(months)
        assert _month(status_html(run, months)) == label
        assert f"Offering prices — {label}" in price_html(run, months)
        assert stack_share_figure(run, months)._suptitle.get_text().endswith(label)
        assert run.metrics(months)["date"] == label
        shown = run.shown(months)
        assert shown["model"]["date"].iloc[-1] == label and len(shown["model"]) == months
        assert set(shown["adoption"]["date"]) == set(shown["model"]["date"])
    prices = run.price_table(12)
    assert len(prices) > 0 and (prices["price_usd"] > 0).all() and prices["usd_per_h100e"].is_monotonic_increasing
    shares = run.shares
    sums = shares[list(STACKS)].sum(axis=1).to_numpy()
    assert np.allclose(sums[sums > 0], 1.0)
    assert csv_bytes(run.shown(2)["model"]).decode().splitlines()[0].startswith("run_id,seed,step,date,")


def test_levers_apply_on_reset_and_only_changes_override_the_scenario():
    assert scenario_settings("no_controls")["us_control_level"] == 0.0
    assert run_params("no_controls", scenario_settings("no_controls")) == {"scenario": "no_controls"}
    own = scenario_settings("baseline")
    assert run_params("baseline", {**own, "kappa": 5.0}) == {"scenario": "baseline", "kappa": 5.0}
    st = State()
    st.set_setting("us_control_level", 0.1)
    html = status_html(st.run.value, 0, st.settings.value, st.scenario.value)
    assert "press Reset to apply them" in html and "⟲" in html
    assert st.run.value.p["us_control_level"] == pytest.approx(0.76)
    st.guarded("Reset", st.reset)()
    r = st.run.value
    r.done.wait(60)
    assert st.message.value is None and r.p["us_control_level"] == pytest.approx(0.1)
    assert "press Reset" not in status_html(r, 0, st.settings.value, st.scenario.value)
    _same_tables(r.tables, run_one({"scenario": "baseline", "us_control_level": 0.1}, 0))
    st.pick_scenario("no_controls")  # picking a scenario loads its own levers
    assert st.settings.value["us_control_level"] == 0.0


def test_the_cursor_never_passes_the_end_and_errors_stay_on_the_page(monkeypatch):
    st = State()
    st.to_end()
    end = st.months.value
    assert end == st.run.value.months == 168
    st.guarded("Step", st.step)()
    assert st.months.value == end and st.message.value is None
    # a refused setting: the message names it, the run shown stays
    shown = st.run.value
    st.set_setting("kappa", -3.0)
    st.guarded("Reset", st.reset)()
    assert "kappa" in st.message.value and st.run.value is shown
    # a failure while stepping is kept on the run and shown, not raised
    broken = RecordedRun("baseline", None, 1, start=False)

    def boom() -> None:
        raise ValueError("operands could not be broadcast")
    monkeypatch.setattr(broken.model, "step", boom)
    broken.run_here()
    assert "broadcast" in broken.error and not broken.ready
    assert "broadcast" in status_html(broken, 0)
    st.run.set(broken)
    st.months.set(0)
    st.guarded("Step", st.step)()
    assert "broadcast" in st.message.value and st.months.value == 0


def test_seed_band_and_comparison(run):
    band = SeedBand("baseline", scenario_settings("baseline"), 0, 2, start=False).run_here()
    assert band.error is None and len(band.model_tables) == 2
    pd.testing.assert_frame_equal(band.model_tables[0].drop(columns="run_id"),
                                  run.tables["model"].drop(columns="run_id"))
    assert not band.model_tables[1]["bifurcation_index"].equals(band.model_tables[0]["bifurcation_index"])
    fig = band_figure(band, run.start_month, run.end_month)
    assert all(ax.collections for ax in fig.axes)  # a band in each panel
    cmp = Comparison("baseline", "no_controls", 0, start=False).run_here()
    assert cmp.done and cmp.error is None
    a, b = (r.tables["model"] for r in cmp.runs)
    assert (b["us_control_level"] == 0.0).all() and a["us_control_level"].max() > 0.5
    assert len(compare_figure(cmp).axes[0].get_lines()) == 2


def test_dashboard_command_refuses_bad_ports():
    with pytest.raises(InputError, match="65535"):
        bind("127.0.0.1", 70000)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        with pytest.raises(InputError, match=f"--port {port}"):
            bind("127.0.0.1", port)
        assert cli.main(["dashboard", "--port", str(port)]) == 2
    finally:
        busy.close()
