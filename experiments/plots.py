"""Figures from written tables (issue 7): one run, several runs, or a sweep folder.

Every figure is drawn from the DESIGN §7 tables (``model``, ``adoption``, ``vendors``), never
from a live model, so a figure can be redrawn from disk at any time. Each figure has two
functions: ``make_<name>(...) -> Figure`` builds it (tests inspect its axes) and
``fig_<name>(..., out_path) -> Path`` saves it as a PNG. ``plot_folder`` detects what a folder
holds, draws every figure that applies and writes an ``index.html`` that shows them.

Matplotlib is used through its object API (``matplotlib.figure.Figure``, saved with the Agg
canvas), never pyplot: no display is needed, the process-wide backend is left alone (the
dashboard may share the process) and no global figure state leaks between figures or tests.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from model.errors import InputError
from model.types import BLOCS, STACKS

# --------------------------------------------------------------------------- vocabulary

#: One colour per stack, used by every figure (vendor brand colours, made distinct).
STACK_COLORS: dict[str, str] = {
    "cuda": "#76b900",      # Nvidia green
    "cann": "#c7000b",      # Huawei red
    "rocm": "#f28e2b",      # AMD, shifted to orange so it never reads as Huawei's red
    "other_cn": "#7b4ea3",  # other Chinese vendors: purple
}
STACK_LABELS: dict[str, str] = {
    "cuda": "CUDA (Nvidia)", "cann": "CANN (Huawei Ascend)", "rocm": "ROCm (AMD)",
    "other_cn": "other Chinese stacks",
}
BLOC_LABELS: dict[str, str] = {"us": "US bloc", "cn": "China", "gs": "Global South"}
#: Short labels for scenario event kinds on time axes.
EVENT_LABELS: dict[str, str] = {
    "us_rule": "US rule", "us_level": "US control level", "us_licence": "US licence",
    "us_revoke_licence": "US licence revoked", "us_tier_caps": "US tier caps",
    "us_guidance": "US guidance", "cn_ban": "China ban", "cn_unban": "China unban",
    "cn_mandate": "China mandate", "cn_subsidy": "China subsidy", "rare_earth": "rare earths",
    "antitrust": "China antitrust", "set": "parameters set",
}
METRIC_LABELS: dict[str, str] = {
    "bifurcation_index": "bifurcation index I(region; stack)/H(stack)",
    "bloc_jsd": "US-bloc vs China JSD (base 2)",
    "hhi_world": "world HHI of stacks",
    "top_stack_share_world": "world share of the top stack",
    "cn_domestic_share": "China's purchases on domestic chips (share of H100e)",
    "nvidia_china_revenue_share": "Nvidia revenue from China (share of total)",
    "gs_cuda_share": "Global South installed share on CUDA",
    "gs_cann_share": "Global South installed share on CANN",
    "gs_dual_stack_share": "share of Global-South buyers on two stacks",
    "us_cn_compute_ratio": "installed effective compute, US bloc / China",
    "rare_earth_restriction": "rare-earth restriction (0-1)",
    "us_control_level": "US control level (0-1)",
}
#: Metrics bounded in [0, 1] (colour scales and y-limits are fixed to that range).
UNIT_METRICS: frozenset[str] = frozenset(METRIC_LABELS) - {"us_cn_compute_ratio"}
#: Columns of the DESIGN §7 tables that are not varied parameters.
CONTRACT_COLUMNS: frozenset[str] = frozenset(
    set(METRIC_LABELS) | {"run_id", "seed", "replication", "step", "date", "region", "bloc",
                          "stack",
                          "installed_h100e", "purchased_h100e", "spend_usd", "vendor", "product",
                          "units", "revenue_usd", "price_usd", "capacity_units"}
)
DPI = 110
INDEX_NAME = "index.html"
DEFAULT_WORKLOADS: tuple[str, ...] = ("deepseek-r1-decode", "llama3-405b-train")
PHASE_METRICS: tuple[str, ...] = ("bifurcation_index", "cn_domestic_share", "gs_cann_share")
MAX_RUN_LINES = 40  # thin single-run lines drawn per series (more only blurs the figure)
_MODEL_BLUE = "#1f4e79"
_INDEX_PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3")


def _style() -> Any:
    """Seaborn's white-grid look, applied only inside a figure's construction."""
    return sns.axes_style("whitegrid", {"grid.color": "#e3e3e3"})


def _new_figure(width_in: float, height_in: float) -> Figure:
    return Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, out_path: str | Path) -> Path:
    """Write ``fig`` as a PNG at DPI, creating the folder; return the path."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, format="png")
    return out


def month_time(dates: pd.Series | Sequence[str]) -> pd.Series:
    """'YYYY-MM' strings -> timestamps at the first of the month (for date axes)."""
    return pd.to_datetime(pd.Series(dates, dtype="str"), format="%Y-%m")


