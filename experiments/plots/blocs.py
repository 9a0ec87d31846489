"""Figures 4-5: China's domestic share against observed figures; Global-South countries' final stack shares."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.plots.common import (
    _MODEL_BLUE,
    METRIC_LABELS,
    STACK_COLORS,
    STACK_LABELS,
    _date_axis,
    _draw_band,
    _n_runs,
    _new_figure,
    _require,
    _stack_legend,
    _style,
    _wide,
    save_figure,
)
from model.errors import InputError
from model.types import STACKS

_PERIOD_PART = re.compile(r"^(\d{4})(?:-(\d{2})|-H([12])|-Q([1-4]))?$")


def period_bounds(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day and day after the end of an observed.csv period ('2024', '2023-01..2023-06',
    '2024-H1', '2024-Q3')."""
    parts = str(period).split("..")

    def start_end(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        m = _PERIOD_PART.match(text.strip())
        if not m:
            raise InputError(f"observed period {period!r}: expected YYYY, YYYY-MM, YYYY-Hn, "
                             "YYYY-Qn or a range A..B of those")
        year = int(m.group(1))
        if m.group(2):
            first, months = int(m.group(2)), 1
        elif m.group(3):
            first, months = 1 + 6 * (int(m.group(3)) - 1), 6
        elif m.group(4):
            first, months = 1 + 3 * (int(m.group(4)) - 1), 3
        else:
            first, months = 1, 12
        t0 = pd.Timestamp(year=year, month=first, day=1)
        return t0, t0 + pd.DateOffset(months=months)

    a = start_end(parts[0])
    b = start_end(parts[-1])
    return a[0], b[1]


def load_observed_table() -> pd.DataFrame:
    """model/data/observed.csv, validated by the population loader."""
    from model.population import load_observed

    return load_observed()


def make_china(model: pd.DataFrame, observed: pd.DataFrame | None = None) -> Figure:
    """cn_domestic_share and nvidia_china_revenue_share: monthly (thin), yearly means (markers),
    and observed figures as points with their period (horizontal) and band (vertical)."""
    metrics = ["cn_domestic_share", "nvidia_china_revenue_share"]
    _require(model, ["run_id", "date", *metrics], "model table")
    n = _n_runs(model)
    with _style():
        fig = _new_figure(13, 4.8)
        axes = fig.subplots(1, 2, sharey=False)
        for ax, col in zip(axes, metrics):
            w = _wide(model, col)
            _draw_band(ax, w, _MODEL_BLUE, "model, monthly", lw=1.2, runs=False)
            yearly = w.mean(axis=1).groupby(w.index.year).mean()
            mid_year = [pd.Timestamp(year=int(y), month=7, day=1) for y in yearly.index]
            ax.plot(mid_year, yearly.to_numpy(), "D-", color="#ff7f0e", ms=6, lw=1.2,
                    label="model, yearly mean", zorder=4)
            lo_t, hi_t = w.index.min(), w.index.max() + pd.DateOffset(months=1)
            if observed is not None and len(observed):
                obs = observed[observed["metric"] == col]
                for kind, marker in (("reported", "o"), ("estimate", "s"), ("measured", "^")):
                    sub = obs[obs["kind"] == kind]
                    first = True
                    for r in sub.itertuples(index=False):
                        t0, t1 = period_bounds(r.period)
                        if t1 <= lo_t or t0 >= hi_t:
                            continue
                        t0, t1 = max(t0, lo_t), min(t1, hi_t)
                        mid = t0 + (t1 - t0) / 2
                        ax.errorbar([mid], [r.value], xerr=[[mid - t0], [t1 - mid]],
                                    yerr=[[r.value - r.low], [r.high - r.value]], fmt=marker,
                                    color="black", mfc="white", ms=6, capsize=3, lw=1, zorder=5,
                                    label=f"observed ({kind}): period and band" if first else None)
                        first = False
            ax.set_title(METRIC_LABELS[col], fontsize=11)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(lo_t, hi_t)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_xlabel("month")
            ax.set_ylabel("share")
            _date_axis(ax)
            ax.legend(loc="best", fontsize=8)
        runs = "1 run" if n <= 1 else f"mean of {n} runs, middle 95 % shaded"
        fig.suptitle(f"China: domestic share of purchases and Nvidia's China revenue ({runs}) "
                     "against observed figures")
    return fig


def fig_china(model: pd.DataFrame, out_path: str | Path,
              observed: pd.DataFrame | None = None) -> Path:
    """PNG of make_china."""
    return save_figure(make_china(model, observed), out_path)


# --------------------------------------------------------------------------- 5 Global South


def final_country_shares(adoption: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Mean over runs of each Global-South country's final stack shares (each run's last month).

    Index = region id, columns = STACKS + name, alignment, installed_h100e (mean final total);
    sorted by alignment (US-leaning first). Shares are NaN where a country has no compute.
    """
    _require(adoption, ["run_id", "step", "region", "bloc", "stack", "installed_h100e"],
             "adoption table")
    gs = adoption[adoption["bloc"] == "gs"]
    last = gs.groupby("run_id")["step"].transform("max")
    fin = gs[gs["step"] == last]
    w = (fin.groupby(["run_id", "region", "stack"], observed=True)["installed_h100e"].sum()
         .unstack("stack", fill_value=0.0).reindex(columns=list(STACKS), fill_value=0.0))
    tot = w.sum(axis=1)
    shares = w.div(tot.where(tot > 0), axis=0)
    out = shares.groupby(level="region").mean()
    out["installed_h100e"] = tot.groupby(level="region").mean()
    reg = regions.reindex(out.index)
    out["name"] = reg["name"].fillna(pd.Series(out.index, index=out.index)).astype(str)
    out["alignment"] = reg["alignment"].astype(float)
    return out.sort_values(["alignment", "name"], na_position="last")


def make_gs_countries(adoption: pd.DataFrame, regions: pd.DataFrame) -> Figure:
    """Stacked horizontal bars of final stack shares per Global-South country, by alignment."""
    df = final_country_shares(adoption, regions)
    n = _n_runs(adoption)
    with _style():
        fig = _new_figure(10, 0.38 * len(df) + 2.0)
        ax = fig.add_subplot()
        y = np.arange(len(df))[::-1]  # US-leaning at the top
        left = np.zeros(len(df))
        for s in STACKS:
            v = df[s].fillna(0.0).to_numpy()
            ax.barh(y, v, left=left, color=STACK_COLORS[s], label=STACK_LABELS[s], height=0.72)
            left += v
        for yi, (_, r) in zip(y, df.iterrows()):
            if not np.isfinite(r[list(STACKS)].astype(float)).any():
                ax.text(0.01, yi, "no installed compute", va="center", fontsize=8, color="#666666")
            else:
                ax.text(1.01, yi, f"{r['installed_h100e'] / 1e3:,.0f} k", va="center", fontsize=8,
                        color="#444444")
        labels = [f"{r['name']}  ({r['alignment']:+.2f})" if np.isfinite(r["alignment"])
                  else r["name"] for _, r in df.iterrows()]
        ax.set_yticks(y, labels, fontsize=9)
        ax.set_xlim(0, 1.1)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("share of the country's installed H100e at the final month "
                      "(right: installed, thousand H100e)")
        ax.set_ylabel("country (alignment: -1 US-leaning ... +1 China-leaning)")
        ax.grid(axis="y", visible=False)
        date = str(adoption.loc[adoption["step"].idxmax(), "date"]) if len(adoption) else "?"
        runs = "1 run" if n <= 1 else f"mean of {n} runs"
        ax.set_title(f"Global South: stack shares per country at {date} ({runs}), "
                     "sorted by alignment")
        _stack_legend(fig, STACKS, patches=True)
    return fig


def fig_gs_countries(adoption: pd.DataFrame, regions: pd.DataFrame, out_path: str | Path) -> Path:
    """PNG of make_gs_countries."""
    return save_figure(make_gs_countries(adoption, regions), out_path)


