"""Software that makes the same silicon faster: each stack's software efficiency, by workload
class (training, serving), grows month by month with the stack's maturity and its model
co-design (Eq. E6), and an offering's effective value is its launch value from the core times
its stack's efficiency on the workload mix (Eq. E7). The core stays a pure function of hardware
and deployment; this multiplier lives with the ecosystems.

With ``software_maturity`` off every efficiency stays 1 and the month is exactly today's
(``ctx.value`` is the offering table's own ``value``; the fleets are not rescaled).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model import kernels_fleet
from model.components.base import Component, MonthContext
from model.float_sums import np_sum
from model.types import STACKS

S = len(STACKS)
CLASSES = ("train", "serve")
#: which class each workload of the offering value's mix is (offerings.WORKLOAD_IDS order)
WORKLOAD_CLASS = np.array([0, 0, 1, 1])


def efficiency_step(eff: np.ndarray, maturity: np.ndarray, codesign: np.ndarray, rate: np.ndarray,
                    ceiling: np.ndarray, codesign_ceiling: float) -> np.ndarray:
    """Eq. E6, one month: (S, 2) efficiencies -> the next month's.

    d ln e_{s,c} = r_c * (m_s + x_s) * max(1 - e_{s,c} / E_{s,c}, 0),  E_{s,c} = E_c * (1 + k_x * x_s)

    with m the stack's maturity, x its co-design level, r_c the rate of class c (serving > training)
    and E its ceiling. Efficiency never falls: the step is >= 0 whatever the inputs.
    """
    drive = (np.asarray(maturity, float) + np.asarray(codesign, float))[:, None] * rate[None, :]
    cap = ceiling[None, :] * (1.0 + codesign_ceiling * np.asarray(codesign, float))[:, None]
    room = np.maximum(1.0 - eff / cap, 0.0)
    return eff * np.exp(drive * room)


def efficiency_step_floats(eff: np.ndarray, maturity: np.ndarray, codesign: np.ndarray, rate: list[float],
                           ceiling: list[float], codesign_ceiling: float) -> np.ndarray:
    """:func:`efficiency_step` of (S, C) efficiencies and (S,) maturity and co-design, the
    arithmetic on Python floats (the same IEEE operations, a few dozen of them) and only the
    exponential in numpy (its exp, not the C library's); tests/test_software.py checks the bits."""
    e = eff.tolist()
    m, x = maturity.tolist(), codesign.tolist()
    z = []
    for s_, row in enumerate(e):
        d, k = m[s_] + x[s_], 1.0 + codesign_ceiling * x[s_]
        for c, v in enumerate(row):
            z.append(d * rate[c] * max(1.0 - v / (ceiling[c] * k), 0.0))
    return eff * np.exp(np.array(z).reshape(eff.shape))


class Software(Component):
    """Software efficiency by stack x workload class; effective offering values each month."""

    owns = ("efficiency", "ctx.value", "regions.software_index")
    reads = ("ecosystems.state.maturity", "ecosystems.codesign", "offerings.thr", "offerings.mix")

    def __init__(self, p: dict[str, Any], dates: dict[str, int]) -> None:
        self.p, self.dates = p, dates
        self.efficiency = np.ones((S, len(CLASSES)))
        self._last_eff: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._mix_w: tuple[np.ndarray, np.ndarray] | None = None
        self._last_value: tuple[tuple, np.ndarray] | None = None
        self._ones: tuple[np.ndarray | None, bool] = (None, False)  # (efficiency, all of it 1)
        self._rel: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (thr, thr_ref, thr / thr_ref)

    @property
    def on(self) -> bool:
        return bool(self.p["software_maturity"])

    def stack_efficiency(self, mix: np.ndarray) -> np.ndarray:
        """(S,) each stack's efficiency on a workload mix (weights over the four workloads). The
        last answer is kept for the same efficiency and mix arrays (both are replaced, never
        written into: a month's step and a new mix make new ones); a copy is returned."""
        last = self._last_eff
        if last is None or last[0] is not self.efficiency or last[1] is not mix:
            mw = self._mix_w  # the mix's class weights: the same until a new mix
            if mw is None or mw[0] is not mix:
                w = np.array([mix[WORKLOAD_CLASS == c].sum() for c in range(len(CLASSES))])
                mw = self._mix_w = (mix, w / w.sum())
            last = self._last_eff = (self.efficiency, mix, self.efficiency @ mw[1])
        return last[2].copy()

    def effective_value(self, off: Any, copy: bool = True) -> np.ndarray:
        """(O,) Eq. E7: sum_w mix_w * thr_{o,w} / thr_{ref,w} * e_{stack(o), class(w)}. With
        ``copy=False`` the kept array itself, for a caller that only reads it."""
        ones = self._ones
        if ones[0] is not self.efficiency:  # the efficiency is replaced each month, never written into
            ones = self._ones = (self.efficiency, bool((self.efficiency == 1.0).all()))
        if ones[1]:
            return off.value
        # kept for the same arrays (each is replaced, never written into): China's coverage and
        # this month's value ask with the same table unless offerings launched in between
        key = (self.efficiency, off.stack, off.thr, off._ref_thr, off.mix)
        last = self._last_value
        if last is None or any(a is not b for a, b in zip(key, last[0])):
            rel = self._rel  # thr / thr_ref: the same until a launch
            if rel is None or rel[0] is not off.thr or rel[1] is not off._ref_thr:
                rel = self._rel = (off.thr, off._ref_thr, off.thr / off._ref_thr[None, :])
            # e[stack][:, class] as e[:, class][stack]: the same gathered values, (O, W)
            mult = self.efficiency[:, WORKLOAD_CLASS][off.stack]
            last = self._last_value = (key, np.maximum((rel[2] * mult) @ off.mix, 1e-3))
        return last[1].copy() if copy else last[1]

    def value(self, model: Any, ctx: MonthContext) -> None:
        """Sets ``ctx.value``: what pricing and the market read as a unit's useful work."""
        ctx.value = self.effective_value(model.offerings)

    def mature(self, model: Any, ctx: MonthContext) -> None:
        """Eq. E6 from ``software_start``, then the installed fleets follow their stack: the same
        silicon does more work, so installed effective compute rises with the efficiency."""
        if not self.on or ctx.month < self.dates["software_start"]:
            return
        eco = model.ecosystems
        p = self.p
        rate = [float(p["software_rate_train"]), float(p["software_rate_serve"])]
        ceiling = [float(p["software_ceiling_train"]), float(p["software_ceiling_serve"])]
        mix = model.offerings.mix
        old = self.stack_efficiency(mix)
        self.efficiency = efficiency_step_floats(self.efficiency, np.asarray(eco.state.maturity, float),
                                                 np.asarray(eco.codesign(ctx.month), float), rate, ceiling,
                                                 float(p["software_codesign_ceiling"]))
        new = self.stack_efficiency(mix)
        ratio = new / old
        if any(r != 1.0 for r in ratio.tolist()):
            model.buyers.fleet_eff = model.buyers.fleet_eff * ratio[None, :]
        # Eq. E8: the world's software efficiency, weighted by the installed fleet's stacks (the
        # stack sums np.sum's on floats: model.float_sums)
        fleet = kernels_fleet.col_sums(model.buyers.fleet_eff).tolist()
        total = np_sum(fleet)
        if total > 0:
            model.regions.software_index = float(np_sum([f * e for f, e in zip(fleet, new.tolist())]) / total)
