"""Supply: what policy does to vendors' capacity - the rare-earth cut for US-bloc vendors and
the entity list for Chinese ones (Eq. V1b) - and China's pool of packages from SMIC wafers, the
TSMC die bank and HBM (Eq. S1-S5), with the Chinese unit-cost index (Eq. S4)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from model.components.base import Component, MonthContext
from model.components.foundry import Foundry
from model.float_sums import np_sum
from model.months import month_index
from model.supply import DIES_PER_PACKAGE, SupplyState, load_supply, packages_available, unit_cost_index, wafer_path


class Supply(Component):
    """Rare-earth history, entity listings, China's supply stocks and pool, unit-cost index."""

    owns = ("rare_earth_history", "state", "packages", "ai_share", "cost table")
    reads = ("policy", "vendors.utilisation", "vendors.capacity", "offerings.value/live", "regions.demand")
    startup_params = ("hbm_stockpile_stacks", "die_bank_dies")

    def __init__(self, p: dict[str, Any], dates: dict[str, int], vendors_df: pd.DataFrame,
                 start_month: int, end_month: int) -> None:
        self.p, self.dates, self.start_month = p, dates, start_month
        self.df = load_supply()
        self.state = SupplyState(hbm_stock=float(p["hbm_stockpile_stacks"]), die_bank=float(p["die_bank_dies"]))
        self.packages = float("inf")
        self.ai_share = float(p["smic_ai_share"])  # rises when Chinese vendors are short (Eq. S5)
        self._bank_dies = 0.0
        self.rare_earth_history: list[float] = []
        # the foundry layer (Eq. F1-F4): sites, shares, disruptions; the SMIC term below reads it
        self.foundry = Foundry(p, dates, list(vendors_df.index), list(vendors_df["bloc"]))
        self.entity_listed = {vid: (month_index(d) if isinstance(d, str) and d else None)
                              for vid, d in vendors_df["entity_listed"].items()}
        lo, hi = min(start_month, 2019 * 12), end_month + 240
        self._cost = (lo, unit_cost_index(self.df, np.arange(lo, hi + 1), 2024 * 12))
        self._wafers = (lo, *wafer_path(self.df, lo, hi))  # Eq. S1's terms by month, once per run
        self._cn: tuple | None = None
        self._cn_off: tuple | None = None  # (vendor column, vendors, each Chinese vendor's rows)
        self._cn_reg: tuple | None = None  # (regions.is_cn, China's region indices)

    def cost_index(self, month: int) -> float:
        """Eq. S4 for one month, from a table computed once for the whole run (vectorised)."""
        lo, values = self._cost
        i = month - lo
        return float(values[i]) if 0 <= i < len(values) else unit_cost_index(self.df, month, 2024 * 12)

    def lagged_rare_earth(self) -> float:
        hist = self.rare_earth_history
        lag = int(self.p["rare_earth_lag_months"])
        return hist[-1 - lag] if len(hist) > lag else 0.0

    def factor(self, vendor: Any, month: int) -> float:
        """Capacity multiplier from policy: rare-earth restriction for US-bloc vendors (after a
        lag) and the entity list (cut off from leading-edge foundries) for Chinese vendors (Eq. V1b)."""
        f = 1.0
        if vendor.bloc == "us":
            f *= 1.0 - self.p["rare_earth_capacity_cut"] * self.lagged_rare_earth()
        else:
            listed = self.entity_listed.get(vendor.vendor_id)
            # listings before the run (Huawei 2019) are already in the vendor's capacity data
            if listed is not None and listed >= self.start_month and month >= listed:
                f *= 1.0 - self.p["entity_list_capacity_cut"]
        return max(f, 0.0)

    def factors(self, vendors: list, month: int) -> list[float]:
        """:meth:`factor` of each of ``vendors``, bit for bit: the US bloc's term and the entity
        list's cut (the same for every vendor they apply to) worked out once."""
        us = listed_cut = None
        out = []
        for v in vendors:
            if v.bloc == "us":
                if us is None:
                    us = self.factor(v, month)
                out.append(us)
                continue
            listed = self.entity_listed.get(v.vendor_id)
            if listed is not None and listed >= self.start_month and month >= listed:
                if listed_cut is None:
                    listed_cut = max(1.0 * (1.0 - self.p["entity_list_capacity_cut"]), 0.0)
                out.append(listed_cut)
            else:
                out.append(1.0)  # factor's max(1.0, 0.0)
        return out

    def update(self, model: Any, ctx: MonthContext) -> None:
        """Record the month's rare-earth level, then Eq. S1-S3: the pool of packages Chinese
        vendors can make this month."""
        self.rare_earth_history.append(model.policy.rare_earth)
        if not self.p["cn_supply_model"]:
            self.packages = float("inf")
            return
        month = ctx.month
        hbm_rule = model.policy.us_rule.hbm_to_china
        # State-directed supply response: while Chinese vendors are short, more SMIC wafers and
        # HBM lines go to AI accelerators (Eq. S5), up to smic_ai_share_max.
        cn_v = [v.vidx for v in self._cn_vendors(model)]
        short = 0.0
        if cn_v:
            ut = model.vendors.utilisation.tolist()
            u = [ut[i] for i in cn_v]
            # np.max's value: Python's max unless a NaN (np.max propagates it); a tie of zeros moot
            short = float(np.max(model.vendors.utilisation[cn_v])) if any(x != x for x in u) else max(u)
        if month >= self.dates["reaction_start"] and short > 1.0:
            grow = 1.0 + self.p["cn_supply_response"] * min(short - 1.0, 1.0)
            self.ai_share = min(self.ai_share * grow, self.p["smic_ai_share_max"])
        boost = self.ai_share / self.p["smic_ai_share"] if self.p["smic_ai_share"] > 0 else 1.0
        since = (month - self.dates["domestic_hbm_start"]) / 12.0
        domestic_hbm = (self.p["domestic_hbm_stacks_month"] * boost * (1.0 + self.p["domestic_hbm_growth"]) ** since
                        if since >= 0 else 0.0)
        self.state.hbm_stock += domestic_hbm if hbm_rule else 0.0
        # China's exposure goes through the foundry layer: SMIC wafers follow the SMIC site's
        # availability; the TSMC die bank is a stock made before 2025 and HBM imports come from
        # Korea, so a Taiwan disruption touches neither (docs/ODD.md, Foundries and packaging).
        shock = self.p["cn_supply_shock"]
        smic = self.foundry.site_availability("smic", month)
        if smic != 1.0:
            shock = shock * smic
        lo, wafers, good = self._wafers
        i = month - lo
        # wafer_packages from the run's table: the same operations in the same order
        from_wafers = (float(wafers[i] * self.ai_share * shock * good[i] / DIES_PER_PACKAGE)
                       if 0 <= i < len(wafers) else None)
        pk, self._bank_dies, _ = packages_available(
            self.df, self.state, month, ai_share=self.ai_share,
            shock=shock, hbm_rule=hbm_rule, die_bank_open=month >= 2024 * 12,
            domestic_hbm_stacks=0.0, stacks_per_package=self.p["hbm_stacks_per_package"],
            from_wafers=from_wafers)
        self.packages = pk

    def share(self, model: Any, ctx: MonthContext) -> None:
        """Chinese vendors' capacities are cut pro rata when the supply pool is short (Eq. S3b)."""
        cn_v = self._cn_vendors(model)
        total = sum(v.capacity_units for v in cn_v)
        if total > self.packages > 0 or self.packages <= 0:
            f = max(self.packages, 0.0) / total if total > 0 else 0.0
            for v in cn_v:  # ChipVendor.cut_capacity, inline
                v.capacity_units *= f

    def consume(self, cn_units: float, hbm_rule: bool) -> None:
        """Deliveries draw down the die bank first, then the HBM stock (after the HBM rule)."""
        if not self.p["cn_supply_model"] or not np.isfinite(self.packages):
            return
        share = min(cn_units / self.packages, 1.0) if self.packages > 0 else 0.0
        self.state.die_bank = max(self.state.die_bank - self._bank_dies * share, 0.0)
        if hbm_rule:
            self.state.hbm_stock = max(self.state.hbm_stock - cn_units * self.p["hbm_stacks_per_package"], 0.0)

    def coverage(self, model: Any) -> float:
        """Chinese vendors' capacity (effective H100e) over China's demand this month (Eq. R2b)."""
        off = model.offerings
        cn_v = self._cn_vendors(model)
        value = model.ecosystems.software.effective_value(off, copy=False)  # after software (Eq. E7)
        # the best product each vendor has in production (max is exact: any order gives its bits)
        vals = value.tolist()
        if math.isnan(sum(vals)):  # NaN (or inf - inf): np.maximum's NaN rule, in numpy
            top = np.full(len(model.vendors), -np.inf)
            live = np.flatnonzero(off.live)
            np.maximum.at(top, off.vendor[live], value[live])
            has = np.zeros(len(model.vendors), bool)
            has[off.vendor[live]] = True
            best = [top[v.vidx] if has[v.vidx] else 0.0 for v in cn_v]
        else:
            live = off.live.tolist()
            best = [max([vals[o] for o in rows if live[o]], default=0.0) for rows in self._cn_rows(model, off)]
        # np.sum of the products and of China's regions' demand, on floats (model.float_sums)
        supplied = np_sum([float(v.capacity_units) * float(b) for v, b in zip(cn_v, best)])
        d = model.regions.demand(model.month).tolist()
        demand = np_sum([d[i] for i in self._cn_regions(model)])
        return float(supplied / demand) if demand > 0 else 0.0

    def _cn_regions(self, model: Any) -> list[int]:
        """The indices of China's regions (the region table is fixed for a run)."""
        c = self._cn_reg
        if c is None or c[0] is not model.regions.is_cn:
            c = self._cn_reg = (model.regions.is_cn, np.flatnonzero(model.regions.is_cn).tolist())
        return c[1]

    def _cn_rows(self, model: Any, off: Any) -> list[list[int]]:
        """Each Chinese vendor's offerings, in table order: the same until a launch replaces the
        vendor column (the month's live ones are picked from them)."""
        c = self._cn_off
        if c is None or c[0] is not off.vendor or c[1] is not model.vendors.agents:
            rows: dict[int, list[int]] = {v.vidx: [] for v in self._cn_vendors(model)}
            for o, v in enumerate(off.vendor.tolist()):
                if v in rows:
                    rows[v].append(o)
            c = self._cn_off = (off.vendor, model.vendors.agents, [rows[v.vidx] for v in self._cn_vendors(model)])
        return c[2]

    def _cn_vendors(self, model: Any) -> list:
        """The Chinese vendor agents, in vendor order (the vendors are made once, at set-up)."""
        c = self._cn
        if c is None or c[0] is not model.vendors.agents:
            c = self._cn = (model.vendors.agents, [v for v in model.vendors if v.bloc == "cn"])
        return c[1]
