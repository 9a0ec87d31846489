"""ChipVendor: sets capacity and prices each month and designs compliance variants when a US
rule binds on one of its chips for China (how the A800, H800, H20 came to exist)."""

from __future__ import annotations

import math

import numpy as np
from mesa import Agent

_INF = float("inf")


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
        self._anchor_end = float(pts[-1][0])  # the last anchor's time (years), = anchors[0][-1]
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
        """This vendor's month alone (``Vendors.step`` does every vendor's in one pass, the same
        operations): capital, capacity and price (:func:`move`), then its designs."""
        m = self.model
        move(m, [self])
        if m.month >= m.dates["own_designs_from"]:  # before: the replayed history, the catalog only
            self.design()

    def design(self) -> None:
        """Compliance variants (US vendors) and the next generation past the roadmap: what a
        vendor queues into the offering table, so the order vendors act in is the queue's order."""
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
        if not self.roadmap_due(m.month, newest, m.p["generation_months"], m.p["rd_time_effect"]):
            return
        rd_decades = math.log10(1.0 + self.rd_budget_usd / 1e9)  # decades of R&D in USD bn
        # its best own product: the highest value, the newest among equals (the first of ties)
        prods = m.vendors.own_rows(off)[self.vidx]
        value, avail = off.value.tolist(), off.available.tolist()
        flagship = max(prods, key=lambda o: (value[o], avail[o]))
        base = m.p["roadmap_gain_us"] if self.bloc == "us" else m.p["roadmap_gain_cn"]
        gain = base * (1.0 + m.p["rd_gain_effect"] * rd_decades)
        self.rd_budget_usd = 0.0  # spent on this generation
        off.design_successor(flagship, gain, m.month)

    def roadmap_due(self, month: int, newest: int | None, generation_months: float, rd_time_effect: float) -> bool:
        """Is a next generation due (Eq. V6)? ``generation_months`` after the newest own release
        (``newest``, None for none), sooner with R&D spent: x max(1 - effect x decades of R&D, 0.5)."""
        if newest is None:
            return False
        rd_decades = math.log10(1.0 + self.rd_budget_usd / 1e9)  # decades of R&D in USD bn
        return not month < newest + generation_months * max(1.0 - rd_time_effect * rd_decades, 0.5)  # NaN: due

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


def move(m, vendors) -> None:
    """Eq. V7, V1, V1b and V2 for ``vendors``, each in turn: capital raised, capacity, the policy
    cut of capacity and the price index. None of it reads another vendor's move (China's total
    capacity is ``Vendors.cn_base_capacity``, taken before anyone moves), so the order is moot;
    what a month shares (parameters, the policy factors) is read once for all of them."""
    p, month, supply = m.p, m.month, m.supply
    ut = m.vendors.utilisation
    uts = ut.tolist()  # Python floats for the tests and the price (the same values and ops)
    # Eq. V7: STAR-market/HK IPOs in their month, state funds by capacity share, x capital_shock
    shock = p["capital_shock"]
    cn_cap = m.vendors.cn_base_capacity  # as the month began: the same for every vendor
    fund = p["cn_state_fund_usd_per_year"] / 12.0 * shock  # the left-to-right product's first terms
    start, expand = m.start_month, p["capacity_expansion_rate"]
    reacting = month >= m.dates["reaction_start"]
    t = month / 12.0
    rate, lo, hi = p["price_adjust_rate"], p["price_index_min"], p["price_index_max"]
    factors = supply.factors(vendors, month)
    for v, f in zip(vendors, factors):
        i = v.vidx
        base = v.base_capacity
        if v.bloc == "cn":
            if v.ipo_month is not None and month == v.ipo_month:
                v.rd_budget_usd += v.capital_usd * shock
            if cn_cap > 0:
                v.rd_budget_usd += fund * base / cn_cap
        # Eq. V1: through the yearly anchors (mid-year) log-linearly, or linearly from a zero
        # start; then organic growth plus, from reaction_start, expansion toward excess demand
        u = uts[i]  # 0 < u < inf: math.isfinite(u) and u > 0 (NaN fails both)
        if t <= v._anchor_end:
            path = v._path[1] if v._path is not None and v._path[0] == start else v._anchor_path(start)
            k = month - start
            cap = path[k] if 0 <= k < len(path) else v._anchor_value(month)
        elif base <= 0:
            cap = v.anchors[1][-1]
        else:
            cap = base * (1.0 + v.capacity_growth) ** (1.0 / 12.0)
            if 1.0 < u < _INF and reacting:
                # the numpy float, kept so: capacities follow its type, and Python's sum() of
                # Chinese vendors' capacities is compensated over Python floats only
                cap *= 1.0 + expand * min(ut[i] - 1.0, 1.0)
        v.base_capacity = cap
        v.capacity_units = cap * f  # Eq. V1b: the policy's cut
        # Eq. V2: the price index follows last month's demand/capacity ratio
        price = v.price_index
        if 0.0 < u < _INF:
            price *= math.exp(rate * math.log(min(max(u, 0.25), 4.0)))
        # min(max()) of Python floats: np.clip's value, bit for bit, without an array round trip
        v.price_index = float(min(max(price, lo), hi))
