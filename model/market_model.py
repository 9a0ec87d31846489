"""ChipMarketModel: the Mesa model of the AI-accelerator market (DESIGN §5 step order).

One step is one month. Each month: scripted events fire; regulators set their levers; vendors
set capacity, prices and compliance variants; the numpy core prices every offering for every
region; buyers choose in one vectorised market call; deliveries update fleets, revenues and
ecosystems; metrics are recorded. Randomness only through ``self.rng``.
Equations: docs/ODD.md (Process overview; Submodels).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from mesa import DataCollector, Model

from agents.buyer import ArrivingBuyer, GlobalSouthBuyer
from agents.hyperscaler import Hyperscaler
from agents.regulator import CNRegulator, USRegulator
from agents.vendor import ChipVendor
from model import metrics
from model.catalog import load_catalog
from model.cluster import Offerings, Workloads, logit_choice, performance, price
from model.cluster import tpp as tpp_of
from model.ecosystem import (
    EcosystemParams,
    EcosystemState,
    network_value,
    portability,
    porting_decision,
    switching_cost,
    update_ecosystem,
)
from model.energy import ai_power_share, power_capacity_kw, power_fill, scarcity_multiplier
from model.market import bass_start, buyer_utility, clear_market
from model.params import PARAMETERS, check_value, defaults
from model.policy import Licence, OfferingView, PolicyState, USRule, availability, rule_for_level
from model.population import load_demand, load_hyperscalers, load_regions, load_vendors
from model.scenario import Event, load_scenario, month_index, month_label
from model.supply import SupplyState, load_supply, packages_available, unit_cost_index
from model.types import H100_BF16_TFLOPS, HOURS_PER_MONTH, STACK_INDEX, STACKS

S = len(STACKS)


def _tpp(off: Offerings) -> np.ndarray:
    """Export-control TPP: the largest of dense TOPS x bit length over the chip's formats (Eq. P0)."""
    with np.errstate(invalid="ignore"):
        return np.nanmax(np.vstack([tpp_of(off.bf16_tflops, 16), tpp_of(off.fp8_tflops, 8), tpp_of(off.int8_tops, 8)]),
                         axis=0)
MODEL_COLUMNS = (
    "run_id", "seed", "step", "date", "bifurcation_index", "bloc_jsd", "hhi_world",
    "top_stack_share_world", "cn_domestic_share", "nvidia_china_revenue_share", "gs_cuda_share",
    "gs_cann_share", "gs_dual_stack_share", "us_cn_compute_ratio", "rare_earth_restriction",
    "us_control_level",
)
ADOPTION_COLUMNS = ("run_id", "step", "date", "region", "bloc", "stack", "installed_h100e",
                    "purchased_h100e", "spend_usd")
VENDOR_COLUMNS = ("run_id", "step", "date", "vendor", "product", "region", "units", "revenue_usd",
                  "price_usd", "capacity_units")
REFERENCE_SYSTEM = "hgx-h100"
ARTHUR_B_SYSTEM = "atlas-800-910b"  # technology B of the Arthur docking (A is the reference)
WORKLOAD_IDS = ("llama3-405b-train", "deepseek-v3-train", "deepseek-r1-prefill", "deepseek-r1-decode")


@dataclass
class BuyerArrays:
    """Struct of arrays for the buyer population (the hot path reads only these)."""

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


def _repeat_str(value: str, n: int) -> pa.Array:
    """A string column holding ``value`` n times (built in Arrow, not as n Python strings)."""
    return pc.take(pa.array([value], pa.string()), np.zeros(n, dtype=np.int64))