def _date_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    for lab in ax.get_xticklabels():
        lab.set_rotation(0)


def _n_runs(df: pd.DataFrame) -> int:
    return int(df["run_id"].nunique()) if "run_id" in df.columns and len(df) else 0


def _runs_phrase(n: int) -> str:
    if n <= 1:
        return "1 run"
    return f"{n} runs: line = mean, shaded = middle 95 % of runs, thin = single runs"


def _require(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)} "
                         f"(have {', '.join(map(str, df.columns))})")


def _wide(df: pd.DataFrame, value: str) -> pd.DataFrame:
    """One column per run, one row per month (index = month timestamp)."""
    w = df.pivot_table(index="date", columns="run_id", values=value, aggfunc="mean")
    w.index = pd.DatetimeIndex(month_time(w.index))
    return w.sort_index()


def _draw_band(ax: Any, wide: pd.DataFrame, color: str, label: str, *, lw: float = 2.0,
               runs: bool = True) -> None:
    """Mean line, middle-95 % band across runs and (optionally) thin single-run lines."""
    x = wide.index
    arr = wide.to_numpy(dtype=float)
    n = arr.shape[1]
    if runs and n > 1:
        for j in range(min(n, MAX_RUN_LINES)):
            ax.plot(x, arr[:, j], color=color, lw=0.6, alpha=0.3, zorder=1)
    if n > 1:
        ok = ~np.all(np.isnan(arr), axis=1)
        lo = np.full(len(x), np.nan)
        hi = np.full(len(x), np.nan)
        lo[ok] = np.nanpercentile(arr[ok], 2.5, axis=1)
        hi[ok] = np.nanpercentile(arr[ok], 97.5, axis=1)
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0, zorder=0)
    mean = np.full(len(x), np.nan)
    ok = ~np.all(np.isnan(arr), axis=1)
    mean[ok] = np.nanmean(arr[ok], axis=1)
    ax.plot(x, mean, color=color, lw=lw, label=label, zorder=3)


def _stack_legend(fig: Figure, stacks: Sequence[str], *, patches: bool = False, **kw: Any) -> None:
    if patches:
        handles = [Patch(color=STACK_COLORS[s], label=STACK_LABELS[s]) for s in stacks]
    else:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=STACK_COLORS[s], lw=2.5, label=STACK_LABELS[s])
                   for s in stacks]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, **kw)


def _param_label(name: str) -> str:
    """A parameter name with its unit from the registry, when it has one."""
    try:
        from model.params import PARAMETERS, defaults

        defaults()  # loads every module that registers parameters
        unit = PARAMETERS[name].unit if name in PARAMETERS else ""
    except Exception:  # a label must never stop a figure
        unit = ""
    return f"{name} ({unit})" if unit else name


# --------------------------------------------------------------------------- 1 adoption shares


def adoption_shares(adoption: pd.DataFrame) -> pd.DataFrame:
    """Installed share of each stack per (run, month, bloc).

    Columns run_id, date, bloc, stack, share.

    share = installed_h100e of the stack / installed_h100e of the bloc (NaN for a bloc with none).
    """
    _require(adoption, ["run_id", "date", "bloc", "stack", "installed_h100e"], "adoption table")
    keys = ["run_id", "date", "bloc", "stack"]
    g = adoption.groupby(keys, observed=True)["installed_h100e"].sum()
    wide = g.unstack("stack", fill_value=0.0).reindex(columns=list(STACKS), fill_value=0.0)
    tot = wide.sum(axis=1)
    shares = wide.div(tot.where(tot > 0), axis=0)
    out = shares.stack(future_stack=True).rename("share").reset_index()
    return out


def make_adoption(adoption: pd.DataFrame) -> Figure:
    """Installed share of each stack over time, one panel per bloc, across runs."""
    sh = adoption_shares(adoption)
    n = _n_runs(sh)
    blocs = [b for b in BLOCS if b in set(sh["bloc"])]
    with _style():
        fig = _new_figure(13, 4.6)
        axes = fig.subplots(1, len(blocs), sharey=True, squeeze=False)[0]
        for ax, bloc in zip(axes, blocs):
            sub = sh[sh["bloc"] == bloc]
            for s in STACKS:
                _draw_band(ax, _wide(sub[sub["stack"] == s], "share"), STACK_COLORS[s],
                           STACK_LABELS[s])
            ax.set_title(BLOC_LABELS.get(bloc, bloc))
            ax.set_xlabel("month")
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            _date_axis(ax)
        axes[0].set_ylabel("share of the bloc's installed H100e")
        fig.suptitle(f"Installed compute share by stack ({_runs_phrase(n)})")
        _stack_legend(fig, STACKS)
    return fig


def fig_adoption(adoption: pd.DataFrame, out_path: str | Path) -> Path:
    """PNG of make_adoption."""
    return save_figure(make_adoption(adoption), out_path)


