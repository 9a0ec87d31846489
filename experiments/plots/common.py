"""Shared vocabulary of the figures (colours, labels, metric names) and drawing helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from model.errors import InputError
from model.outputs import BLOC_LABELS as BLOC_LABELS
from model.outputs import CONTRACT_COLUMNS as CONTRACT_COLUMNS
from model.outputs import METRIC_LABELS as METRIC_LABELS
from model.outputs import STACK_COLOURS as STACK_COLOURS
from model.outputs import STACK_LABELS as STACK_LABELS
from model.outputs import UNIT_METRICS as UNIT_METRICS

#: The output schema's palette and labels (model/outputs.py): one palette for figures and the
#: dashboard. ``STACK_COLORS`` is the same dict under its older spelling.
STACK_COLORS: dict[str, str] = STACK_COLOURS
#: Short labels for scenario event kinds on time axes.
EVENT_LABELS: dict[str, str] = {
    "us_rule": "US rule", "us_level": "US control level", "us_licence": "US licence",
    "us_revoke_licence": "US licence revoked", "us_tier_caps": "US tier caps",
    "us_guidance": "US guidance", "cn_ban": "China ban", "cn_unban": "China unban",
    "cn_mandate": "China mandate", "cn_subsidy": "China subsidy", "rare_earth": "rare earths",
    "antitrust": "China antitrust", "set": "parameters set",
}
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


def year_step(years: float) -> int:
    """Years between labelled ticks on a time axis spanning ``years``: 1 up to 6 years, 2 up to
    16 (the full 2022-2035 horizon is 14), then enough to keep about eight labels."""
    if years <= 6:
        return 1
    if years <= 16:
        return 2
    return int(np.ceil(years / 8))


def _date_axis(ax: Any, rotate: bool | None = None) -> None:
    """Year ticks every ``year_step`` years (minor ticks every year) over the axis' current
    limits, so labels never run together; ``rotate`` (None: when more than five labels share a
    panel narrower than a third of the figure) tilts them 45 degrees."""
    lo, hi = ax.get_xlim()
    years = max((hi - lo) / 365.25, 0.0)
    step = year_step(years)
    ax.xaxis.set_major_locator(mdates.YearLocator(base=step))
    ax.xaxis.set_minor_locator(mdates.YearLocator(base=1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    if rotate is None:
        width = ax.get_position().width  # figure fraction (before layout: the subplot's share)
        n_labels = int(years // step) + 1
        rotate = n_labels > 5 and width < 0.4
    for lab in ax.get_xticklabels(which="major"):
        lab.set_rotation(45 if rotate else 0)
        lab.set_ha("right" if rotate else "center")
    ax.tick_params(axis="x", which="major", labelrotation=45 if rotate else 0)


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


def _draw_band(ax: Any, wide: pd.DataFrame, color: str, label: str | None, *, lw: float = 2.0,
               runs: bool = True, ls: str = "-") -> None:
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
    ax.plot(x, mean, color=color, lw=lw, ls=ls, label=label, zorder=3)


def _stack_legend(fig: Figure, stacks: Sequence[str], *, patches: bool = False, **kw: Any) -> None:
    if patches:
        handles = [Patch(color=STACK_COLOURS[s], label=STACK_LABELS[s]) for s in stacks]
    else:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=STACK_COLOURS[s], lw=2.5, label=STACK_LABELS[s])
                   for s in stacks]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, **kw)


def param_name(column: str) -> str:
    """The parameter a sweep column holds: ``param_us_control_level`` -> ``us_control_level``
    (the runner stamps a swept parameter that shares its name with a metric as param_<name>)."""
    return column[len("param_"):] if column.startswith("param_") else column


def _param_label(column: str) -> str:
    """A parameter's name with its unit from the registry, when it has one."""
    name = param_name(column)
    try:
        from model.params import PARAMETERS, defaults

        defaults()  # loads every module that registers parameters
        unit = PARAMETERS[name].unit if name in PARAMETERS else ""
    except Exception:  # a label must never stop a figure
        unit = ""
    return f"{name} ({unit})" if unit else name




# --------------------------------------------------------------------------- design points

#: Design points (or scenarios) drawn as panels of their own; with more, a figure draws one line
#: (or dot) per point instead, never a mean across points.
MAX_FACETS = 4
#: Design points drawn as coloured series, each with its replications' band; with more, one thin
#: line per point (the mean of its replications).
MAX_GROUPS = 6
#: Colours of design points / scenarios (none of them a stack's colour).
POINT_COLOURS: tuple[str, ...] = ("#1f4e79", "#b8860b", "#7b4ea3", "#2a9d8f", "#8c564b", "#d4589c")
UNLABELLED = "(runs without a design point)"


def n_points(points: pd.Series | None) -> int:
    """How many design points (or scenarios) ``points`` (run_id -> label) names; 1 for None."""
    return int(points.nunique()) if points is not None and len(points) else 1


def point_of(df: pd.DataFrame, points: pd.Series | None) -> pd.Series:
    """Each row's design-point label (``points`` maps run_id -> label); one label for None."""
    if points is None or not len(points):
        return pd.Series("", index=df.index)
    return df["run_id"].astype(str).map(points).fillna(UNLABELLED)


def split_points(df: pd.DataFrame, points: pd.Series | None) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) per design point or scenario in ``points``' order; [("", df)] for one."""
    if n_points(points) <= 1:
        return [("", df)]
    lab = point_of(df, points).to_numpy()
    order = list(dict.fromkeys([*points.tolist(), UNLABELLED]))
    return [(g, df[lab == g]) for g in order if (lab == g).any()]


def point_means(df: pd.DataFrame, value: str, points: pd.Series | None) -> pd.DataFrame:
    """One column per design point (mean over that point's replications only), one row per month
    (index = month timestamp), columns in ``points``' order."""
    lab = point_of(df, points)
    w = df.assign(_point=lab.to_numpy()).pivot_table(index="date", columns="_point", values=value,
                                                     aggfunc="mean")
    order = [g for g in dict.fromkeys([*(points.tolist() if points is not None else []),
                                       *w.columns]) if g in w.columns]
    w = w[order]
    w.index = pd.DatetimeIndex(month_time(w.index))
    return w.sort_index()


def draw_point_lines(ax: Any, df: pd.DataFrame, value: str, points: pd.Series | None, color: str,
                     label: str | None = None, *, lw: float = 0.9, alpha: float = 0.55) -> int:
    """One thin line per design point (its replications' mean); returns the number drawn."""
    w = point_means(df, value, points)
    for j, col in enumerate(w.columns):
        ax.plot(w.index, w[col].to_numpy(dtype=float), color=color, lw=lw, alpha=alpha,
                label=label if j == 0 else None, zorder=2)
    return w.shape[1]


def points_phrase(points: pd.Series | None, n_runs: int) -> str:
    """What a figure aggregates, for its title: runs, or design points and their replications."""
    k = n_points(points)
    if k <= 1:
        return _runs_phrase(n_runs)
    if k <= MAX_GROUPS:
        return (f"{k} design points, {n_runs} runs: each point's mean and middle 95 % over its "
                "own replications, never across points")
    return f"{k} design points, {n_runs} runs: one line per point (mean of its replications)"
