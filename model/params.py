"""The model's parameter registry: every sweepable parameter with type, range, unit and meaning.

Scenarios (TOML), `--set key=value`, sweep designs and the dashboard all validate against
this one table; docs/ODD.md documents each name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.errors import ScenarioError


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
        except (TypeError, ValueError):
            raise ScenarioError(f"{origin}: {self.name} = {value!r}: expected {expected}") from None
        if value != value or (self.low is not None and value < self.low) or (
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
    return {name: p.default for name, p in PARAMETERS.items()}


def check_value(name: str, value: Any, origin: str = "parameter") -> Any:
    """Validate one parameter by name; unknown names are refused with the list of valid ones."""
    if name not in PARAMETERS:
        close = sorted(n for n in PARAMETERS if n.split("_")[0] == name.split("_")[0])
        hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
        raise ScenarioError(f"{origin}: unknown parameter {name!r}{hint}; see docs/ODD.md for the list")
    return PARAMETERS[name].check(value, origin)


register(
    _p("start", "2022-01", str, doc="first simulated month (YYYY-MM)"),
    _p("end", "2035-12", str, doc="last simulated month (YYYY-MM)"),
    _p("us_control_level", 0.5, float, 0.0, 1.0, doc="stringency of US export controls after the scripted period"),
    _p("kappa", 1.0, float, 0.0, 20.0, doc="switching-cost scale: cost of leaving a stack per unit of software estate"),
)
