"""Regulators: the US (export controls) and China (countermeasures) set their levers monthly.

Scripted events (history, scenarios) are applied by the model before regulators act and
override reactions in their month; from ``reaction_start`` each regulator follows its reaction
function (docs/ODD.md Eq. R1-R2), with every coefficient a sweepable parameter.
"""

from __future__ import annotations

from mesa import Agent

from model.policy import cn_rare_earth_reaction, level_for_rule, rule_for_level, us_level_reaction

_LEVELS: dict[tuple, float] = {}  # rule thresholds -> level_for_rule (pure): per process


def control_level(rule) -> float:
    """``policy.us_control_level`` of ``rule``: a pure function of its thresholds
    (``rule.key()``, all that ``level_for_rule`` reads), so kept per process under them."""
    key = rule.key()
    level = _LEVELS.get(key)
    if level is None:
        if len(_LEVELS) > 10_000:
            _LEVELS.clear()
        level = _LEVELS[key] = float(level_for_rule(rule))
    return level


class Regulator(Agent):
    """Shared logic: act from reaction_start, except in months with scripted events."""

    home: str = ""

    def __init__(self, model) -> None:
        super().__init__(model)
        self.started = False

    def step(self) -> None:
        m = self.model
        if m.month < m.dates["reaction_start"] or m.month in m.events.months:
            return
        if not self.started:
            self.started = True
            self.begin()
        self.react()

    def begin(self) -> None:
        """Take over the levers at reaction_start."""

    def react(self) -> None:
        """One month of the reaction function."""


class USRegulator(Regulator):
    """US Commerce/BIS: thresholds follow ``level`` (rule_for_level); the level tightens as China
    catches up and loosens under rare-earth pressure or lost revenue (Eq. R1)."""

    home = "us"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.level = float(model.p["us_control_level"])
        self.applied = self.level

    def begin(self) -> None:
        m = self.model
        self.level = float(m.p["us_control_level"])
        self._apply(self.level)
        m.policy.set_licence_levy("cn", float(m.p["licence_levy"]))

    def react(self) -> None:
        m = self.model
        latest = m.recorder.latest
        if not m.p["us_reaction"] or not latest:
            return
        self.level = us_level_reaction(
            self.level, cn_over_us=1.0 / max(latest["us_cn_compute_ratio"], 1e-9),
            rare_earth=m.policy.rare_earth, nvidia_cn_share=latest["nvidia_china_revenue_share"],
            p=m.p)
        # Rules change in steps of 0.05 (a rulemaking, not a dial): fewer, discrete rule changes.
        stepped = round(self.level * 20.0) / 20.0
        if abs(stepped - self.applied) >= 0.05 - 1e-9:
            self._apply(stepped)

    def _apply(self, level: float) -> None:
        self.model.policy.set_us_rule(rule_for_level(level), keep_hbm=True)
        self.applied = level


class CNRegulator(Regulator):
    """China (MOFCOM, CAC, NDRC, SAMR): retaliates with rare earths when US controls tighten,
    relaxes them at a cost, bans US compliance chips while domestic supply covers demand, and
    holds mandates and power subsidies (Eq. R2)."""

    home = "cn"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.seen_level = None

    def begin(self) -> None:
        m = self.model
        m.policy.rare_earth = float(m.p["rare_earth_base"])
        m.policy.cn_subsidy = float(m.p["cn_subsidy_after"])
        self.seen_level = m.policy.us_control_level

    def react(self) -> None:
        m = self.model
        level = control_level(m.policy.us_rule)  # = m.policy.us_control_level
        if m.p["cn_reaction"]:
            m.policy.rare_earth = cn_rare_earth_reaction(
                m.policy.rare_earth, us_level_change=level - (level if self.seen_level is None else self.seen_level),
                p=m.p)
            coverage = m.supply.coverage(m)
            if coverage >= m.p["cn_ban_threshold"]:
                m.policy.ban({"compliance"})
            elif coverage < 0.5 * m.p["cn_ban_threshold"]:  # hysteresis: lift only when short
                m.policy.unban({"compliance"})
        self.seen_level = level
        start = m.dates["rare_earth_shock_start"]
        if m.p["rare_earth_shock_level"] > 0 and start <= m.month < start + m.p["rare_earth_shock_months"]:
            m.policy.rare_earth = max(m.policy.rare_earth, float(m.p["rare_earth_shock_level"]))
        m.policy.cn_mandate = max(m.policy.cn_mandate, float(m.p["cn_mandate_after"]))
