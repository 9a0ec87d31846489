"""Software ecosystems and lock-in (docs/ODD.md "Ecosystems", "Lock-in"): developer base, maturity, network value,
portability, switching costs, porting decisions and Bass adoption timing, as pure vectorised
functions.

Arrays over stacks have shape (S,) in ``model.types.STACKS`` order, over buyers (B,), buyer x stack
(B, S). The Model calls these once per month; nothing here loops over buyers or holds randomness.
Equations: docs/ODD.md, "Ecosystems and lock-in".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from model.memo import ProcessMemo
from model.params import PARAMETERS, Param, register
from model.types import STACK_INDEX, STACKS

__all__ = [
    "EcosystemParams",
    "EcosystemState",
    "attraction",
    "update_ecosystem",
    "network_value",
    "portability",
    "switching_cost",
    "porting_decision",
    "bass_hazard",
]


def _f(default: Any, low: float | None, high: float | None, unit: str, doc: str, **kw: Any) -> Any:
    """A dataclass field carrying the registry metadata (range, unit, meaning and source)."""
    meta = {"low": low, "high": high, "unit": unit, "doc": doc, **kw}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class EcosystemParams:
    """Ecosystem sub-model parameters. Rates are per month; 'assumed' marks uncalibrated values."""

    network_form: str = _f(
        "concave", None, None, "",
        "network value form: 'concave' = log1p saturation (default), 'linear' = Arthur (1989) "
        "increasing returns r*n (docking); assumed",
        choices=("concave", "linear"),
    )
    network_weight: float = _f(
        1.0, 0.0, 100.0, "utility",
        "gamma: utility weight of a stack's network value in the buyer's logit; assumed",
    )
    network_scale_h100e: float = _f(
        1e5, 1.0, 1e9, "H100e",
        "installed-base scale: log1p(installed/scale) (concave) or installed/scale (linear); "
        "assumed",
    )
    developer_scale_m: float = _f(
        1.0, 1e-3, 1e3, "million developers",
        "developer-base scale, same role as network_scale_h100e for developers; assumed",
    )
    dev_weight: float = _f(
        0.5, 0.0, 1.0, "",
        "share of network value from developers (vs installed base); assumed",
    )
    purchase_weight: float = _f(
        0.5, 0.0, 1.0, "",
        "weight of this month's purchase share vs installed-base share in a stack's "
        "attraction; assumed",
    )
    dev_growth_m_per_month: float = _f(
        0.09, 0.0, 10.0, "million developers/month",
        "developer inflow to a stack with attraction 1 (all installed base and purchases). "
        "Calibrated so CUDA (attraction 0.9, owner effort 1) goes from 2.98M (2022-01) to the "
        "5.9M of Nvidia's FY2025 10-K (2025-01) in 36 months; gives 5.0M at 2024-01 vs 4.7M "
        "reported (constant inflow cannot follow the accelerating growth exactly)",
    )
    dev_invest_effect: float = _f(
        0.5, 0.0, 5.0, "",
        "attraction added for developers by full owner effort (1.0): programmes, docs, "
        "university courses; assumed",
    )
    dev_decay_per_month: float = _f(
        0.01, 0.0, 1.0, "1/month",
        "fraction of a stack's developers leaving per month (about 11 %/yr); assumed",
    )
    maturity_growth_per_month: float = _f(
        0.03, 0.0, 1.0, "1/month",
        "rate at which a stack closes its remaining maturity gap (1 - m) per unit of drive; "
        "assumed",
    )
    maturity_invest_effect: float = _f(
        1.0, 0.0, 5.0, "",
        "drive added to maturity growth by full owner effort (e.g. CANN open-sourcing 2025); "
        "assumed",
    )
    maturity_decay_per_month: float = _f(
        0.003, 0.0, 1.0, "1/month",
        "fraction of maturity lost per month as frameworks move on (bit rot, ~3.5 %/yr); "
        "with maturity_growth_per_month 0.03 it holds CUDA (attraction 0.9, effort 1) at its "
        "2022 maturity 0.95; assumed",
    )
    kappa: float = _f(
        1.0, 0.0, 50.0, "utility per unit estate",
        "switching-cost scale: cost of leaving a stack per unit of software estate "
        "(no public CUDA->CANN porting cost, docs/SOURCES.md#ecosystems: swept); registered by model.params, "
        "keep the range equal to it",
    )
    maturity_effect: float = _f(
        0.6, 0.0, 1.0, "",
        "share of the porting gap closed by a fully mature target stack; assumed",
    )
    porting_effect: float = _f(
        0.8, 0.0, 1.0, "",
        "share of the porting gap closed by a buyer's full porting investment (level 1); assumed",
    )
    codesign_bonus: float = _f(
        0.3, 0.0, 1.0, "",
        "share of the porting gap closed by full model co-design for the target stack "
        "(DeepSeek UE8M0 FP8 for domestic chips, MoE); assumed",
    )
    porting_step_per_month: float = _f(
        0.02, 0.0, 1.0, "1/month",
        "rise of a buyer's porting level in a month when it invests; assumed",
    )
    mandated_porting_stacks: tuple[str, ...] = field(
        default=("cann",),
        metadata={"doc": "stacks a mandated buyer ports to regardless of cost (not sweepable)"},
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            choices = f.metadata.get("choices")
            if choices is not None and v not in choices:
                raise ValueError(f"EcosystemParams.{f.name} = {v!r}: expected one of {choices}")
            low, high = f.metadata.get("low"), f.metadata.get("high")
            if low is not None and not (low <= v <= high):
                raise ValueError(
                    f"EcosystemParams.{f.name} = {v!r}: expected a number in [{low}, {high}]"
                )
        unknown = [s for s in self.mandated_porting_stacks if s not in STACK_INDEX]
        if unknown:
            raise ValueError(f"EcosystemParams.mandated_porting_stacks: unknown stacks {unknown}")

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> EcosystemParams:
        """Build from a flat parameter mapping (scenario or registry values); other keys ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def linear_returns(cls, r: float) -> EcosystemParams:
        """Arthur (1989) increasing returns: network value exactly r * n (n = installed base)."""
        return cls(network_form="linear", network_weight=r, network_scale_h100e=1.0, dev_weight=0.0)

    def with_(self, **changes: Any) -> EcosystemParams:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)


