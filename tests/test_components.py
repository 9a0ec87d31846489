"""The month as a plan of components (issue 14): the plan is data, a finished model does not
advance, scripted ``set`` events reach every derived view or are refused at load."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents.vendor import ChipVendor
from experiments import cli
from model.components import startup_params
from model.components.base import Component
from model.errors import ScenarioError
from model.events import HANDLERS
from model.market_model import COMPONENTS, ChipMarketModel
from model.params import PARAMETERS
from model.run import run_one
from model.scenario import EVENT_FIELDS

ROOT = Path(__file__).resolve().parents[1]


def _scenario(tmp_path: Path, body: str, name: str = "probe") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\nextends = "baseline"\n' + body)
    return str(path)


def test_plan_prints_the_month_in_order():
    m = ChipMarketModel()
    text = str(m.plan)
    assert m.plan.names() == [
        "events.fire", "regulators.us", "regulators.cn", "supply.update", "power.update", "vendors.step",
        "offerings.launch", "foundry.cap", "supply.share", "software.value", "pricing.price", "choice.trade",
        "deliveries.deliver", "ecosystems.update", "software.mature", "recorder.record"]
    assert len(text.splitlines()) == 16 and text.splitlines()[0].startswith(" 1. events.fire")


def test_arthur_docking_is_a_second_plan():
    m = ChipMarketModel(scenario="arthur_docking", arthur_arrivals=20)
    assert m.plan.names()[0] == "arthur.arrive" and "vendors.step" not in m.plan.names()
    m.run_model()
    assert m.month - m.start_month == 20


def test_every_component_is_a_component_and_every_event_kind_has_a_handler():
    m = ChipMarketModel()
    assert all(isinstance(getattr(m, name), Component) for name in COMPONENTS)
    assert set(HANDLERS) == set(EVENT_FIELDS)


def test_a_finished_model_does_not_advance():
    m = ChipMarketModel(rng=1, end="2022-06")
    m.run_model()
    assert not m.running
    for _ in range(3):
        m.step()
    model = m.tables()["model"]
    assert model["date"].iloc[-1] == "2022-06" and len(model) == 6 and m.month == m.start_month + 6


def test_set_event_reaches_parameters_copied_at_setup(tmp_path):
    """A probe setting network_weight and dev_growth_m_per_month from 2022-06 changed nothing
    before the components refactor; every derived view is now rebuilt on `set`."""
    probe = _scenario(tmp_path, '[[events]]\ndate = "2022-06"\nkind = "set"\n'
                                'parameters = { network_weight = 3.0, dev_growth_m_per_month = 0.2 }\n')
    base = run_one({"end": "2024-12"}, 3)
    got = run_one({"scenario": probe, "end": "2024-12"}, 3)
    before = base["model"]["date"] < "2022-06"
    cols = ["bifurcation_index", "gs_cann_share", "us_cn_compute_ratio"]
    pd.testing.assert_frame_equal(got["model"].loc[before, cols], base["model"].loc[before, cols])
    assert not np.allclose(got["adoption"]["installed_h100e"], base["adoption"]["installed_h100e"])


def test_set_event_of_the_workload_mix_revalues_offerings(tmp_path):
    probe = _scenario(tmp_path, '[[events]]\ndate = "2022-03"\nkind = "set"\n'
                                'parameters = { mix_decode = 1.0, mix_train_dense = 0.0 }\n')
    a = ChipMarketModel(rng=0, end="2022-04")
    b = ChipMarketModel(scenario=probe, rng=0, end="2022-04")
    a.run_model()
    b.run_model()
    assert b.offerings.mix[3] > a.offerings.mix[3]
    assert not np.allclose(a.offerings.value[:len(b.offerings)], b.offerings.value[:len(a.offerings)])


@pytest.mark.parametrize("key, value", [("start", '"2023-01"'), ("end", '"2030-12"'),
                                        ("n_firms_per_country", "3"), ("hbm_stockpile_stacks", "1.0")])
def test_set_event_refuses_parameters_read_only_at_setup(tmp_path, key, value, capsys):
    probe = _scenario(tmp_path, f'[[events]]\ndate = "2023-01"\nkind = "set"\nparameters = {{ {key} = {value} }}\n')
    with pytest.raises(ScenarioError, match=rf"events\[0\], parameters: {key} cannot change mid-run"):
        ChipMarketModel(scenario=probe)
    out = tmp_path / "out"
    assert cli.main(["run", "--scenario", probe, "--end", "2022-03", "--out", str(out)]) == 2
    assert "cannot change mid-run" in capsys.readouterr().err and not out.exists()


def _setup_only_reads() -> set[str]:
    """Parameters read, in the model's components and agents, only inside set-up functions."""
    setup = {"__init__", "build_population", "make_buyers", "catalog_systems", "population", "build_world",
             "segment"}
    files = [*(ROOT / "model" / "components").glob("*.py"), ROOT / "model" / "market_model.py",
             *(ROOT / "agents").glob("*.py")]
    uses: dict[str, set[str]] = {}
    for f in files:
        for fn in ast.walk(ast.parse(f.read_text())):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                            and node.slice.value in PARAMETERS):
                        uses.setdefault(node.slice.value, set()).add(fn.name)
    return {k for k, fns in uses.items() if fns <= setup}