# --------------------------------------------------------------------------- 2 installed compute


def make_installed(adoption: pd.DataFrame) -> Figure:
    """Installed H100e by stack as stacked areas, one panel per bloc (mean over runs)."""
    _require(adoption, ["run_id", "date", "bloc", "stack", "installed_h100e"], "adoption table")
    n = _n_runs(adoption)
    keys = ["run_id", "date", "bloc", "stack"]
    per_run = adoption.groupby(keys, observed=True)["installed_h100e"].sum()
    mean = per_run.groupby(level=["date", "bloc", "stack"]).sum() / max(n, 1)
    blocs = [b for b in BLOCS if b in set(adoption["bloc"])]
    with _style():
        fig = _new_figure(13, 4.6)
        axes = fig.subplots(1, len(blocs), squeeze=False)[0]
        for ax, bloc in zip(axes, blocs):
            w = (mean.xs(bloc, level="bloc").unstack("stack", fill_value=0.0)
                 .reindex(columns=list(STACKS), fill_value=0.0).sort_index())
            x = month_time(w.index)
            ax.stackplot(x, *(w[s].to_numpy() / 1e6 for s in STACKS),
                         colors=[STACK_COLORS[s] for s in STACKS], alpha=0.9, lw=0)
            final_m = w.iloc[-1].sum() / 1e6
            ax.set_title(f"{BLOC_LABELS.get(bloc, bloc)} (final {final_m:,.2f} M H100e)")
            ax.set_xlabel("month")
            ax.set_ylim(bottom=0)
            ax.margins(x=0)
            _date_axis(ax)
        axes[0].set_ylabel("installed compute (million H100e)")
        avg = "1 run" if n <= 1 else f"mean over {n} runs"
        fig.suptitle(f"Installed compute by stack, per bloc ({avg}; each panel has its own scale)")
        _stack_legend(fig, STACKS, patches=True)
    return fig


def fig_installed(adoption: pd.DataFrame, out_path: str | Path) -> Path:
    """PNG of make_installed."""
    return save_figure(make_installed(adoption), out_path)


# --------------------------------------------------------------------------- 3 bifurcation


def event_marks(events: Iterable[Any]) -> list[tuple[str, str]]:
    """(YYYY-MM, short label) per month with events; several kinds in a month joined by ' + '.

    Accepts ``model.scenario.Event`` objects or dicts with ``date``, ``kind`` and ``fields``.
    A level or share is shown after the kind (``rare earths 0.5``) so a reader sees the move.
    """
    by_month: dict[str, list[str]] = {}
    for ev in events:
        date = str(ev["date"] if isinstance(ev, dict) else ev.date)[:7]
        kind = str(ev["kind"] if isinstance(ev, dict) else ev.kind)
        fields = (ev.get("fields", {}) if isinstance(ev, dict) else getattr(ev, "fields", {})) or {}
        label = EVENT_LABELS.get(kind, kind)
        for key in ("level", "share", "levy"):
            if isinstance(fields.get(key), (int, float)) and not isinstance(fields.get(key), bool):
                label += f" {key + ' ' if key == 'levy' else ''}{fields[key]:g}"
                break
        if fields.get("remove") is True:
            label += " lifted"
        items = by_month.setdefault(date, [])
        base = EVENT_LABELS.get(kind, kind)
        same = [j for j, it in enumerate(items) if it.startswith(base + " ") and label != base]
        if same and label.startswith(base + " "):  # a second move of the same lever that month
            items[same[-1]] += " -> " + label[len(base) + 1:]
        elif label not in items:
            items.append(label)
    return [(d, " + ".join(v)) for d, v in sorted(by_month.items())]


