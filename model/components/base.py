"""What every component shares: the month's plan (an ordered list of phases), the context one
phase hands the next, and the Component base that declares what it owns and reads.

The model holds no mechanism: ``ChipMarketModel.step`` runs ``for phase in plan: phase(model,
ctx)``. Each phase is one method of one component; ``print(model.plan)`` lists them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class MonthContext:
    """What one phase of a month hands the next (instead of values stashed on the model).

    Filled in plan order: the software sets ``value`` (Eq. E7); pricing sets ``cost``,
    ``available``, ``levy`` and the buyers' prices;
    the market sets ``clearing``; deliveries set the month's units and money by offering x region
    and the purchases by buyer x stack, which the ecosystems and the recorder read.
    """

    month: int
    cost: np.ndarray | None = None  # (O, R) USD per effective H100e-month, inf where not for sale
    available: np.ndarray | None = None  # (O, R) bool
    levy: np.ndarray | None = None  # (O, R) share of revenue
    price: np.ndarray | None = None  # (O,) vendor price per accelerator
    region_price: np.ndarray | None = None  # (O, R) buyers' price incl. passed-through levy
    clearing: Any = None  # market.Clearing, alloc over the columns ``clearing.cols``
    units: np.ndarray | None = None  # (O, R) units delivered
    gross: np.ndarray | None = None  # (O, R) buyers' spend, USD
    net: np.ndarray | None = None  # (O, R) vendors' revenue after levy and fines, USD
    purchases_eff: np.ndarray | None = None  # (B, S) effective H100e bought
    purchases_peak: np.ndarray | None = None  # (B, S) peak H100e bought
    value: np.ndarray | None = None  # (O,) effective H100e per unit after software (Eq. E7)


@dataclass(frozen=True)
class Phase:
    """One step of the month: ``fn(model, ctx)``, owned by component ``owner``."""

    name: str
    fn: Callable[[Any, MonthContext], None]
    doc: str

    def __call__(self, model: Any, ctx: MonthContext) -> None:
        self.fn(model, ctx)

    def __str__(self) -> str:
        return f"{self.name:<22} {self.doc}"


class Plan(tuple):
    """The month as data: an ordered tuple of phases that prints one line each."""

    def __new__(cls, phases: Iterable[Phase]) -> Plan:
        return super().__new__(cls, tuple(phases))

    def names(self) -> list[str]:
        return [p.name for p in self]

    def insert_after(self, name: str, phase: Phase) -> Plan:
        """A new plan with ``phase`` right after the phase called ``name``."""
        i = self.names().index(name) + 1
        return Plan(self[:i] + (phase,) + self[i:])

    def __str__(self) -> str:
        return "\n".join(f"{i:>2}. {p}" for i, p in enumerate(self, start=1))

    __repr__ = __str__


class Component:
    """A mechanism with the state it owns.

    ``owns`` names the state it creates and is the only one to write; ``reads`` the components or
    context fields it reads; ``startup_params`` the parameters it reads once, at set-up - a
    scripted ``set`` event may not change those (refused when the scenario is read). Parameters
    read month by month need nothing; a derived view built from parameters is rebuilt in
    :meth:`on_set`.
    """

    owns: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    startup_params: tuple[str, ...] = ()

    def on_set(self, model: Any, keys: set[str]) -> None:
        """Rebuild what this component derived from any of ``keys`` (a ``set`` event fired)."""