def test_every_parameter_read_only_at_setup_is_declared():
    """A component that copies a parameter at set-up must declare it (or rebuild it in on_set)."""
    undeclared = _setup_only_reads() - startup_params() - {"power_add_growth_us", "power_add_growth_cn",
                                                            "power_add_growth_gs"}  # Power.on_set rebuilds
    assert not undeclared, f"read only at set-up but not declared in startup_params: {sorted(undeclared)}"


def test_arthur_population_refuses_events(tmp_path):
    probe = tmp_path / "a.toml"
    probe.write_text('name = "a"\nextends = "arthur_docking"\n[[events]]\ndate = "2022-06"\n'
                     'kind = "rare_earth"\nlevel = 0.5\n')
    with pytest.raises(ScenarioError, match="takes no scripted events"):
        ChipMarketModel(scenario=str(probe))


def _vendor_phase(m: ChipMarketModel, order: str, monkeypatch) -> dict[str, float]:
    agents = m.agents_by_type[ChipVendor]
    ordered = sorted(agents, key=lambda v: v.vidx, reverse=order == "reversed")
    monkeypatch.setattr(type(m.vendors), "activation_order", lambda self, model: ordered)
    m.vendors.step(m, None)
    monkeypatch.undo()
    return {v.vendor_id: (v.rd_budget_usd, v.base_capacity) for v in m.vendors}


def test_vendors_capital_does_not_depend_on_activation_order(monkeypatch):
    """State funds are shared by capacity as the month began: the order vendors act in is moot."""
    a, b = ChipMarketModel(rng=0, end="2025-12"), ChipMarketModel(rng=0, end="2025-12")
    for m in (a, b):
        while m.month < 2024 * 12 + 6:
            m.step()
    fwd, rev = _vendor_phase(a, "forward", monkeypatch), _vendor_phase(b, "reversed", monkeypatch)
    assert fwd == rev
    assert sum(v.rd_budget_usd for v in a.vendors if v.bloc == "cn") > 0


class _Tariffs(Component):
    """CONTRIBUTING's worked example: a tariff on US-bloc offerings in Global-South regions."""

    reads = ("ctx.cost", "offerings.cn", "regions.is_gs")

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def apply(self, model, ctx) -> None:
        us = ~model.offerings.cn
        ctx.cost[np.ix_(us, model.regions.is_gs)] *= 1.0 + self.rate


def _gs_cuda(rate: float) -> float:
    from model.components.base import Phase

    m = ChipMarketModel(rng=2, end="2026-12")
    if rate:
        m.tariffs = _Tariffs(rate)
        m.plan = m.plan.insert_after("pricing.price", Phase("tariffs.apply", m.tariffs.apply, "GS tariff"))
    m.run_model()
    return float(m.tables()["model"]["gs_cuda_share"].iloc[-1]), m.plan.names()


def test_a_mechanism_is_one_component_and_one_line_in_the_plan():
    base, names0 = _gs_cuda(0.0)
    taxed, names = _gs_cuda(1.0)
    assert names[names.index("pricing.price") + 1] == "tariffs.apply" and len(names) == len(names0) + 1
    assert taxed < base  # a 100 % tariff on US-bloc systems moves the Global South off CUDA
