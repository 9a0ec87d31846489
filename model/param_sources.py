"""Where a parameter's default comes from, when it is not an assumption.

A section of docs/SOURCES.md (public figures with their sources), the 2022-24 calibration
(docs/ODD.md, Initialization) or a derivation. A parameter not listed here is an assumption;
``chipwar params`` and the ODD's parameter tables (docs/gen_param_tables.py) print this.
"""

from __future__ import annotations

S = "docs/SOURCES.md#"

BASIS: dict[str, str] = {
    "start": "model horizon (ODD: Entities, state variables and scales)",
    "end": "model horizon (ODD: Entities, state variables and scales)",
    "reaction_start": "end of the replayed history (ODD: Entities, state variables and scales)",
    "own_designs_from": "end of the replayed history (issue 16)",
    "variant_hbm_rule_gb": "RTX Pro 6000D, the rule's one answer (chips.csv)",
    "variant_hbm_rule_tb_s": "RTX Pro 6000D, the rule's one answer (chips.csv)",
    "cn_demand_trend": "calibrated (2022-24 history)",
    "cn_demand_trend_end": "end of the calibration window",
    "bass_p": f"Bass (1969), {S}adoption-theory",
    "bass_q": f"Bass (1969), {S}adoption-theory",
    "alignment_weight_hyperscaler": "calibrated (2022-24 history)",
    "train_accelerators": f"Llama 3 405B scale ({S}measured-performance)",
    "hardware_life_years": f"Epoch AI ({S}power-and-cost-conventions: 4-5 yr)",
    "capital_rate": f"Epoch AI ({S}power-and-cost-conventions: 10 %)",
    "supersede_months": "assumed (a year of overlap between generations)",
    "variant_lag_months": f"H20 timing ({S}policy-timeline)",
    "variant_io_lag_months": "A800: rule 2022-10, on sale 2022-11",
    "variant_io_fraction": f"A800/H800 400 of 600 GB/s ({S}chips)",
    "us_bloc_buys_cn_chips": f"no Chinese accelerators in US or allied data centres 2022-25 ({S}policy-timeline)",
    "us_control_level": "derived: 2023 rule's 2,400-TPP limit (Eq. P1)",
    "licence_levy": f"2025-12 H200 deal ({S}policy-timeline)",
    "cn_subsidy_after": f"2025-11 mandate ({S}policy-timeline)",
    "rare_earth_base": "Busan truce level (assumed scale)",
    "cn_ban_threshold": "derived: coverage ~0.28 at the 2025-09 ban",
    "smic_ai_share": "calibrated (2024-25 Chinese volumes)",
    "hbm_stockpile_stacks": f"{S}china-supply",
    "hbm_stacks_per_package": f"910C ({S}china-supply)",
    "domestic_hbm_start": f"{S}china-supply (CXMT slipping past late 2026)",
    "die_bank_dies": f"{S}china-supply (2-2.9M)",
    "cn_state_fund_usd_per_year": f"Big Fund III ({S}market-history); AI share assumed",
    "dev_growth_m_per_month": "calibrated (Nvidia 10-K developer counts)",
    "kappa": f"no public figure ({S}ecosystems): swept",
    "codesign_start": f"DeepSeek V3.1 UE8M0 FP8 ({S}ecosystems)",
    "cann_open_source": f"CANN open-sourced through 2025 ({S}ecosystems)",
    "firm_size_pareto": "80/20 rule",
    "foundry_headroom": f"CoWoS sold out 2023-25 ({S}foundries)",
    "software_start": "end of the replayed history (demand calibrated with the software of its time)",
    "software_rate_train": f"fitted: H100 +27 % in a year, MLPerf Training ({S}software-gains)",
    "software_rate_serve": f"fitted: H100 x2 in six months, TensorRT-LLM ({S}software-gains)",
    "arthur_a_r": f"Arthur (1989), {S}adoption-theory",
    "arthur_b_r": f"Arthur (1989), {S}adoption-theory",
    "arthur_a_s": f"Arthur (1989), {S}adoption-theory",
    "arthur_b_s": f"Arthur (1989), {S}adoption-theory",
    "arthur_r": f"Arthur (1989), {S}adoption-theory",
    "arthur_s": f"Arthur (1989), {S}adoption-theory",
}
