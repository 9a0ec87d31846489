"""The dashboard's runs, computed ahead in background threads: the page only shows them.

A ``RecordedRun`` steps one ``ChipMarketModel`` (built by ``model.run.build_model``, the same
boundary as ``run_one``) to its end in a thread, keeping the month's offering prices as it
goes; when it is done the page animates the recorded months. A run costs about a second, so
Play can show every month of 2022-2035 in a few seconds instead of stepping the model between
renders. ``SeedBand`` runs the same settings over several seeds and ``Comparison`` two
scenarios, each in its own thread. Every view reads one cursor (the number of months shown)
over the recorded tables, so tiles, plots and the price table always show the same month.

Nothing here changes the model: a recorded run's tables are those of ``run_one`` with the
same parameters and seed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.params import defaults
from model.run import build_model
from model.scenario import available_scenarios, load_scenario, month_label
from model.types import STACKS

# Levers shown as sliders: (parameter, label, step). Bounds come from the parameter registry.
LEVERS: tuple[tuple[str, str, float], ...] = (
    ("us_control_level", "US control level", 0.01),
    ("licence_levy", "Licence levy, US→China", 0.05),
    ("rare_earth_base", "Rare-earth restriction", 0.05),
    ("kappa", "Switching cost κ", 0.5),
    ("cn_subsidy_after", "China domestic-chip subsidy", 0.05),
    # fires a Taiwan foundry disruption (every Taiwan site; Eq. F1) of this depth from DISRUPTION_START
    ("taiwan_disruption_depth", "Taiwan disruption depth", 0.05),
)
LEVER_NAMES: tuple[str, ...] = tuple(n for n, _l, _s in LEVERS)
#: the month the disruption fires (a select next to its slider; its length and recovery are the registry's)
DISRUPTION_START = "taiwan_disruption_start"


def disruption_start_choices() -> list[str]:
    """January and July of each year from 2026 to 2032 (after the replayed history)."""
    return [f"{y}-{m}" for y in range(2026, 2033) for m in ("01", "07")]


def reaction_start_choices() -> list[str]:
    """January of each year from the default start to 2030 (when the levers may take effect)."""
    first = int(defaults()["start"][:4])
    return [f"{y}-01" for y in range(first, 2031)]


def dashboard_scenarios() -> list[str]:
    """Scenarios the page offers: every shipped one that runs the market population (the Arthur
    docking scenario replaces the market by a two-technology toy and has no blocs to show)."""
    return [s for s in available_scenarios() if load_scenario(s).params.get("population", "market") != "arthur"]


def scenario_settings(scenario: str) -> dict[str, Any]:
    """The levers and ``reaction_start`` as the scenario file sets them (defaults elsewhere)."""
    d, spec = defaults(), load_scenario(scenario)
    return {k: spec.params.get(k, d[k]) for k in (*LEVER_NAMES, DISRUPTION_START, "reaction_start")}


def run_params(scenario: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``run_one`` parameters: the scenario plus only the settings that differ from its file."""
    own = scenario_settings(scenario)
    params: dict[str, Any] = {"scenario": scenario}
    for k, v in settings.items():
        if k not in own:
            raise KeyError(f"dashboard setting {k!r}: expected one of {sorted(own)}")
        if v != own[k]:
            params[k] = v
    return params


def tables_upto(tables: dict[str, pd.DataFrame], months: int) -> dict[str, pd.DataFrame]:
    """The first ``months`` months of each table (steps 0 .. months-1)."""
    return {k: t[t["step"] < months].reset_index(drop=True) for k, t in tables.items()}


def stack_shares_by_bloc(adoption: pd.DataFrame) -> pd.DataFrame:
    """Installed H100e share of each stack within each bloc: one row per (step, bloc)."""
    if adoption.empty:
        return pd.DataFrame(columns=["step", "date", "bloc", *STACKS])
    by = adoption.pivot_table(index=["step", "date", "bloc"], columns="stack", values="installed_h100e",
                              aggfunc="sum", observed=True).reindex(columns=list(STACKS)).fillna(0.0)
    total = by.sum(axis=1).replace(0.0, np.nan)
    return by.div(total, axis=0).fillna(0.0).reset_index()


@dataclass(frozen=True)
class PriceSnapshot:
    """The offerings on sale in one month and the prices the core set for them."""

    idx: np.ndarray  # offering indices in production (Eq. V8)
    price_usd: np.ndarray
    price_in_china_usd: np.ndarray
    value_h100e: np.ndarray


class _Background:
    """Work done in a daemon thread (``_run``), or in the caller's thread with ``run_here``."""

    def _begin(self, name: str, start: bool) -> None:
        self.error: str | None = None
        self.seconds = float("nan")
        self.done = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if start:
            self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def run_here(self):
        """Run in the calling thread if the thread was not started (tests, scripts); else wait."""
        if self._thread.ident is None:
            self._run()
        self.done.wait()
        return self

    def stop(self) -> None:
        """Ask the thread to stop after the step it is in (the page replaced this work)."""
        self._stop = True


