"""Vendors: the ChipVendor agents (created in catalog order), last month's utilisation that
their prices and capacity respond to, and the books their revenue goes into (Eq. V1-V7)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agents.vendor import ChipVendor
from model.components.base import Component, MonthContext


class Vendors(Component):
    """The vendor agents, in a fixed order (``vidx``), and what the market tells them."""

    owns = ("agents", "utilisation")
    reads = ("clearing.vendor_demand_units",)

    def __init__(self, model: Any, df: pd.DataFrame) -> None:
        self.df = df
        self.ids: list[str] = list(df.index)
        self.agents: list[ChipVendor] = [ChipVendor(model, i, df.loc[vid]) for i, vid in enumerate(self.ids)]
        self.utilisation = np.ones(len(self.agents))
        self.cn_base_capacity = 0.0  # Chinese vendors' capacity before this month's moves

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
        of them moves, so the order of activation changes nothing."""
        self.cn_base_capacity = sum(v.base_capacity for v in self.agents if v.bloc == "cn")
        model.agents_by_type[ChipVendor].shuffle_do("step")

    def observe_demand(self, demand_units: np.ndarray, capacity: np.ndarray) -> None:
        """Demand over capacity this month: next month's price and capacity respond to it."""
        with np.errstate(divide="ignore", invalid="ignore"):
            self.utilisation = np.where(capacity > 0, demand_units / capacity, 1.0)

    def book(self, revenue_usd: np.ndarray) -> None:
        """Add each vendor's net revenue of the month to its totals and R&D budget (Eq. V5)."""
        for v in self.agents:
            v.book_revenue(float(revenue_usd[v.vidx]))
