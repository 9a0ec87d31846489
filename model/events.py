"""Scripted events: one handler per event kind of the schema in ``model/scenario.py``
(``EVENT_FIELDS``), and the component that fires a month's events in file order.

A handler moves policy levers through the policy object's methods, or (``set``) changes
parameters and asks each component to rebuild what it derived from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model.components.base import Component, MonthContext
from model.foundry import Disruption
from model.policy import Licence, USRule, rule_for_level
from model.scenario import EVENT_FIELDS, Event

INF = float("inf")


def _us_rule(m: Any, f: dict, month: int) -> None:
    pol = m.policy
    pol.set_us_rule(USRule(
        tpp=f.get("tpp", INF), io_gb_s=f.get("io_gb_s"), tpp_pd=f.get("tpp_pd", INF),
        density=f.get("density", INF), grey_tpp=f.get("grey_tpp", INF), grey_density=f.get("grey_density", INF),
        tiers=tuple(f.get("tiers", (3,))), hbm_to_china=f.get("hbm_to_china", pol.us_rule.hbm_to_china)))


def _us_licence(m: Any, f: dict, month: int) -> None:
    m.policy.grant_licence(Licence(tuple(f["match"]), tuple(f["regions"]), f.get("levy", 0.0),
                                   f.get("approval", 1.0), start=month + int(f.get("delay_months", 0))))


def _us_tier_caps(m: Any, f: dict, month: int) -> None:
    m.policy.tier_caps_h100e = {} if f.get("remove") else {2: f.get("tier2_h100e_per_year", 0.0)}


def _setattr(name: str, key: str) -> Callable[[Any, dict, int], None]:
    def handler(m: Any, f: dict, month: int) -> None:
        setattr(m.policy, name, f[key])
    handler.__doc__ = f"policy.{name} = the event's {key}"
    return handler


def _set(m: Any, f: dict, month: int) -> None:
    m.set_params(f["parameters"])


def _foundry_disruption(m: Any, f: dict, month: int) -> None:
    m.supply.foundry.disrupt(Disruption(f["site"], float(f["depth"]), month, int(f["months"]),
                                        int(f.get("recovery_months", 0))))


HANDLERS: dict[str, Callable[[Any, dict, int], None]] = {
    "us_rule": _us_rule,
    "us_level": lambda m, f, month: m.policy.set_us_rule(rule_for_level(f["level"])),
    "us_licence": _us_licence,
    "us_revoke_licence": lambda m, f, month: m.policy.revoke_licences(set(f["match"])),
    "us_tier_caps": _us_tier_caps,
    "us_guidance": _setattr("us_guidance_cann_penalty", "cann_penalty"),
    "cn_ban": lambda m, f, month: m.policy.ban(set(f["chips"])),
    "cn_unban": lambda m, f, month: m.policy.unban(set(f["chips"])),
    "cn_mandate": _setattr("cn_mandate", "share"),
    "cn_subsidy": _setattr("cn_subsidy", "share"),
    "rare_earth": _setattr("rare_earth", "level"),
    "antitrust": _setattr("antitrust_fine", "fine"),
    "set": _set,
    "foundry_disruption": _foundry_disruption,
}
assert set(HANDLERS) == set(EVENT_FIELDS), "every event kind of the schema needs a handler"


class ScriptedEvents(Component):
    """A scenario's dated events by month; regulators stand aside in months that have one."""

    owns = ("by_month",)
    reads = ("policy", "params")

    def __init__(self, events: list[Event]) -> None:
        self.by_month: dict[int, list[Event]] = {}
        for ev in events:
            self.by_month.setdefault(ev.month, []).append(ev)
        self.months = set(self.by_month)

    def fire(self, model: Any, ctx: MonthContext) -> None:
        for ev in self.by_month.get(ctx.month, []):
            HANDLERS[ev.kind](model, ev.fields, ctx.month)
