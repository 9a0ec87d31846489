"""The export-control rule engine on the real chips, compliance variants, and the levers."""

from __future__ import annotations

import numpy as np
import pytest

from model.catalog import load_catalog
from model.market_model import ChipMarketModel
from model.policy import USRule, level_for_rule, rule_for_level
from model.scenario import load_scenario, month_index

SHIPPED = ("a100-sxm", "a800", "h100-sxm", "h800", "h20", "h200", "b200", "ascend-910c")


def _tpp_density_io(chip_ids):
    c = load_catalog().chips.loc[list(chip_ids)]
    tpp = np.nanmax(np.vstack([c["bf16_tflops"] * 16, c["fp8_tflops"] * 8, c["int8_tops"] * 8]), axis=0)
    area = c["die_area_mm2"].fillna(800.0).to_numpy()
    return tpp, tpp / area, c["scaleup_gb_s"].fillna(0.0).to_numpy()


def _rule_in_force(date: str) -> USRule:
    """The US rule the baseline scenario has in force at ``date`` (last us_rule event before it)."""
    sc = load_scenario("baseline")
    m = month_index(date)
    ev = [e for e in sc.events if e.kind == "us_rule" and e.month <= m][-1]
    f = ev.fields
    return USRule(tpp=f.get("tpp", np.inf), io_gb_s=f.get("io_gb_s"), tpp_pd=f.get("tpp_pd", np.inf),
                  density=f.get("density", np.inf), grey_tpp=f.get("grey_tpp", np.inf),
                  grey_density=f.get("grey_density", np.inf), tiers=tuple(f.get("tiers", (3,))))


def test_2023_rule_controls_h100_h800_a800_not_h20():
    rule = _rule_in_force("2023-11-17")
    tpp, dens, io = _tpp_density_io(SHIPPED)
    ctl = dict(zip(SHIPPED, rule.controlled(tpp, dens, io)))
    assert ctl["h100-sxm"] and ctl["h800"] and ctl["a800"] and ctl["h200"]
    assert not ctl["h20"]
    assert 3 in rule.tiers


def test_2022_rule_controls_a100_not_a800():
    rule = _rule_in_force("2022-10-07")
    tpp, dens, io = _tpp_density_io(SHIPPED)
    ctl = dict(zip(SHIPPED, rule.controlled(tpp, dens, io)))
    assert ctl["a100-sxm"] and ctl["h100-sxm"]
    assert not ctl["a800"] and not ctl["h800"]


def test_rule_before_2022_controls_nothing():
    tpp, dens, io = _tpp_density_io(SHIPPED)
    assert not USRule().controlled(tpp, dens, io).any()


def test_compliance_variant_under_2023_rule_passes_every_test():
    m = ChipMarketModel(rng=0, end="2024-06")
    rule = _rule_in_force("2023-11-17")
    off = m.offerings
    parent = off.index("hgx-h100")
    i = off.design_variant(parent, rule, m.month)
    off.launch()
    assert off.compliance[i] and off.parent[i] == "h100-sxm"
    assert off.tpp[i] < 4800 and off.tpp[i] < 2400  # under the grey zone too
    assert not (off.tpp[i] >= 1600 and off.density[i] >= 5.92)
    assert not rule.controlled(off.tpp[i:i + 1], off.density[i:i + 1], off.io[i:i + 1])[0]
    assert 100 < off.core.bf16_tflops[i] < 150  # an H20-class part (148 TFLOPS)


def test_compliance_variant_under_2022_rule_keeps_compute_cuts_io():
    m = ChipMarketModel(rng=0, end="2023-01")
    rule = _rule_in_force("2022-10-07")
    off = m.offerings
    parent = off.index("hgx-a100")
    i = off.design_variant(parent, rule, m.month)
    off.launch()
    assert off.core.bf16_tflops[i] == pytest.approx(off.core.bf16_tflops[parent])
    assert off.io[i] < 600  # A800: 400 GB/s
    assert not rule.controlled(off.tpp[i:i + 1], off.density[i:i + 1], off.io[i:i + 1])[0]


def test_history_replays_the_real_compliance_parts():
    m = ChipMarketModel(rng=1, end="2024-12")
    m.run_model()
    variants = {o for o, c in zip(m.offerings.ids, m.offerings.compliance) if c}
    assert variants == {"hgx-a800", "hgx-h800", "hgx-h20", "rtx-pro-6000d-8", "mi308x-8"}


def test_vendors_design_variants_only_where_no_real_part_answers_the_rule():
    """With designs of their own allowed from 2022, vendors answer the 2022-2024 rules with the
    real parts (A800, H800, H20, MI308X) and design only what history has no part for."""
    m = ChipMarketModel(rng=1, end="2024-12", own_designs_from="2022-01")
    m.run_model()
    off = m.offerings
    designed = [o for o, c in zip(off.ids, off.compliance) if c and "-variant-" in o]
    assert designed and all(o.startswith(("nvidia-variant-", "amd-variant-")) for o in designed)
    # the A800/H800 answer the 2022 rule for the A100/H100, the H20 the 2023 rule for the H100
    assert not [o for o in designed if o.endswith(("-of-hgx-a100", "-of-hgx-h100"))]
    assert any(o.endswith("-of-hgx-h200") for o in designed)  # no real China H200 existed


@pytest.mark.parametrize("level", [0.0, 0.2, 0.5, 0.76, 1.0])
def test_level_round_trips_through_thresholds(level):
    assert level_for_rule(rule_for_level(level)) == pytest.approx(level, abs=1e-9)


def test_level_thresholds_are_monotone():
    tpp, dens, io = _tpp_density_io(SHIPPED)
    counts = [rule_for_level(x).controlled(tpp, dens, io).sum() for x in np.linspace(0, 1, 11)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] >= 7


def test_licence_with_levy_and_chinese_ban():
    m = ChipMarketModel(rng=2, end="2025-12")
    m.run_model()
    lic = [lc for lc in m.policy.licences if "cn" in lc.regions]
    assert {lc.levy for lc in lic} >= {0.15, 0.25}
    assert "compliance" in m.policy.cn_bans
    assert m.policy.cn_mandate == 1.0 and m.policy.cn_subsidy == 0.5
