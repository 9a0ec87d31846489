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
    MAX_FACETS,
    MAX_GROUPS,
    METRIC_LABELS,
    POINT_COLOURS,
    STACK_COLOURS,
    STACK_LABELS,
    _date_axis,
    _draw_band,
    _n_runs,
    _new_figure,
    _require,
    _stack_legend,
    _style,
    _wide,
    n_points,
    point_of,
    points_phrase,
    save_figure,
    split_points,
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


def quarterly(model: pd.DataFrame, col: str, adoption: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quarterly values of a monthly metric: one column per run, one row per quarter (index =
    the quarter's middle, the 15th of its second month).

    ``cn_domestic_share`` is weighted by China's purchases (``purchased_h100e`` of region cn in
    ``adoption``) in each month, as ``chipwar validate`` compares it with observed figures, so a
    rule month in which China buys almost nothing does not count as a whole month; other
    metrics, or without ``adoption``, are plain means of the quarter's months.
    """
    df = model[["run_id", "date", col]].copy()
    df["w"] = 1.0
    if col == "cn_domestic_share" and adoption is not None and len(adoption):
        cn = adoption[adoption["region"].astype(str) == "cn"]
        w = cn.groupby(["run_id", "date"], observed=True)["purchased_h100e"].sum().rename("w")
        df = df.drop(columns="w").merge(w.reset_index(), on=["run_id", "date"], how="left")
        df["w"] = df["w"].fillna(0.0)
    v = df[col].astype(float)
    ok = np.isfinite(v) & (df["w"] > 0)
    df = df.assign(wv=np.where(ok, v * df["w"], 0.0), w=np.where(ok, df["w"], 0.0),
                   q=pd.PeriodIndex(pd.to_datetime(df["date"].astype(str), format="%Y-%m"),
                                    freq="Q"))
    g = df.groupby(["q", "run_id"], observed=True)[["wv", "w"]].sum()
    val = (g["wv"] / g["w"].where(g["w"] > 0)).unstack("run_id")
    val.index = pd.DatetimeIndex([p.start_time + pd.DateOffset(months=1, days=14) for p in val.index])
    return val.sort_index()


def make_china(model: pd.DataFrame, observed: pd.DataFrame | None = None,
               adoption: pd.DataFrame | None = None, points: pd.Series | None = None) -> Figure:
    """cn_domestic_share and nvidia_china_revenue_share: quarterly (bold; the domestic share
    weighted by China's purchases when ``adoption`` is given, see ``quarterly``), monthly
    (faint), and observed figures as points with their period (horizontal) and band (vertical).

    ``points`` (run_id -> design point or scenario label): each point in its own colour with its
    own replications' band (up to MAX_GROUPS), or one quarterly line per point (more).
    """
    metrics = ["cn_domestic_share", "nvidia_china_revenue_share"]
    _require(model, ["run_id", "date", *metrics], "model table")
    n = _n_runs(model)
    k = n_points(points)
    with _style():
        fig = _new_figure(13, 4.8)
        axes = fig.subplots(1, 2, sharey=False)
        for ax, col in zip(axes, metrics):
            w_all = _wide(model, col)
            if k > MAX_GROUPS:
                q = quarterly(model, col, adoption)
                lab = point_of(pd.DataFrame({"run_id": q.columns}), points).to_numpy()
                per_point = q.T.groupby(lab, sort=False).mean().T
                for j, c in enumerate(per_point.columns):
                    ax.plot(per_point.index, per_point[c].to_numpy(dtype=float), color=_MODEL_BLUE,
                            lw=0.9, alpha=0.55, label="model, quarterly: one line per point"
                            if j == 0 else None)
            else:
                for j, (label, part) in enumerate(split_points(model, points)):
                    color = _MODEL_BLUE if k <= 1 else POINT_COLOURS[j % len(POINT_COLOURS)]
                    w = _wide(part, col)
                    ax.plot(w.index, w.mean(axis=1).to_numpy(), color=color, lw=0.7, alpha=0.3,
                            label="model, monthly" if j == 0 else None, zorder=2)
                    _draw_band(ax, quarterly(part, col, adoption), color,
                               f"{label}, quarterly" if label else "model, quarterly", lw=2.0,
                               runs=False)
            lo_t, hi_t = w_all.index.min(), w_all.index.max() + pd.DateOffset(months=1)
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
            ax.legend(loc="best", fontsize=7.5 if k > 1 else 8)
        if k > 1:
            runs = points_phrase(points, n)
        else:
            runs = "1 run" if n <= 1 else f"mean of {n} runs, middle 95 % of quarterly values shaded"
        weighted = ", domestic share weighted by China's purchases" if adoption is not None else ""
        fig.suptitle(f"China: domestic share of purchases and Nvidia's China revenue, quarterly "
                     f"(monthly faint{weighted}; {runs}) against observed figures", fontsize=11)
    return fig


def fig_china(model: pd.DataFrame, out_path: str | Path, observed: pd.DataFrame | None = None,
              adoption: pd.DataFrame | None = None, points: pd.Series | None = None) -> Path:
    """PNG of make_china."""
    return save_figure(make_china(model, observed, adoption, points), out_path)


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


def _gs_bars(ax, df: pd.DataFrame, y: np.ndarray) -> None:
    left = np.zeros(len(df))
    for s in STACKS:
        v = df[s].fillna(0.0).to_numpy()
        ax.barh(y, v, left=left, color=STACK_COLOURS[s], label=STACK_LABELS[s], height=0.72)
        left += v
    for yi, (_, r) in zip(y, df.iterrows()):
        if not np.isfinite(r[list(STACKS)].astype(float)).any():
            ax.text(0.01, yi, "no installed compute", va="center", fontsize=8, color="#666666")
        else:
            ax.text(1.01, yi, f"{r['installed_h100e'] / 1e3:,.0f} k", va="center", fontsize=8,
                    color="#444444")
    ax.set_xlim(0, 1.1)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", visible=False)


def make_gs_countries(adoption: pd.DataFrame, regions: pd.DataFrame,
                      points: pd.Series | None = None) -> Figure:
    """Stacked horizontal bars of final stack shares per Global-South country, by alignment.

    ``points`` (run_id -> design point or scenario label): up to MAX_FACETS points get a panel
    each (the mean over that point's replications); more points get one dot per point and stack
    on each country's row. Shares of different points are never averaged together.
    """
    df = final_country_shares(adoption, regions)  # the country order (alignment) and names
    n = _n_runs(adoption)
    k = n_points(points)
    parts = split_points(adoption, points)
    y = np.arange(len(df))[::-1]  # US-leaning at the top
    labels = [f"{r['name']}  ({r['alignment']:+.2f})" if np.isfinite(r["alignment"])
              else r["name"] for _, r in df.iterrows()]
    date = str(adoption.loc[adoption["step"].idxmax(), "date"]) if len(adoption) else "?"
    with _style():
        if k <= MAX_FACETS:
            fig = _new_figure(10 if k <= 1 else 4.0 * k + 3.0, 0.38 * len(df) + 2.4)
            axes = fig.subplots(1, len(parts), sharey=True, squeeze=False)[0]
            for ax, (label, part) in zip(axes, parts):
                sub = df if k <= 1 else final_country_shares(part, regions).reindex(df.index)
                _gs_bars(ax, sub, y)
                if k > 1:
                    ax.set_title(f"{label}\n({_n_runs(part)} runs)", fontsize=9.5)
            axes[0].set_yticks(y, labels, fontsize=9)
            xlabel = ("share of the country's installed H100e at the final month "
                      "(right: installed, thousand H100e)")
            if k <= 1:
                axes[0].set_xlabel(xlabel)
            else:
                fig.supxlabel(xlabel, fontsize=10)
            ax0 = axes[0]
        else:
            fig = _new_figure(10, 0.45 * len(df) + 2.4)
            ax0 = fig.add_subplot()
            offsets = dict(zip(STACKS, np.linspace(0.27, -0.27, len(STACKS))))
            for _label, part in parts:
                sub = final_country_shares(part, regions).reindex(df.index)
                for s in STACKS:
                    ax0.plot(sub[s].to_numpy(dtype=float), y + offsets[s], "o", ms=3.5,
                             color=STACK_COLOURS[s], alpha=0.6, mec="none")
            for yi in y[:-1]:
                ax0.axhline(yi - 0.5, color="#dddddd", lw=0.6)
            ax0.set_yticks(y, labels, fontsize=9)
            ax0.set_xlim(-0.02, 1.02)
            ax0.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax0.set_xlabel("share of the country's installed H100e at the final month "
                           "(one dot per design point and stack: the mean of its replications)")
            ax0.grid(axis="y", visible=False)
        ax0.set_ylabel("country (alignment: -1 US-leaning ... +1 China-leaning)")
        if k <= 1:
            runs = "1 run" if n <= 1 else f"mean of {n} runs"
        elif k <= MAX_FACETS:
            runs = f"{k} design points, each the mean of its own replications"
        else:
            runs = f"{k} design points, one dot per point"
        fig.suptitle(f"Global South: stack shares per country at {date} ({runs}), "
                     "sorted by alignment", fontsize=11)
        _stack_legend(fig, STACKS, patches=True)
    return fig


def fig_gs_countries(adoption: pd.DataFrame, regions: pd.DataFrame, out_path: str | Path,
                     points: pd.Series | None = None) -> Path:
    """PNG of make_gs_countries."""
    return save_figure(make_gs_countries(adoption, regions, points), out_path)
