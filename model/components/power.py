"""Power: each region's AI data-centre power capacity, what the installed fleet draws, the
scarcity price multiplier (Eq. N1, N3) and the cap on what can be installed (Eq. N2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from model import blas, kernels_fleet, month_kernels
from model.components.base import Component, MonthContext
from model.energy import ai_power_share, power_capacity_kw, scarcity_multiplier
from model.memo import ProcessMemo

_CAPACITY = ProcessMemo(20_000)  # Power.ai_capacity_kw, per process
_GROWTH = ("power_add_growth_us", "power_add_growth_cn", "power_add_growth_gs")


class Power(Component):
    """AI power capacity and use by region."""

    owns = ("capacity_kw", "used_kw", "scarcity")
    reads = ("regions", "buyers.fleet_kw", "params")

    def __init__(self, regions: Any, p: dict[str, Any]) -> None:
        self.regions, self.p = regions, p
        df = regions.df
        self.dc_gw = df["dc_power_gw_2024"].to_numpy(dtype=float)
        self.add_gw = df["power_add_gw_per_year"].to_numpy(dtype=float)
        self._set_growth()
        self.capacity_kw = np.full(len(regions), np.inf)
        self.used_kw = np.zeros(len(regions))
        self.scarcity = np.ones(len(regions))

    def _set_growth(self) -> None:
        growth = {"us": self.p["power_add_growth_us"], "cn": self.p["power_add_growth_cn"],
                  "gs": self.p["power_add_growth_gs"]}
        self.add_growth = np.array([growth[b] for b in self.regions.bloc], dtype=float)
        # what Eq. N1 reads besides the month and the AI share (the cache key of capacity_kw)
        self._inputs = (self.dc_gw.tobytes(), self.add_gw.tobytes(), self.add_growth.tobytes())

    def ai_capacity_kw(self, month: int) -> np.ndarray:
        """Eq. N1 for one month: a pure function of the month, the AI share and the region's
        power tables, kept per process under all of them (a read-only array)."""
        share = ai_power_share(month, self.p["ai_power_share_2022"], self.p["ai_power_share_2030"])
        return _CAPACITY.get_or((self._inputs, int(month), share), lambda: power_capacity_kw(
            month, self.dc_gw, self.add_gw, self.add_growth, share))

    def on_set(self, model: Any, keys: set[str]) -> None:
        if keys & set(_GROWTH):
            self._set_growth()

    def update(self, model: Any, ctx: MonthContext) -> None:
        """Eq. N1, N3: AI power capacity per region and the scarcity price multiplier."""
        self.capacity_kw = self.ai_capacity_kw(ctx.month)
        b = model.buyers
        self.used_kw = np.bincount(b.region, weights=b.fleet_kw, minlength=len(self.regions))
        self.scarcity = scarcity_multiplier(self.used_kw, self.capacity_kw, self.p["power_scarcity_markup"])

    def limit(self, cl: Any, buyers: Any, watts_allin: np.ndarray) -> None:
        """Eq. N2: purchases a region cannot power this month are not installed (left unmet)."""
        # the region sums of the kW needed and model.energy.power_fill in one compiled pass
        with blas.one_thread(len(cl.alloc)):
            kw = cl.alloc @ (watts_allin[cl.cols] / cl.value)
        fill, short = month_kernels.power_fill(kw, self.regions.pue, buyers.region, self.capacity_kw, self.used_kw)
        if short:
            cl.unmet = kernels_fleet.ration(cl.alloc, cl.unmet, fill)  # and alloc x fill, in place
