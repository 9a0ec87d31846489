"""The dashboard page builds, its controls drive the same ChipMarketModel, and `chipwar dashboard`
refuses bad addresses. (The real-browser test is tests/test_dashboard_browser.py.)"""

from __future__ import annotations

import re
import socket

import ipyvuetify as v
import numpy as np
import pytest
import solara
from mesa.visualization.solara_viz import _build_model_init_kwargs

from experiments import cli
from experiments.commands.dashboard import bind
from experiments.dashboard import (
    LEVERS,
    DashboardModel,
    Page,
    model_params,
    price_table,
    stack_share_figure,
    stack_shares_by_bloc,
    status_html,
)
from model.errors import InputError
from model.market_model import ChipMarketModel
from model.scenario import available_scenarios
from model.types import STACKS


def _render():
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    return rc


def _status(rc) -> str:
    return rc.find(solara.widgets.HTML).widgets[0].unsafe_innerHTML


def _month(rc) -> str:
    return re.search(r'id="chipwar-month">([^<]*)<', _status(rc)).group(1)


def _lever_in_force(rc, label: str) -> float:
    row = re.search(rf"<td>{re.escape(label)}</td><td[^>]*>([^<]*)</td>", _status(rc))
    return float(row.group(1))


def test_page_builds_with_controls_sliders_and_components():
    rc = _render()
    labels = sorted(b.children[0] for b in rc.find(v.Btn).widgets)
    assert labels == sorted(["Reset", "▶", "Step"])
    for _name, label, _step in LEVERS:
        assert len(rc.find(v.Slider, label=label).widgets) == 1, label
    scen = rc.find(v.Select, label="Scenario").widget
    assert scen.v_model == "baseline"
    assert [i if isinstance(i, str) else i["value"] for i in scen.items] == available_scenarios()
    # status card + price table (HTML) and three plots (PNG images)
    assert len(rc.find(solara.widgets.HTML).widgets) == 2
    import ipywidgets
    assert len(rc.find(ipywidgets.Image).widgets) == 3
    assert _month(rc) == "not started"


def test_step_and_reset_apply_the_sliders_and_scenario():
    rc = _render()
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    step.click()
    assert _month(rc) == "2022-02"
    rc.find(v.Slider, label="US control level").widget.v_model = 0.1
    rc.find(v.Select, label="Scenario").widget.v_model = "no_controls"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _month(rc) == "not started"
    assert _lever_in_force(rc, "US control level") == pytest.approx(0.1)
    assert "no_controls" in _status(rc)
    step.click()
    assert _month(rc) == "2022-01"
    assert "chipwar-prices" in rc.find(solara.widgets.HTML).widgets[1].unsafe_innerHTML


def test_model_with_slider_params_runs_three_steps():
    params = {k: spec["value"] for k, spec in model_params().items()}
    params.update(scenario_name="no_controls", us_control_level=0.3, licence_levy=0.5,
                  rare_earth_base=0.7, kappa=5.0, cn_subsidy_after=0.0, reaction_start="2022-01",
                  seed=3)
    m = DashboardModel(**params)
    for _ in range(3):
        m.step()
    assert m.scenario_name == "no_controls"
    for key in ("us_control_level", "licence_levy", "rare_earth_base", "kappa", "cn_subsidy_after"):
        assert m.p[key] == pytest.approx(params[key])
    # from reaction_start the CN regulator holds the slider's rare-earth level
    assert m.recorder.latest["rare_earth_restriction"] == pytest.approx(0.7)
    assert len(m.tables()["model"]) == 3
    shares = stack_shares_by_bloc(m)
    assert set(shares["bloc"]) == {"us", "cn", "gs"} and shares["step"].nunique() == 3
    sums = shares[list(STACKS)].sum(axis=1).to_numpy()
    assert np.allclose(sums[sums > 0], 1.0)
    prices = price_table(m)
    assert len(prices) > 0 and (prices["price_usd"] > 0).all()
    assert prices["usd_per_h100e"].is_monotonic_increasing
    fig = stack_share_figure(m)
    assert len(fig.axes) == 3 and all(ax.collections for ax in fig.axes)
    assert "2022-03" in status_html(m)


def test_reset_kwargs_for_dashboard_model_carry_no_mesa_scenario():
    """Why DashboardModel exists: Mesa's Reset adds scenario=<mesa Scenario> for ChipMarketModel."""
    page_params = {k: spec["value"] for k, spec in model_params().items()}
    kwargs = _build_model_init_kwargs(DashboardModel(), page_params, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    assert kwargs == page_params
    clash = _build_model_init_kwargs(ChipMarketModel(), {"kappa": 2.0}, add_scenario_when_empty=True,
                                     require_model_accepts_scenario=True)
    assert not isinstance(clash.get("scenario"), str)  # if Mesa stops this, the adapter can go


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