def _registry_params() -> list[Param]:
    """EcosystemParams fields as registry entries (kappa is registered by model.params itself)."""
    out = []
    for f in fields(EcosystemParams):
        if f.name in PARAMETERS or f.name == "mandated_porting_stacks":
            continue
        m = f.metadata
        kind = str if f.name == "network_form" else float
        out.append(Param(f.name, f.default, kind, m.get("low"), m.get("high"), m.get("unit", ""),
                         m.get("doc", ""), m.get("choices")))
    return out


register(*_registry_params())


@dataclass
class EcosystemState:
    """Per-stack ecosystem state, arrays in STACKS order."""

    developers: np.ndarray  # (S,) millions of developers
    maturity: np.ndarray  # (S,) in [0, 1]: framework and library coverage

    def __post_init__(self) -> None:
        self.developers = np.asarray(self.developers, dtype=float)
        self.maturity = np.asarray(self.maturity, dtype=float)
        if self.developers.shape != self.maturity.shape or self.developers.ndim != 1:
            raise ValueError(
                f"EcosystemState: developers {self.developers.shape} and maturity "
                f"{self.maturity.shape} must be equal 1-D shapes"
            )
        if not _finite_nonneg(self.developers):
            raise ValueError(
                f"EcosystemState: developers must be finite and >= 0, got {self.developers}"
            )
        if self.maturity.size and not (self.maturity.min() >= 0 and self.maturity.max() <= 1):  # NaN fails
            raise ValueError(f"EcosystemState: maturity must be in [0, 1], got {self.maturity}")

    @classmethod
    def initial(cls) -> EcosystemState:
        """State at the default start (2022-01).

        Developers (millions):
          cuda 2.98 [D]: Nvidia 10-K reports 4.7M (FY2024, ends 2024-01) and 5.9M (FY2025, 2025-01),
            growth x1.255/yr; back-cast geometrically two years: 4.7 / 1.255**2 = 2.98.
          cann 1.07 [D from C]: ">1.5M" claimed around mid-2023 (docs/SOURCES.md#ecosystems), back-cast 1.5 years at
            the same rate: 1.5 / 1.255**1.5 = 1.07 (a vendor claim, likely registrations).
          rocm 0.25, other_cn 0.20: assumed (no public counts; far smaller communities).
        Maturity (0-1), assumed: cuda 0.95 (reference for PyTorch, JAX, vLLM, Triton), rocm 0.50
          (upstream PyTorch backend, gaps in kernels and serving), cann 0.35 (torch_npu plugin,
          MindSpore; CANN closed until 2025), other_cn 0.15 (vendor SDKs, thin framework support).
        """
        dev = {"cuda": 4.7 / 1.255**2, "cann": 1.5 / 1.255**1.5, "rocm": 0.25, "other_cn": 0.20}
        mat = {"cuda": 0.95, "cann": 0.35, "rocm": 0.50, "other_cn": 0.15}
        return cls(np.array([dev[s] for s in STACKS]), np.array([mat[s] for s in STACKS]))

    def copy(self) -> EcosystemState:
        return EcosystemState(self.developers.copy(), self.maturity.copy())


