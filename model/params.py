"""The model's parameter registry: every sweepable parameter with type, range, unit and meaning.

Scenarios (TOML), `--set key=value`, sweep designs and the dashboard all validate against
this one table; docs/ODD.md documents each name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from model.errors import ScenarioError, did_you_mean


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    kind: type  # float, int, bool or str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    doc: str = ""
    choices: tuple[str, ...] | None = None

    def check(self, value: Any, origin: str = "parameter") -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ScenarioError."""
        expected = self._expected()
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}")
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}")
            return value
        if isinstance(value, bool):
            raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}")
        try:
            if isinstance(value, str):
                value = float(value)
            if self.kind is int:
                if float(value) != int(float(value)):
                    raise ValueError
                value = int(float(value))
            else:
                value = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}") from None
        if not math.isfinite(value) or (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}")
        return value

    def _expected(self) -> str:
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return f"one of {', '.join(self.choices)}" if self.choices else "a string"
        word = "an integer" if self.kind is int else "a number"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{word} in [{lo}, {hi}]{unit}"


def _p(name, default, kind=float, low=None, high=None, unit="", doc="", choices=None) -> Param:
    return Param(name, default, kind, low, high, unit, doc, choices)


# Filled in by the market, policy and ecosystem modules' parameter lists (see register()).
PARAMETERS: dict[str, Param] = {}


def register(*params: Param) -> None:
    for p in params:
        if p.name in PARAMETERS:
            raise RuntimeError(f"parameter {p.name!r} registered twice")
        PARAMETERS[p.name] = p


def defaults() -> dict[str, Any]:
    _load_all()
    return {name: p.default for name, p in PARAMETERS.items()}


def check_value(name: str, value: Any, origin: str = "parameter") -> Any:
    """Validate one parameter by name; unknown names are refused with the list of valid ones."""
    _load_all()
    if name not in PARAMETERS:
        raise ScenarioError(f"{origin}: unknown parameter {name!r}{did_you_mean(name, PARAMETERS)}; "
                            "`chipwar params` lists them all")
    return PARAMETERS[name].check(value, origin)


