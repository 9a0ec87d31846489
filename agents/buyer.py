"""Buyers: hyperscalers and Global-South countries. Each agent is an inspectable view on one
row of the model's buyer arrays; the month's decisions for the whole population are one
vectorised call (``Buyer.decide_all``), not a Python loop over agents."""

from __future__ import annotations

import numpy as np
from mesa import Agent

from model.types import STACKS


class Buyer(Agent):
    """Shared view: ``bidx`` indexes the model's buyer arrays (``model.buyers``)."""

    def __init__(self, model, bidx: int, buyer_id: str) -> None:
        super().__init__(model)
        self.bidx = bidx
        self.buyer_id = buyer_id

    @property
    def region(self) -> str:
        return self.model.regions.ids[self.model.buyers.region[self.bidx]]

    @property
    def fleet_h100e(self) -> dict[str, float]:
        row = self.model.buyers.fleet_peak[self.bidx]
        return {s: float(row[i]) for i, s in enumerate(STACKS)}

    @property
    def current_stack(self) -> str:
        row = self.model.buyers.fleet_eff[self.bidx]
        return STACKS[int(np.argmax(row))] if row.sum() > 0 else "none"

    @property
    def active(self) -> bool:
        return bool(self.model.buyers.active[self.bidx])

    def step(self) -> None:
        """Per-agent work is nothing: the population decides in one vectorised call."""


class GlobalSouthBuyer(Buyer):
    """A Global-South country (or one firm in it): Bass-type start, then stack choice."""

    @property
    def alignment(self) -> float:
        return float(self.model.buyers.alignment[self.bidx])


class ArrivingBuyer(Buyer):
    """A buyer that arrives once and adopts one unit (the Arthur 1989 docking population)."""

    @property
    def buyer_type(self) -> str:
        return "R" if self.model.arthur.is_r[self.bidx] else "S"
