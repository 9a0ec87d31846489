"""Figure 6: the cluster core's comparison of the catalog's offerings for one workload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import model
from experiments.plots.common import STACK_COLOURS, _new_figure, _require, _stack_legend, _style, save_figure
from model.errors import InputError
from model.types import STACKS


def workload_is_training(workload_id: str) -> bool:
    """True when model/data/workloads.csv lists the workload as kind 'train'."""
    path = Path(model.__file__).resolve().parent / "data" / "workloads.csv"
    wl = pd.read_csv(path)
    row = wl[wl["id"] == workload_id]
    if row.empty:
        raise InputError(f"{path.name}: unknown workload {workload_id!r}; "
                         f"valid ids: {', '.join(wl['id'])}")
    return str(row["kind"].iloc[0]) == "train"


#: ``price_fn(system_ids, workload_id, region, accelerators) -> DataFrame``: the core's ranked
#: price table, as ``chipwar price`` computes it (passed in by the caller, so that figures do not
#: import the command line's modules).
PriceFn = Callable[[list[str] | None, str, str, int | None], pd.DataFrame]


def price_table(workload_id: str, region: str = "us", systems: list[str] | None = None, *,
                price_fn: PriceFn) -> pd.DataFrame:
    """The core's price table for a workload: `chipwar price`'s rows, reused, not re-implemented."""
    return price_fn(systems, workload_id, region, None)


def offering_energy(price_df: pd.DataFrame) -> pd.DataFrame:
    """Add ``j_per_token`` (facility J per token) and ``facility_kw_per_accel`` to a price table.

    J/token = facility_kw x 1000 / accelerators / tokens_per_s_per_accel (NaN if it cannot run).
    """
    df = price_df.copy()
    kw_per_accel = df["facility_kw"].astype(float) / df["accelerators"].astype(float)
    tok = df["tokens_per_s_per_accel"].astype(float)
    df["facility_kw_per_accel"] = kw_per_accel
    df["j_per_token"] = (kw_per_accel * 1000.0 / tok.where(tok > 0))
    return df


def make_offerings(price_df: pd.DataFrame, train: bool | None = None) -> Figure:
    """Cost per useful work and energy per token by offering (bars coloured by stack).

    ``price_df`` has the columns of ``chipwar price``'s table (``price_table``); ``train``
    (default: looked up from the workload) picks USD per effective PFLOP-hour over USD per
    million tokens. Offerings that cannot run the workload are listed as such.
    """
    _require(price_df, ["system", "stack", "workload", "region", "usd_per_mtok",
                        "usd_per_effective_pflop_hour", "facility_kw", "accelerators",
                        "tokens_per_s_per_accel"], "price table")
    wid = str(price_df["workload"].iloc[0])
    if train is None:
        train = workload_is_training(wid)
    cost_col = "usd_per_effective_pflop_hour" if train else "usd_per_mtok"
    cost_label = "USD per effective PFLOP-hour" if train else "USD per million tokens"
    df = offering_energy(price_df).sort_values(cost_col, na_position="last", kind="stable")
    df = df.reset_index(drop=True)
    use_energy = bool(df["j_per_token"].notna().any())
    e_col = "j_per_token" if use_energy else "facility_kw_per_accel"
    e_label = ("facility energy per token (J)" if use_energy
               else "facility power per accelerator (kW)")
    avail = df["available"].astype(str) if "available" in df.columns else pd.Series([""] * len(df))
    labels = [f"{s}  ({a})" if a else str(s) for s, a in zip(df["system"], avail)]
    colors = [STACK_COLOURS.get(str(s), "#999999") for s in df["stack"]]
    y = np.arange(len(df))[::-1]
    with _style():
        fig = _new_figure(13, 0.3 * len(df) + 2.2)
        ax1, ax2 = fig.subplots(1, 2, sharey=True, width_ratios=[1.3, 1])
        for ax, col in ((ax1, cost_col), (ax2, e_col)):
            v = df[col].astype(float).to_numpy()
            ax.barh(y, np.nan_to_num(v), color=colors, height=0.72)
            vmax = np.nanmax(v) if np.isfinite(v).any() else 1.0
            for yi, vi in zip(y, v):
                if np.isfinite(vi):
                    ax.text(vi + 0.01 * vmax, yi, f"{vi:.3g}", va="center", fontsize=7.5)
                else:
                    ax.text(0.01 * vmax, yi, "cannot run this workload", va="center", fontsize=7.5,
                            color="#666666")
            ax.set_xlim(0, vmax * 1.15)
            ax.grid(axis="y", visible=False)
        ax1.set_yticks(y, labels, fontsize=8.5)
        ax1.set_ylabel("offering (system, first available)")
        ax1.set_xlabel(f"{cost_label} (lower is better)")
        ax2.set_xlabel(f"{e_label} (lower is better)")
        ax1.set_title("cost per useful work")
        ax2.set_title("energy" if use_energy else "power")
        region = str(df["region"].iloc[0])
        fig.suptitle(f"The core's comparison of offerings: workload {wid}, energy prices of region "
                     f"{region!r}")
        present = [s for s in STACKS if s in set(df["stack"].astype(str))]
        _stack_legend(fig, present, patches=True)
    return fig


def fig_offerings(price_df: pd.DataFrame, out_path: str | Path, train: bool | None = None) -> Path:
    """PNG of make_offerings."""
    return save_figure(make_offerings(price_df, train), out_path)


