"""Pricing: what each offering in production costs per useful work in each region this month
(Eq. M5b), which (offering, region) pairs are for sale (Eq. P2-P3) and the levy on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from model import market_kernels, month_kernels
from model.components.base import Component, MonthContext
from model.core.choice import capital_recovery_factor
from model.core.consts import AVG_POWER_FRACTION
from model.policy import availability_fast
from model.types import HOURS_PER_MONTH, HOURS_PER_YEAR, STACK_INDEX

_NO_DRAWS = np.zeros((0, 0))  # no approval below 1: nothing drawn


class Pricing(Component):
    """Vendor prices (list x price index x cost), the core's hourly cost and cost per useful work."""

    owns = ("last_price", "last_region_price")
    reads = ("offerings", "policy", "regions", "power.scarcity", "vendors.price_index", "supply.cost_index")

    def __init__(self, p: dict[str, Any], dates: dict[str, int]) -> None:
        self.p, self.dates = p, dates
        self.last_price: np.ndarray | None = None  # (O,) for inspection (dashboard)
        self.last_region_price: np.ndarray | None = None  # (O, R)
        self._avail_memo: tuple | None = None  # (key, view, available, levy, approval, any approval < 1)
        self._rule_memo: dict = {}  # the rule engine's name and region masks (model.policy.availability_fast)

    @staticmethod
    def _policy_key(pol: Any, off: Any, month: int) -> tuple:
        """Everything :func:`model.policy.availability` reads: the offering view (a new object
        whenever offerings are added), the US rule, the licences in force and China's bans."""
        r = pol.us_rule
        lic = tuple((lc.match, lc.regions, lc.levy, lc.approval) for lc in pol.licences if lc.start <= month)
        return (id(off.view), len(off), r.key(), r.tiers, lic, frozenset(pol.cn_bans))

    def _availability(self, pol: Any, off: Any, reg: Any, month: int):
        """``availability`` for this month, reused while nothing it reads has changed (copies:
        callers modify them)."""
        available, levy, approval = self._policy_tables(pol, off, reg, month)
        return available.copy(), levy.copy(), approval.copy()

    def _policy_tables(self, pol: Any, off: Any, reg: Any, month: int):
        """The kept ``availability`` tables themselves (not to be modified)."""
        key = self._policy_key(pol, off, month)
        memo = self._avail_memo
        if memo is None or memo[0] != key or memo[1] is not off.view:
            out = availability_fast(pol, off.view, reg.tier, reg.ids, reg.is_cn, month, self._rule_memo)
            memo = self._avail_memo = (key, off.view, *out, bool((out[2] < 1.0).any()))
        return memo[2], memo[3], memo[4]

    def price(self, model: Any, ctx: MonthContext) -> None:
        """Sets ``ctx.cost`` (O, R) in USD per effective H100e-month, ``ctx.available``,
        ``ctx.levy``, ``ctx.price`` and ``ctx.region_price``."""
        off, reg, pol, p = model.offerings, model.regions, model.policy, self.p
        live = off.update_live(ctx.month)
        avail_policy, levy, approval = self._policy_tables(pol, off, reg, ctx.month)
        # approvals drawn this month when any is below 1 ((approval < 1).any(), kept with the memo)
        draws = model.rng.random(approval.shape) if self._avail_memo[5] else _NO_DRAWS
        # available = policy & live & drawn approvals; US-bloc vendors pay the rare-earth premium
        # (Eq. V5b); Chinese vendors' unit cost follows SMIC yields and wafer prices relative to the
        # product's launch (Eq. S4); the offer price list x price index x that, the region price with
        # the passed-through levy, in one compiled pass
        available, offer_price, region_price, idx, price_live = market_kernels.price_tables(
            avail_policy, live, draws, approval, off.list_price, model.vendors.price_index(), off.vendor, off.cn,
            1.0 + p["rare_earth_cost"] * pol.rare_earth, float(model.supply.cost_index(ctx.month)),
            off.launch_cost, levy, float(p["levy_passthrough"]))
        levy = levy.copy()  # ctx's own
        # The hourly cost of an accelerator does not depend on the workload: the core prices it on
        # the decode workload alone, for the offerings in production (the rest are not for sale).
        # Its hourly cost (Eq. C5-C6, model.core.choice._hourly_cost) over the units in use, per
        # useful work (Eq. M5b), in one compiled pass; Chinese full-stack bundles come with state
        # financing: cheaper for Global-South buyers.
        bundle = ctx.month >= self.dates["bundle_start"] and p["bundle_discount"] > 0
        value = off.value if ctx.value is None else ctx.value  # after software (Eq. E7)
        cost = month_kernels.unit_cost(
            idx, off.decode_perf.n[idx, 0], off.core.watts_allin[idx], price_live,
            reg.elec * model.power.scarcity, reg.pue, levy, float(p["levy_passthrough"]), off.cn, reg.is_cn,
            float(pol.cn_subsidy) if pol.cn_subsidy else np.nan,
            capital_recovery_factor(p["capital_rate"], p["hardware_life_years"]), value,
            off.stack == STACK_INDEX["cann"], reg.is_gs, float(p["bundle_discount"]) if bundle else np.nan,
            HOURS_PER_MONTH, HOURS_PER_YEAR, AVG_POWER_FRACTION)
        ctx.cost, ctx.available, ctx.levy = cost, available, levy
        ctx.price = self.last_price = offer_price
        ctx.region_price = self.last_region_price = region_price
