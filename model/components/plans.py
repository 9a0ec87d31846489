"""The month as a plan: which component does what, in which order (DESIGN's step order).

``standard_plan`` is the market model's month; ``arthur_plan`` the Arthur (1989) docking's, a
second plan over the same deliveries, ecosystems and recorder. Each phase is one component
method ``(model, ctx)``; to add a mechanism, write its component and add one line here.
"""

from __future__ import annotations

from typing import Any

from agents.regulator import CNRegulator, USRegulator
from model.components.base import Phase, Plan


def _regulator(cls: type) -> Any:
    def step(model: Any, ctx: Any) -> None:
        # AgentSet.do("step") without its per-call dispatch: each agent of the class in the set's
        # order (none joins or leaves during a regulator's step)
        for agent in list(model.agents_by_type[cls]):
            agent.step()
    return step


def standard_plan(m: Any) -> Plan:
    return Plan([
        Phase("events.fire", m.events.fire, "scripted events of the month (history, scenario)"),
        Phase("regulators.us", _regulator(USRegulator), "US export controls: reaction function (Eq. R1)"),
        Phase("regulators.cn", _regulator(CNRegulator), "China's countermeasures (Eq. R2)"),
        Phase("supply.update", m.supply.update, "rare-earth history; China's package pool (Eq. S1-S5)"),
        Phase("power.update", m.power.update, "AI power capacity, use and scarcity (Eq. N1, N3)"),
        Phase("vendors.step", m.vendors.step, "capacity, price, variants, next generations (Eq. V1-V7)"),
        Phase("offerings.launch", m.offerings.launch, "new offerings priced by the core in one call (Eq. M5)"),
        Phase("foundry.cap", m.supply.foundry.cap, "capacity = min(path, what its sites make) (Eq. F1-F4)"),
        Phase("supply.share", m.supply.share, "Chinese capacity cut to the package pool (Eq. S3b)"),
        Phase("software.value", m.ecosystems.software.value, "value = launch value x software efficiency (Eq. E7)"),
        Phase("pricing.price", m.pricing.price, "cost per useful work, availability, levy (Eq. M5b, P2-P3)"),
        Phase("choice.trade", m.choice.trade, "buyers choose; market clears (Eq. M1-M4, E5, N2)"),
        Phase("deliveries.deliver", m.deliveries.deliver, "fleets, caps, supply draw, revenue (Eq. V5)"),
        Phase("ecosystems.update", m.ecosystems.update, "developers and maturity (Eq. E1-E2)"),
        Phase("software.mature", m.ecosystems.software.mature,
              "software efficiency grows with maturity; world demand follows (Eq. E6, E8)"),
        Phase("recorder.record", m.recorder.record, "metrics and table rows of the month"),
    ])


def arthur_plan(m: Any) -> Plan:
    return Plan([
        Phase("arthur.arrive", m.arthur.arrive, "one adopter arrives and chooses (Eq. A1)"),
        Phase("deliveries.deliver", m.deliveries.deliver, "its unit joins the installed base"),
        Phase("ecosystems.update", m.ecosystems.update, "developers and maturity (Eq. E1-E2)"),
        Phase("recorder.record", m.recorder.record, "metrics and table rows of the month"),
        Phase("arthur.lock_in", m.arthur.check_lock_in, "has the market locked in? (Eq. A2)"),
    ])