def _finite_nonneg(a: np.ndarray) -> bool:
    """Every entry finite and >= 0 (NaN fails both comparisons; an empty array passes)."""
    return not a.size or bool(a.min() >= 0 and a.max() < np.inf)


def _stack_vec(x: np.ndarray, name: str, n: int) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
    if not _finite_nonneg(a):
        raise ValueError(f"{name}: entries must be finite and >= 0, got {a}")
    return a


def _shares(x: np.ndarray) -> np.ndarray:
    total = x.sum(axis=-1, keepdims=True)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def attraction(installed: np.ndarray, purchases: np.ndarray, params: EcosystemParams) -> np.ndarray:
    """A stack's pull: (1 - w) * installed share + w * purchase share, (S,) in [0, 1]."""
    w = params.purchase_weight
    return (1.0 - w) * _shares(installed) + w * _shares(purchases)


_DECAY = ProcessMemo(1_000)  # _relax's factors of a scalar rate, per process


def _relax(x: np.ndarray, inflow: np.ndarray, rate: np.ndarray | float) -> np.ndarray:
    """Exact one-month solution of dx/dt = inflow - rate * x (rate >= 0; rate 0: x + inflow).
    The factors of a scalar rate (the developers' decay, a parameter) are kept per process
    under the rate's value and the shape (read-only arrays, the same values)."""
    if isinstance(rate, (float, int, np.floating, np.integer)):
        decay, gain = _scalar_decay(rate, x.shape)
    else:
        rate = np.asarray(rate, dtype=float)
        if rate.shape != x.shape:
            rate = np.full(x.shape, rate)  # the values broadcast_to would give, writable
        decay, gain = _decay_gain(rate)
    return x * decay + inflow * gain


def _scalar_decay(rate: float, shape: Any) -> tuple[np.ndarray, np.ndarray]:
    """_decay_gain of a scalar rate over ``shape``, kept per process (read-only arrays)."""
    shape = (shape,) if isinstance(shape, int) else shape
    return _DECAY.get_or((float(rate), shape), lambda: _decay_gain(np.full(shape, float(rate))))