class RecordedRun(_Background):
    """One run stepped to its end in a background thread; months are shown from the record.

    Building the model (which validates every parameter) happens in the caller's thread, so a
    bad setting raises there; a failure while stepping is kept in ``error``.
    """

    def __init__(self, scenario: str, settings: dict[str, Any] | None = None, seed: int = 0,
                 start: bool = True) -> None:
        self.scenario, self.seed = scenario, int(seed)
        self.settings = dict(scenario_settings(scenario) if settings is None else settings)
        self.params = run_params(scenario, self.settings)
        self.params["run_id"] = f"dashboard-{scenario}-{self.seed}"
        self.model = build_model(self.params, self.seed)
        m = self.model
        self.start_month, self.end_month = m.start_month, m.end_month
        self.total = m.end_month - m.start_month + 1  # months if the run is not stopped early
        self.description = m.spec.description
        self.p = dict(m.p)
        self.months_done = 0
        self.prices: list[PriceSnapshot] = []
        self.tables: dict[str, pd.DataFrame] | None = None
        self.shares: pd.DataFrame | None = None
        self._begin(f"chipwar-run-{scenario}-{seed}", start)

    @property
    def months(self) -> int:
        """Months recorded so far (all of them once ``done``)."""
        return self.months_done

    def _run(self) -> None:
        t0 = time.perf_counter()
        m = self.model
        try:
            cn = m.regions.index("cn")
            while m.running and not self._stop:
                m.step()
                pr, off = m.pricing, m.offerings
                n = len(pr.last_price)
                idx = np.flatnonzero(off.live[:n])
                self.prices.append(PriceSnapshot(idx, pr.last_price[idx].copy(),
                                                 pr.last_region_price[idx, cn].copy(), off.value[idx].copy()))
                self.months_done += 1
            tables = m.tables()
            self.shares = stack_shares_by_bloc(tables["adoption"])
            self.tables = tables
        except Exception as exc:  # noqa: BLE001 - shown on the page, never a traceback
            self.error = f"the run failed in {month_label(m.month)}: {type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - t0
            self.done.set()


    @property
    def ready(self) -> bool:
        return self.done.is_set() and self.error is None and self.tables is not None

    def month_label(self, months: int) -> str:
        """YYYY-MM of the last month shown, or 'not started'."""
        return month_label(self.start_month + months - 1) if months > 0 else "not started"

    def metrics(self, months: int) -> dict[str, float]:
        """The model-table row of the last month shown ({} before the first)."""
        if not self.ready or months <= 0:
            return {}
        return self.tables["model"].iloc[min(months, self.months) - 1].to_dict()

    def price_table(self, months: int) -> pd.DataFrame:
        """Offerings on sale in the last month shown with the core's prices, cheapest per H100e first."""
        if not self.ready or months <= 0:
            return pd.DataFrame()
        snap = self.prices[min(months, self.months) - 1]
        off, m = self.model.offerings, self.model
        i = snap.idx
        df = pd.DataFrame({
            "offering": off.ids[i].astype(str),
            "vendor": np.array(m.vendors.ids, dtype=object)[off.vendor[i]].astype(str),
            "stack": np.array(STACKS, dtype=object)[off.stack[i]].astype(str),
            "since": [month_label(int(a)) for a in off.available[i]],
            "price_usd": snap.price_usd,
            "price_in_china_usd": snap.price_in_china_usd,
            "value_h100e": snap.value_h100e,
            "usd_per_h100e": snap.price_usd / snap.value_h100e,
        })
        return df.sort_values("usd_per_h100e", ignore_index=True)

    def shown(self, months: int) -> dict[str, pd.DataFrame]:
        """The three tables up to the last month shown."""
        return tables_upto(self.tables, months) if self.ready else {}


class SeedBand(_Background):
    """The same settings over ``n`` seeds (seed, seed+1, ...), run one after another in a thread;
    ``model_tables`` grows as runs finish. The first seed is the page's own run."""

    def __init__(self, scenario: str, settings: dict[str, Any], seed: int, n: int, start: bool = True) -> None:
        self.scenario, self.settings, self.n = scenario, dict(settings), int(n)
        self.seeds = [int(seed) + i for i in range(self.n)]
        self.params = run_params(scenario, self.settings)
        build_model(self.params, self.seeds[0])  # validate here, in the caller's thread
        self.model_tables: list[pd.DataFrame] = []
        self._begin("chipwar-seeds", start)

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            for s in self.seeds:
                if self._stop:
                    break
                m = build_model({**self.params, "run_id": f"dashboard-{self.scenario}-{s}"}, s)
                m.run_model()
                self.model_tables.append(m.tables()["model"])
        except Exception as exc:  # noqa: BLE001 - shown on the page
            self.error = f"seed run failed: {type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - t0
            self.done.set()


    def combined(self) -> pd.DataFrame:
        """The finished seeds' model tables, one under the other."""
        done = list(self.model_tables)
        return pd.concat(done, ignore_index=True) if done else pd.DataFrame()


class Comparison:
    """Two scenarios as their files set them (the sidebar's levers are not applied), same seed."""

    def __init__(self, scenario_a: str, scenario_b: str, seed: int, start: bool = True) -> None:
        self.runs = (RecordedRun(scenario_a, None, seed, start=start), RecordedRun(scenario_b, None, seed, start=start))

    def run_here(self) -> Comparison:
        for r in self.runs:
            r.run_here()
        return self

    @property
    def done(self) -> bool:
        return all(r.done.is_set() for r in self.runs)

    @property
    def error(self) -> str | None:
        errs = [f"{r.scenario}: {r.error}" for r in self.runs if r.error]
        return "; ".join(errs) or None

    def stop(self) -> None:
        for r in self.runs:
            r.stop()
