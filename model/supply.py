"""Chinese accelerator supply: SMIC advanced-node wafers x yield, HBM and the TSMC die bank.

Chinese vendors share one supply pool (docs/ODD.md Eq. S1-S4): packages per month are bounded
by wafer output (wafers x AI share x good dies per wafer / dies per package), plus TSMC-made
dies banked before the 2024-25 rules, and - once HBM imports stop (the Dec-2024 rule) - by HBM
stacks (the stockpile, then domestic HBM). Unit cost follows the core's manufacturing model
(cost per good die under DUV multi-patterning defect densities).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model.cluster import cost_per_good_die, die_yield, dies_per_wafer
from model.errors import InputError
from model.population import cached_default

DATA = Path(__file__).parent / "data" / "supply.csv"
DIE_AREA_MM2 = 665.0  # Ascend 910B-class die (public die-shot estimates ~ 650-670 mm2)
DIES_PER_PACKAGE = 1.5  # 910B one compute die, 910C two: a 2024-26 mix (assumed)
DIE_BANK_DRAW_PER_MONTH = 80_000.0  # dies per month drawn from the TSMC die bank (assumed: 2-2.9M over 2024-25)


@cached_default
def load_supply(path: Path | None = None) -> pd.DataFrame:
    """The yearly SMIC path (wafers/month, defect density, wafer cost), indexed by year
    (the packaged file is read once per process; callers get a copy)."""
    p = Path(path or DATA)
    df = pd.read_csv(p)
    need = {"year", "smic_advanced_wafers_month", "defect_density_per_cm2", "wafer_cost_usd", "source"}
    missing = need - set(df.columns)
    if missing:
        raise InputError(f"{p.name}: missing column(s) {', '.join(sorted(missing))}")
    if df["source"].isna().any() or (df[list(need - {"source"})] < 0).any().any():
        raise InputError(f"{p.name}: every row needs a source and non-negative numbers")
    return df.set_index("year").sort_index()


def _interp(df: pd.DataFrame, col: str, month: int) -> float:
    """Yearly values (placed mid-year) interpolated linearly to a month."""
    cache = df.attrs.setdefault("_arrays", {})
    if col not in cache:
        cache[col] = (df.index.to_numpy(float) + 0.5, df[col].to_numpy(float))
    years, values = cache[col]
    return float(np.interp(month / 12.0, years, values))


@dataclass
class SupplyState:
    """Stocks that run down: HBM stockpile (stacks) and TSMC die bank (dies)."""

    hbm_stock: float
    die_bank: float


def wafer_packages(df: pd.DataFrame, month: int, ai_share: float, shock: float) -> float:
    """Eq. S1: packages/month from SMIC = wafers x AI share x shock x dies/wafer x yield / dies per package."""
    wafers = _interp(df, "smic_advanced_wafers_month", month) * ai_share * shock
    d0 = _interp(df, "defect_density_per_cm2", month)
    good = dies_per_wafer(DIE_AREA_MM2) * die_yield(DIE_AREA_MM2, d0)
    return float(wafers * good / DIES_PER_PACKAGE)


def wafer_path(df: pd.DataFrame, lo: int, hi: int) -> tuple[list[float], list[float]]:
    """Eq. S1's two terms that depend on the month only, for months ``lo..hi`` in one vectorised
    pass: the interpolated SMIC wafers (before AI share and shock) and the good dies per wafer.
    Each element has the bits of :func:`wafer_packages`'s scalar calls (numpy's interp and exp
    give an element of an array the bits of the scalar call: tests/test_supply_fast.py)."""
    t = np.arange(lo, hi + 1) / 12.0
    years = df.index.to_numpy(float) + 0.5
    wafers = np.interp(t, years, df["smic_advanced_wafers_month"].to_numpy(float))
    d0 = np.interp(t, years, df["defect_density_per_cm2"].to_numpy(float))
    good = dies_per_wafer(DIE_AREA_MM2) * die_yield(DIE_AREA_MM2, d0)
    return wafers.tolist(), good.tolist()


def unit_cost_index(df: pd.DataFrame, month: int | np.ndarray, ref_month: int) -> float | np.ndarray:
    """Eq. S4: cost per good die now relative to ``ref_month`` (drives Chinese vendors' prices);
    ``month`` may be an array of months (vectorised)."""
    def cost(m):
        t = np.asarray(m, dtype=float) / 12.0
        wafer = np.interp(t, df.index.to_numpy(float) + 0.5, df["wafer_cost_usd"].to_numpy(float))
        d0 = np.interp(t, df.index.to_numpy(float) + 0.5, df["defect_density_per_cm2"].to_numpy(float))
        return cost_per_good_die(wafer, DIE_AREA_MM2, d0)
    out = cost(month) / cost(ref_month)
    return float(out) if np.ndim(out) == 0 else out


def packages_available(df: pd.DataFrame, state: SupplyState, month: int, *, ai_share: float,
                       shock: float, hbm_rule: bool, die_bank_open: bool,
                       domestic_hbm_stacks: float, stacks_per_package: float,
                       from_wafers: float | None = None) -> tuple[float, float, float]:
    """Eq. S2-S3: packages China can make this month, and the dies and HBM stacks that uses.

    Returns (packages, die_bank_dies_used, hbm_stacks_used). Without the HBM rule HBM is
    imported (not binding); with it, packages <= (stockpile + domestic output) / stacks.
    ``from_wafers``: :func:`wafer_packages` of these arguments when the caller has it already.
    """
    if from_wafers is None:
        from_wafers = wafer_packages(df, month, ai_share, shock)
    bank_dies = min(state.die_bank, DIE_BANK_DRAW_PER_MONTH) if die_bank_open else 0.0
    packages = from_wafers + bank_dies / DIES_PER_PACKAGE
    if hbm_rule:
        hbm_cap = (state.hbm_stock + domestic_hbm_stacks) / stacks_per_package
        packages = min(packages, hbm_cap)
    return packages, bank_dies, packages * stacks_per_package if hbm_rule else 0.0
