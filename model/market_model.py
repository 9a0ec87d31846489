"""ChipMarketModel: the Mesa model of the AI-accelerator market.

One step is one month. The model builds the world - its components, each owning one mechanism
and its state (``model/components/``) - creates the agents, and steps the month's plan:
``for phase in self.plan: phase(self, ctx)``. ``print(model.plan)`` lists the month.
Randomness only through ``self.rng``. Equations: docs/ODD.md (Process overview; Submodels).
"""

from __future__ import annotations

from copy import deepcopy
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from mesa import DataCollector, Model

from agents.regulator import CNRegulator, USRegulator
from model.catalog import load_catalog
from model.checks import check_run_inputs, date_parameters
from model.components.arthur import ArthurDocking
from model.components.base import MonthContext, Phase
from model.components.buyers import build_population
from model.components.choice import BuyersChoice
from model.components.deliveries import Deliveries
from model.components.ecosystems import Ecosystems
from model.components.offerings import OfferingTable
from model.components.plans import arthur_plan, standard_plan
from model.components.power import Power
from model.components.pricing import Pricing
from model.components.recorder import Recorder
from model.components.regions import Regions
from model.components.supply import Supply
from model.components.vendors import Vendors
from model.errors import ScenarioError
from model.events import ScriptedEvents
from model.gc_pause import collector_paused
from model.months import month_index
from model.outputs import METRIC_NAMES
from model.params import check_value, defaults
from model.policy import PolicyState
from model.population import load_regions, load_vendors
from model.scenario import load_scenario

COMPONENTS = ("events", "regions", "supply", "offerings", "vendors", "power", "ecosystems", "pricing", "choice",
              "deliveries", "recorder")


_ATOMIC = (float, int, bool, str, type(None))  # immutable: what deepcopy returns is the value itself


def latest_metric(name: str, model: Any) -> Any:
    """A model reporter: metric ``name`` of the recorder's latest row (NaN before the first)."""
    return model.recorder.latest.get(name, float("nan"))


class MetricsCollector(DataCollector):
    """Mesa's DataCollector, without the deepcopy of an immutable value: the model reporters
    return Python floats (the recorder's latest row), which deepcopy hands back unchanged, so
    the same values are appended without the copy machinery (~15 a month), and reporters that
    are ``partial(latest_metric, name)`` read the row once. Any other reporter or value, and
    agent or agent-type reporters, go through Mesa's own collect."""

    _plan: list | None = None

    def collect(self, model: Any) -> None:
        if self._plan is None and self._validated and not (self.agent_reporters or self.agenttype_reporters):
            reps = self.model_reporters.values()
            if all(isinstance(r, partial) and r.func is latest_metric and len(r.args) == 1 and not r.keywords
                   for r in reps):
                self._plan = [(self.model_vars[var], r.args[0]) for var, r in self.model_reporters.items()]
        if (self._plan is None or len(self._plan) != len(self.model_reporters)
                or self.agent_reporters or self.agenttype_reporters):
            super().collect(model)  # Mesa's own: its validation on the first month, other reporters
            return
        self._collection_steps.append(model.time)
        latest, nan = model.recorder.latest, float("nan")
        for values, name in self._plan:
            value = latest.get(name, nan)
            values.append(value if type(value) in _ATOMIC else deepcopy(value))


def date_params(p: dict[str, Any]) -> dict[str, int]:
    """Month indices of the date parameters (YYYY-MM strings), validated."""
    return {name: month_index(p[name], f"parameter {name}") for name in date_parameters()}