def _decay_gain(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """e^-r and (1 - e^-r) / r (-> 1 as r -> 0) of the rates (an array of x's shape)."""
    decay = np.exp(-rate)
    gain = np.divide(-np.expm1(-rate), rate, out=np.ones_like(rate), where=rate > 0)
    return decay, gain


def update_ecosystem(
    state: EcosystemState,
    installed: np.ndarray,
    purchases: np.ndarray,
    investment: np.ndarray,
    params: EcosystemParams,
) -> EcosystemState:
    """Advance developers and maturity by one month (returns a new state; the input is untouched).

    installed (S,) H100e installed worldwide; purchases (S,) H100e bought this month;
    investment (S,) owners' effort in [0, 1]. With a = attraction and i = investment:
      developers: dD/dt = G * (a + e_D * i) - d_D * D
      maturity:   dm/dt = g_m * (a + e_m * i) * (1 - m) - d_m * m
    both integrated exactly over the month, so D >= 0 and m in [0, 1] for any rates; with no
    installed base, purchases or investment both decay exponentially.
    """
    n = state.developers.shape[0]
    fast = _update_fast(state, installed, purchases, investment, params, n)
    if fast is not None:
        return fast
    inst = _stack_vec(installed, "installed", n)
    buy = _stack_vec(purchases, "purchases", n)
    inv = _stack_vec(investment, "investment", n)
    if inv.size and inv.max() > 1:
        raise ValueError(f"investment: owners' effort must be in [0, 1], got {inv}")
    a = attraction(inst, buy, params)
    p = params
    dev_inflow = p.dev_growth_m_per_month * (a + p.dev_invest_effect * inv)
    developers = _relax(state.developers, dev_inflow, p.dev_decay_per_month)
    # dm/dt = k (1 - m) - d m = k - (k + d) m
    k = p.maturity_growth_per_month * (a + p.maturity_invest_effect * inv)
    maturity = _relax(state.maturity, k, k + p.maturity_decay_per_month)
    return EcosystemState(np.maximum(developers, 0.0), np.clip(maturity, 0.0, 1.0))


def network_value(
    installed: np.ndarray, developers: np.ndarray, params: EcosystemParams
) -> np.ndarray:
    """Utility of each stack's network: installed (..., S) H100e, developers (S,) millions.

    concave: gamma * [(1 - w) * log1p(installed / K) + w * log1p(developers / K_D)]
    linear:  gamma * [(1 - w) * installed / K      + w * developers / K_D]
    ``EcosystemParams.linear_returns(r)`` makes the linear form exactly r * installed (Arthur 1989).
    """
    p = params
    if (type(installed) is np.ndarray and type(developers) is np.ndarray and installed.ndim == 1
            and installed.dtype == developers.dtype == np.float64 and developers.shape == installed.shape
            and p.network_form == "concave" and p.network_scale_h100e != 0 and p.developer_scale_m != 0):
        # the market's call: checks and scaling, numpy's log1p, the weighted sum in compiled passes
        mk = _KERNELS[0] if _KERNELS else _kernels()
        x, y, neg = mk.network_scaled(installed, developers, float(p.network_scale_h100e), float(p.developer_scale_m))
        if neg:
            raise ValueError("network_value: installed and developers must be >= 0")
        return mk.network_mix(np.log1p(x), np.log1p(y), float(p.network_weight), float(p.dev_weight))
    inst = np.asarray(installed, dtype=float)
    dev = np.asarray(developers, dtype=float)
    if inst.ndim == 0 or dev.shape != inst.shape[-1:]:
        raise ValueError(
            f"network_value: developers shape {dev.shape} must match the stack axis of installed "
            f"{inst.shape}"
        )
    if _any_negative(inst) or _any_negative(dev):
        raise ValueError("network_value: installed and developers must be >= 0")
    x = inst / p.network_scale_h100e
    y = dev / p.developer_scale_m
    if p.network_form == "concave":
        x = np.log1p(x)
        y = np.log1p(y)
    w = p.dev_weight
    if w == 0.0:  # exact r*n in the linear form, without adding 0 * developers
        return p.network_weight * x
    return p.network_weight * ((1.0 - w) * x + w * y)


# the lock-in functions live in model/lock_in.py (re-exported here for callers)
from model.lock_in import _any_negative, bass_hazard, portability, porting_decision, switching_cost  # noqa: E402


def _update_fast(state: EcosystemState, installed: Any, purchases: Any, investment: Any,
                 params: EcosystemParams, n: int) -> EcosystemState | None:
    """update_ecosystem's arithmetic, the same IEEE operations in the same order, in two compiled
    passes around the two exponentials (model.month_kernels.ecosystem_inflows/ecosystem_relax);
    None (the general code then runs, and raises its errors) for other input types or bad input."""
    mk = _KERNELS[0] if _KERNELS else _kernels()
    f8 = np.float64
    if not (type(installed) is np.ndarray and type(purchases) is np.ndarray and type(investment) is np.ndarray
            and installed.dtype == f8 and purchases.dtype == f8 and investment.dtype == f8
            and installed.shape == purchases.shape == investment.shape == (n,)) or \
            not isinstance(params.dev_decay_per_month, (float, int, np.floating, np.integer)):
        return None
    p = params
    code, dev_in, k, rate = mk.month_kernels.ecosystem_inflows(
        installed, purchases, investment, float(p.purchase_weight), float(p.dev_growth_m_per_month),
        float(p.dev_invest_effect), float(p.maturity_growth_per_month), float(p.maturity_invest_effect),
        float(p.maturity_decay_per_month))
    if code or state.developers.dtype != f8 or state.maturity.dtype != f8:
        return None
    d_decay, d_gain = _scalar_decay(p.dev_decay_per_month, n)
    minus = -rate
    developers, maturity, ok = mk.ecosystem_step(state.developers, dev_in, d_decay, d_gain, state.maturity, k, rate,
                                                 np.exp(minus), np.expm1(minus))
    if not ok:  # EcosystemState raises its error
        return EcosystemState(developers, maturity)
    out = EcosystemState.__new__(EcosystemState)  # its checks passed in the kernel: float64 (n,) arrays
    out.developers, out.maturity = developers, maturity
    return out


_KERNELS: list = []  # model.market_kernels, imported on first use (this module imports without numba's passes)


def _kernels():
    from model import market_kernels

    _KERNELS.append(market_kernels)
    return market_kernels
