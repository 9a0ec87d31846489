"""The market figures of the history replay (issue 9, 16): how each observed market figure is
read off a run's tables (``MARKET_FIGURES``), and which periods were fitted (``FIT_BEFORE``).
``model.validate`` sets them against their bands over seeds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _nvidia_china_revenue_share(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Nvidia revenue billed to China / all Nvidia revenue, both summed over the period."""
    v = tables["vendors"]
    v = v[(v["vendor"] == "nvidia") & v["date"].isin(months)]
    total = float(v["revenue_usd"].sum())
    return float(v.loc[v["region"] == "cn", "revenue_usd"].sum()) / total if total > 0 else np.nan


def _cn_domestic_share(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """The monthly ``cn_domestic_share`` weighted by China's purchases (H100e) in each month."""
    m = tables["model"].set_index("date")["cn_domestic_share"]
    a = tables["adoption"]
    a = a[(a["region"] == "cn") & a["date"].isin(months)]
    weight = a.groupby("date")["purchased_h100e"].sum()
    share = m.reindex(weight.index).to_numpy(dtype=np.float64)
    w = weight.to_numpy(dtype=np.float64)
    ok = np.isfinite(share) & (w > 0)
    return float((share[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan


def _cn_vendor_sales(tables: dict[str, pd.DataFrame], months: list[str]) -> pd.DataFrame:
    """China's purchases in the period: units and value (units x price paid), and whether the
    vendor is Chinese (its chips' home bloc in the catalog)."""
    from model.catalog import load_catalog

    chips = load_catalog().chips
    cn_vendors = set(chips.loc[chips["home_bloc"] == "cn", "vendor"])
    v = tables["vendors"]
    v = v[(v["region"] == "cn") & v["date"].isin(months)]
    return pd.DataFrame({"units": v["units"].to_numpy(float),
                         "value": (v["units"] * v["price_usd"]).to_numpy(float),
                         "domestic": v["vendor"].isin(cn_vendors).to_numpy()})


def _cn_domestic_unit_share(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Units on Chinese vendors' chips / all units China bought, summed over the period."""
    s = _cn_vendor_sales(tables, months)
    total = float(s["units"].sum())
    return float(s.loc[s["domestic"], "units"].sum()) / total if total > 0 else np.nan


def _cn_domestic_value_share(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Spending on Chinese vendors' chips / all China's spending on accelerators, over the period."""
    s = _cn_vendor_sales(tables, months)
    total = float(s["value"].sum())
    return float(s.loc[s["domestic"], "value"].sum()) / total if total > 0 else np.nan


def _vendor_sum(tables: dict[str, pd.DataFrame], months: list[str], column: str, **where: str) -> float:
    """``column`` of the vendors table summed over the period's months and the rows where every
    ``where`` column equals its value (e.g. vendor="huawei", region="cn")."""
    v = tables["vendors"]
    sel = v["date"].isin(months)
    for col, value in where.items():
        sel &= v[col] == value
    return float(v.loc[sel, column].sum())


def _h20_units_cn(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """H20 packages (the catalog's HGX H20, product ``hgx-h20``) delivered in China."""
    return _vendor_sum(tables, months, "units", product="hgx-h20", region="cn")


def _huawei_units_cn(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Huawei (Ascend) packages delivered in China, every product."""
    return _vendor_sum(tables, months, "units", vendor="huawei", region="cn")


def _nvidia_revenue_usd(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Nvidia's accelerator revenue, every region, summed over the period (USD)."""
    return _vendor_sum(tables, months, "revenue_usd", vendor="nvidia")


def _nvidia_units(tables: dict[str, pd.DataFrame], months: list[str]) -> float:
    """Nvidia accelerator packages delivered, every region, summed over the period."""
    return _vendor_sum(tables, months, "units", vendor="nvidia")


# The market was fitted to figures of 2022-2024 only; market figures whose period starts at or
# after this month are out-of-sample checks (reported, never tuned to, never failing).
FIT_BEFORE = "2025-01"

MARKET_FIGURES: dict[str, tuple[Callable[[dict[str, pd.DataFrame], list[str]], float], str]] = {
    "nvidia_china_revenue_share": (_nvidia_china_revenue_share,
                                   "Nvidia revenue in cn / all Nvidia revenue, summed over the period"),
    "cn_domestic_share": (_cn_domestic_share,
                          "China's purchases on domestic chips (H100e), purchases-weighted over the period"),
    "cn_domestic_unit_share": (_cn_domestic_unit_share,
                               "China's units on Chinese vendors' chips / all China's units, over the period"),
    "cn_domestic_value_share": (_cn_domestic_value_share,
                                "China's spending on Chinese vendors' chips / all China's spending, over the period"),
    "h20_units_cn": (_h20_units_cn, "hgx-h20 packages delivered in cn, summed"),
    "huawei_units_cn": (_huawei_units_cn, "Huawei packages delivered in cn, summed"),
    "nvidia_dc_revenue_usd": (_nvidia_revenue_usd, "Nvidia accelerator revenue, all regions, summed over the period"),
    "nvidia_units": (_nvidia_units, "Nvidia packages delivered, all regions, summed"),
}


def role(metric: str, first_month: str) -> str:
    """``fit`` for a market figure the model was fitted to (period starting before FIT_BEFORE),
    ``out_of_sample`` for a later market figure, ``system`` for a published system figure."""
    if metric not in MARKET_FIGURES:
        return "system"
    return "fit" if first_month < FIT_BEFORE else "out_of_sample"