class ChipMarketModel(Model):
    """The AI-accelerator market: vendors, hyperscalers, regulators and Global-South buyers."""

    def __init__(self, scenario: str = "baseline", rng: Any = None, run_id: str | None = None,
                 **overrides: Any) -> None:
        super().__init__(rng=rng)
        self.catalog = load_catalog()
        regions_df = load_regions()
        self.spec = load_scenario(scenario, known_chips=set(self.catalog.chips.index),
                                  known_regions=set(regions_df.index))
        p = defaults()
        p.update(self.spec.params)
        for k, v in overrides.items():
            p[k] = check_value(k, v, f"parameter override {k}")
        self.p = p
        self.scenario_name = self.spec.name
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else None
        self.run_id = run_id or f"{self.scenario_name}-{self.seed}"
        # every input path (CLI, designs, the dashboard, Python) is checked here, before set-up
        where = {**self.spec.sources, **{k: f"parameter override {k}" for k in overrides}}
        check_run_inputs(p, self.spec.events, self.spec.path.name if self.spec.path else "run", where)
        self.start_month = month_index(p["start"], "start")
        self.end_month = month_index(p["end"], "end")
        self.dates = date_params(p)  # every date parameter must be a valid YYYY-MM
        self.month = self.start_month
        with collector_paused():  # long-lived objects only: no full collection for them (model/gc_pause.py)
            self.build_world(load_vendors())
        self.datacollector = MetricsCollector(model_reporters={k: partial(latest_metric, k) for k in METRIC_NAMES})

    def build_world(self, vendors_df: pd.DataFrame) -> None:
        """The components and the agents, in a fixed order (agent creation order is part of the
        results: Mesa's shuffle draws over it): vendors, buyers, then the two regulators."""
        p, d, start = self.p, self.dates, self.start_month
        self.events = ScriptedEvents(self.spec.events)
        self.policy = PolicyState(us_bloc_buys_cn=bool(self.p["us_bloc_buys_cn_chips"]))
        self.ecosystems = Ecosystems(p, d)
        self.regions = Regions(load_regions(), p, d, start)
        self.supply = Supply(p, d, vendors_df, start, self.end_month)
        self.offerings = OfferingTable(self.catalog, p, list(vendors_df.index), self.supply.cost_index, start)
        self.vendors = Vendors(self, vendors_df)
        self.power = Power(self.regions, p)
        if p["population"] == "arthur":
            if self.spec.events:
                raise ScenarioError(f"{self.spec.name}: the Arthur docking population takes no scripted events "
                                    f"({len(self.spec.events)} given)")
            self.arthur = ArthurDocking(self)
            self.buyers = self.arthur.population(self)
            self.end_month = start + self.arthur.n - 1
        else:
            self.buyers = build_population(self)
        USRegulator(self)
        CNRegulator(self)
        self.pricing = Pricing(p, d)
        self.choice = BuyersChoice(p, d, start)
        self.deliveries = Deliveries(p)
        self.recorder = Recorder(start)
        self.plan = arthur_plan(self) if p["population"] == "arthur" else standard_plan(self)

    def set_params(self, values: dict[str, Any]) -> None:
        """A scripted ``set``: new parameter values from this month; every component rebuilds what
        it derived from them (the scenario reader refuses parameters read only at set-up)."""
        self.p.update(values)
        self.dates.clear()
        self.dates.update(date_params(self.p))
        for name in COMPONENTS:
            getattr(self, name).on_set(self, set(values))

    def step(self) -> None:
        """One month: every phase of the plan in order, then Mesa's collector. A finished model
        (past its end month, or stopped at lock-in) does not advance."""
        if not self.running:
            return
        ctx = MonthContext(self.month)
        for phase in self.plan:
            # a Phase's function without Phase.__call__'s frame (~2,700 calls a run)
            (phase.fn if type(phase) is Phase else phase)(self, ctx)
        self.datacollector.collect(self)
        self.month += 1
        if self.month > self.end_month:
            self.running = False

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables (model, adoption, vendors; model/outputs.py) for the steps run so far."""
        return self.recorder.tables(self)

    def arrow_tables(self) -> dict[str, pa.Table]:
        """``tables()`` as Arrow tables (what the sweep runner writes to Parquet)."""
        return self.recorder.arrow_tables(self)
