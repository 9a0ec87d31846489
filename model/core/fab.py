"""[C8] Export-control metrics and [C9] manufacturing (dies per wafer, yield, cost per good die)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def tpp(dense_tops: ArrayLike, bits: int) -> np.ndarray:
    """[C8] Total Processing Performance (ECCN 3A090): dense TOPS x bit length of the format."""
    return np.asarray(dense_tops, dtype=np.float64) * float(bits)


def performance_density(tpp_value: ArrayLike, die_area_mm2: ArrayLike) -> np.ndarray:
    """[C8] Performance density = TPP / applicable die area (mm^2); NaN without an area."""
    area = np.asarray(die_area_mm2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, np.asarray(tpp_value, dtype=np.float64) / area, np.nan)


def _plain(x: ArrayLike) -> bool:
    """A Python (or numpy) float or int, not an array: the scalar paths below take it."""
    return isinstance(x, (float, int)) and not isinstance(x, bool)


def dies_per_wafer(die_area_mm2: ArrayLike, wafer_diameter_mm: float = 300.0) -> np.ndarray:
    """[C9] Gross dies per wafer: pi (D/2)^2 / A - pi D / sqrt(2 A), floored at 0 (edge loss)."""
    d = float(wafer_diameter_mm)
    if _plain(die_area_mm2) and 0.0 < die_area_mm2 < math.inf:  # one die (the monthly supply):
        a = float(die_area_mm2)  # the same IEEE operations as the array path, without its calls
        n = math.pi * (d / 2.0) ** 2 / a - math.pi * d / math.sqrt(2.0 * a)
        return np.float64(math.floor(n if n > 0.0 else 0.0))
    a = np.asarray(die_area_mm2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = math.pi * (d / 2.0) ** 2 / a - math.pi * d / np.sqrt(2.0 * a)
    return np.floor(np.maximum(np.nan_to_num(n, nan=0.0, posinf=0.0), 0.0))


def die_yield(die_area_mm2: ArrayLike, defect_density_per_cm2: ArrayLike,
              model: str = "murphy") -> np.ndarray:
    """[C9] Fraction of good dies: Poisson exp(-A D0) or Murphy ((1 - exp(-A D0)) / (A D0))^2."""
    if model == "murphy" and _plain(die_area_mm2) and _plain(defect_density_per_cm2):
        ad = float(die_area_mm2) / 100.0 * float(defect_density_per_cm2)
        if ad > 0.0:  # as the array path on 0-d input: numpy's exp, then a scalar ** 2 (libm pow)
            return np.asarray(((1.0 - float(np.exp(-ad))) / ad) ** 2)
    ad = np.asarray(die_area_mm2, dtype=np.float64) / 100.0 * np.asarray(defect_density_per_cm2, dtype=np.float64)
    if model == "poisson":
        return np.exp(-ad)
    if model == "murphy":
        with np.errstate(divide="ignore", invalid="ignore"):
            y = ((1.0 - np.exp(-ad)) / ad) ** 2
        return np.where(ad > 0, y, 1.0)
    raise ValueError(f"yield model {model!r}: expected 'murphy' or 'poisson'")


def cost_per_good_die(wafer_cost_usd: ArrayLike, die_area_mm2: ArrayLike,
                      defect_density_per_cm2: ArrayLike, model: str = "murphy") -> np.ndarray:
    """[C9] Wafer cost / (gross dies per wafer x yield); inf when no good die fits."""
    good = dies_per_wafer(die_area_mm2) * die_yield(die_area_mm2, defect_density_per_cm2, model)
    with np.errstate(divide="ignore"):
        return np.where(good > 0, np.asarray(wafer_cost_usd, dtype=np.float64) / np.where(good > 0, good, 1.0), np.inf)
