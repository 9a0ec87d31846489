"""Regulators: the US (export controls) and China (countermeasures) set their levers monthly.

Scripted events (history, scenarios) are applied by the model before regulators act; after
the scripted period (``reaction_start``) each regulator follows its reaction function.
"""

from __future__ import annotations

from mesa import Agent

from model.policy import rule_for_level


class Regulator(Agent):
    """Shared logic: a regulator acts on the model's PolicyState; subclasses implement react()."""

    home: str = ""

    def step(self) -> None:
        m = self.model
        if m.month < m.reaction_start or m.month in m.scripted_months:
            return
        self.react()

    def react(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class USRegulator(Regulator):
    """US Commerce/BIS. At ``reaction_start`` the rule becomes the one for ``us_control_level``."""

    home = "us"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.level = float(model.p["us_control_level"])
        self.started = False

    def react(self) -> None:
        m = self.model
        if not self.started:
            self.started = True
            m.policy.us_rule = rule_for_level(self.level)
            for lic in m.policy.licences:
                if "cn" in lic.regions:
                    lic.levy = float(m.p["licence_levy"])


class CNRegulator(Regulator):
    """China's regulators (MOFCOM, CAC, NDRC, SAMR): hold the levers in force after history."""

    home = "cn"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.started = False

    def react(self) -> None:
        m = self.model
        if not self.started:
            self.started = True
            m.policy.rare_earth = float(m.p["rare_earth_base"])
            m.policy.cn_subsidy = float(m.p["cn_subsidy_after"])
        m.policy.cn_mandate = max(m.policy.cn_mandate, float(m.p["cn_mandate_after"]))
