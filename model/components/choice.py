"""Buyers' choice: every buyer's demand this month over the offerings in production, with lock-in,
network value, alignment, policy caps and an outside option, cleared in one market call
(Eq. M1-M4, P4), and the porting decisions that lower switching costs (Eq. E5)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from model import (
    blas,
    kernels,
    kernels_choice,
    kernels_fleet,
    kernels_logit,
    kernels_month,
    kernels_utility,
    market_kernels,
    month_kernels,
)
from model.components.base import Component, MonthContext
from model.ecosystem import bass_hazard, network_value
from model.lock_in import porting_step
from model.market import clear_market
from model.market_kernels import free_choice
from model.types import STACK_INDEX, STACKS

S = len(STACKS)


class BuyersChoice(Component):
    """The month's market: who wants how much of what, and what they get."""

    owns = ("buyers.active", "buyers.porting")
    reads = ("ctx.cost", "ctx.available", "offerings", "ecosystems", "policy", "vendors", "regions")

    def __init__(self, p: dict[str, Any], dates: dict[str, int], start_month: int) -> None:
        self.p, self.dates, self.start_month = p, dates, start_month
        self._blocks: tuple | None = None  # (region_starts, B, rows per region, region of each block)
        self._porting_params: tuple | None = None
        self._us: tuple | None = None  # (regions' bloc column, index of the US)

    def _region_blocks(self, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """Rows per region block and each block's region (buyers are sorted by region); kept
        while the population is the same (Arthur arrivals replace ``region_starts``)."""
        memo = self._blocks
        if memo is None or memo[0] is not b.region_starts or memo[1] != len(b.ids):
            memo = self._blocks = (b.region_starts, len(b.ids), np.diff(np.r_[b.region_starts, len(b.ids)]),
                                   b.region[b.region_starts])
        return memo[2], memo[3]

    def _columns(self, off: Any, reg: Any, regs: np.ndarray, cost: np.ndarray, V: int,
                 available: np.ndarray | None = None) -> _Columns:
        """This month's columns (and the vendors' cheapest offerings for the reference cost; with
        ``available``, also what the utility reads of the (O, R) tables)."""
        if self._us is None or self._us[0] is not reg.bloc:
            self._us = (reg.bloc, int(np.flatnonzero(reg.bloc == "us")[0]))
        return _Columns(off, regs, cost, self._us[1], V, available, reg.is_cn)

    def trade(self, model: Any, ctx: MonthContext) -> None:
        """Sets ``ctx.clearing``: allocation over the offerings in production (``clearing.cols``)."""
        b, off, reg, pol, p = model.buyers, model.offerings, model.regions, model.policy, self.p
        m = ctx.month
        cost, available = ctx.cost, ctx.available
        # Bass timing for Global-South buyers (Eq. M4): model.market.bass_start on the weights
        # share x region weight (0 outside the Global South), its sums and masks compiled
        B = len(b.ids)
        a0, total, on = kernels.bass_weights(b.active, b.is_gs, b.share, reg.weight, b.region)
        frac = on / total if total > 0 else 0.0
        hazard = bass_hazard(p["bass_p"], p["bass_q"], min(max(frac, 0.0), 1.0), 1.0 / 12.0)
        draws = model.rng.random(B)
        rd = reg.demand(m)
        noise = model.rng.normal(0.0, p["demand_noise"], B)
        noise -= 0.5 * p["demand_noise"] ** 2
        np.exp(noise, out=noise)  # exp(normal - sigma^2 / 2), in place
        b.active, demand = kernels.bass_demand(a0, draws, float(hazard), b.is_gs, rd, b.region, b.share, noise)
        counts, regs = self._region_blocks(b)
        c = self._columns(off, reg, regs, cost, len(model.vendors), available)
        cols, stack, onehot = c.cols, c.stack, c.onehot  # in production, grouped by stack
        # Utility terms (Eq. M1)
        eco = model.ecosystems
        world_inst, fleet_tot = kernels_fleet.fleet_sums(b.fleet_eff)  # numpy's sums, one pass
        nv = network_value(world_inst, eco.state.developers, eco.params)  # (S,)
        # switching cost (model.lock_in's portability and switching_cost) in one compiled pass
        ep = eco.params
        sw = kernels_choice.switching(eco.state.maturity, b.porting, eco.codesign(m), b.estate, b.fleet_eff,
                                      fleet_tot, float(p["kappa"]), ep.maturity_effect, ep.porting_effect,
                                      ep.codesign_bonus)
        # Region-level terms are computed once per region and expanded over that region's buyers
        # (buyers are sorted by region) in the compiled pass that builds the utility (Eq. M1).
        block = c.cann
        lo, hi = (block.start, block.stop) if block is not None else (0, 0)
        bonus = p["bundle_bonus"] if block is not None and m >= self.dates["bundle_start"] else np.nan
        pen = pol.us_guidance_cann_penalty if block is not None and pol.us_guidance_cann_penalty else np.nan
        # Mandated share of state-funded Chinese buyers: a second row restricted to domestic chips
        # (rows B.. of util_all and avail_all, built in the same pass, with the share and its rows);
        # in a porting month the free-choice logit's exponents too (model.kernels_utility)
        porting = (m - self.start_month) % int(p["porting_interval_months"]) == 0
        temperature = max(p["choice_temperature"], 1e-6)
        util_all, avail_all, mand, rows, expo, special = kernels_utility.market_utility(
            np.log(c.cost_in, out=c.cost_in), c.avail_in, counts, c.cn_block, b.beta, nv, sw, stack, b.alignment,
            b.is_gs, c.china, float(p["alignment_weight"]), float(p["alignment_weight_hyperscaler"]), lo, hi,
            float(bonus), float(pen), c.cn, float(pol.cn_mandate), b.state_funded, reg.is_cn, b.region,
            porting, float(temperature))
        util, avail = util_all[:B], avail_all[:B]
        if porting:
            if special or not cols.size or not temperature > 0:  # logit_choice's tie branch, no columns
                # or a NaN temperature: the general path
                expo = free_choice(util, sw, stack, avail, temperature)
            else:  # logit_choice's exp (numpy's) and normalisation on the exponents
                expo = kernels_logit.logit_norm(np.exp(expo, out=expo))
            self._decide_porting(model, expo, sw, onehot)
        # Diffusion-rule caps: a tier-2 country past its yearly cap of controlled US chips (Eq. P4)
        cap2 = pol.tier_caps_h100e.get(2)
        if cap2 is not None:
            over = (reg.tier[b.region] == 2) & (b.capped_bought >= cap2 * b.country_share)
            if rows.size:
                over = np.concatenate([over, over[rows]])  # the mandated rows are their buyers'
            avail_all[np.ix_(over, off.controlled_us(pol.us_rule)[cols])] = False
        # Outside option: doing without (or waiting) when what is on offer costs far more per useful
        # work than compute normally costs (Eq. M1b); doing without keeps the buyer on its estate,
        # with that estate's network value.
        # Waiting keeps the network value of the estate only on stacks the buyer can still buy:
        # an estate whose stack is cut off (controls, bans) cannot be extended by waiting.
        cap = model.vendors.capacities()
        # (B, S) shares of the estate on stacks with at least one offering for sale, and the
        # reference cost's vendors (reference_cost), in one pass; numpy's logs and exp around it
        if cap2 is None:  # every buyer's availability is still its region block's: read per block
            shares, cheap, w = kernels_choice.outside_inputs_blocks(c.avail_in, counts, stack, b.fleet_eff, fleet_tot,
                                                                    S, c.present, cap, c.cheapest)
        else:
            shares, cheap, w = market_kernels.outside_inputs(avail, stack, b.fleet_eff, fleet_tot, S, c.present,
                                                             cap, c.cheapest)
        ref = float(np.exp(market_kernels.weighted_mean(np.log(cheap), w))) if cheap.size else 1.0
        # u0 = -beta ln(ratio x reference) + shares @ nv, and the mandated rows' demand and outside
        # option appended (demand x (1 - share), then demand x share)
        with blas.one_thread(B):
            net = shares @ nv
        u0, demand = market_kernels.outside_rows(b.beta, np.log(p["outside_cost_ratio"] * ref), net, demand, mand, rows)
        value = off.value if ctx.value is None else ctx.value  # after software (Eq. E7)
        cl = clear_market(demand, util_all, avail_all, value[cols], c.vendor, cap,
                          model.rng, lots=int(p["lots"]), temperature=p["choice_temperature"],
                          rounds=int(p["market_rounds"]),
                          outside_utility=u0 if p["outside_option"] else None)
        if rows.size:  # fold the mandated rows back onto their buyers
            cl.alloc, cl.unmet, cl.forgone = kernels_month.fold_rows(cl.alloc, cl.unmet, cl.forgone, B, rows)
        cl.cols = cols  # alloc and units are buyers x offerings in production (cols)
        model.vendors.observe_demand(cl.vendor_demand_units, cap)
        if p["power_constraint"]:
            model.power.limit(cl, b, off.core.watts_allin)
        ctx.clearing = cl

    def _decide_porting(self, model: Any, free: np.ndarray, sw: np.ndarray, onehot: np.ndarray) -> None:
        """Eq. E5: buyers port their software estate toward a stack when the switching cost it
        would remove, weighted by the demand they would put there if switching were free
        (``free``: logit_choice(util + sw[:, stack], avail, max(temperature, 1e-6))), beats the
        monthly porting cost; mandated Chinese buyers port to CANN regardless."""
        b, p = model.buyers, self.p
        with blas.one_thread(len(free)):
            saving = sw * (free @ onehot)
        # porting is paying the switching cost ahead of time: it scales with kappa like the cost it removes
        cost = p["porting_cost"] * p["kappa"] * b.estate  # per buyer, on every stack
        mandated = b.state_funded & model.regions.is_cn[b.region] & (model.policy.cn_mandate > 0)
        k = int(p["porting_interval_months"])  # decisions every k months, k months of porting each
        eco = model.ecosystems.params
        if k == 1:
            params = eco
        else:  # the k-month parameters, rebuilt only when the ecosystem's parameters change
            memo = self._porting_params
            if memo is None or memo[0] is not eco or memo[1] != k or memo[2] != eco.porting_step_per_month:
                memo = self._porting_params = (eco, k, eco.porting_step_per_month, dataclasses.replace(
                    eco, porting_step_per_month=eco.porting_step_per_month * k))
            params = memo[3]
        b.porting = porting_step(saving, cost, k, mandated, b.porting, params)  # porting_decision, compiled


class _Columns:
    """The offerings in production this month as the market reads them (month_kernels.columns):
    index grouped by stack (stable), stack, one-hot (C, S), alignment sign, vendor, Chinese flag,
    the CANN block, the flat index of (region block, column) into an (O, R) table, and each
    vendor's cheapest live non-compliance cost in the US (for the reference cost)."""

    def __init__(self, off: Any, regs: np.ndarray, cost: np.ndarray, us: int, V: int,
                 available: np.ndarray | None = None, is_cn: np.ndarray | None = None) -> None:
        args = (off.live, off.stack, off.cn, off.vendor, off.compliance, S, regs, cost.shape[1], STACK_INDEX["cann"],
                cost, us, V)
        if available is None:
            out = month_kernels.columns(*args)
        else:  # and max(cost, 1e-9), availability and China's blocks through the flat index
            out, self.cost_in, self.avail_in, self.cn_block = market_kernels.market_columns(*args, available, is_cn)
        (self.cols, self.stack, self.onehot, self.china, self.vendor, self.cn, self.flat, lo, hi,
         self.cheapest, self.present) = out
        self.cann = slice(lo, hi) if hi > lo else None  # a contiguous block: cols grouped by stack


def reference_cost(model: Any, cost: np.ndarray, cap: np.ndarray | None = None,
                   columns: _Columns | None = None) -> float:
    """What useful compute normally costs this month (Eq. M1c): the capacity-weighted geometric
    mean, over vendors, of each vendor's cheapest live non-compliance offering in the US bloc.
    ``cap`` (the vendors' capacities) and ``columns`` (this month's) spare recomputing them."""
    off = model.offerings
    if cap is None:
        cap = model.vendors.capacities()
    V = len(model.vendors)
    if columns is not None:  # the same figures, the minima taken in the month's columns pass
        ok = columns.present & (cap > 0)
        if not ok.any():
            return 1.0
        la, w = np.log(columns.cheapest[ok]), cap[ok]
        return float(np.exp(np.multiply(la, w).sum() / w.sum()))  # np.average's operations
    live = np.flatnonzero(off.live & ~off.compliance)
    us = np.flatnonzero(model.regions.bloc == "us")[0]
    vend = off.vendor[live]
    cheapest = np.full(V, np.inf)
    np.minimum.at(cheapest, vend, cost[live, us])
    ok = (np.bincount(vend, minlength=V) > 0) & (cap > 0)  # vendor order, as the weights below
    if not ok.any():
        return 1.0
    return float(np.exp(np.average(np.log(cheapest[ok]), weights=cap[ok])))
