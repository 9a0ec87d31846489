"""Deliveries: the month's allocation becomes installed fleets (with retirement), power drawn,
diffusion-rule cap use, China's supply draw-down and vendors' revenue (Eq. V5)."""

from __future__ import annotations

from typing import Any

import numpy as np

from model import blas, kernels_deliver, market_kernels, month_kernels
from model.components.base import Component, MonthContext
from model.types import STACKS

S = len(STACKS)
_NO_TIER = np.zeros(0, dtype=bool)  # no tier caps: capped_bought only reset


class Deliveries(Component):
    """Turns ``ctx.clearing`` into fleets and money; fills ``ctx.units``/``gross``/``net`` and
    the purchases by buyer and stack."""

    owns = ("buyers.fleet_eff", "buyers.fleet_peak", "buyers.fleet_kw", "buyers.capped_bought")
    reads = ("ctx.clearing", "ctx.region_price", "ctx.levy", "offerings", "policy", "regions")

    def __init__(self, p: dict[str, Any]) -> None:
        self.p = p

    def deliver(self, model: Any, ctx: MonthContext) -> None:
        b, off, reg, pol, p = model.buyers, model.offerings, model.regions, model.policy, self.p
        cl, levy = ctx.clearing, ctx.levy
        cols = cl.cols
        O, R = len(off), len(reg)
        per_unit = 1.0 / cl.value  # units per effective H100e of each column
        retire = 1.0 / (12.0 * p["hardware_life_years"]) if p["fleet_retirement"] else 0.0
        # Everything the fleets need from the month's (buyers x offerings) allocation in one
        # product: effective and peak purchases by stack, power drawn, controlled peak bought.
        C = cols.size
        ctl = off.controlled_us(pol.us_rule)[cols] if pol.tier_caps_h100e else np.zeros(C, dtype=bool)
        weights = month_kernels.delivery_weights(cols, off.stack, off.peak, off.core.watts_allin, per_unit, ctl, S)
        with blas.one_thread(len(cl.alloc)):
            per_buyer = cl.alloc @ weights  # (B, 2S + 2)
        purchases_eff_bs, purchases_peak_bs = per_buyer[:, :S], per_buyer[:, S:2 * S]
        # the fleets retire and grow, and the controlled peak bought counts against a tier-2 cap
        # (reset each January), in one compiled pass
        b.fleet_eff, b.fleet_peak, b.fleet_kw = market_kernels.fleet_step(
            b.fleet_eff, b.fleet_peak, b.fleet_kw, per_buyer, 1.0 - retire, reg.pue, b.region, S, b.capped_bought,
            ctx.month % 12 == 0, reg.tier == 2 if pol.tier_caps_h100e else _NO_TIER)
        # Units and revenue per offering x region, in one compiled pass (model.kernels_deliver: the
        # region blocks' column sums down the rows, the former column-by-column kernel's bits, tests/month_oracles.py):
        # units = the buyers' allocation summed by region (b.by_region) per unit; gross = units x the
        # buyers' price incl. passed-through levy; net = gross x (1 - levy) (the levy is a share of the
        # vendor's revenue, Eq. V5), Nvidia's sales in China less the antitrust fine
        V = len(model.vendors)
        fine = float(pol.antitrust_fine) if pol.antitrust_fine else np.nan
        nv = (np.array([vid == "nvidia" for vid in model.vendors.ids])[off.vendor] if pol.antitrust_fine
              else off.cn)  # (unread without a fine)
        units_or, gross_or, net_or, cn_units, revenue = kernels_deliver.deliver_tables(
            cl.alloc, per_unit, cols, b.region_starts, b.region[b.region_starts], O, R, ctx.region_price, levy,
            off.cn, off.vendor, V, fine, nv, reg.is_cn)
        model.supply.consume(cn_units, pol.us_rule.hbm_to_china)
        model.vendors.book(revenue)
        ctx.units, ctx.gross, ctx.net = units_or, gross_or, net_or
        ctx.purchases_eff, ctx.purchases_peak = purchases_eff_bs, purchases_peak_bs
