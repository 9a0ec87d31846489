"""Energy: how much power each region can give AI accelerators, and what scarcity costs.

docs/ODD.md Eq. N1-N3. A region's data-centre capacity grows by its yearly additions, which
themselves grow (China's generation surplus vs the US grid-interconnection queue); the share
of it available to AI accelerators rises over time. Installed compute cannot draw more than
that (N2); as a region nears its limit the effective electricity price rises (N3), which is
what makes power-hungry clusters viable in China and not where power is scarce.
"""

from __future__ import annotations

import numpy as np


def ai_power_share(month: int, share_2022: float, share_2030: float) -> float:
    """Eq. N1b: share of data-centre power available to AI, linear 2022 -> 2030, flat after."""
    t = min(max((month / 12.0 - 2022.0) / 8.0, 0.0), 1.0)  # np.clip's value on a float, bit for bit
    return float(share_2022 + (share_2030 - share_2022) * t)


def power_capacity_kw(month: int, dc_gw_2024: np.ndarray, add_gw_2024: np.ndarray,
                      add_growth: np.ndarray, ai_share: float) -> np.ndarray:
    """Eq. N1: AI power capacity per region (kW). Additions grow at ``add_growth`` per year:
    C(t) = C_2024 + sum over years since 2024 of add_2024 (1 + g)^k (continuous form);
    before 2024 capacity is back-cast with the 2024 additions."""
    years = month / 12.0 - 2024.0
    g = np.asarray(add_growth, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        added = np.where(np.abs(g) > 1e-9, add_gw_2024 * ((1.0 + g) ** years - 1.0) / np.log1p(g),
                         add_gw_2024 * years)
    if years < 0:
        added = add_gw_2024 * years
    gw = np.maximum(dc_gw_2024 + added, 0.1 * dc_gw_2024)
    return gw * 1e6 * ai_share


def scarcity_multiplier(used_kw: np.ndarray, cap_kw: np.ndarray, markup: float) -> np.ndarray:
    """Eq. N3: effective electricity price multiplier 1 + markup x u^4, u = used / capacity in [0, 1]."""
    # ndarray.clip: np.clip's own call without its dispatch layer
    u = np.divide(used_kw, cap_kw, out=np.ones_like(used_kw), where=cap_kw > 0).clip(0.0, 1.0)
    return 1.0 + markup * u ** 4


def power_fill(need_kw: np.ndarray, headroom_kw: np.ndarray) -> np.ndarray:
    """Eq. N2: share of each region's purchases that can be powered this month, in [0, 1]."""
    head = np.maximum(headroom_kw, 0.0)
    return np.where(need_kw > head, np.divide(head, need_kw, out=np.zeros_like(need_kw), where=need_kw > 0), 1.0)