def _mark_events(axes: Sequence[Any], marks: list[tuple[str, str]], first: str, last: str,
                 key_ax: Any) -> None:
    """Dashed vertical lines on every axis for events in [first, last] (YYYY-MM), numbered at the
    top (staggered in three rows so neighbouring months stay legible) and keyed in key_ax."""
    shown = [(d, lab) for d, lab in marks if first <= d <= last]
    for i, (d, _lab) in enumerate(shown):
        t = month_time([d]).iloc[0]
        for ax in axes:
            ax.axvline(t, color="#555555", lw=0.8, ls="--", alpha=0.6, zorder=0)
        axes[0].annotate(str(i + 1), xy=(t, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(0, 2 + 9 * (i % 3)), textcoords="offset points", ha="center",
                         va="bottom", fontsize=7.5, color="#333333")
    key_ax.axis("off")
    if not shown:
        return
    lines = [f"{i + 1:>2}  {d}  {lab}" for i, (d, lab) in enumerate(shown)]
    key_ax.text(0.0, 1.0, "policy events\n" + "\n".join(lines), va="top", ha="left",
                fontsize=7.5, family="monospace", transform=key_ax.transAxes)


def make_bifurcation(model: pd.DataFrame, events: Iterable[Any] = (),
                     varied: Sequence[str] = ()) -> Figure:
    """bifurcation_index and bloc_jsd over time (top) and the policy levers (bottom), events marked.

    A lever named in ``varied`` is not drawn: in a sweep its column holds the swept parameter's
    value (the runner stamps parameters over same-named columns), not the monthly lever.
    """
    _require(model, ["run_id", "date", "bifurcation_index", "bloc_jsd"], "model table")
    n = _n_runs(model)
    levers = [c for c in ("us_control_level", "rare_earth_restriction")
              if c in model.columns and c not in set(varied)]
    marks = event_marks(events)
    with _style():
        fig = _new_figure(13, 6.2)
        gs = fig.add_gridspec(2, 2, width_ratios=[3.2, 1], height_ratios=[2.2, 1])
        ax = fig.add_subplot(gs[0, 0])
        ax2 = fig.add_subplot(gs[1, 0], sharex=ax)
        key = fig.add_subplot(gs[:, 1])
        for col, color in (("bifurcation_index", _MODEL_BLUE), ("bloc_jsd", "#b8860b")):
            _draw_band(ax, _wide(model, col), color, METRIC_LABELS[col])
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("index (0 = one world, 1 = split)")
        ax.legend(loc="upper left", fontsize=8.5)
        ax.tick_params(labelbottom=False)
        for col, color in zip(levers, ("#4c72b0", "#8c564b")):
            _draw_band(ax2, _wide(model, col), color, METRIC_LABELS[col], lw=1.6)
        ax2.set_ylim(-0.03, 1.05)
        ax2.set_ylabel("lever (0-1)")
        ax2.set_xlabel("month")
        if levers:
            ax2.legend(loc="upper left", fontsize=8)
        first, last = str(model["date"].min()), str(model["date"].max())
        t0, t1 = month_time([first, last])
        ax.set_xlim(t0, t1 + pd.DateOffset(months=1))
        _date_axis(ax2)
        _mark_events([ax, ax2], marks, first, last, key)
        fig.suptitle(f"Ecosystem bifurcation and policy levers ({_runs_phrase(n)})")
    return fig


def fig_bifurcation(model: pd.DataFrame, out_path: str | Path, events: Iterable[Any] = (),
                    varied: Sequence[str] = ()) -> Path:
    """PNG of make_bifurcation."""
    return save_figure(make_bifurcation(model, events, varied), out_path)


# --------------------------------------------------------------------------- 4 China shares


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


# --------------------------------------------------------------------------- 6 offerings (core)


def workload_is_training(workload_id: str) -> bool:
    """True when model/data/workloads.csv lists the workload as kind 'train'."""
    path = Path(__file__).resolve().parents[1] / "model" / "data" / "workloads.csv"
    wl = pd.read_csv(path)
    row = wl[wl["id"] == workload_id]
    if row.empty:
        raise InputError(f"{path.name}: unknown workload {workload_id!r}; "
                         f"valid ids: {', '.join(wl['id'])}")
    return str(row["kind"].iloc[0]) == "train"


def price_table(workload_id: str, region: str = "us",
                systems: list[str] | None = None) -> pd.DataFrame:
    """The core's price table for a workload: `chipwar price`'s rows, reused, not re-implemented."""
    from experiments.commands.price import price_frame

    return price_frame(systems, workload_id, region, None)


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

    ``price_df`` has the columns of ``experiments.commands.price.price_frame``; ``train``
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
    colors = [STACK_COLORS.get(str(s), "#999999") for s in df["stack"]]
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


# --------------------------------------------------------------------------- 7 sweeps


def _binned(values: pd.Series, max_levels: int = 10, bins: int = 6) -> pd.Series:
    """Values as they are when few distinct; otherwise quantile bins labelled by their mid-point."""
    if values.nunique() <= max_levels:
        return values
    cats = pd.qcut(values.astype(float), q=bins, duplicates="drop")
    mids = cats.map(lambda iv: float(f"{(iv.left + iv.right) / 2:.3g}")).astype(float)
    return mids


def make_phase_diagram(df: pd.DataFrame, x: str, y: str, value: str,
                       month: str | None = None) -> Figure:
    """Heatmap of the mean of ``value`` at ``month`` over two swept parameters.

    ``df``: a sweep's model table, one row per run x month with columns ``run_id``, ``date``
    (YYYY-MM), ``x``, ``y`` and ``value``. ``month`` defaults to the last month every run reached.
    Continuous parameters (more than 10 distinct values, e.g. Latin hypercube) are binned into
    quantile bins labelled by their mid-point. Cells show the mean and, small, the run count.
    """
    _require(df, ["run_id", "date", x, y, value], "sweep table")
    if month is None:
        month = str(df.groupby("run_id")["date"].max().min())
    at = df[df["date"].astype(str) == month]
    if at.empty:
        raise InputError(f"phase diagram: no rows at month {month!r} "
                         f"(months {df['date'].min()}..{df['date'].max()})")
    at = at.assign(_x=_binned(at[x]), _y=_binned(at[y]))
    g = at.groupby(["_y", "_x"], observed=True)[value]
    mean = g.mean().unstack("_x").sort_index(ascending=False)
    count = g.count().unstack("_x").reindex_like(mean)
    unit = value in UNIT_METRICS
    with _style():
        fig = _new_figure(1.2 * mean.shape[1] + 4.5, 0.75 * mean.shape[0] + 2.6)
        ax = fig.add_subplot()
        annot = np.array([[("" if not np.isfinite(m) else f"{m:.2f}\n(n={int(c)})")
                           for m, c in zip(mr, cr)] for mr, cr in
                          zip(mean.to_numpy(dtype=float), count.fillna(0).to_numpy())])
        sns.heatmap(mean, ax=ax, cmap="viridis", annot=annot, fmt="", annot_kws={"fontsize": 8},
                    vmin=0.0 if unit else None, vmax=1.0 if unit else None, linewidths=0.5,
                    linecolor="white", cbar_kws={"label": f"mean {value}"})
        ax.set_xticklabels([f"{float(t.get_text()):g}" if _is_num(t.get_text()) else t.get_text()
                            for t in ax.get_xticklabels()], rotation=0)
        ax.set_yticklabels([f"{float(t.get_text()):g}" if _is_num(t.get_text()) else t.get_text()
                            for t in ax.get_yticklabels()], rotation=0)
        ax.set_xlabel(_param_label(x))
        ax.set_ylabel(_param_label(y))
        ax.set_title(f"{METRIC_LABELS.get(value, value)}\nat {month}, mean over runs per cell")
    return fig


def _is_num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def fig_phase_diagram(df: pd.DataFrame, x: str, y: str, value: str, out_path: str | Path,
                      month: str | None = None) -> Path:
    """PNG of make_phase_diagram."""
    return save_figure(make_phase_diagram(df, x, y, value, month), out_path)


SENSITIVITY_COLUMNS: tuple[str, ...] = ("parameter", "index", "value", "conf")
BOX_COLUMNS: tuple[str, ...] = ("parameter", "low", "high", "full_low", "full_high")


def make_sensitivity(si_df: pd.DataFrame, title: str | None = None) -> Figure:
    """Grouped horizontal bars of sensitivity indices with confidence intervals.

    ``si_df``: one row per (parameter, index) with columns ``parameter``, ``index`` (S1, ST,
    mu_star, sigma, ...), ``value`` and ``conf`` (half-width of the confidence interval; NaN if
    none); an optional ``output`` column names the metric analysed. Parameters are sorted by
    their largest index (most influential at the top).
    """
    _require(si_df, SENSITIVITY_COLUMNS, "sensitivity table")
    df = si_df.copy()
    df["parameter"] = df["parameter"].astype(str)
    df["index"] = df["index"].astype(str)
    order = df.groupby("parameter")["value"].max().sort_values(ascending=False).index.tolist()
    indices = list(dict.fromkeys(df["index"]))
    k = len(indices)
    h = 0.8 / k
    with _style():
        fig = _new_figure(9, 0.45 * k * len(order) + 2.0)
        ax = fig.add_subplot()
        base = np.arange(len(order))[::-1].astype(float)
        for j, idx in enumerate(indices):
            sub = df[df["index"] == idx].set_index("parameter").reindex(order)
            yy = base + 0.4 - h * (j + 0.5)
            ax.barh(yy, sub["value"].astype(float).to_numpy(), height=h * 0.92,
                    xerr=sub["conf"].astype(float).to_numpy(), capsize=2.5,
                    color=_INDEX_PALETTE[j % len(_INDEX_PALETTE)], label=idx,
                    error_kw={"lw": 0.9, "ecolor": "#333333"})
        ax.set_yticks(base, order)
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_xlabel("sensitivity index (bars: value; whiskers: confidence interval)")
        ax.set_ylabel("parameter")
        ax.grid(axis="y", visible=False)
        ax.legend(title="index", loc="lower right", fontsize=8.5)
        out = ""
        if "output" in df.columns and df["output"].nunique() == 1:
            out = f" of {df['output'].iloc[0]}"
        ax.set_title(title or f"Sensitivity{out} to the swept parameters")
    return fig


def fig_sensitivity(si_df: pd.DataFrame, out_path: str | Path, title: str | None = None) -> Path:
    """PNG of make_sensitivity."""
    return save_figure(make_sensitivity(si_df, title), out_path)


def make_discovery_box(box: pd.DataFrame, coverage: float | None = None,
                       density: float | None = None, title: str | None = None) -> Figure:
    """A PRIM box: each parameter's restricted range drawn inside its full swept range.

    ``box``: one row per parameter with columns ``parameter``, ``low``, ``high`` (the box)
    and ``full_low``, ``full_high`` (the swept range). Ranges are drawn on a common 0-1 scale
    (position within the swept range) with the real values written at the ends; parameters the
    box does not restrict are drawn pale. ``coverage`` and ``density`` go into the title.
    """
    _require(box, BOX_COLUMNS, "box table")
    df = box.copy().reset_index(drop=True)
    df["low"] = df["low"].astype(float).fillna(df["full_low"].astype(float))  # NaN = unrestricted
    df["high"] = df["high"].astype(float).fillna(df["full_high"].astype(float))
    span = (df["full_high"].astype(float) - df["full_low"].astype(float)).replace(0.0, np.nan)
    a = ((df["low"].astype(float) - df["full_low"].astype(float)) / span).fillna(0.0).clip(0, 1)
    b = ((df["high"].astype(float) - df["full_low"].astype(float)) / span).fillna(1.0).clip(0, 1)
    restricted = (a > 1e-9) | (b < 1 - 1e-9)
    y = np.arange(len(df))[::-1]
    with _style():
        fig = _new_figure(10, 0.55 * len(df) + 2.0)
        ax = fig.add_subplot()
        ax.barh(y, np.ones(len(df)), color="#dddddd", height=0.6, label="full swept range")
        ax.barh(y, (b - a).to_numpy(), left=a.to_numpy(), height=0.6,
                color=np.where(restricted, "#2a7fb8", "#a9cce3"), label="box (restricted range)")
        for yi, r, ai, bi in zip(y, df.itertuples(index=False), a, b):
            ax.text(ai - 0.01, yi, f"{r.low:.3g}", ha="right", va="center", fontsize=8)
            ax.text(bi + 0.01, yi, f"{r.high:.3g}", ha="left", va="center", fontsize=8)
        ax.set_yticks(y, [f"{r.parameter}\nswept {r.full_low:.3g} to {r.full_high:.3g}"
                          + ("" if res else ", not restricted")
                          for r, res in zip(df.itertuples(index=False), restricted)], fontsize=9)
        ax.set_xlim(-0.1, 1.1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel("position within the swept range (0 = lowest value swept, 1 = highest); "
                      "numbers: the box's bounds")
        ax.set_ylabel("parameter")
        ax.grid(axis="y", visible=False)
        fig.legend(loc="outside lower center", ncols=2, fontsize=8.5, frameon=False)
        stats = []
        if coverage is not None:
            stats.append(f"coverage {coverage:.0%}")
        if density is not None:
            stats.append(f"density {density:.0%}")
        ax.set_title(title or "Scenario discovery: PRIM box"
                     + (f" ({', '.join(stats)})" if stats else ""))
    return fig


def fig_discovery_box(box: pd.DataFrame, out_path: str | Path, coverage: float | None = None,
                      density: float | None = None, title: str | None = None) -> Path:
    """PNG of make_discovery_box."""
    return save_figure(make_discovery_box(box, coverage, density, title), out_path)


# --------------------------------------------------------------------------- index page


def write_index(out_dir: str | Path, figures: list[tuple[Path, str]], title: str) -> Path:
    """Write ``out_dir/index.html``: every PNG with its one-line explanation (relative links,
    no external assets); return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for path, caption in figures:
        p = Path(path)
        try:
            rel = p.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            import os

            rel = Path(os.path.relpath(p.resolve(), out.resolve())).as_posix()
        src = html.escape(rel, quote=True)
        alt = html.escape(caption, quote=True)
        items.append(f'<figure id="{html.escape(p.stem, quote=True)}">\n'
                     f'  <a href="{src}"><img src="{src}" alt="{alt}"></a>\n'
                     f"  <figcaption>{html.escape(caption)}</figcaption>\n</figure>")
    toc = "\n".join(f'  <li><a href="#{html.escape(Path(p).stem, quote=True)}">'
                    f"{html.escape(Path(p).stem)}</a></li>" for p, _ in figures)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1500px;
        padding: 0 1em; color: #222; }}
figure {{ margin: 2em 0; border-top: 1px solid #ddd; padding-top: 1em; }}
img {{ max-width: 100%; height: auto; }}
figcaption {{ color: #444; margin-top: .4em; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<ul>
{toc}
</ul>
{chr(10).join(items)}
</body>
</html>
"""
    path = out / INDEX_NAME
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- folders


@dataclass
class FolderTables:
    """The tables found in a folder and what kind of folder it was."""

    source: Path
    kind: str  # "run" (one run folder), "runs" (a folder of run/sweep folders) or "sweep"
    model: pd.DataFrame
    adoption: pd.DataFrame
    vendors: pd.DataFrame
    scenarios: list[str] = field(default_factory=list)  # scenario names or files, as written
    varied: list[str] = field(default_factory=list)  # swept parameter columns
    extras: list[Path] = field(default_factory=list)  # CSVs with sensitivity / box contracts

    @property
    def n_runs(self) -> int:
        return _n_runs(self.model)


def _read_manifest(folder: Path) -> dict[str, Any]:
    p = folder / "manifest.json"
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{p}: not valid JSON") from None


def _is_run_folder(p: Path) -> bool:
    return (p / "model.parquet").is_file()


def _is_sweep_folder(p: Path) -> bool:
    return (p / "model").is_dir() and any((p / "model").glob("*.parquet"))


def _load_run(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    tables = {t: (pd.read_parquet(folder / f"{t}.parquet") if (folder / f"{t}.parquet").is_file()
                  else pd.DataFrame()) for t in ("model", "adoption", "vendors")}
    man = _read_manifest(folder)
    scen = man.get("scenario_file") or man.get("scenario")
    return tables, ([str(scen)] if scen else []), []


def _load_sweep(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    man = _read_manifest(folder)
    tables: dict[str, pd.DataFrame] = {}
    if man:
        try:
            from experiments.runner import read_tables

            tables = read_tables(folder)
        except (ImportError, InputError):
            tables = {}
    if tables.get("model") is None or tables["model"].empty:  # no completion markers: read parts
        tables = {t: (pd.read_parquet(folder / t) if any((folder / t).glob("*.parquet"))
                      else pd.DataFrame()) for t in ("model", "adoption", "vendors")}
    design = man.get("design", {}) if isinstance(man.get("design"), dict) else {}
    varied = list(design.get("parameters", {}) or {})
    if not varied:
        skip = CONTRACT_COLUMNS
        varied = [c for c in tables["model"].columns if c not in skip]
    scen = design.get("scenario") or man.get("scenario")
    relative = scen and str(scen).endswith(".toml") and not Path(scen).is_absolute()
    if relative and design.get("source"):
        scen = str(Path(design["source"]).parent / scen)  # a path relative to the design file
    return tables, ([str(scen)] if scen else []), varied


def load_folder(path: str | Path) -> FolderTables:
    """Read a run folder, a sweep folder, or a folder of those; raise InputError if none."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a run or sweep output folder)")
    if _is_run_folder(folder):
        kind, parts = "run", [(folder, _load_run(folder))]
    elif _is_sweep_folder(folder):
        kind, parts = "sweep", [(folder, _load_sweep(folder))]
    else:
        kind = "runs"
        parts = []
        for child in sorted(p for p in folder.iterdir() if p.is_dir()):
            if _is_run_folder(child):
                parts.append((child, _load_run(child)))
            elif _is_sweep_folder(child):
                parts.append((child, _load_sweep(child)))
    parts = [(p, x) for p, x in parts if not x[0]["model"].empty]
    if not parts:
        raise InputError(f"{folder}: no tables found; expected model.parquet (a run folder from "
                         "`chipwar run`), model/*.parquet (a sweep folder from `chipwar sweep`), "
                         "or sub-folders holding either")
    frames: dict[str, list[pd.DataFrame]] = {"model": [], "adoption": [], "vendors": []}
    scenarios: list[str] = []
    varied: list[str] = []
    seen_ids: set[str] = set()
    for child, (tables, scen, var) in parts:
        ids = set(tables["model"]["run_id"].astype(str)) if "run_id" in tables["model"] else set()
        prefix = f"{child.name}/" if (len(parts) > 1 and ids & seen_ids) else ""
        seen_ids |= {prefix + i for i in ids}
        for t in frames:
            df = tables.get(t, pd.DataFrame())
            if df.empty:
                continue
            if "run_id" not in df.columns:
                df = df.assign(run_id=child.name)
            df = df.assign(run_id=prefix + df["run_id"].astype(str))
            frames[t].append(df)
        scenarios += [s for s in scen if s not in scenarios]
        varied += [v for v in var if v not in varied]
    out = {t: (pd.concat(v, ignore_index=True) if v else pd.DataFrame()) for t, v in frames.items()}
    extras = []
    for csv in sorted(folder.glob("*.csv")):
        try:
            cols = set(pd.read_csv(csv, nrows=0).columns)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        if set(SENSITIVITY_COLUMNS) <= cols or set(BOX_COLUMNS) <= cols:
            extras.append(csv)
    return FolderTables(source=folder, kind=kind, model=out["model"], adoption=out["adoption"],
                        vendors=out["vendors"], scenarios=scenarios,
                        varied=[v for v in varied if v in out["model"].columns], extras=extras)


def scenario_events(scenarios: Sequence[str]) -> list[Any]:
    """Events of the one scenario the runs share ([] if several, or it cannot be read)."""
    if len(scenarios) != 1:
        return []
    from model.scenario import load_scenario

    try:
        return list(load_scenario(scenarios[0]).events)
    except Exception:  # a moved or edited scenario file must not stop the figures
        try:
            return list(load_scenario(Path(scenarios[0]).stem).events)
        except Exception:
            return []


def plot_folder(folder: str | Path, out: str | Path | None = None, *,
                workloads: Sequence[str] = DEFAULT_WORKLOADS, region: str = "us") -> list[Path]:
    """Draw every figure that applies to ``folder`` into ``out`` (default ``folder/figures``)
    and write ``out/index.html``; return the PNG paths in index order.

    Runs and sweeps get figures 1-5 (across all their runs); sweeps with two or more numeric
    varied parameters get phase diagrams over the first two; CSVs in ``folder`` with the
    sensitivity or PRIM-box columns get their figures; ``workloads`` get the core's comparison.
    """
    ft = load_folder(folder)
    kinds = {wid: workload_is_training(wid) for wid in workloads}  # refuse bad input before drawing
    if workloads:
        from experiments.commands.price import load_price_regions

        valid = load_price_regions().index
        if region not in valid:
            raise InputError(f"unknown region {region!r}; valid ids: {', '.join(valid)}")
    out_dir = Path(out) if out is not None else Path(folder) / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    figs: list[tuple[Path, str]] = []
    n = ft.n_runs
    who = f"{n} run{'s' if n != 1 else ''}"
    if ft.scenarios:
        who += f", scenario {', '.join(Path(s).stem for s in ft.scenarios)}"
    ad, md = ft.adoption, ft.model
    if not ad.empty:
        figs.append((fig_adoption(ad, out_dir / "adoption_shares.png"),
                     f"Installed share of each stack within each bloc over time ({who}); "
                     "thin lines are single runs, so a split into lock-in outcomes shows as two "
                     "bundles."))
        figs.append((fig_installed(ad, out_dir / "installed_compute.png"),
                     "Installed compute (million H100e) by stack, stacked, per bloc; "
                     f"mean over {who}."))
    if {"bifurcation_index", "bloc_jsd"} <= set(md.columns):
        events = scenario_events(ft.scenarios)
        note = ("numbered dashed lines are the scenario's policy events" if events else
                "no policy events shown (several scenarios, or the scenario file was not found)")
        figs.append((fig_bifurcation(md, out_dir / "bifurcation.png", events, ft.varied),
                     "Bifurcation index and US-China Jensen-Shannon divergence over time, "
                     f"with the US control level and rare-earth restriction below; {note}."))
    if {"cn_domestic_share", "nvidia_china_revenue_share"} <= set(md.columns):
        figs.append((fig_china(md, out_dir / "china_shares.png", load_observed_table()),
                     "China's domestic share of accelerator purchases and Nvidia's China "
                     "revenue share, monthly and as yearly means, against observed figures "
                     "(black: period and band; reported revenue shares are on a total-revenue "
                     "basis)."))
    if not ad.empty and (ad["bloc"] == "gs").any():
        from model.population import load_regions

        figs.append((fig_gs_countries(ad, load_regions(), out_dir / "gs_countries.png"),
                     "Final installed stack shares of each Global-South country, sorted from "
                     "US-leaning to China-leaning political alignment."))
    numeric = [v for v in ft.varied if pd.api.types.is_numeric_dtype(md[v]) and md[v].nunique() > 1]
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        for metric in PHASE_METRICS:
            if metric in md.columns and metric not in (x, y):
                p = fig_phase_diagram(md, x, y, metric, out_dir / f"phase_{metric}.png")
                figs.append((p, f"Phase diagram: mean {metric} at the last month over {x} and {y} "
                                f"(cells show the run count)."))
    for csv in ft.extras:
        df = pd.read_csv(csv)
        if set(SENSITIVITY_COLUMNS) <= set(df.columns):
            p = fig_sensitivity(df, out_dir / f"sensitivity_{csv.stem}.png")
            figs.append((p, f"Sensitivity indices from {csv.name}, with confidence intervals."))
        else:
            stat = {k: float(df[k].iloc[0]) for k in ("coverage", "density")
                    if k in df.columns and df[k].nunique() == 1}
            p = fig_discovery_box(df, out_dir / f"box_{csv.stem}.png", **stat)
            figs.append((p, f"Scenario-discovery box from {csv.name}: restricted versus swept "
                            "ranges."))
    for wid in workloads:
        p = fig_offerings(price_table(wid, region), out_dir / f"offerings_{wid}.png", kinds[wid])
        what = "USD per effective PFLOP-hour" if kinds[wid] else "USD per million tokens"
        figs.append((p, "The cluster core's comparison of every catalog offering for workload "
                        f"{wid}: "
                        f"{what} and facility energy per token, coloured by stack."))
    title = f"chipwar figures: {ft.source.name} ({ft.kind}, {who})"
    write_index(out_dir, figs, title)
    return [p for p, _ in figs]

