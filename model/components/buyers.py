"""The buyer population as a struct of arrays (the hot path reads only these), built at set-up
(Eq. I1-I2): named hyperscalers, enterprise buyers and one buyer per Global-South country - or
many heterogeneous firms per country / enterprise segment - plus their Mesa agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.buyer import GlobalSouthBuyer
from agents.hyperscaler import Hyperscaler
from model.components.offerings import REFERENCE_SYSTEM
from model.population import load_hyperscalers
from model.types import STACK_INDEX, STACKS

S = len(STACKS)
POPULATION_PARAMS = ("n_firms_per_country", "n_firms_per_hyperscaler_region", "firm_size_pareto",
                     "firm_beta_sd", "firm_estate_sd", "firm_alignment_sd", "price_beta_hyperscaler",
                     "price_beta_gs", "gs_software_estate", "gs_initial_rocm_share", "gs_initial_active",
                     "initial_fleet_months")


@dataclass
class BuyerArrays:
    """Struct of arrays for the buyer population, kept sorted by region."""

    ids: np.ndarray
    region: np.ndarray  # (B,) region index
    is_gs: np.ndarray  # (B,) bool
    share: np.ndarray  # (B,) share of its region's demand
    beta: np.ndarray  # (B,) price sensitivity
    estate: np.ndarray  # (B,) software estate (relative)
    alignment: np.ndarray  # (B,) -1 US-leaning .. +1 China-leaning
    state_funded: np.ndarray  # (B,) bool
    active: np.ndarray  # (B,) bool (Bass timing for the Global South)
    fleet_eff: np.ndarray  # (B, S) installed effective H100e
    fleet_peak: np.ndarray  # (B, S) installed peak H100e
    porting: np.ndarray  # (B, S) porting level in [0, 1]
    fleet_kw: np.ndarray  # (B,) facility power drawn by the installed fleet, kW
    country_share: np.ndarray  # (B,) share of its country's demand (for per-country caps)
    capped_bought: np.ndarray  # (B,) peak H100e of controlled US chips bought this calendar year
    n_regions: int = 0
    region_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # first row of each region

    def by_region(self, x: np.ndarray) -> np.ndarray:
        """Sum the rows (buyers, sorted by region) of ``x`` by region: (B, k) -> (R, k)."""
        reg = self.region
        out = np.zeros((self.n_regions,) + x.shape[1:])
        if reg.size:
            starts = self.region_starts
            out[reg[starts]] = np.add.reduceat(x, starts, axis=0)
        return out


def make_buyers(model: Any, cat: dict, active: np.ndarray, fleet: np.ndarray, agents: bool = True) -> BuyerArrays:
    """Buyer arrays sorted by region (regional sums are one pass), and their Mesa agents."""
    order = np.argsort(cat["region"], kind="stable")
    cat = {k: v[order] for k, v in cat.items()}
    active, fleet = active[order], fleet[order]
    reg = cat["region"]
    starts = np.flatnonzero(np.r_[True, reg[1:] != reg[:-1]]) if reg.size else np.zeros(0, int)
    n = len(cat["ids"])
    regions = model.regions
    b = BuyerArrays(
        ids=cat["ids"], region=cat["region"], is_gs=cat["is_gs"], share=cat["share"],
        beta=cat["beta"], estate=cat["estate"], alignment=cat["alignment"],
        state_funded=cat["state_funded"], active=active, fleet_eff=fleet.copy(),
        fleet_peak=fleet.copy(), porting=np.zeros((n, S)),
        fleet_kw=fleet.sum(axis=1) * legacy_kw_per_h100e(model.offerings) * regions.pue[cat["region"]],
        country_share=cat["share"].copy(), capped_bought=np.zeros(n),
        n_regions=len(regions), region_starts=starts,
    )
    if agents:  # Arthur arrivals become agents as they arrive
        idx = np.arange(n)
        gs = cat["is_gs"]
        if gs.any():
            GlobalSouthBuyer.create_agents(model, int(gs.sum()), idx[gs], cat["ids"][gs])
        if (~gs).any():
            Hyperscaler.create_agents(model, int((~gs).sum()), idx[~gs], cat["ids"][~gs])
    return b


def legacy_kw_per_h100e(off: Any) -> float:
    """All-in kW per effective H100e of the 2021 fleet (A100 HGX servers), for initial power."""
    ids = list(off.ids)
    i = ids.index("hgx-a100") if "hgx-a100" in ids else ids.index(REFERENCE_SYSTEM)
    return float(off.core.watts_allin[i] / 1000.0 / off.value[i])


def build_population(model: Any) -> BuyerArrays:
    """Eq. I1-I2: the default population. With ``n_firms_per_country`` /
    ``n_firms_per_hyperscaler_region`` > 1, many firms per country / enterprise segment with
    heavy-tailed sizes and heterogeneous price sensitivity, alignment and software estate, drawn
    from the model's generator. Demand totals are the same at any population size."""
    p, rng, regions = model.p, model.rng, model.regions
    hs = load_hyperscalers()
    r_index = {r: i for i, r in enumerate(regions.ids)}
    parts = []  # one dict of arrays per segment (a named buyer or a split segment)

    def segment(ids, region, gs, share, beta, estate, align, funded, fleet_shares, n):
        """Split one buyer into ``n`` firms (n = 1: the buyer itself, no draws)."""
        if n <= 1:
            sizes = np.ones(1)
            bmul = emul = np.ones(1)
            adev = np.zeros(1)
            names = [ids]
        else:
            sizes = rng.pareto(p["firm_size_pareto"], n) + 1.0
            sizes /= sizes.sum()
            bmul = np.exp(rng.normal(0.0, p["firm_beta_sd"], n))
            emul = np.exp(rng.normal(0.0, p["firm_estate_sd"], n))
            adev = rng.normal(0.0, p["firm_alignment_sd"], n)
            names = [f"{ids}#{k}" for k in range(n)]
        k = len(names)
        parts.append({
            "ids": np.array(names, dtype=object), "region": np.full(k, region, dtype=int),
            "is_gs": np.full(k, gs), "share": share * sizes, "beta": beta * bmul,
            "estate": estate * emul, "alignment": np.clip(align + adev, -1.0, 1.0),
            "state_funded": np.full(k, funded), "fleet_shares": np.tile(fleet_shares, (k, 1)),
        })

    n_ent = int(p["n_firms_per_hyperscaler_region"])
    cols = list(hs.columns)
    # plain values (one object block of the table), not a Series per row nor to_dict's slow path
    for hid, vals in zip(hs.index, hs.to_numpy(dtype=object).tolist()):
        row = dict(zip(cols, vals))
        r = r_index[row["region"]]
        fs = np.array([row[f"fleet_{s_}"] for s_ in STACKS], dtype=float)
        segment(hid, r, False, float(row["demand_share"]), p["price_beta_hyperscaler"],
                float(row["software_estate"]), regions.alignment[r], bool(row["state_funded"]), fs,
                n_ent if str(hid).endswith("-enterprise") else 1)
    gs_fleet = np.zeros(S)
    gs_fleet[STACK_INDEX["cuda"]] = 1.0 - p["gs_initial_rocm_share"]
    gs_fleet[STACK_INDEX["rocm"]] = p["gs_initial_rocm_share"]
    for rid in regions.ids[regions.is_gs]:
        r = r_index[rid]
        segment(f"gs-{rid}", r, True, 1.0, p["price_beta_gs"], p["gs_software_estate"],
                regions.alignment[r], False, gs_fleet, int(p["n_firms_per_country"]))
    cat = {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0]}
    n = len(cat["ids"])
    active = ~cat["is_gs"] | (rng.random(n) < p["gs_initial_active"])
    # Initial fleet: the region's demand of the previous ``initial_fleet_months`` (Eq. I1).
    base = regions.demand(model.start_month - 1) * p["initial_fleet_months"]
    fleet = base[cat["region"]][:, None] * cat["share"][:, None] * cat["fleet_shares"] * active[:, None]
    return make_buyers(model, cat, active, fleet)
