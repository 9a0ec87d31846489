"""ChipVendor: sets capacity and prices each month and designs compliance variants when a US
rule binds on one of its chips for China (how the A800, H800, H20 came to exist)."""

from __future__ import annotations

import math

import numpy as np
from mesa import Agent


class ChipVendor(Agent):
    """A chip vendor (Nvidia, AMD, Huawei, Cambricon, ...). State lives on the agent; it reads the
    offering table (``model.offerings``), what supply and policy allow (``model.supply``,
    ``model.policy``) and last month's utilisation (``model.vendors``), and designs new offerings
    into the table's queue."""

    def __init__(self, model, vidx: int, row) -> None:
        super().__init__(model)
        self.vidx = vidx
        self.vendor_id: str = row.name
        self.bloc: str = row["bloc"]
        self.stack: str = row["stack"]
        self.capacity_2022 = float(row["capacity_units_month_2022"])
        pts = [(2022.5, self.capacity_2022)] + [
            (y + 0.5, float(row[f"capacity_units_month_{y}"])) for y in (2023, 2024, 2025)
            if row[f"capacity_units_month_{y}"] == row[f"capacity_units_month_{y}"]]
        self.anchors = (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        self._log_caps: np.ndarray | None = None
        self._path: tuple[int, list[float]] | None = None  # (start month, capacity by month)
        self.capacity_growth = float(row["capacity_growth_per_year"])
        self.markup = float(row["markup"])
        self.rd_share = float(row["rd_share"])
        self.capital_usd = float(row["capital_usd"]) if row["capital_usd"] == row["capital_usd"] else 0.0
        ipo = row["ipo"]
        self.ipo_month = (int(ipo[:4]) * 12 + int(ipo[5:7]) - 1) if isinstance(ipo, str) and ipo else None
        self.base_capacity = self.capacity_2022  # before policy effects
        self.capacity_units = self.capacity_2022
        self.price_index = 1.0
        self.revenue_usd_total = 0.0
        self.rd_budget_usd = 0.0
        self.variants_designed: dict[tuple, int] = {}  # (parent, rule key) -> offering index

    # -- step 3 of the month -------------------------------------------------------------
    def step(self) -> None:
        m = self.model
        p = m.p
        self._raise_capital()
        # a numpy float, kept so: capacities follow its type, and Python's sum() of Chinese vendors'
        # capacities (Vendors.step) is compensated over Python floats only - a float here moves bits
        util = m.vendors.utilisation[self.vidx]
        self.base_capacity = self._capacity_path(m, util)
        self.capacity_units = self.base_capacity * m.supply.factor(self, m.month)
        # Price toward clearing: index follows last month's demand/capacity ratio (Eq. V2).
        if math.isfinite(util) and util > 0:
            self.price_index *= math.exp(p["price_adjust_rate"] * math.log(min(max(util, 0.25), 4.0)))
        # min(max()) of Python floats: np.clip's value, bit for bit, without an array round trip
        self.price_index = float(min(max(self.price_index, p["price_index_min"]), p["price_index_max"]))
        if m.month < m.dates["own_designs_from"]:
            return  # the replayed history: only the catalog's real products
        if self.bloc == "us":
            self._design_compliance_variants()
        self._extend_roadmap()

    def _extend_roadmap(self) -> None:
        """Past its catalog roadmap a vendor launches a next generation of its best offering every
        ``generation_months``; the gain per generation rises with R&D spending (Eq. V6)."""
        m = self.model
        off = m.offerings
        # the newest release among its own (non-variant) offerings, for all vendors in one pass
        newest = m.vendors.newest_own(off)[self.vidx]
        if newest is None:
            return
        rd_decades = math.log10(1.0 + self.rd_budget_usd / 1e9)  # decades of R&D in USD bn
        months = m.p["generation_months"] * max(1.0 - m.p["rd_time_effect"] * rd_decades, 0.5)
        if m.month < newest + months:
            return
        mine = (off.vendor == self.vidx) & ~off.compliance
        prods = np.flatnonzero(mine).tolist()
        flagship = max(prods, key=lambda o: (off.value[o], off.available[o]))
        base = m.p["roadmap_gain_us"] if self.bloc == "us" else m.p["roadmap_gain_cn"]
        gain = base * (1.0 + m.p["rd_gain_effect"] * rd_decades)
        self.rd_budget_usd = 0.0  # spent on this generation
        off.design_successor(flagship, gain, m.month)

    def _raise_capital(self) -> None:
        """Chinese vendors add capital raised (STAR-market/HK IPOs in their month, state funds each
        month by capacity share) to their R&D budget, scaled by ``capital_shock`` (Eq. V7)."""
        m = self.model
        if self.bloc != "cn":
            return
        shock = m.p["capital_shock"]
        if self.ipo_month is not None and m.month == self.ipo_month:
            self.rd_budget_usd += self.capital_usd * shock
        cn_cap = m.vendors.cn_base_capacity  # as the month began: the same for every vendor, whatever the order
        if cn_cap > 0:
            self.rd_budget_usd += m.p["cn_state_fund_usd_per_year"] / 12.0 * shock * self.base_capacity / cn_cap

    def _capacity_path(self, m, util: float) -> float:
        """Capacity (units/month, Eq. V1). Through the observed yearly anchors (2022, 2024 where
        known, 2025; placed at mid-year) log-linearly, or linearly from a zero start; then organic
        growth ``capacity_growth_per_year`` plus, from reaction_start, expansion toward excess
        demand at up to ``capacity_expansion_rate`` per month."""
        years, caps = self.anchors
        if m.month / 12.0 <= years[-1]:
            path = self._anchor_path(m.start_month)
            i = m.month - m.start_month
            if 0 <= i < len(path):
                return path[i]
            return self._anchor_value(m.month)
        if self.base_capacity <= 0:
            return caps[-1]
        cap = self.base_capacity * (1.0 + self.capacity_growth) ** (1.0 / 12.0)
        if math.isfinite(util) and util > 1.0 and m.month >= m.dates["reaction_start"]:
            cap *= 1.0 + m.p["capacity_expansion_rate"] * min(util - 1.0, 1.0)
        return cap

    def _anchor_value(self, month: int) -> float:
        """The capacity through the anchors at one month (log-linear, or linear from zero)."""
        t = month / 12.0
        years, caps = self.anchors
        if caps[0] > 0:
            if self._log_caps is None:  # the anchors are fixed: their logs once per vendor
                self._log_caps = np.log(caps)
            return float(np.exp(np.interp(t, years, self._log_caps)))
        return float(np.interp(t, years, caps))

    def _anchor_path(self, start_month: int) -> list[float]:
        """:meth:`_anchor_value` for every month from ``start_month`` to the last anchor, in one
        vectorised pass (numpy's interp and exp give each element the bits of the scalar call:
        tests/test_vendor_fast.py checks it)."""
        if self._path is None or self._path[0] != start_month:
            years, caps = self.anchors
            months = np.arange(start_month, int(math.floor(years[-1] * 12.0)) + 1)
            months = months[months / 12.0 <= years[-1]]
            t = months / 12.0
            if caps[0] > 0:
                if self._log_caps is None:
                    self._log_caps = np.log(caps)
                vals = np.exp(np.interp(t, years, self._log_caps))
            else:
                vals = np.interp(t, years, caps)
            self._path = (start_month, vals.tolist())
        return self._path[1]

    def _design_compliance_variants(self) -> None:
        """For each product in (or about to enter) production that the active rule controls for
        China, schedule a variant just under the thresholds, on sale ``variant_lag_months`` later
        (Eq. V3) - unless a variant already on the books is still compliant and keeps at least
        ``variant_redesign_gain``^-1 of what the new rule would allow."""
        m = self.model
        off = m.offerings
        rule = m.policy.us_rule
        if 3 not in rule.tiers or not m.p["compliance_variants"]:
            return
        key = rule.key()
        # the products in (or about to enter) production that the rule controls, in table order
        # (one pass over the table for all vendors: nothing a vendor queues changes it)
        for oidx in m.vendors.variant_candidates(m, rule)[self.vidx]:
            chip = off.chip[oidx]
            if (chip, key) in self.variants_designed:
                continue
            if self._existing_variant_suffices(oidx, rule):
                self.variants_designed[(chip, key)] = -1
                continue
            self.variants_designed[(chip, key)] = off.design_variant(oidx, rule, m.month)

    def _existing_variant_suffices(self, oidx: int, rule) -> bool:
        off = self.model.offerings
        mine = np.flatnonzero(off.parent_idx == oidx)
        if mine.size == 0:
            return False
        ok = ~rule.controlled(off.tpp[mine], off.density[mine], off.io[mine])
        if not ok.any():
            return False
        area = off.tpp[oidx] / off.density[oidx]
        cap, _io = rule.design_limits(area)
        best = off.tpp[mine][ok].max()
        return bool(best * self.model.p["variant_redesign_gain"] >= min(cap, off.tpp[oidx]))

    # -- what the other components do to a vendor ------------------------------------------
    def cut_capacity(self, factor: float) -> None:
        """China's package pool is short: this month's capacity is cut pro rata (Eq. S3b)."""
        self.capacity_units *= factor

    def book_revenue(self, usd: float) -> None:
        """The month's net revenue: to the total, and its R&D share to the budget (Eq. V5)."""
        self.revenue_usd_total += usd
        self.rd_budget_usd += usd * self.rd_share
