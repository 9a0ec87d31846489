"""Vendors: the ChipVendor agents (created in catalog order), last month's utilisation that
their prices and capacity respond to, and the books their revenue goes into (Eq. V1-V7)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agents.vendor import ChipVendor, move
from model.components.base import Component, MonthContext


class _Row(dict):
    """One vendor's row of the vendor table as a dict with the row's ``name`` (what ChipVendor
    reads of a pandas row)."""

    def __init__(self, name: str, values: dict) -> None:
        super().__init__(values)
        self.name = name


class Vendors(Component):
    """The vendor agents, in a fixed order (``vidx``), and what the market tells them."""

    owns = ("agents", "utilisation")
    reads = ("clearing.vendor_demand_units",)

    def __init__(self, model: Any, df: pd.DataFrame) -> None:
        self.df = df
        self.ids: list[str] = list(df.index)
        cols = list(df.columns)  # plain values per vendor (one object block), not a pandas row each
        rows = [_Row(vid, dict(zip(cols, vals))) for vid, vals in zip(self.ids, df.to_numpy(dtype=object).tolist())]
        self.agents: list[ChipVendor] = [ChipVendor(model, i, row) for i, row in enumerate(rows)]
        self.utilisation = np.ones(len(self.agents))
        self.cn_base_capacity = 0.0  # Chinese vendors' capacity before this month's moves
        self._newest: tuple[tuple, list[int | None]] | None = None  # (the columns read, result)
        self._candidates: tuple[tuple, list[list[int]]] | None = None
        self._own: tuple | None = None  # (vendor and compliance columns, each vendor's own rows)
        self._controlled: tuple[tuple, list] | None = None  # (the columns and rule read, rows)

    def __len__(self) -> int:
        return len(self.agents)

    def __iter__(self):
        return iter(self.agents)

    def __getitem__(self, i: int) -> ChipVendor:
        return self.agents[i]

    def capacities(self) -> np.ndarray:
        return np.array([v.capacity_units for v in self.agents])

    def price_index(self) -> np.ndarray:
        return np.array([v.price_index for v in self.agents])

    def step(self, model: Any, ctx: MonthContext) -> None:
        """Each vendor sets capacity and price and designs new offerings, in random order. What a
        vendor reads of the others (China's total capacity, for state funds) is taken before any
        of them moves, so the order of activation changes nothing but the order of the designs
        queued: capital, capacity and price for all vendors in one pass (:func:`move`), then the
        designs in the order Mesa's ``shuffle_do`` would step the vendors (its very draws)."""
        self.cn_base_capacity = sum(v.base_capacity for v in self.agents if v.bloc == "cn")
        move(model, self.agents)
        order = self.activation_order(model)
        if model.month < model.dates["own_designs_from"]:
            return  # the replayed history: only the catalog's real products
        p, month = model.p, model.month
        newest = self.newest_own(model.offerings)  # designs are queued: the table stays as it is
        gen, effect = p["generation_months"], p["rd_time_effect"]
        for v in order:  # ChipVendor.design, the roadmap's test first (its first lines)
            if v.bloc == "us":
                v._design_compliance_variants()
            if v.roadmap_due(month, newest[v.vidx], gen, effect):
                v._extend_roadmap()

    def activation_order(self, model: Any) -> list[ChipVendor]:
        """The vendors in the order ``AgentSet.shuffle_do`` steps them: the agent set's members
        shuffled by its generator (the model's), one draw sequence a month as before."""
        agents = model.agents_by_type[ChipVendor]
        order = list(agents)
        agents.random.shuffle(order)
        return order

    def newest_own(self, off: Any) -> list[int | None]:
        """(V,) each vendor's newest release month among its own (non-variant) offerings, None
        for a vendor with none; one pass over the table, redone only when the table grows
        (launches replace the columns, never write into them)."""
        n = self._newest
        if n is not None:  # each vendor asks in its step: the hit is three identity tests
            c = n[0]
            if c[0] is off.vendor and c[1] is off.compliance and c[2] is off.available:
                return n[1]
        cols = (off.vendor, off.compliance, off.available)
        newest: list[int | None] = [None] * len(self.agents)
        for v, comp, avail in zip(*(c.tolist() for c in cols)):
            if not comp and (newest[v] is None or avail > newest[v]):
                newest[v] = avail
        self._newest = (cols, newest)  # holds the columns: their identity stays theirs
        return self._newest[1]

    def own_rows(self, off: Any) -> list[list[int]]:
        """(V,) each vendor's own (non-variant) offerings, in table order; one pass, redone when
        a launch replaces the columns."""
        r = self._own
        if r is None or r[0] is not off.vendor or r[1] is not off.compliance:
            rows: list[list[int]] = [[] for _ in self.agents]
            for o, (v, comp) in enumerate(zip(off.vendor.tolist(), off.compliance.tolist())):
                if not comp:
                    rows[v].append(o)
            r = self._own = (off.vendor, off.compliance, rows)
        return r[2]

    def variant_candidates(self, model: Any, rule: Any) -> list[list[int]]:
        """(V,) for each vendor, its own (non-variant) offerings in or about to enter production
        that ``rule`` controls, in table order (Eq. V3's candidates). Nothing a vendor does in its
        step changes these (designs are queued until the launch), so one pass serves all."""
        off, p = model.offerings, model.p
        lag, max_age = p["variant_lag_months"], p["variant_max_age_months"]
        key = (model.month, lag, max_age)
        c = self._candidates
        if c is not None:  # each US vendor asks in its step: the hit is the key and identity tests
            cols, k = c[0]
            if (k == key and cols[0] is off.vendor and cols[1] is off.compliance and cols[2] is off.available
                    and cols[3] is off.live and cols[4] is off.tpp and cols[5] is off.density
                    and cols[6] is off.io and cols[7] is rule):
                return c[1]
        cols = (off.vendor, off.compliance, off.available, off.live, off.tpp, off.density, off.io, rule)
        # own offerings the rule controls, (index, vendor, release month) in table order: the same
        # until a launch or a new rule (elementwise, so the test of all offerings selects what the
        # test of the month's candidates did)
        ctl = self._controlled
        if ctl is None or not (ctl[0][0] is off.compliance and ctl[0][1] is off.tpp and ctl[0][2] is off.density
                               and ctl[0][3] is off.io and ctl[0][4] is rule and ctl[0][5] is off.vendor
                               and ctl[0][6] is off.available):
            idx = np.flatnonzero(~off.compliance & rule.controlled(off.tpp, off.density, off.io))
            rows = list(zip(idx.tolist(), off.vendor[idx].tolist(), off.available[idx].tolist()))
            ctl = self._controlled = ((off.compliance, off.tpp, off.density, off.io, rule, off.vendor, off.available),
                                      rows)
        # the age window (month - available in [-lag, max_age], on integers) and, once on sale, live
        month = model.month
        live = off.live
        out: list[list[int]] = [[] for _ in self.agents]
        for o, v, avail in ctl[1]:
            age = month - avail
            if -lag <= age <= max_age and (age < 0 or live[o]):
                out[v].append(o)
        self._candidates = c = ((cols, key), out)
        return c[1]

    def observe_demand(self, demand_units: np.ndarray, capacity: np.ndarray) -> None:
        """Demand over capacity this month: next month's price and capacity respond to it."""
        with np.errstate(divide="ignore", invalid="ignore"):
            self.utilisation = np.where(capacity > 0, demand_units / capacity, 1.0)

    def book(self, revenue_usd: np.ndarray) -> None:
        """Add each vendor's net revenue of the month to its totals and R&D budget (Eq. V5)."""
        for v, usd in zip(self.agents, revenue_usd.tolist()):
            v.book_revenue(usd)
