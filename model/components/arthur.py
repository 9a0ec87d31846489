"""The Arthur (1989) docking as its own population and plan (Eq. A1-A2): one buyer arrives per
month, of type R with probability ``arthur_type_share`` else S, and adopts one unit, once, of
technology A (stack cuda) or B (stack cann) with payoff a + r n (R) or b + s n (S)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.buyer import ArrivingBuyer
from model.components.base import Component, MonthContext
from model.components.buyers import BuyerArrays, make_buyers
from model.ecosystem import EcosystemParams, network_value
from model.market import clear_market
from model.types import STACK_INDEX, STACKS

S = len(STACKS)


class ArthurDocking(Component):
    """Arrivals, their tastes and returns, and when (and to what) the market locked in."""

    owns = ("taste", "returns", "is_r", "lock_in_step", "winner")
    reads = ("buyers", "offerings", "vendors")
    startup_params = ("arthur_arrivals", "arthur_type_share", "arthur_a_r", "arthur_b_r", "arthur_a_s",
                      "arthur_b_s", "arthur_r", "arthur_s")

    def __init__(self, model: Any) -> None:
        p, rng = model.p, model.rng
        n = int(p["arthur_arrivals"])
        is_r = rng.random(n) < p["arthur_type_share"]
        taste = np.zeros((n, S))
        taste[:, STACK_INDEX["cuda"]] = np.where(is_r, p["arthur_a_r"], p["arthur_a_s"])
        taste[:, STACK_INDEX["cann"]] = np.where(is_r, p["arthur_b_r"], p["arthur_b_s"])
        self.p, self.start_month = p, model.start_month
        self.taste, self.is_r = taste, is_r
        self.returns = np.where(is_r, p["arthur_r"], p["arthur_s"])
        self.lock_in_step: int | None = None
        self.winner: str | None = None
        self.n = n

    def population(self, model: Any) -> BuyerArrays:
        n = self.n
        us = int(np.flatnonzero(model.regions.ids == "us")[0])
        cat = {
            "ids": np.array([f"arrival-{k}" for k in range(n)], dtype=object),
            "region": np.full(n, us, dtype=int), "is_gs": np.ones(n, bool), "share": np.zeros(n),
            "beta": np.zeros(n), "estate": np.zeros(n), "alignment": np.zeros(n),
            "state_funded": np.zeros(n, bool),
        }
        return make_buyers(model, cat, np.ones(n, bool), np.zeros((n, S)), agents=False)

    def arrive(self, model: Any, ctx: MonthContext) -> None:
        """One arrival: its type's payoff a + r n_s for each technology, n_s the adopters so far
        (the ecosystem's linear network value), cleared with temperature 0 and one lot (ties at
        random). Policy, prices and capacity are off."""
        b, off = model.buyers, model.offerings
        t = ctx.month - self.start_month
        ArrivingBuyer(model, t, b.ids[t])
        n = network_value(b.fleet_eff.sum(axis=0), np.zeros(S), EcosystemParams.linear_returns(1.0))
        cols = np.flatnonzero(off.available <= ctx.month)
        stack = off.stack[cols]
        util = self.taste[:, stack] + self.returns[:, None] * n[stack][None, :]
        demand = np.zeros(len(b.ids))
        demand[t] = 1.0
        cl = clear_market(demand[t:t + 1], util[t:t + 1], np.ones((1, cols.size), bool),
                          np.ones(cols.size), off.vendor[cols], np.full(len(model.vendors), np.inf),
                          model.rng, lots=1, temperature=0.0)
        alloc = np.zeros((len(b.ids), cols.size))
        alloc[t] = cl.alloc[0]
        cl.alloc, cl.cols = alloc, cols
        cl.unmet = np.zeros(len(b.ids))
        cl.forgone = np.zeros(len(b.ids))
        O, R = len(off), len(model.regions)
        ctx.clearing, ctx.levy = cl, np.zeros((O, R))
        ctx.price, ctx.region_price = np.zeros(O), np.zeros((O, R))

    def check_lock_in(self, model: Any, ctx: MonthContext) -> None:
        """Lock-in: both types now prefer the same technology, and nothing can undo it (Eq. A2)."""
        n = model.buyers.fleet_eff.sum(axis=0)
        lead = n[STACK_INDEX["cuda"]] - n[STACK_INDEX["cann"]]
        p = self.p
        prefer_a = [p["arthur_a_r"] - p["arthur_b_r"] + p["arthur_r"] * lead,  # R-types' U_A - U_B
                    p["arthur_a_s"] - p["arthur_b_s"] + p["arthur_s"] * lead]  # S-types'
        same = min(prefer_a) > 0 or max(prefer_a) < 0
        if self.lock_in_step is None and same and (p["arthur_r"] > 0 or p["arthur_s"] > 0):
            self.lock_in_step = ctx.month - self.start_month + 1
            self.winner = "A" if prefer_a[0] > 0 else "B"
            if p["stop_at_lock_in"]:
                model.running = False
