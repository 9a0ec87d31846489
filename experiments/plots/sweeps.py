"""Figure 7: sweep figures (phase diagrams), sensitivity indices and scenario-discovery boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from experiments.plots.common import (
    _INDEX_PALETTE,
    METRIC_LABELS,
    UNIT_METRICS,
    _new_figure,
    _param_label,
    _require,
    _style,
    save_figure,
)
from model.errors import InputError


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
    (YYYY-MM), ``x``, ``y`` and ``value``. ``x`` and ``y`` are the columns holding the swept
    parameters, ``param_<name>`` where the runner stamped it so (``us_control_level`` is also a
    monthly metric, which the reaction function moves): the axes show the values swept, labelled
    by the parameter's name and unit. ``month`` defaults to the last month every run reached.
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
    binned = at[x].nunique() > 10 or at[y].nunique() > 10
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
        per = ("the runs in each bin of the swept values" if binned
               else "the replications of each design point (cell)")
        ax.set_title(f"{METRIC_LABELS.get(value, value)}\nat {month}, mean over {per}")
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


