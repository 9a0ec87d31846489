"""Regions and demand: who the regions are (bloc, US tier, alignment, power prices) and how much
useful compute each wants each month (Eq. D1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model.components.base import Component
from model.memo import ProcessMemo
from model.population import load_demand


class Regions(Component):
    """The region table as arrays, the world demand path and its regional split."""

    owns = ("ids", "bloc", "tier", "alignment", "elec", "pue", "weight", "is_cn", "is_gs")
    reads = ("params", "dates")

    def __init__(self, df: pd.DataFrame, p: dict[str, Any], dates: dict[str, int], start_month: int) -> None:
        self.p, self.dates, self.start_month = p, dates, start_month
        self.df = df
        self.ids = np.array(df.index, dtype=object)
        self.bloc = df["bloc"].to_numpy(dtype=object)
        self.tier = df["us_tier"].to_numpy(dtype=int)
        self.alignment = df["alignment"].to_numpy(dtype=float)
        self.elec = df["elec_usd_kwh"].to_numpy(dtype=float)
        self.pue = df["pue"].to_numpy(dtype=float)
        self.weight = df["demand_weight"].to_numpy(dtype=float)
        self.is_cn = self.ids == "cn"
        self.is_gs = self.bloc == "gs"
        self.demand_path = load_demand()
        self._last_demand: tuple | None = None  # (key, answer, the arrays it read)
        self._content_key: tuple | None = None  # (the arrays, their contents) for the process memo
        self.software_index = 1.0  # Eq. E8: written only by the software component (its owns)
        self._demand_arrays = (self.demand_path.index.to_numpy(float) + 0.5,
                               np.log(self.demand_path["world_h100e"].to_numpy(float) / 12.0))

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, region_id: str) -> int:
        return int(np.flatnonzero(self.ids == region_id)[0])

    def world_demand(self, month: int) -> float:
        """World demand for useful compute (effective H100e per month), log-interpolated by year,
        times the world's software efficiency (Eq. E8: spending follows the demand path's dollars,
        so a software gain raises the useful compute demanded by as much; 1 while maturity is frozen)."""
        years, logv = self._demand_arrays
        return float(np.exp(np.interp(month / 12.0 + 0.5 / 12.0, years, logv))) * self.software_index

    def demand(self, month: int) -> np.ndarray:
        """Eq. D1: world demand split by region weights; Global-South weights grow at
        ``gs_demand_catchup``/yr; China's drifts at ``cn_demand_trend``/yr until
        ``cn_demand_trend_end`` (US hyperscaler capex outgrew China's in 2022-24; calibrated).
        The last answer is kept under everything it reads (China's coverage and the buyers' choice
        both ask in one month); a copy is returned."""
        key = (month, self.software_index, self.p["gs_demand_catchup"], self.p["cn_demand_trend"],
               self.dates["cn_demand_trend_end"])
        arrays = (self.weight, self.is_gs, self.is_cn, self._demand_arrays)
        last = self._last_demand
        if last is not None and last[0] == key and all(a is b for a, b in zip(arrays, last[2])):
            return last[1].copy()
        out = self._demand(month)
        self._last_demand = (key, out, arrays)  # holds the arrays of the key: their identity stays theirs
        return out.copy()

    def _demand(self, month: int) -> np.ndarray:
        base, w, total = self._split(month)
        return base * self.software_index * w / total  # world_demand(month) * w / w.sum()

    def _split(self, month: int) -> tuple[float, np.ndarray, np.float64]:
        """The month's world demand before software, the regions' weights and their sum, kept per
        process under the month, the start, the three parameters and the arrays' contents."""
        arrays = (self.weight, self.is_gs, self.is_cn, *self._demand_arrays)
        ck = self._content_key
        if ck is None or len(ck[0]) != len(arrays) or not all(a is b for a, b in zip(arrays, ck[0])):
            ck = self._content_key = (arrays, tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays))
        p, end = self.p, self.dates["cn_demand_trend_end"]
        key = (month, self.start_month, p["gs_demand_catchup"], p["cn_demand_trend"], end, ck[1])
        return _SPLIT.get_or(key, lambda: self._split_fresh(month))

    def _split_fresh(self, month: int) -> tuple[float, np.ndarray, np.float64]:
        years, logv = self._demand_arrays
        base = float(np.exp(np.interp(month / 12.0 + 0.5 / 12.0, years, logv)))  # world_demand / software
        years = (month - self.start_month) / 12.0
        cn_years = (min(month, self.dates["cn_demand_trend_end"]) - self.start_month) / 12.0
        w = self.weight * np.where(self.is_gs, np.exp(self.p["gs_demand_catchup"] * years), 1.0)
        w = w * np.where(self.is_cn, np.exp(self.p["cn_demand_trend"] * max(cn_years, 0.0)), 1.0)
        return base, w, w.sum()


_SPLIT = ProcessMemo(4_000)  # Regions._split's answers, per process (a run asks ~170 months)
