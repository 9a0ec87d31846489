"""Ecosystems: each stack's developer base and maturity, updated from installed compute,
purchases and investment every month (Eq. E1-E2), and the co-design effect on portability."""

from __future__ import annotations

from typing import Any

import numpy as np

from model import kernels_fleet
from model.components.base import Component, MonthContext
from model.components.software import Software
from model.ecosystem import EcosystemParams, EcosystemState, update_ecosystem
from model.types import STACK_INDEX, STACKS

S = len(STACKS)


class Ecosystems(Component):
    """Developers and maturity by stack; the parameters they follow (rebuilt on ``set``)."""

    owns = ("state", "params")
    reads = ("buyers.fleet_eff", "ctx.purchases_eff", "params", "dates")

    def __init__(self, p: dict[str, Any], dates: dict[str, int]) -> None:
        self.p, self.dates = p, dates
        self.params = EcosystemParams.from_params(p)
        self.state = EcosystemState.initial()
        self.software = Software(p, dates)  # the software-efficiency multiplier (Eq. E6-E7)
        self._inv_memo: tuple | None = None  # (what investment() reads, its answer)

    def on_set(self, model: Any, keys: set[str]) -> None:
        self.params = EcosystemParams.from_params(self.p)

    def investment(self, month: int) -> np.ndarray:
        """Owners' effort by stack (a copy of the last answer while the parameters it reads and
        the side of the CANN open-source date are the same)."""
        p = self.p
        key = (p["invest_cuda"], p["invest_rocm"], p["invest_other_cn"], p["invest_cann"], p["invest_cann_open"],
               month >= self.dates["cann_open_source"])
        memo = self._inv_memo
        if memo is None or memo[0] != key:
            memo = self._inv_memo = (key, self._investment(month))
        return memo[1].copy()

    def _investment(self, month: int) -> np.ndarray:
        inv = np.zeros(S)
        inv[STACK_INDEX["cuda"]] = self.p["invest_cuda"]
        inv[STACK_INDEX["rocm"]] = self.p["invest_rocm"]
        inv[STACK_INDEX["other_cn"]] = self.p["invest_other_cn"]
        inv[STACK_INDEX["cann"]] = self.p["invest_cann"] + (
            self.p["invest_cann_open"] if month >= self.dates["cann_open_source"] else 0.0)
        return np.clip(inv, 0.0, 1.0)

    def codesign(self, month: int) -> np.ndarray:
        c = np.zeros(S)
        if month >= self.dates["codesign_start"]:
            c[STACK_INDEX["cann"]] = self.p["codesign_level"]
        return c

    def update(self, model: Any, ctx: MonthContext) -> None:
        """Eq. E1-E2: developers and maturity move with installed compute and purchases."""
        world_inst = kernels_fleet.col_sums(model.buyers.fleet_eff)  # np.sum's bits, one pass
        self.state = update_ecosystem(self.state, world_inst, kernels_fleet.col_sums(ctx.purchases_eff),
                                      self.investment(ctx.month), self.params)