class ChipMarketModel(Model):
    """The AI-accelerator market: vendors, hyperscalers, regulators and Global-South buyers."""

    def __init__(self, scenario: str = "baseline", rng: Any = None, run_id: str | None = None,
                 **overrides: Any) -> None:
        super().__init__(rng=rng)
        self.catalog = load_catalog()
        self.regions_df = load_regions()
        self.spec = load_scenario(scenario, known_chips=set(self.catalog.chips.index),
                                  known_regions=set(self.regions_df.index))
        p = defaults()
        p.update(self.spec.params)
        for k, v in overrides.items():
            p[k] = check_value(k, v, f"parameter override {k}")
        self.p = p
        self.scenario_name = self.spec.name
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else None
        self.run_id = run_id or f"{self.scenario_name}-{self.seed}"
        self.start_month = month_index(p["start"], "start")
        self.end_month = month_index(p["end"], "end")
        if self.end_month < self.start_month:
            raise ValueError(f"end {p['end']} is before start {p['start']}")
        self._dates = self._date_params()  # every date parameter must be a valid YYYY-MM
        self.month = self.start_month
        self.reaction_start = month_index(p["reaction_start"], "reaction_start")
        self.events: dict[int, list[Event]] = {}
        for ev in self.spec.events:
            self.events.setdefault(ev.month, []).append(ev)
        self.scripted_months = set(self.events)
        self.eco_params = EcosystemParams.from_params(p)
        self.eco = EcosystemState.initial()
        self.policy = PolicyState()
        self._rare_earth_history: list[float] = []
        self._pending: list = []  # derived offerings queued in the vendors' phase
        self._batching = False
        self.supply_df = load_supply()
        self.supply = SupplyState(hbm_stock=float(p["hbm_stockpile_stacks"]), die_bank=float(p["die_bank_dies"]))
        self.cn_supply_packages = float("inf")
        self.cn_ai_share = float(p["smic_ai_share"])  # rises when Chinese vendors are short (Eq. S5)
        self._setup_regions()
        self._setup_offerings()
        self._setup_vendors()
        self._setup_buyers()
        USRegulator(self)
        CNRegulator(self)
        self._records: dict[str, list] = {"model": [], "adoption": [], "vendors": []}
        self.latest: dict[str, float] = {}
        self.datacollector = DataCollector(model_reporters={
            k: (lambda m, k=k: m.latest.get(k, np.nan)) for k in MODEL_COLUMNS[4:]
        })

    # ------------------------------------------------------------------ set-up
    def _date_params(self) -> dict[str, int]:
        """Month indices of the date parameters (YYYY-MM strings), validated."""
        return {name: month_index(self.p[name], f"parameter {name}") for name, prm in PARAMETERS.items()
                if prm.kind is str and isinstance(prm.default, str) and prm.default[:2] in ("19", "20")}

    def _setup_regions(self) -> None:
        r = self.regions_df
        self.region_ids = np.array(r.index, dtype=object)
        self.region_bloc = r["bloc"].to_numpy(dtype=object)
        self.region_tier = r["us_tier"].to_numpy(dtype=int)
        self.region_alignment = r["alignment"].to_numpy(dtype=float)
        self.region_elec = r["elec_usd_kwh"].to_numpy(dtype=float)
        self.region_pue = r["pue"].to_numpy(dtype=float)
        self.region_weight = r["demand_weight"].to_numpy(dtype=float)
        self.region_is_cn = self.region_ids == "cn"
        self.region_is_gs = self.region_bloc == "gs"
        self.demand_path = load_demand()
        self._demand_arrays = (self.demand_path.index.to_numpy(float) + 0.5,
                               np.log(self.demand_path["world_h100e"].to_numpy(float) / 12.0))
        self.region_dc_gw = r["dc_power_gw_2024"].to_numpy(dtype=float)
        self.region_add_gw = r["power_add_gw_per_year"].to_numpy(dtype=float)
        growth = {"us": self.p["power_add_growth_us"], "cn": self.p["power_add_growth_cn"],
                  "gs": self.p["power_add_growth_gs"]}
        self.region_add_growth = np.array([growth[b] for b in self.region_bloc], dtype=float)
        self.region_power_kw = np.full(len(r), np.inf)
        self.region_scarcity = np.ones(len(r))

    def _setup_offerings(self) -> None:
        """The offering table: catalog systems (compliance parts are designed at run time)."""
        chips = self.catalog.chips
        systems = self.catalog.systems
        parent = chips["variant_of"].fillna("").astype(str)
        keep = systems[parent.reindex(systems["chip"]).to_numpy() == ""]
        keep = keep[keep["price_usd"].notna()]
        if self.p["population"] == "arthur":  # two technologies, A (cuda) and B (cann), from the start
            keep = keep.loc[[REFERENCE_SYSTEM, ARTHUR_B_SYSTEM]].copy()
            keep["available"] = self.p["start"]
        self.workloads = Workloads.load(ids=list(WORKLOAD_IDS))
        w = np.array([self.p["mix_train_dense"], self.p["mix_train_moe"], self.p["mix_prefill"],
                      self.p["mix_decode"]], dtype=float)
        self.mix = w / w.sum()
        self._decode_index = WORKLOAD_IDS.index("deepseek-r1-decode")  # prices use its hourly cost
        self.vendor_ids = list(load_vendors().index)
        self._build_offerings(keep, chips)

    # Columns of the offering table (struct of arrays; derived offerings are appended).
    _OFFER_COLS = ("offer_ids", "offer_chip", "offer_parent", "offer_parent_idx", "offer_compliance", "offer_vendor",
                   "offer_stack", "offer_cn", "offer_available", "offer_tpp", "offer_density",
                   "offer_io", "offer_list_price", "offer_peak", "offer_value", "offer_launch_cost")

    def _build_offerings(self, sysdf: pd.DataFrame, chips: pd.DataFrame) -> None:
        """Offering arrays from catalog frames (once, at set-up)."""
        off = Offerings.from_frame(sysdf, chips)
        ch = chips.loc[sysdf["chip"]]
        tpp = _tpp(off)
        area = ch["die_area_mm2"].to_numpy(float)
        area = np.where(np.isnan(area), self.p["default_die_area_mm2"], area)
        self.core_off = off
        self.offer_ids = off.ids.copy()
        self.offer_chip = off.chip.copy()
        self.offer_parent = np.full(len(off), "", dtype=object)
        self.offer_parent_idx = np.full(len(off), -1, dtype=int)
        self.offer_compliance = np.zeros(len(off), dtype=bool)
        self.offer_vendor = np.array([self.vendor_ids.index(v) for v in ch["vendor"]], dtype=int)
        self.offer_stack = np.array([STACK_INDEX[s] for s in ch["stack"]], dtype=int)
        self.offer_cn = ch["home_bloc"].to_numpy(dtype=object) == "cn"
        self.offer_available = np.array([month_index(a) for a in sysdf["available"]], dtype=int)
        self.offer_tpp = tpp
        self.offer_density = tpp / area
        self.offer_io = off.scaleup_gb_s.copy()
        self.offer_list_price = off.price_usd_per_accel.copy()
        self.offer_peak = off.bf16_tflops / H100_BF16_TFLOPS
        thr, self._decode_perf = self._throughput(off)
        ref_i = list(self.offer_ids).index(REFERENCE_SYSTEM)
        self._ref_thr = np.where(thr[ref_i] > 0, thr[ref_i], 1.0)
        self.offer_value = self._value(thr)
        self.offer_launch_cost = np.array([self._cn_cost_index(int(a)) for a in self.offer_available])
        self._sync_view()
        self.offer_live = self._live()

    def _throughput(self, off: Offerings):
        """One core call per batch of offerings (Eq. M5): throughput (O, W) - effective PFLOPS of
        the whole cluster (training) or tokens/s per accelerator (serving) - and the decode
        workload's performance, kept to re-price the offerings every month (``cluster.price``)."""
        perf = performance(off, self.workloads, self.p["train_accelerators"])
        with np.errstate(divide="ignore", invalid="ignore"):
            train = perf.tokens_per_s_total * perf.useful_flops_per_token / 1e15
            serve = np.where(perf.n > 0, perf.tokens_per_s_total / perf.n, 0.0)
        thr = np.nan_to_num(np.where(self.workloads.kind[None, :] == 0, train, serve), nan=0.0)
        d = self._decode_index
        decode = type(perf)(**{f.name: np.asarray(getattr(perf, f.name))[:, d:d + 1]
                               for f in dataclasses.fields(perf)})
        return thr, decode

    def _value(self, thr: np.ndarray) -> np.ndarray:
        """Useful work per unit: effective H100e on the workload mix (Eq. M5)."""
        return np.maximum((thr / self._ref_thr[None, :]) @ self.mix, 1e-3)

    def _sync_view(self) -> None:
        self.offer_view = OfferingView(self.offer_chip, self.offer_parent, self.offer_tpp,
                                       self.offer_density, self.offer_io, ~self.offer_cn,
                                       self.offer_cn, self.offer_compliance)

    def _setup_vendors(self) -> None:
        v = load_vendors()
        self.vendors: list[ChipVendor] = [ChipVendor(self, i, v.loc[vid]) for i, vid in enumerate(self.vendor_ids)]
        self.last_vendor_utilisation = np.ones(len(self.vendors))
        self.entity_listed = {vid: (month_index(d) if isinstance(d, str) and d else None)
                              for vid, d in v["entity_listed"].items()}

    def _setup_buyers(self) -> None:
        """The buyer population (Eq. I1-I2): named hyperscalers, enterprise buyers and one buyer
        per Global-South country - or, with ``n_firms_per_country`` /
        ``n_firms_per_hyperscaler_region`` > 1, many firms per country / enterprise segment with
        heavy-tailed sizes and heterogeneous price sensitivity, alignment and software estate,
        drawn from the model's generator. Demand totals are the same at any population size."""
        if self.p["population"] == "arthur":
            self._setup_arthur()
            return
        hs = load_hyperscalers()
        r_index = {r: i for i, r in enumerate(self.region_ids)}
        rng = self.rng
        parts = []  # one dict of arrays per segment (a named buyer or a split segment)

        def segment(ids, region, gs, share, beta, estate, align, funded, fleet_shares, n):
            """Split one buyer into ``n`` firms (n = 1: the buyer itself, no draws)."""
            if n <= 1:
                sizes = np.ones(1)
                bmul = emul = np.ones(1)
                adev = np.zeros(1)
                names = [ids]
            else:
                sizes = rng.pareto(self.p["firm_size_pareto"], n) + 1.0
                sizes /= sizes.sum()
                bmul = np.exp(rng.normal(0.0, self.p["firm_beta_sd"], n))
                emul = np.exp(rng.normal(0.0, self.p["firm_estate_sd"], n))
                adev = rng.normal(0.0, self.p["firm_alignment_sd"], n)
                names = [f"{ids}#{k}" for k in range(n)]
            k = len(names)
            parts.append({
                "ids": np.array(names, dtype=object), "region": np.full(k, region, dtype=int),
                "is_gs": np.full(k, gs), "share": share * sizes, "beta": beta * bmul,
                "estate": estate * emul, "alignment": np.clip(align + adev, -1.0, 1.0),
                "state_funded": np.full(k, funded), "fleet_shares": np.tile(fleet_shares, (k, 1)),
            })

        n_ent = int(self.p["n_firms_per_hyperscaler_region"])
        for hid, row in hs.iterrows():
            r = r_index[row["region"]]
            fs = np.array([row[f"fleet_{s_}"] for s_ in STACKS], dtype=float)
            segment(hid, r, False, float(row["demand_share"]), self.p["price_beta_hyperscaler"],
                    float(row["software_estate"]), self.region_alignment[r], bool(row["state_funded"]), fs,
                    n_ent if str(hid).endswith("-enterprise") else 1)
        gs_fleet = np.zeros(S)
        gs_fleet[STACK_INDEX["cuda"]] = 1.0 - self.p["gs_initial_rocm_share"]
        gs_fleet[STACK_INDEX["rocm"]] = self.p["gs_initial_rocm_share"]
        for rid in self.region_ids[self.region_is_gs]:
            r = r_index[rid]
            segment(f"gs-{rid}", r, True, 1.0, self.p["price_beta_gs"], self.p["gs_software_estate"],
                    self.region_alignment[r], False, gs_fleet, int(self.p["n_firms_per_country"]))
        cat = {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0]}
        n = len(cat["ids"])
        active = ~cat["is_gs"] | (rng.random(n) < self.p["gs_initial_active"])
        # Initial fleet: the region's demand of the previous ``initial_fleet_months`` (Eq. I1).
        base = self.region_demand(self.start_month - 1) * self.p["initial_fleet_months"]
        fleet = base[cat["region"]][:, None] * cat["share"][:, None] * cat["fleet_shares"] * active[:, None]
        self._make_buyers(cat, active, fleet)

    def _make_buyers(self, cat: dict, active: np.ndarray, fleet: np.ndarray, agents: bool = True) -> None:
        """Buyer arrays, kept sorted by region (regional sums are one pass), and their agents."""
        order = np.argsort(cat["region"], kind="stable")
        cat = {k: v[order] for k, v in cat.items()}
        active, fleet = active[order], fleet[order]
        reg = cat["region"]
        self._region_starts = np.flatnonzero(np.r_[True, reg[1:] != reg[:-1]]) if reg.size else np.zeros(0, int)
        n = len(cat["ids"])
        self.buyers = BuyerArrays(
            ids=cat["ids"], region=cat["region"], is_gs=cat["is_gs"], share=cat["share"],
            beta=cat["beta"], estate=cat["estate"], alignment=cat["alignment"],
            state_funded=cat["state_funded"], active=active, fleet_eff=fleet.copy(),
            fleet_peak=fleet.copy(), porting=np.zeros((n, S)),
            fleet_kw=fleet.sum(axis=1) * self._legacy_kw_per_h100e() * self.region_pue[cat["region"]],
            country_share=cat["share"].copy(), capped_bought=np.zeros(n),
        )
        if not agents:  # Arthur arrivals become agents as they arrive
            return
        idx = np.arange(n)
        gs = cat["is_gs"]
        if gs.any():
            GlobalSouthBuyer.create_agents(self, int(gs.sum()), idx[gs], cat["ids"][gs])
        if (~gs).any():
            Hyperscaler.create_agents(self, int((~gs).sum()), idx[~gs], cat["ids"][~gs])

    def _setup_arthur(self) -> None:
        """Arthur (1989) docking population (Eq. A1): one buyer arrives per month, of type R with
        probability ``arthur_type_share`` else S; each adopts one unit, once, of technology A
        (stack cuda) or B (stack cann) with payoff a + r n (R) or b + s n (S)."""
        n = int(self.p["arthur_arrivals"])
        rng = self.rng
        is_r = rng.random(n) < self.p["arthur_type_share"]
        taste = np.zeros((n, S))
        taste[:, STACK_INDEX["cuda"]] = np.where(is_r, self.p["arthur_a_r"], self.p["arthur_a_s"])
        taste[:, STACK_INDEX["cann"]] = np.where(is_r, self.p["arthur_b_r"], self.p["arthur_b_s"])
        self.arthur_taste = taste
        self.arthur_returns = np.where(is_r, self.p["arthur_r"], self.p["arthur_s"])
        self.arthur_is_r = is_r
        self.arthur_lock_in_step: int | None = None
        us = int(np.flatnonzero(self.region_ids == "us")[0])
        cat = {
            "ids": np.array([f"arrival-{k}" for k in range(n)], dtype=object),
            "region": np.full(n, us, dtype=int), "is_gs": np.ones(n, bool), "share": np.zeros(n),
            "beta": np.zeros(n), "estate": np.zeros(n), "alignment": np.zeros(n),
            "state_funded": np.zeros(n, bool),
        }
        self._make_buyers(cat, np.ones(n, bool), np.zeros((n, S)), agents=False)
        self.end_month = self.start_month + n - 1

    def _legacy_kw_per_h100e(self) -> float:
        """All-in kW per effective H100e of the 2021 fleet (A100 HGX servers), for initial power."""
        ids = list(self.offer_ids)
        i = ids.index("hgx-a100") if "hgx-a100" in ids else ids.index(REFERENCE_SYSTEM)
        return float(self.core_off.watts_allin[i] / 1000.0 / self.offer_value[i])

    # ------------------------------------------------------------------ helpers
    def world_demand(self, month: int) -> float:
        """World demand for useful compute (effective H100e per month), log-interpolated by year."""
        years, logv = self._demand_arrays
        return float(np.exp(np.interp(month / 12.0 + 0.5 / 12.0, years, logv)))

    def region_demand(self, month: int) -> np.ndarray:
        """Eq. D1: world demand split by region weights; Global-South weights grow at
        ``gs_demand_catchup``/yr; China's drifts at ``cn_demand_trend``/yr until
        ``cn_demand_trend_end`` (US hyperscaler capex outgrew China's in 2022-24; calibrated)."""
        years = (month - self.start_month) / 12.0
        cn_years = (min(month, self._dates["cn_demand_trend_end"]) - self.start_month) / 12.0
        w = self.region_weight * np.where(self.region_is_gs, np.exp(self.p["gs_demand_catchup"] * years), 1.0)
        w = w * np.where(self.region_is_cn, np.exp(self.p["cn_demand_trend"] * max(cn_years, 0.0)), 1.0)
        return self.world_demand(month) * w / w.sum()

    def vendor_products(self, vidx: int) -> np.ndarray:
        return np.flatnonzero(self.offer_vendor == vidx)

    def rule_key(self) -> tuple:
        r = self.policy.us_rule
        return (r.tpp, r.io_gb_s, r.tpp_pd, r.density, r.grey_tpp, r.grey_density)

    def supply_factor(self, vendor: ChipVendor) -> float:
        """Capacity multiplier from policy: rare-earth restriction for US-bloc vendors (after a
        lag) and the entity list (cut off from leading-edge foundries) for Chinese vendors (Eq. V1b)."""
        f = 1.0
        if vendor.bloc == "us":
            f *= 1.0 - self.p["rare_earth_capacity_cut"] * self._lagged_rare_earth()
        else:
            listed = self.entity_listed.get(vendor.vendor_id)
            # listings before the run (Huawei 2019) are already in the vendor's capacity data
            if listed is not None and listed >= self.start_month and self.month >= listed:
                f *= 1.0 - self.p["entity_list_capacity_cut"]
        return max(f, 0.0)

    def _update_cn_supply(self) -> None:
        """Eq. S1-S3: the pool of packages Chinese vendors can make this month."""
        if not self.p["cn_supply_model"]:
            self.cn_supply_packages = float("inf")
            return
        hbm_rule = self.policy.us_rule.hbm_to_china
        # State-directed supply response: while Chinese vendors are short, more SMIC wafers and
        # HBM lines go to AI accelerators (Eq. S5), up to smic_ai_share_max.
        cn_v = [v.vidx for v in self.vendors if v.bloc == "cn"]
        short = float(np.max(self.last_vendor_utilisation[cn_v])) if cn_v else 0.0
        if self.month >= self.reaction_start and short > 1.0:
            grow = 1.0 + self.p["cn_supply_response"] * min(short - 1.0, 1.0)
            self.cn_ai_share = min(self.cn_ai_share * grow, self.p["smic_ai_share_max"])
        boost = self.cn_ai_share / self.p["smic_ai_share"] if self.p["smic_ai_share"] > 0 else 1.0
        since = (self.month - self._dates["domestic_hbm_start"]) / 12.0
        domestic_hbm = (self.p["domestic_hbm_stacks_month"] * boost * (1.0 + self.p["domestic_hbm_growth"]) ** since
                        if since >= 0 else 0.0)
        self.supply.hbm_stock += domestic_hbm if hbm_rule else 0.0
        pk, self._bank_dies, _ = packages_available(
            self.supply_df, self.supply, self.month, ai_share=self.cn_ai_share,
            shock=self.p["cn_supply_shock"], hbm_rule=hbm_rule, die_bank_open=self.month >= 2024 * 12,
            domestic_hbm_stacks=0.0, stacks_per_package=self.p["hbm_stacks_per_package"])
        self.cn_supply_packages = pk

    def _consume_cn_supply(self, cn_units: float) -> None:
        """Deliveries draw down the die bank first, then the HBM stock (after the HBM rule)."""
        if not self.p["cn_supply_model"] or not np.isfinite(self.cn_supply_packages):
            return
        share = min(cn_units / self.cn_supply_packages, 1.0) if self.cn_supply_packages > 0 else 0.0
        self.supply.die_bank = max(self.supply.die_bank - self._bank_dies * share, 0.0)
        if self.policy.us_rule.hbm_to_china:
            self.supply.hbm_stock = max(self.supply.hbm_stock - cn_units * self.p["hbm_stacks_per_package"], 0.0)

    def domestic_coverage(self) -> float:
        """Chinese vendors' capacity (effective H100e) over China's demand this month (Eq. R2b)."""
        cn_v = [v for v in self.vendors if v.bloc == "cn"]
        cap_units = np.array([v.capacity_units for v in cn_v])
        best = np.zeros(len(cn_v))
        for i, v in enumerate(cn_v):  # the best product each vendor has in production
            sel = (self.offer_vendor == v.vidx) & self.offer_live
            best[i] = self.offer_value[sel].max() if sel.any() else 0.0
        demand = self.region_demand(self.month)[self.region_is_cn].sum()
        return float((cap_units * best).sum() / demand) if demand > 0 else 0.0

    def _update_power(self) -> None:
        """Eq. N1, N3: AI power capacity per region and the scarcity price multiplier."""
        share = ai_power_share(self.month, self.p["ai_power_share_2022"], self.p["ai_power_share_2030"])
        self.region_power_kw = power_capacity_kw(self.month, self.region_dc_gw, self.region_add_gw,
                                                 self.region_add_growth, share)
        used = np.bincount(self.buyers.region, weights=self.buyers.fleet_kw, minlength=len(self.region_ids))
        self.region_power_used_kw = used
        self.region_scarcity = scarcity_multiplier(used, self.region_power_kw, self.p["power_scarcity_markup"])

    def _lagged_rare_earth(self) -> float:
        hist = self._rare_earth_history
        lag = int(self.p["rare_earth_lag_months"])
        return hist[-1 - lag] if len(hist) > lag else 0.0

    def add_compliance_variant(self, oidx: int, rule: USRule) -> int:
        """Design a variant of offering ``oidx`` just under ``rule`` (Eq. V3); returns its index.

        Compute is cut to the largest TPP (and density) the rule leaves uncontrolled, less a
        design margin; under an I/O rule (2022) the compute is kept and the chip-to-chip I/O cut
        instead. Memory is kept. On sale ``variant_lag_months`` later, priced by Eq. V4.
        """
        area = self.offer_tpp[oidx] / self.offer_density[oidx]
        tpp_max, io_max = rule.design_limits(area)
        margin = self.p["variant_margin"]
        tpp_cap = tpp_max * (1.0 - margin)
        scale = 1.0
        if np.isfinite(tpp_cap) and self.offer_tpp[oidx] > tpp_cap:
            scale = tpp_cap / self.offer_tpp[oidx]
        row = self.core_off.take([oidx])
        io = row.scaleup_gb_s[0]
        if io_max is not None:
            io = min(io, io_max * (1.0 - margin) * self.p["variant_io_fraction"])
        floor = self.p["variant_price_floor"]
        row = dataclasses.replace(
            row, bf16_tflops=row.bf16_tflops * scale, fp8_tflops=row.fp8_tflops * scale,
            int8_tops=row.int8_tops * scale, scaleup_gb_s=np.array([io]),
            price_usd_per_accel=row.price_usd_per_accel * (floor + (1.0 - floor) * scale))
        # Cutting I/O (2022) is a quick firmware/packaging change; cutting compute is a new SKU.
        lag = self.p["variant_io_lag_months"] if scale == 1.0 else self.p["variant_lag_months"]
        return self._append_offering(oidx, row, "cn", self.month + int(lag), compliance=True, tpp_scale=scale)

    def add_successor(self, oidx: int, gain: float) -> int:
        """Extend a vendor's roadmap past the catalog: the next generation of offering ``oidx``
        with compute, memory bandwidth and interconnect x ``gain`` (Eq. V6)."""
        r = self.core_off.take([oidx])
        row = dataclasses.replace(
            r, bf16_tflops=r.bf16_tflops * gain, fp8_tflops=r.fp8_tflops * gain,
            int8_tops=r.int8_tops * gain, hbm_tb_s=r.hbm_tb_s * gain, hbm_gb=r.hbm_gb * gain ** 0.5,
            scaleup_gb_s=r.scaleup_gb_s * gain, scaleout_gb_s=r.scaleout_gb_s * gain ** 0.5,
            watts_allin=r.watts_allin * self.p["roadmap_power_growth"],
            price_usd_per_accel=r.price_usd_per_accel * self.p["roadmap_price_growth"])
        return self._append_offering(oidx, row, "gen", self.month, compliance=False, tpp_scale=gain)

    def _append_offering(self, oidx: int, row: Offerings, tag: str, available: int, *,
                         compliance: bool, tpp_scale: float) -> int:
        """Queue a derived offering (variant or successor) of ``oidx``; returns its future index.
        Offerings designed in the vendors' phase are priced by the core in one call (flush)."""
        suffix = f"-{tag}{month_label(self.month).replace('-', '')}"
        chip = f"{str(self.offer_chip[oidx]).split('-gen')[0]}{suffix}"
        sys_id = f"{str(self.offer_ids[oidx]).split('-gen')[0]}{suffix}"
        row = dataclasses.replace(row, ids=np.array([sys_id], dtype=object), chip=np.array([chip], dtype=object))
        new = {
            "offer_ids": sys_id, "offer_chip": chip,
            "offer_parent": self.offer_chip[oidx] if compliance else "",
            "offer_parent_idx": oidx if compliance else -1,
            "offer_compliance": compliance, "offer_vendor": self.offer_vendor[oidx],
            "offer_stack": self.offer_stack[oidx], "offer_cn": self.offer_cn[oidx],
            "offer_available": available, "offer_tpp": self.offer_tpp[oidx] * tpp_scale,
            "offer_density": self.offer_density[oidx] * tpp_scale, "offer_io": row.scaleup_gb_s[0],
            "offer_list_price": row.price_usd_per_accel[0],
            "offer_peak": row.bf16_tflops[0] / H100_BF16_TFLOPS,
            "offer_launch_cost": self._cn_cost_index(available),
        }
        self._pending.append((new, row))
        index = len(self.offer_ids) + len(self._pending) - 1
        if not self._batching:
            self._flush_offerings()
        return index

    def _flush_offerings(self) -> None:
        """Append the queued offerings to every array; the core prices them in one call."""
        if not self._pending:
            return
        news = [n for n, _r in self._pending]
        rows = Offerings(**{f.name: np.concatenate([getattr(r, f.name) for _n, r in self._pending])
                            for f in dataclasses.fields(Offerings)})
        self._pending = []
        thr, decode = self._throughput(rows)
        value = self._value(thr)
        for i, n in enumerate(news):
            n["offer_value"] = value[i]
        for col in self._OFFER_COLS:
            arr = getattr(self, col)
            setattr(self, col, np.append(arr, np.array([n[col] for n in news], dtype=arr.dtype)))
        self.core_off = Offerings(**{f.name: np.concatenate([getattr(self.core_off, f.name), getattr(rows, f.name)])
                                     for f in dataclasses.fields(Offerings)})
        self._decode_perf = type(self._decode_perf).concat([self._decode_perf, decode])
        self._sync_view()
        self.offer_live = np.append(self.offer_live, np.zeros(len(news), bool))  # _price sets it this month

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        if self.p["population"] == "arthur":
            self._step_arthur()
            return
        self._fire_events()  # 1. scripted events
        self.agents_by_type[USRegulator].do("step")  # 2. regulators
        self.agents_by_type[CNRegulator].do("step")
        self._rare_earth_history.append(self.policy.rare_earth)
        self._update_cn_supply()
        self._update_power()
        self._batching = True
        self.agents_by_type[ChipVendor].shuffle_do("step")  # 3. vendors
        self._batching = False
        self._flush_offerings()
        self._share_cn_supply()
        cost, available, levy = self._price()  # 4. the core prices every offering
        clearing = self._trade(cost, available)  # 5. buyers choose
        self._deliver(clearing, levy)  # 6. deliveries, ecosystems, metrics
        self.datacollector.collect(self)
        self.month += 1
        if self.month > self.end_month:
            self.running = False

    def _step_arthur(self) -> None:
        """One arrival of the Arthur (1989) docking: policy, prices and capacity off (Eq. A1-A2).

        The arriving buyer's utility is its type's payoff a + r n_s for each technology, n_s the
        adopters so far (the ecosystem's linear network value); the market clears it with
        temperature 0 (best choice) and one lot (ties broken at random)."""
        b = self.buyers
        t = self.month - self.start_month
        ArrivingBuyer(self, t, b.ids[t])
        n = network_value(b.fleet_eff.sum(axis=0), np.zeros(S), EcosystemParams.linear_returns(1.0))
        cols = np.flatnonzero(self.offer_available <= self.month)
        stack = self.offer_stack[cols]
        util = self.arthur_taste[:, stack] + self.arthur_returns[:, None] * n[stack][None, :]
        demand = np.zeros(len(b.ids))
        demand[t] = 1.0
        cl = clear_market(demand[t:t + 1], util[t:t + 1], np.ones((1, cols.size), bool),
                          np.ones(cols.size), self.offer_vendor[cols], np.full(len(self.vendors), np.inf),
                          self.rng, lots=1, temperature=0.0)
        alloc = np.zeros((len(b.ids), cols.size))
        alloc[t] = cl.alloc[0]
        cl.alloc, cl.cols = alloc, cols
        cl.unmet = np.zeros(len(b.ids))
        cl.forgone = np.zeros(len(b.ids))
        self.offer_region_price = np.zeros((len(self.offer_ids), len(self.region_ids)))
        self.offer_price = np.zeros(len(self.offer_ids))
        self._deliver(cl, np.zeros((len(self.offer_ids), len(self.region_ids))))
        # lock-in: both types now prefer the same technology, and nothing can undo it (Eq. A2)
        n = b.fleet_eff.sum(axis=0)
        lead = n[STACK_INDEX["cuda"]] - n[STACK_INDEX["cann"]]
        p = self.p
        prefer_a = [p["arthur_a_r"] - p["arthur_b_r"] + p["arthur_r"] * lead,  # R-types' U_A - U_B
                    p["arthur_a_s"] - p["arthur_b_s"] + p["arthur_s"] * lead]  # S-types'
        same = min(prefer_a) > 0 or max(prefer_a) < 0
        if self.arthur_lock_in_step is None and same and (p["arthur_r"] > 0 or p["arthur_s"] > 0):
            self.arthur_lock_in_step = t + 1
            self.arthur_winner = "A" if prefer_a[0] > 0 else "B"
            if self.p["stop_at_lock_in"]:
                self.running = False
        self.datacollector.collect(self)
        self.month += 1
        if self.month > self.end_month:
            self.running = False

    def _share_cn_supply(self) -> None:
        """Chinese vendors' capacities are cut pro rata when the supply pool is short (Eq. S3b)."""
        cn_v = [v for v in self.vendors if v.bloc == "cn"]
        total = sum(v.capacity_units for v in cn_v)
        if total > self.cn_supply_packages > 0 or self.cn_supply_packages <= 0:
            f = max(self.cn_supply_packages, 0.0) / total if total > 0 else 0.0
            for v in cn_v:
                v.capacity_units *= f

    def _fire_events(self) -> None:
        pol = self.policy
        for ev in self.events.get(self.month, []):
            f = ev.fields
            if ev.kind == "us_rule":
                pol.us_rule = USRule(
                    tpp=f.get("tpp", float("inf")), io_gb_s=f.get("io_gb_s"),
                    tpp_pd=f.get("tpp_pd", float("inf")), density=f.get("density", float("inf")),
                    grey_tpp=f.get("grey_tpp", float("inf")), grey_density=f.get("grey_density", float("inf")),
                    tiers=tuple(f.get("tiers", (3,))), hbm_to_china=f.get("hbm_to_china", pol.us_rule.hbm_to_china))
            elif ev.kind == "us_level":
                pol.us_rule = rule_for_level(f["level"])
            elif ev.kind == "us_licence":
                pol.licences.append(Licence(tuple(f["match"]), tuple(f["regions"]), f.get("levy", 0.0),
                                            f.get("approval", 1.0), start=self.month + int(f.get("delay_months", 0))))
            elif ev.kind == "us_revoke_licence":
                drop = set(f["match"])
                pol.licences = [lc for lc in pol.licences if not drop & set(lc.match)]
            elif ev.kind == "us_tier_caps":
                pol.tier_caps_h100e = {} if f.get("remove") else {2: f.get("tier2_h100e_per_year", 0.0)}
            elif ev.kind == "us_guidance":
                pol.us_guidance_cann_penalty = f["cann_penalty"]
            elif ev.kind == "cn_ban":
                pol.cn_bans |= set(f["chips"])
            elif ev.kind == "cn_unban":
                pol.cn_bans -= set(f["chips"])
            elif ev.kind == "cn_mandate":
                pol.cn_mandate = f["share"]
            elif ev.kind == "cn_subsidy":
                pol.cn_subsidy = f["share"]
            elif ev.kind == "rare_earth":
                pol.rare_earth = f["level"]
            elif ev.kind == "antitrust":
                pol.antitrust_fine = f["fine"]
            elif ev.kind == "set":
                self.p.update(f["parameters"])
                self._dates = self._date_params()

    def _price(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cost per useful work (O, R) in USD per effective H100e-month, availability and levy."""
        O = len(self.offer_ids)
        live = self.offer_live = self._live()
        available, levy, approval = availability(self.policy, self.offer_view, self.region_tier,
                                                 self.region_ids, self.region_is_cn, self.month)
        available &= live[:, None]
        if (approval < 1.0).any():  # licence approvals drawn per (offering, region) this month
            available &= self.rng.random(approval.shape) < approval
        price_idx = np.array([v.price_index for v in self.vendors])[self.offer_vendor]
        # US-bloc vendors pay the rare-earth premium (Eq. V5b); Chinese vendors' unit cost follows
        # SMIC yields and wafer prices relative to the product's launch (Eq. S4).
        cost_mult = np.where(~self.offer_cn, 1.0 + self.p["rare_earth_cost"] * self.policy.rare_earth,
                             self._cn_cost_index(self.month) / self.offer_launch_cost)
        self.offer_price = self.offer_list_price * price_idx * cost_mult
        # The hourly cost of an accelerator does not depend on the workload: the core prices it on
        # the decode workload alone, for the offerings in production (the rest are not for sale).
        idx = np.flatnonzero(live)
        sub = np.zeros((idx.size, len(self.region_ids)))
        sub[np.ix_(self.offer_cn[idx], self.region_is_cn)] = self.policy.cn_subsidy
        off = dataclasses.replace(self.core_off.take(idx), price_usd_per_accel=self.offer_price[idx])
        res = price(off, self._decode_perf.take(idx), elec_usd_kwh=self.region_elec * self.region_scarcity,
                    pue=self.region_pue, levy=levy[idx] * self.p["levy_passthrough"],
                    energy_subsidy=sub, life_years=self.p["hardware_life_years"],
                    rate=self.p["capital_rate"])
        n_used = res.power_kw[:, 0, :1] * 1000.0 / off.watts_allin[:, None]
        cost = np.full((O, len(self.region_ids)), np.inf)
        cost[idx] = res.usd_per_hour[:, 0, :] / n_used * HOURS_PER_MONTH / self.offer_value[idx, None]  # Eq. M5b
        if self.month >= self._dates["bundle_start"] and self.p["bundle_discount"] > 0:
            # Chinese full-stack bundles come with state financing: cheaper for Global-South buyers
            cost[np.ix_(self.offer_stack == STACK_INDEX["cann"], self.region_is_gs)] *= 1.0 - self.p["bundle_discount"]
        self.offer_region_price = self.offer_price[:, None] * (1.0 + levy * self.p["levy_passthrough"])
        return cost, available, levy

    def _cn_cost_index(self, month: int) -> float:
        """Eq. S4 for one month, from a table computed once for the whole run (vectorised)."""
        table = self.__dict__.get("_cost_table")
        if table is None:
            lo, hi = min(self.start_month, 2019 * 12), self.end_month + 240
            table = self._cost_table = (lo, unit_cost_index(self.supply_df, np.arange(lo, hi + 1), 2024 * 12))
        lo, values = table
        i = month - lo
        return float(values[i]) if 0 <= i < len(values) else unit_cost_index(self.supply_df, month, 2024 * 12)

    def _trade(self, cost: np.ndarray, available: np.ndarray):
        """Step 5: every buyer's demand over the offerings in production, in one market call."""
        b = self.buyers
        m = self.month
        # Bass timing for Global-South buyers (Eq. M4)
        b.active = bass_start(b.active | ~b.is_gs, np.where(b.is_gs, b.share * self.region_weight[b.region], 0.0),
                              self.p["bass_p"], self.p["bass_q"], self.rng) | ~b.is_gs
        rd = self.region_demand(m)
        noise = np.exp(self.rng.normal(0.0, self.p["demand_noise"], len(b.ids)) - 0.5 * self.p["demand_noise"] ** 2)
        demand = rd[b.region] * b.share * noise * b.active
        cols = np.flatnonzero(self.offer_live)  # only offerings in production enter the market
        cols = cols[np.argsort(self.offer_stack[cols], kind="stable")]  # grouped by stack
        stack = self.offer_stack[cols]
        # Utility terms (Eq. M1)
        world_inst = b.fleet_eff.sum(axis=0)
        nv = network_value(world_inst, self.eco.developers, self.eco_params)  # (S,)
        port = portability(self.eco.maturity, b.porting, self._codesign(), self.eco_params)
        sw = switching_cost(b.estate, b.fleet_eff, port, self.p["kappa"])  # (B, S)
        # Region-level terms are computed once per region and expanded over that region's buyers
        # (buyers are sorted by region): one contiguous copy instead of a gather per buyer.
        counts = np.diff(np.r_[self._region_starts, len(b.ids)])
        regs = b.region[self._region_starts]
        log_cost = np.repeat(np.log(np.maximum(cost[np.ix_(cols, regs)].T, 1e-9)), counts, axis=0)
        avail = np.repeat(available[np.ix_(cols, regs)].T, counts, axis=0)
        china = np.where(self.offer_cn[cols], 1.0, -1.0)
        weight = np.where(b.is_gs, self.p["alignment_weight"], self.p["alignment_weight_hyperscaler"])
        align = (weight * b.alignment)[:, None] * china[None, :]
        util = buyer_utility(log_cost, b.beta, nv[stack][None, :], np.take(sw, stack, axis=1), align,
                             out=log_cost)
        cann = np.flatnonzero(stack == STACK_INDEX["cann"])  # a contiguous block: cols grouped by stack
        if cann.size:
            block = slice(cann[0], cann[-1] + 1)
            if m >= self._dates["bundle_start"]:
                util[:, block] += (b.is_gs * self.p["bundle_bonus"])[:, None]
            pen = self.policy.us_guidance_cann_penalty
            if pen:
                util[:, block] -= (~self.region_is_cn[b.region] * pen)[:, None]
        if (m - self.start_month) % int(self.p["porting_interval_months"]) == 0:
            self._decide_porting(util, sw, avail, stack)
        # Diffusion-rule caps: a tier-2 country past its yearly cap of controlled US chips (Eq. P4)
        cap2 = self.policy.tier_caps_h100e.get(2)
        if cap2 is not None:
            over = (self.region_tier[b.region] == 2) & (b.capped_bought >= cap2 * b.country_share)
            avail[np.ix_(over, self._controlled_us()[cols])] = False
        # Outside option: doing without (or waiting) when what is on offer costs far more per useful
        # work than compute normally costs (Eq. M1b); doing without keeps the buyer on its estate,
        # with that estate's network value.
        tot = b.fleet_eff.sum(axis=1, keepdims=True)
        shares = np.divide(b.fleet_eff, tot, out=np.zeros_like(b.fleet_eff), where=tot > 0)
        u0 = -b.beta * np.log(self.p["outside_cost_ratio"] * self._reference_cost(cost)) + shares @ nv
        # Mandated share of state-funded Chinese buyers: a second row restricted to domestic chips
        mand = self.policy.cn_mandate * b.state_funded * self.region_is_cn[b.region]
        rows = np.flatnonzero(mand > 0)
        if rows.size:
            demand = np.concatenate([demand * (1.0 - mand), demand[rows] * mand[rows]])
            util = np.vstack([util, util[rows]])
            avail = np.vstack([avail, avail[rows] & self.offer_cn[cols][None, :]])
            u0 = np.concatenate([u0, u0[rows]])
        cap = np.array([v.capacity_units for v in self.vendors])
        cl = clear_market(demand, util, avail, self.offer_value[cols], self.offer_vendor[cols], cap,
                          self.rng, lots=int(self.p["lots"]), temperature=self.p["choice_temperature"],
                          rounds=int(self.p["market_rounds"]),
                          outside_utility=u0 if self.p["outside_option"] else None)
        B = len(b.ids)
        if rows.size:  # fold the mandated rows back onto their buyers
            for name in ("alloc", "unmet", "forgone"):
                arr = getattr(cl, name)
                main = arr[:B].copy()
                main[rows] += arr[B:]
                setattr(cl, name, main)
        cl.cols = cols  # alloc and units are buyers x offerings in production (cols)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.last_vendor_utilisation = np.where(cap > 0, cl.vendor_demand_units / cap, 1.0)
        if self.p["power_constraint"]:
            self._power_limit(cl)
        return cl

    def _live(self) -> np.ndarray:
        """(O,) offerings in production this month (Eq. V8): released, younger than
        ``product_life_months``, and not superseded - a vendor stops making a product a year after
        it ships one (of the same kind: compliance or not) with ``supersede_ratio`` x its value."""
        m = self.month
        out = (self.offer_available <= m) & (m - self.offer_available < self.p["product_life_months"])
        full = ~self.offer_compliance
        shipped = (self.offer_available <= m - 12) & full
        same_vendor = self.offer_vendor[:, None] == self.offer_vendor[None, :]
        better = self.offer_value[None, :] >= self.p["supersede_ratio"] * self.offer_value[:, None]
        superseded = (same_vendor & better & shipped[None, :]).any(axis=1) & full
        # a compliance variant is cut from its parent's die: it ends when the parent does
        parent = self.offer_parent_idx
        superseded |= (parent >= 0) & superseded[np.maximum(parent, 0)]
        return out & ~superseded

    def _reference_cost(self, cost: np.ndarray) -> float:
        """What useful compute normally costs this month (Eq. M1c): the capacity-weighted geometric
        mean, over vendors, of each vendor's cheapest live non-compliance offering in the US bloc."""
        live = self.offer_live & ~self.offer_compliance
        us = np.flatnonzero(self.region_bloc == "us")[0]
        logs, weights = [], []
        for v in self.vendors:
            sel = live & (self.offer_vendor == v.vidx)
            if sel.any() and v.capacity_units > 0:
                logs.append(np.log(np.min(cost[sel, us])))
                weights.append(v.capacity_units)
        return float(np.exp(np.average(logs, weights=weights))) if weights else 1.0

    def _controlled_us(self) -> np.ndarray:
        """(O,) US-vendor offerings the active rule controls."""
        v = self.offer_view
        return self.policy.us_rule.controlled(v.tpp, v.density, v.io_gb_s) & v.us_vendor

    def _power_limit(self, cl) -> None:
        """Eq. N2: purchases a region cannot power this month are not installed (left unmet)."""
        b = self.buyers
        pue = self.region_pue[b.region]
        need_b = (cl.alloc @ (self.core_off.watts_allin[cl.cols] / cl.value)) * pue / 1000.0
        need_r = np.bincount(b.region, weights=need_b, minlength=len(self.region_ids))
        fill = power_fill(need_r, self.region_power_kw - self.region_power_used_kw)[b.region]
        if (fill < 1.0).any():
            cl.unmet = cl.unmet + cl.alloc.sum(axis=1) * (1.0 - fill)
            cl.alloc *= fill[:, None]

    def _decide_porting(self, util: np.ndarray, sw: np.ndarray, avail: np.ndarray, stack: np.ndarray) -> None:
        """Eq. E5: buyers port their software estate toward a stack when the switching cost it
        would remove, weighted by the demand they would put there if switching were free,
        beats the monthly porting cost; mandated Chinese buyers port to CANN regardless."""
        b = self.buyers
        free = logit_choice(util + sw[:, stack], avail, temperature=max(self.p["choice_temperature"], 1e-6))
        onehot = np.zeros((len(stack), S))
        onehot[np.arange(len(stack)), stack] = 1.0
        saving = sw * (free @ onehot)
        # porting is paying the switching cost ahead of time: it scales with kappa like the cost it removes
        cost = np.broadcast_to((self.p["porting_cost"] * self.p["kappa"] * b.estate)[:, None], saving.shape)
        mandated = b.state_funded & self.region_is_cn[b.region] & (self.policy.cn_mandate > 0)
        k = int(self.p["porting_interval_months"])  # decisions every k months, k months of porting each
        params = self.eco_params if k == 1 else dataclasses.replace(
            self.eco_params, porting_step_per_month=self.eco_params.porting_step_per_month * k)
        b.porting = porting_decision(saving, cost * k, mandated, b.porting, params)

    def _codesign(self) -> np.ndarray:
        c = np.zeros(S)
        if self.month >= self._dates["codesign_start"]:
            c[STACK_INDEX["cann"]] = self.p["codesign_level"]
        return c

    def _deliver(self, cl, levy: np.ndarray) -> None:
        """Step 6: deliveries update fleets (with retirement), power drawn, caps, supply stocks,
        vendors' revenue and R&D (Eq. V5), then ecosystems and the month's records."""
        b = self.buyers
        cols = cl.cols
        O, R = len(self.offer_ids), len(self.region_ids)
        per_unit = 1.0 / cl.value  # units per effective H100e of each column
        retire = 1.0 / (12.0 * self.p["hardware_life_years"]) if self.p["fleet_retirement"] else 0.0
        # Everything the fleets need from the month's (buyers x offerings) allocation in one
        # product: effective and peak purchases by stack, power drawn, controlled peak bought.
        C = cols.size
        ctl = self._controlled_us()[cols] if self.policy.tier_caps_h100e else np.zeros(C, dtype=bool)
        weights = np.zeros((C, 2 * S + 2))
        weights[np.arange(C), self.offer_stack[cols]] = 1.0
        weights[np.arange(C), S + self.offer_stack[cols]] = self.offer_peak[cols] * per_unit
        weights[:, 2 * S] = self.core_off.watts_allin[cols] * per_unit
        weights[:, 2 * S + 1] = np.where(ctl, self.offer_peak[cols] * per_unit, 0.0)
        per_buyer = cl.alloc @ weights  # (B, 2S + 2)
        purchases_eff_bs, purchases_peak_bs = per_buyer[:, :S], per_buyer[:, S:2 * S]
        b.fleet_eff = b.fleet_eff * (1.0 - retire) + purchases_eff_bs
        b.fleet_peak = b.fleet_peak * (1.0 - retire) + purchases_peak_bs
        b.fleet_kw = b.fleet_kw * (1.0 - retire) + per_buyer[:, 2 * S] * self.region_pue[b.region] / 1000.0
        if self.month % 12 == 0:
            b.capped_bought[:] = 0.0
        if self.policy.tier_caps_h100e:
            b.capped_bought += per_buyer[:, 2 * S + 1] * (self.region_tier[b.region] == 2)
        # Units and revenue per offering x region
        units_or = np.zeros((O, R))
        units_or[cols] = (self._by_region(cl.alloc) * per_unit[None, :]).T  # (C, R)
        self._consume_cn_supply(float(units_or[self.offer_cn].sum()))
        price_or = self.offer_region_price  # buyers' price incl. passed-through levy
        gross_or = units_or * price_or
        net_or = gross_or * (1.0 - levy)  # the levy is a share of the vendor's revenue (Eq. V5)
        if self.policy.antitrust_fine:
            nv = np.array([vid == "nvidia" for vid in self.vendor_ids])[self.offer_vendor]
            net_or[np.ix_(nv, self.region_is_cn)] *= 1.0 - self.policy.antitrust_fine
        rev_v = np.bincount(self.offer_vendor, weights=net_or.sum(axis=1), minlength=len(self.vendors))
        for v in self.vendors:
            v.revenue_usd_total += float(rev_v[v.vidx])
            v.rd_budget_usd += float(rev_v[v.vidx]) * v.rd_share
        # Ecosystem update (Eq. E1-E2)
        world_inst = b.fleet_eff.sum(axis=0)
        self.eco = update_ecosystem(
            self.eco, world_inst, purchases_eff_bs.sum(axis=0), self._investment(), self.eco_params)
        self._record(cl, units_or, gross_or, net_or, purchases_peak_bs, purchases_eff_bs)

    def _by_region(self, x: np.ndarray) -> np.ndarray:
        """Sum the rows (buyers, kept sorted by region) of ``x`` by region: (B, k) -> (R, k)."""
        reg = self.buyers.region
        out = np.zeros((len(self.region_ids),) + x.shape[1:])
        if reg.size:
            starts = self._region_starts
            out[reg[starts]] = np.add.reduceat(x, starts, axis=0)
        return out

    def _investment(self) -> np.ndarray:
        inv = np.zeros(S)
        inv[STACK_INDEX["cuda"]] = self.p["invest_cuda"]
        inv[STACK_INDEX["rocm"]] = self.p["invest_rocm"]
        inv[STACK_INDEX["other_cn"]] = self.p["invest_other_cn"]
        inv[STACK_INDEX["cann"]] = self.p["invest_cann"] + (
            self.p["invest_cann_open"] if self.month >= self._dates["cann_open_source"] else 0.0)
        return np.clip(inv, 0.0, 1.0)

    # ------------------------------------------------------------------ metrics and tables
    def _record(self, cl, units_or, gross_or, net_or, purch_peak_bs, purch_eff_bs) -> None:
        b = self.buyers
        step = self.month - self.start_month
        date = month_label(self.month)
        by_region = self._by_region(np.hstack([b.fleet_eff, b.fleet_peak, purch_peak_bs]))
        inst_eff_rs, inst_peak_rs, buy_peak_rs = by_region[:, :S], by_region[:, S:2 * S], by_region[:, 2 * S:]
        O = len(self.offer_ids)
        stack_onehot = np.zeros((O, S))
        stack_onehot[np.arange(O), self.offer_stack] = 1.0
        spend_rs = gross_or.T @ stack_onehot
        us_bloc = self.region_bloc == "us"
        cn = self.region_is_cn
        gs = self.region_is_gs
        us_sh = inst_eff_rs[us_bloc].sum(axis=0)
        cn_sh = inst_eff_rs[cn].sum(axis=0)
        world = inst_eff_rs.sum(axis=0)
        cn_units_peak = (units_or[:, cn].sum(axis=1) * self.offer_peak)
        cn_total = cn_units_peak.sum()
        nvidia = self.offer_vendor == self.vendor_ids.index("nvidia")
        nv_total = net_or[nvidia].sum()
        gs_inst = inst_eff_rs[gs].sum(axis=0)
        gs_total = gs_inst.sum()
        ws = metrics.stack_shares(world)
        gsb = b.is_gs & b.active
        row = {
            "bifurcation_index": metrics.bifurcation_index(inst_eff_rs),
            "bloc_jsd": metrics.bloc_jsd(us_sh, cn_sh),
            "hhi_world": metrics.hhi(ws),
            "top_stack_share_world": metrics.top_share(ws),
            "cn_domestic_share": float(cn_units_peak[self.offer_cn].sum() / cn_total) if cn_total > 0 else np.nan,
            "nvidia_china_revenue_share": (float(net_or[np.ix_(nvidia, cn)].sum() / nv_total)
                                           if nv_total > 0 else np.nan),
            "gs_cuda_share": float(gs_inst[STACK_INDEX["cuda"]] / gs_total) if gs_total > 0 else 0.0,
            "gs_cann_share": float(gs_inst[STACK_INDEX["cann"]] / gs_total) if gs_total > 0 else 0.0,
            # buyers weighted by their share of their country: a country's firms count as one country
            "gs_dual_stack_share": (metrics.dual_stack_share(b.fleet_eff[gsb], weights=b.share[gsb])
                                    if gsb.any() else 0.0),
            "us_cn_compute_ratio": metrics.compute_ratio(us_sh.sum(), cn_sh.sum()),
            "rare_earth_restriction": float(self.policy.rare_earth),
            "us_control_level": float(self.policy.us_control_level),
        }
        self.latest = row
        self._records["model"].append((step, date, row))
        self._records["adoption"].append((step, date, inst_peak_rs, buy_peak_rs, spend_rs))
        nz = np.argwhere(units_or > 0)
        cap = np.array([v.capacity_units for v in self.vendors])
        # offerings are only ever appended: the index nz[:, 0] names the same product for the run
        self._records["vendors"].append((step, date, nz, units_or[nz[:, 0], nz[:, 1]],
                                         net_or[nz[:, 0], nz[:, 1]],
                                         self.offer_region_price[nz[:, 0], nz[:, 1]],
                                         cap[self.offer_vendor[nz[:, 0]]]))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables of DESIGN §7 (model, adoption, vendors) for the steps run so far."""
        return {name: tab.to_pandas() for name, tab in self.arrow_tables().items()}

    def arrow_tables(self) -> dict[str, pa.Table]:
        """``tables()`` as Arrow tables (what the sweep runner writes to Parquet). String columns
        are taken by code from small arrays of their distinct values (regions, stacks, products,
        dates): no Python string per row."""
        seed = self.seed if self.seed is not None else -1
        mrec = self._records["model"]
        n = len(mrec)
        steps = np.array([s for (s, _d, _r) in mrec], dtype=np.int64)
        dates = pa.array([d for (_s, d, _r) in mrec], type=pa.string())
        model_cols = {"run_id": _repeat_str(self.run_id, n), "seed": np.full(n, seed, dtype=np.int64),
                      "step": steps, "date": dates}
        for k in MODEL_COLUMNS[4:]:
            model_cols[k] = np.array([r[k] for (_s, _d, r) in mrec], dtype=float)
        arec = self._records["adoption"]
        R = len(self.region_ids)
        k = R * S
        reg = np.tile(np.repeat(np.arange(R), S), n)
        adoption = {
            "run_id": _repeat_str(self.run_id, n * k), "step": np.repeat(steps, k),
            "date": pc.take(dates, np.repeat(np.arange(n), k)),
            "region": pc.take(pa.array(self.region_ids, pa.string()), reg),
            "bloc": pc.take(pa.array(self.region_bloc, pa.string()), reg),
            "stack": pc.take(pa.array(STACKS, pa.string()), np.tile(np.arange(S), R * n)),
        }
        for i, name in enumerate(("installed_h100e", "purchased_h100e", "spend_usd"), start=2):
            adoption[name] = np.concatenate([a[i].ravel() for a in arec]) if n else np.zeros(0)
        recs = self._records["vendors"]  # one per model record: (step, date, nz, 4 value columns)
        counts = np.array([r[2].shape[0] for r in recs], dtype=np.int64)
        nz = np.concatenate([r[2] for r in recs] + [np.zeros((0, 2), dtype=np.int64)])
        cat = lambda i: np.concatenate([np.asarray(r[i], dtype=float) for r in recs] + [np.zeros(0)])  # noqa: E731
        vendors = {
            "run_id": _repeat_str(self.run_id, int(counts.sum())),
            "step": np.repeat(steps, counts),
            "date": pc.take(dates, np.repeat(np.arange(n), counts)),
            "vendor": pc.take(pa.array(self.vendor_ids, pa.string()), self.offer_vendor[nz[:, 0]]),
            "product": pc.take(pa.array(self.offer_ids, pa.string()), nz[:, 0]),
            "region": pc.take(pa.array(self.region_ids, pa.string()), nz[:, 1]),
            "units": cat(3), "revenue_usd": cat(4), "price_usd": cat(5), "capacity_units": cat(6),
        }
        out = {"model": (model_cols, MODEL_COLUMNS), "adoption": (adoption, ADOPTION_COLUMNS),
               "vendors": (vendors, VENDOR_COLUMNS)}
        return {name: pa.table({c: cols[c] for c in order}) for name, (cols, order) in out.items()}