register(
    # time
    _p("start", "2022-01", str, doc="first simulated month (YYYY-MM)"),
    _p("end", "2035-12", str, doc="last simulated month (YYYY-MM)"),
    _p("reaction_start", "2026-01", str, doc="first month in which regulators follow reaction functions"),
    # US export controls
    _p("us_control_level", 0.76, float, 0.0, 1.0,
       doc="stringency of US export controls from reaction_start (0 none, 1 an H20 is controlled); "
           "0.76 = the 2023 rule's 2,400-TPP design limit"),
    # ecosystems and lock-in
    _p("kappa", 1.0, float, 0.0, 50.0, unit="utility per unit estate",
       doc="switching-cost scale: cost of leaving a stack per unit of software estate"),
    # buyers' choice
    _p("price_beta_hyperscaler", 3.0, float, 0.0, 50.0, doc="hyperscalers' price sensitivity (logit weight on ln cost)"),
    _p("price_beta_gs", 4.0, float, 0.0, 50.0, doc="Global-South buyers' price sensitivity"),
    _p("alignment_weight", 0.6, float, 0.0, 10.0, doc="utility weight of political alignment toward the vendor's bloc"),
    _p("alignment_weight_hyperscaler", 0.0, float, 0.0, 10.0,
       doc="the same weight for hyperscalers (0: they buy commercially; home preference comes through policy)"),
    _p("bundle_bonus", 0.5, float, 0.0, 10.0, doc="utility of Chinese full-stack bundles (chips+models+cloud+financing) to Global-South buyers"),
    _p("bundle_discount", 0.0, float, 0.0, 0.9,
       doc="financing discount on the cost of Chinese full-stack (CANN) offerings to Global-South buyers"),
    _p("bundle_start", "2024-01", str, doc="month Chinese full-stack bundles are offered to the Global South"),
    _p("outside_option", True, bool, doc="buyers may do without when offerings cost far above the frontier"),
    _p("outside_cost_ratio", 2.5, float, 1.0, 100.0,
       doc="the outside option is worth buying at this multiple of the frontier's cost per useful work"),
    _p("choice_temperature", 1.0, float, 0.0, 10.0, doc="logit temperature (0 = deterministic best choice)"),
    _p("lots", 8, int, 0, 1000, doc="procurement lots per buyer-month (lumpiness of purchases; 0 = expected shares)"),
    _p("market_rounds", 4, int, 1, 50,
       doc="rounds of the monthly market: capacity of a short vendor is released in this many tranches"),
    _p("demand_noise", 0.10, float, 0.0, 2.0, doc="log-normal sd of each buyer's monthly demand"),
    _p("gs_demand_catchup", 0.10, float, -1.0, 1.0, unit="1/yr", doc="extra yearly growth of Global-South demand weight"),
    _p("cn_demand_trend", -0.32, float, -2.0, 2.0, unit="1/yr",
       doc="yearly log-drift of China's demand weight until cn_demand_trend_end (calibrated to 2022-24: "
           "US hyperscaler capex outgrew China's; China's weight 2022 is revenue-based)"),
    _p("cn_demand_trend_end", "2025-01", str, doc="month China's demand drift stops (end of the calibration window)"),
    _p("gs_software_estate", 0.3, float, 0.0, 10.0, doc="software estate of a Global-South buyer (relative)"),
    _p("gs_initial_rocm_share", 0.03, float, 0.0, 1.0, doc="ROCm share of Global-South fleets in 2022"),
    _p("gs_initial_active", 0.4, float, 0.0, 1.0, doc="probability a Global-South buyer is already buying in 2022"),
    _p("bass_p", 0.03, float, 0.0, 5.0, unit="1/yr", doc="Bass innovation coefficient (Global-South start)"),
    _p("bass_q", 0.38, float, 0.0, 5.0, unit="1/yr", doc="Bass imitation coefficient"),
    _p("initial_fleet_months", 24.0, float, 0.0, 120.0, unit="months", doc="initial fleet = this many months of 2021 demand"),
    # population (issue 8: firm-level buyers; issue 5: Arthur docking)
    _p("population", "default", str, doc="buyer population: 'default' (hyperscalers, enterprises, "
       "Global-South countries or firms) or 'arthur' (one adopter per month, Arthur 1989 docking)",
       choices=("default", "arthur")),
    _p("n_firms_per_country", 1, int, 1, 1_000_000, doc="Global-South firms per country (1 = one buyer per country)"),
    _p("n_firms_per_hyperscaler_region", 1, int, 1, 1_000_000,
       doc="enterprise firms per enterprise segment (US bloc, China); named hyperscalers stay single"),
    _p("firm_size_pareto", 1.16, float, 0.5, 10.0, doc="Pareto shape of firm sizes (1.16: the 80/20 rule)"),
    _p("firm_beta_sd", 0.3, float, 0.0, 3.0, doc="log-sd of firms' price sensitivity around their segment's"),
    _p("firm_estate_sd", 0.5, float, 0.0, 3.0, doc="log-sd of firms' software estate"),
    _p("firm_alignment_sd", 0.2, float, 0.0, 2.0, doc="sd of firms' alignment around their country's"),
    _p("arthur_arrivals", 2000, int, 1, 1_000_000, doc="Arthur docking: number of arrivals (one per month)"),
    _p("arthur_type_share", 0.5, float, 0.0, 1.0, doc="Arthur docking: probability an arrival is an R-type"),
    _p("arthur_a_r", 2.0, float, -100.0, 100.0, doc="Arthur docking: R-types' payoff from A (cuda) at n = 0"),
    _p("arthur_b_r", 1.0, float, -100.0, 100.0, doc="Arthur docking: R-types' payoff from B (cann) at n = 0"),
    _p("arthur_a_s", 1.0, float, -100.0, 100.0, doc="Arthur docking: S-types' payoff from A at n = 0"),
    _p("arthur_b_s", 2.0, float, -100.0, 100.0, doc="Arthur docking: S-types' payoff from B at n = 0"),
    _p("arthur_r", 0.1, float, 0.0, 100.0, doc="Arthur docking: R-types' increasing returns per adopter"),
    _p("arthur_s", 0.1, float, 0.0, 100.0, doc="Arthur docking: S-types' increasing returns per adopter"),
    _p("stop_at_lock_in", False, bool, doc="Arthur docking: stop the run once both types choose the same technology"),
    _p("fleet_retirement", True, bool, doc="installed hardware retires over hardware_life_years (off for docking)"),
    # workload mix defining useful work
    _p("mix_train_dense", 0.25, float, 0.0, 1.0, doc="weight of dense training in useful work"),
    _p("mix_train_moe", 0.25, float, 0.0, 1.0, doc="weight of MoE training in useful work"),
    _p("mix_prefill", 0.15, float, 0.0, 1.0, doc="weight of inference prefill in useful work"),
    _p("mix_decode", 0.35, float, 0.0, 1.0, doc="weight of inference decode in useful work"),
    _p("train_accelerators", 16384, int, 8, 1_000_000, doc="cluster size for pricing training work"),
    # costs
    _p("hardware_life_years", 5.0, float, 1.0, 15.0, unit="years", doc="hardware life (capital recovery and retirement)"),
    _p("capital_rate", 0.10, float, 0.0, 1.0, unit="1/yr", doc="cost of capital"),
    _p("default_die_area_mm2", 800.0, float, 50.0, 3000.0, unit="mm2", doc="die area assumed where the catalog has none"),
    # vendors
    _p("price_adjust_rate", 0.08, float, 0.0, 1.0, doc="elasticity of a vendor's price index to demand/capacity"),
    _p("price_index_min", 0.7, float, 0.1, 1.0, doc="lowest price index"),
    _p("price_index_max", 1.6, float, 1.0, 10.0, doc="highest price index"),
    _p("capacity_expansion_rate", 0.04, float, 0.0, 1.0, unit="1/month",
       doc="from reaction_start, monthly capacity expansion at full excess demand (demand >= 2x capacity)"),
    _p("supersede_months", 12, int, 0, 120, unit="months",
       doc="a product leaves production this long after its next generation ships (model/data/lifecycle.csv "
           "successors, or the vendor's own next generation)"),
    _p("product_life_months", 72, int, 1, 240, unit="months", doc="months a product stays on sale"),
    _p("us_bloc_buys_cn_chips", False, bool,
       doc="the US and its Tier-1 allies may buy Chinese vendors' accelerators (off: they buy none, Eq. P2c)"),
    _p("compliance_variants", True, bool, doc="US vendors design compliance variants when a rule binds"),
    _p("own_designs_from", "2026-01", str,
       doc="first month vendors design products of their own (compliance variants, next generations): "
           "before it the market is the catalog's real products (the replayed history 2022-2025)"),
    _p("variant_hbm_rule_gb", 84.0, float, 8.0, 1000.0, unit="GB",
       doc="memory capacity of a compliance variant designed under the 2024-12 HBM rule (RTX Pro 6000D: 84 GB GDDR7)"),
    _p("variant_hbm_rule_tb_s", 1.398, float, 0.1, 50.0, unit="TB/s",
       doc="memory bandwidth of a compliance variant designed under the 2024-12 HBM rule (RTX Pro 6000D: 1.398 TB/s)"),
    _p("variant_lag_months", 2, int, 0, 36, unit="months",
       doc="months from a binding rule to a compute-cut compliance variant on sale (H20: rule effective 2023-11, on sale 2024-01)"),
    _p("variant_io_lag_months", 1, int, 0, 36, unit="months",
       doc="months to an I/O-cut variant (A800: rule 2022-10, on sale 2022-11)"),
    _p("variant_max_age_months", 36, int, 0, 240, unit="months", doc="only products younger than this get variants"),
    _p("variant_redesign_gain", 1.25, float, 1.0, 10.0,
       doc="a vendor redesigns a compliant variant only if the active rule allows this much more TPP"),
    _p("variant_margin", 0.02, float, 0.0, 0.5, doc="design margin under the thresholds"),
    _p("variant_price_floor", 0.4, float, 0.0, 1.0, doc="variant price = parent x (floor + (1-floor) x compute kept)"),
    _p("variant_io_fraction", 0.7, float, 0.1, 1.0,
       doc="a variant under an I/O rule keeps this fraction of the threshold (A800/H800: 400 of 600 GB/s)"),
    _p("generation_months", 24, int, 6, 120, unit="months", doc="months between generations past the catalog roadmap"),
    _p("roadmap_gain_us", 1.8, float, 1.0, 5.0, doc="performance gain per generation, US-bloc vendors (assumed)"),
    _p("roadmap_gain_cn", 1.6, float, 1.0, 5.0, doc="performance gain per generation, Chinese vendors (assumed)"),
    _p("rd_gain_effect", 0.05, float, 0.0, 1.0, doc="extra gain per decade of R&D spending (USD bn) since the last generation"),
    _p("roadmap_power_growth", 1.15, float, 0.5, 3.0, doc="all-in power per accelerator growth per generation"),
    _p("roadmap_price_growth", 1.15, float, 0.5, 3.0, doc="price per accelerator growth per generation"),
    _p("levy_passthrough", 0.5, float, 0.0, 1.0, doc="share of a revenue levy passed on to buyers"),
    # supply and geopolitics
    _p("entity_list_capacity_cut", 0.3, float, 0.0, 1.0, doc="capacity lost by an entity-listed Chinese vendor"),
    _p("rare_earth_cost", 0.15, float, 0.0, 5.0, doc="US-bloc vendors' cost increase at full rare-earth restriction"),
    _p("rare_earth_capacity_cut", 0.3, float, 0.0, 1.0, doc="US-bloc vendors' capacity lost at full restriction (after the lag)"),
    _p("rare_earth_lag_months", 6, int, 0, 60, unit="months", doc="lag from restriction to capacity loss"),
    _p("cn_mandate_after", 0.0, float, 0.0, 1.0, doc="minimum domestic-share mandate China holds after history"),
    _p("cn_subsidy_after", 0.5, float, 0.0, 1.0,
       doc="electricity subsidy for domestic-chip data centres from reaction_start (2025-11: up to 50 %)"),
    _p("rare_earth_base", 0.2, float, 0.0, 1.0,
       doc="rare-earth restriction China holds from reaction_start before any retaliation (Busan: 0.2)"),
    _p("licence_levy", 0.25, float, 0.0, 1.0,
       doc="revenue levy on licensed US sales to China from reaction_start (2025-12 H200 deal: 25 %)"),
    # reaction functions (after reaction_start)
    _p("us_reaction", True, bool, doc="the US follows its reaction function after reaction_start"),
    _p("us_target_ratio", 0.35, float, 0.0, 10.0,
       doc="China/US-bloc installed effective compute ratio above which the US tightens"),
    _p("us_tighten_rate", 0.02, float, 0.0, 1.0, unit="level/month",
       doc="US tightening per month per unit of relative excess over the target ratio"),
    _p("us_loosen_threshold", 0.4, float, 0.0, 1.0,
       doc="rare-earth restriction above which the US bargains (loosens controls)"),
    _p("us_loosen_rate", 0.03, float, 0.0, 1.0, unit="level/month",
       doc="US loosening per month per unit of restriction above the threshold"),
    _p("us_revenue_lobby", 0.005, float, 0.0, 1.0, unit="level/month",
       doc="US loosening per month when Nvidia's China revenue share is below 5 % (lost-revenue lobbying)"),
    _p("cn_reaction", True, bool, doc="China follows its reaction function after reaction_start"),
    _p("cn_retaliation", 1.5, float, 0.0, 20.0,
       doc="rare-earth restriction added per unit increase of us_control_level"),
    _p("cn_rare_earth_cost", 0.03, float, 0.0, 1.0, unit="1/month",
       doc="monthly relaxation of restrictions above the base level (their cost to China: export revenue, credibility)"),
    _p("cn_ban_threshold", 0.25, float, 0.0, 2.0,
       doc="China bans US compliance chips once domestic capacity covers this share of its demand "
           "(and lifts the ban below half of it); 2025-09 coverage was ~0.28"),
    _p("rare_earth_shock_level", 0.0, float, 0.0, 1.0, doc="size of a scripted rare-earth shock (0 = none)"),
    _p("rare_earth_shock_start", "2027-01", str, doc="month a rare-earth shock starts"),
    _p("rare_earth_shock_months", 12, int, 0, 240, unit="months", doc="duration of the shock"),
    # Chinese supply (SMIC wafers, yields, HBM, TSMC die bank)
    _p("cn_supply_model", True, bool, doc="Chinese vendors' capacity bounded by SMIC wafers x yield and HBM"),
    _p("smic_ai_share", 0.03, float, 0.0, 1.0,
       doc="share of SMIC advanced-node wafers going to AI accelerators (calibrated: wafer supply ~ 2024-25 Chinese volumes; most goes to phone SoCs)"),
    _p("smic_ai_share_max", 0.20, float, 0.0, 1.0, doc="ceiling of the AI share of SMIC advanced wafers under state direction (assumed)"),
    _p("cn_supply_response", 0.03, float, 0.0, 1.0, unit="1/month",
       doc="monthly growth of the AI wafer share (and domestic HBM) while Chinese vendors are short, from reaction_start"),
    _p("hbm_stockpile_stacks", 13e6, float, 0.0, 1e9, unit="stacks", doc="HBM stacks China holds at the Dec-2024 rule (docs/SOURCES.md#china-supply)"),
    _p("hbm_stacks_per_package", 8.0, float, 1.0, 16.0, doc="HBM stacks per accelerator package (910C: 8)"),
    _p("domestic_hbm_start", "2027-01", str, doc="month CXMT HBM3 volume starts (slipping past late 2026)"),
    _p("domestic_hbm_stacks_month", 300e3, float, 0.0, 1e8, unit="stacks/month", doc="domestic HBM output once started (assumed)"),
    _p("domestic_hbm_growth", 0.6, float, 0.0, 5.0, unit="1/yr", doc="yearly growth of domestic HBM output after its start (assumed)"),
    _p("die_bank_dies", 2.5e6, float, 0.0, 1e8, unit="dies", doc="TSMC-made Ascend dies banked for 2024-25 (docs/SOURCES.md#china-supply: 2-2.9M)"),
    _p("cn_supply_shock", 1.0, float, 0.0, 5.0, doc="multiplier on Chinese wafer supply (sweep: foundry shock or breakthrough)"),
    # energy
    _p("power_constraint", True, bool, doc="installed compute cannot exceed the power a region can give AI"),
    _p("ai_power_share_2022", 0.10, float, 0.0, 1.0, doc="share of data-centre power available to AI accelerators in 2022 (assumed)"),
    _p("ai_power_share_2030", 0.50, float, 0.0, 1.0, doc="share in 2030 and after (assumed; linear in between)"),
    _p("power_add_growth_us", 0.10, float, -0.5, 2.0, unit="1/yr",
       doc="yearly growth of US-bloc data-centre power additions (grid-interconnection queues, assumed)"),
    _p("power_add_growth_cn", 0.35, float, -0.5, 2.0, unit="1/yr",
       doc="yearly growth of China's data-centre power additions (generation surplus: 374 GW renewables added 2024, assumed)"),
    _p("power_add_growth_gs", 0.20, float, -0.5, 2.0, unit="1/yr", doc="yearly growth of Global-South power additions (assumed)"),
    _p("power_scarcity_markup", 3.0, float, 0.0, 50.0,
       doc="effective electricity price markup as a region's AI power use approaches its capacity"),
    # capital and R&D
    _p("cn_state_fund_usd_per_year", 5e9, float, 0.0, 1e12, unit="USD/yr",
       doc="state funds (Big Fund III: CNY 344B over ~10 years, part to AI chips) shared by Chinese vendors"),
    _p("capital_shock", 1.0, float, 0.0, 10.0, doc="multiplier on Chinese vendors' capital raised (IPOs, state funds)"),
    _p("rd_time_effect", 0.1, float, 0.0, 1.0,
       doc="share of generation time saved per decade of R&D spending (USD bn)"),
    _p("porting_interval_months", 3, int, 1, 24, unit="months",
       doc="buyers review porting every this many months (and port that many months' worth)"),
    _p("porting_cost", 0.5, float, 0.0, 10.0, unit="utility per unit kappa x estate per month",
       doc="monthly cost of porting a software estate toward a stack, per unit of kappa x estate "
           "(compared with the switching cost it removes)"),
    # ecosystem investment and co-design
    _p("invest_cuda", 0.8, float, 0.0, 1.0, doc="Nvidia's ecosystem investment effort"),
    _p("invest_rocm", 0.4, float, 0.0, 1.0, doc="AMD's ecosystem investment effort"),
    _p("invest_cann", 0.5, float, 0.0, 1.0, doc="Huawei's ecosystem investment effort"),
    _p("invest_cann_open", 0.3, float, 0.0, 1.0, doc="extra CANN effort from open-sourcing"),
    _p("cann_open_source", "2025-08", str, doc="month CANN open-sourcing starts"),
    _p("invest_other_cn", 0.2, float, 0.0, 1.0, doc="other Chinese vendors' ecosystem effort"),
    _p("codesign_start", "2025-08", str, doc="month model co-design for domestic chips starts (DeepSeek V3.1 UE8M0 FP8)"),
    _p("codesign_level", 0.3, float, 0.0, 1.0, doc="co-design level for CANN after codesign_start"),
    # foundries and packaging (model/components/foundry.py, Eq. F1-F4)
    _p("foundry_layer", True, bool, doc="vendors' capacity bounded by what their fab and packaging sites can make"),
    _p("foundry_headroom", 1.0, float, 0.5, 3.0,
       doc="what a vendor's sites can make over its capacity path with every site up (1: no spare capacity "
           "to re-route, CoWoS sold out 2023-25)"),
    _p("foundry_outside_ramp", 1.0, float, 0.0, 5.0,
       doc="pace of the ramp of wafers and packaging outside Taiwan against the announced one (time after "
           "mid-2025 runs this fast along it; 0 holds the 2025 shares)"),
    _p("taiwan_disruption_depth", 0.0, float, 0.0, 1.0,
       doc="share of every Taiwan site's output (TSMC fabs, CoWoS) lost in a disruption (0 = none)"),
    _p("taiwan_disruption_start", "2027-01", str, doc="month a Taiwan disruption starts"),
    _p("taiwan_disruption_months", 12, int, 0, 240, unit="months", doc="months at full depth"),
    _p("taiwan_disruption_recovery_months", 6, int, 0, 240, unit="months",
       doc="months of linear recovery after the disruption"),
    # software maturity (model/components/software.py, Eq. E6-E7)
    _p("software_maturity", True, bool,
       doc="stacks' software efficiency grows with maturity (off: frozen at 1, today's results)"),
    _p("software_start", "2026-01", str,
       doc="month the software clock starts: the end of the replayed history, whose demand is calibrated on "
           "units sold with the software of their time"),
    _p("software_rate_train", 0.0716, float, 0.0, 1.0, unit="1/month",
       doc="training efficiency growth per unit of maturity (calibrated: H100 +27 % at 512 GPUs, MLPerf "
           "Training 2023-06 to 2024-06)"),
    _p("software_rate_serve", 0.2299, float, 0.0, 1.0, unit="1/month",
       doc="serving efficiency growth per unit of maturity (calibrated: H100 LLM inference x2 with "
           "TensorRT-LLM, 2023-09 to 2024-03)"),
    _p("software_ceiling_train", 1.6, float, 1.0, 10.0, doc="ceiling of a stack's training efficiency (assumed)"),
    _p("software_ceiling_serve", 3.0, float, 1.0, 20.0,
       doc="ceiling of a stack's serving efficiency (H100 GPT-J x2.9 in two MLPerf rounds; assumed)"),
    _p("software_codesign_ceiling", 0.0, float, 0.0, 10.0,
       doc="rise of a stack's ceilings per unit of model co-design (0: co-design speeds the climb, not the "
           "ceiling; assumed)"),
)

_REGISTRIES = ("model.ecosystem",)


def _load_all() -> None:
    """Import the modules that register their own parameters (idempotent)."""
    import importlib

    for mod in _REGISTRIES:
        importlib.import_module(mod)
