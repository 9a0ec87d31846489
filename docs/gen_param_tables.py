"""Parameter tables of docs/ODD.md, generated from the registry (model.params.PARAMETERS).

The registry is the one place where a parameter's default, range, unit and meaning live; the
ODD's tables are printed from it so the two cannot drift apart. Each table sits in ODD.md
between ``<!-- params:GROUP -->`` and ``<!-- /params:GROUP -->`` markers, next to the submodel
that uses its parameters.

    .venv/bin/python docs/gen_param_tables.py            # print every table (markdown)
    .venv/bin/python docs/gen_param_tables.py --write    # rewrite the tables inside ODD.md
    .venv/bin/python docs/gen_param_tables.py --check    # exit 1 if ODD.md is out of date

``--check`` also fails when a registered parameter belongs to no group below (a new parameter
must be placed, i.e. documented next to its submodel) or a group names a parameter the
registry no longer has. ``BASIS`` (model/param_sources.py) says where a default comes from; a parameter not listed
there is an assumption and is marked so.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.param_sources import BASIS  # noqa: E402  (the registry's sources, one place)

# group -> parameters, in the order they are printed; one group per ODD submodel.
GROUPS: dict[str, tuple[str, ...]] = {
    "time": ("start", "end", "reaction_start", "own_designs_from"),
    "demand": ("gs_demand_catchup", "cn_demand_trend", "cn_demand_trend_end", "demand_noise"),
    "init": ("initial_fleet_months", "gs_initial_active", "gs_initial_rocm_share",
             "gs_software_estate"),
    "population": ("population", "n_firms_per_country", "n_firms_per_hyperscaler_region",
                   "firm_size_pareto", "firm_beta_sd", "firm_estate_sd", "firm_alignment_sd"),
    "arthur": ("arthur_arrivals", "arthur_type_share", "arthur_a_r", "arthur_b_r", "arthur_a_s",
               "arthur_b_s", "arthur_r", "arthur_s", "stop_at_lock_in"),
    "value": ("mix_train_dense", "mix_train_moe", "mix_prefill", "mix_decode",
              "train_accelerators", "hardware_life_years", "capital_rate", "levy_passthrough",
              "fleet_retirement"),
    "choice": ("price_beta_hyperscaler", "price_beta_gs", "alignment_weight",
               "alignment_weight_hyperscaler", "bundle_bonus", "bundle_discount", "bundle_start",
               "outside_option", "outside_cost_ratio", "choice_temperature", "lots", "market_rounds", "bass_p",
               "bass_q"),
    "vendor": ("price_adjust_rate", "price_index_min", "price_index_max",
               "capacity_expansion_rate", "supersede_months", "product_life_months",
               "generation_months", "roadmap_gain_us", "roadmap_gain_cn", "rd_gain_effect",
               "rd_time_effect", "roadmap_power_growth", "roadmap_price_growth",
               "cn_state_fund_usd_per_year", "capital_shock"),
    "variant": ("compliance_variants", "variant_lag_months", "variant_io_lag_months",
                "variant_max_age_months", "variant_redesign_gain", "variant_margin",
                "variant_price_floor", "variant_io_fraction", "variant_hbm_rule_gb", "variant_hbm_rule_tb_s",
                "default_die_area_mm2"),
    "levers": ("us_control_level", "us_bloc_buys_cn_chips", "licence_levy", "cn_mandate_after", "cn_subsidy_after",
               "rare_earth_base", "entity_list_capacity_cut", "rare_earth_cost",
               "rare_earth_capacity_cut", "rare_earth_lag_months", "rare_earth_shock_level",
               "rare_earth_shock_start", "rare_earth_shock_months"),
    "reaction": ("us_reaction", "us_target_ratio", "us_tighten_rate", "us_loosen_threshold",
                 "us_loosen_rate", "us_revenue_lobby", "cn_reaction", "cn_retaliation",
                 "cn_rare_earth_cost", "cn_ban_threshold"),
    "supply": ("cn_supply_model", "smic_ai_share", "smic_ai_share_max", "cn_supply_response",
               "hbm_stockpile_stacks", "hbm_stacks_per_package", "domestic_hbm_start",
               "domestic_hbm_stacks_month", "domestic_hbm_growth", "die_bank_dies",
               "cn_supply_shock"),
    "energy": ("power_constraint", "ai_power_share_2022", "ai_power_share_2030",
               "power_add_growth_us", "power_add_growth_cn", "power_add_growth_gs",
               "power_scarcity_markup"),
    "ecosystem": ("network_form", "network_weight", "network_scale_h100e", "developer_scale_m",
                  "dev_weight", "purchase_weight", "dev_growth_m_per_month", "dev_invest_effect",
                  "dev_decay_per_month", "maturity_growth_per_month", "maturity_invest_effect",
                  "maturity_decay_per_month", "invest_cuda", "invest_rocm", "invest_cann",
                  "invest_cann_open", "cann_open_source", "invest_other_cn"),
    "foundry": ("foundry_layer", "foundry_headroom", "foundry_outside_ramp", "taiwan_disruption_depth",
                "taiwan_disruption_start", "taiwan_disruption_months", "taiwan_disruption_recovery_months"),
    "software": ("software_maturity", "software_start", "software_rate_train", "software_rate_serve",
                 "software_ceiling_train", "software_ceiling_serve", "software_codesign_ceiling"),
    "lockin": ("kappa", "maturity_effect", "porting_effect", "codesign_bonus", "codesign_start",
               "codesign_level", "porting_cost", "porting_interval_months", "porting_step_per_month"),
}

_BLOCK = re.compile(r"(<!-- params:(?P<g>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /params:(?P=g) -->)",
                    re.S)


def _registry() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from model import params

    params.defaults()  # imports the modules that register their own parameters
    return dict(params.PARAMETERS)


def _num(x: float) -> str:
    if x == int(x) and abs(x) < 1e6:
        return f"{int(x):,}" if abs(x) >= 10_000 else f"{int(x)}"
    return f"{x:g}"


def _default(p: Any) -> str:
    v = p.default
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return _num(float(v))


def _range(p: Any) -> str:
    if p.kind is bool:
        return "true/false"
    if p.kind is str:
        return " / ".join(p.choices) if p.choices else "YYYY-MM" if _is_date(p) else "text"
    lo = "-inf" if p.low is None else _num(float(p.low))
    hi = "inf" if p.high is None else _num(float(p.high))
    return f"[{lo}, {hi}]" + (" int" if p.kind is int else "")


def _is_date(p: Any) -> bool:
    return isinstance(p.default, str) and bool(re.match(r"^(19|20)\d\d-\d\d$", p.default))


def _basis(p: Any) -> str:
    if p.name in BASIS:
        return BASIS[p.name]
    if p.kind is bool:
        return "switch"
    if p.kind is str and p.choices:
        return "mode"
    return "assumed"


def _cell(text: str) -> str:
    text = str(text).replace("|", "\\|").replace("\n", " ")
    # a docs/SOURCES.md section becomes a link relative to docs/ODD.md
    return re.sub(r"docs/SOURCES\.md#([a-z0-9-]+)", r"[SOURCES#\1](SOURCES.md#\1)", text)


def table(group: str, registry: dict[str, Any]) -> str:
    """The markdown table of one group: name, default, range, unit, basis, meaning."""
    lines = ["| parameter | default | range | unit | basis | meaning |",
             "|---|---|---|---|---|---|"]
    for name in GROUPS[group]:
        p = registry[name]
        lines.append(f"| `{name}` | {_default(p)} | {_range(p)} | {_cell(p.unit) or '–'} | "
                     f"{_cell(_basis(p))} | {_cell(p.doc)} |")
    return "\n".join(lines) + "\n"


def problems(registry: dict[str, Any]) -> list[str]:
    """Registry names placed in no group, group names not in the registry, names placed twice."""
    placed = [n for names in GROUPS.values() for n in names]
    out = [f"parameter {n!r} is in no group of docs/gen_param_tables.py GROUPS"
           for n in registry if n not in placed]
    out += [f"GROUPS names {n!r}, which model.params does not register" for n in placed
            if n not in registry]
    out += [f"parameter {n!r} is placed in more than one group" for n in sorted(set(placed))
            if placed.count(n) > 1]
    out += [f"BASIS names {n!r}, which model.params does not register" for n in BASIS
            if n not in registry]
    return out


def render(text: str, registry: dict[str, Any]) -> str:
    """``text`` (ODD.md) with every marked block replaced by its generated table."""
    def sub(m: re.Match[str]) -> str:
        g = m.group("g")
        if g not in GROUPS:
            raise SystemExit(f"docs/ODD.md: unknown parameter group {g!r} in a params marker")
        return m.group(1) + table(g, registry) + m.group(4)

    return _BLOCK.sub(sub, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the tables inside docs/ODD.md")
    mode.add_argument("--check", action="store_true", help="exit 1 if docs/ODD.md is out of date")
    args = ap.parse_args(argv)
    registry = _registry()
    issues = problems(registry)
    if not (args.write or args.check):
        for g in GROUPS:
            print(f"<!-- params:{g} -->\n{table(g, registry)}<!-- /params:{g} -->\n")
        for msg in issues:
            print(msg, file=sys.stderr)
        return 1 if issues else 0
    text = ODD.read_text(encoding="utf-8")
    missing = [g for g in GROUPS if f"<!-- params:{g} -->" not in text]
    issues += [f"docs/ODD.md has no block for parameter group {g!r}" for g in missing]
    new = render(text, registry)
    if args.write:
        if new != text:
            ODD.write_text(new, encoding="utf-8")
        print(f"docs/ODD.md: {'updated' if new != text else 'already up to date'}")
    elif new != text:
        issues.append("docs/ODD.md parameter tables differ from the registry: run "
                      "docs/gen_param_tables.py --write")
    for msg in issues:
        print(msg, file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    raise SystemExit(main())
