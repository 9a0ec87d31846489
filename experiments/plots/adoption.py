"""Figures 1-2: installed share of each stack per bloc, and installed compute by stack."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.plots.common import (
    BLOC_LABELS,
    MAX_FACETS,
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
    draw_point_lines,
    month_time,
    n_points,
    points_phrase,
    save_figure,
    split_points,
)
from model.errors import InputError
from model.types import BLOCS, STACKS


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


def make_adoption(adoption: pd.DataFrame, points: pd.Series | None = None) -> Figure:
    """Installed share of each stack over time, one panel per bloc.

    ``points`` (run_id -> design point or scenario label, see ``load_folder``) splits the runs:
    up to MAX_FACETS points get a row of panels each (mean, band and single runs of that point's
    replications); more points get one line per point and stack (the mean of its replications).
    Runs of different points are never averaged together.
    """
    sh = adoption_shares(adoption)
    n = _n_runs(sh)
    k = n_points(points)
    blocs = [b for b in BLOCS if b in set(sh["bloc"])]
    rows = split_points(sh, points) if 1 < k <= MAX_FACETS else [("", sh)]
    with _style():
        fig = _new_figure(13, 4.6 if len(rows) == 1 else 2.9 * len(rows) + 1.2)
        grid = fig.subplots(len(rows), len(blocs), sharey=True, sharex=True, squeeze=False)
        for r, (label, part) in enumerate(rows):
            for ax, bloc in zip(grid[r], blocs):
                sub = part[part["bloc"] == bloc]
                for s in STACKS:
                    one = sub[sub["stack"] == s]
                    if k > MAX_FACETS:
                        draw_point_lines(ax, one, "share", points, STACK_COLOURS[s], STACK_LABELS[s])
                    else:
                        _draw_band(ax, _wide(one, "share"), STACK_COLOURS[s], STACK_LABELS[s])
                title = BLOC_LABELS.get(bloc, bloc)
                ax.set_title(f"{title}\n{label}" if label else title, fontsize=10 if label else 12)
                ax.set_ylim(-0.02, 1.02)
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            grid[r][0].set_ylabel("share of the bloc's installed H100e")
        for ax in grid[-1]:
            ax.set_xlabel("month")
        for ax in grid.flat:
            _date_axis(ax)
        fig.suptitle(f"Installed compute share by stack ({points_phrase(points, n)})")
        _stack_legend(fig, STACKS)
    return fig


def fig_adoption(adoption: pd.DataFrame, out_path: str | Path,
                 points: pd.Series | None = None) -> Path:
    """PNG of make_adoption."""
    return save_figure(make_adoption(adoption, points), out_path)


# --------------------------------------------------------------------------- 2 installed compute


def make_installed(adoption: pd.DataFrame, points: pd.Series | None = None) -> Figure:
    """Installed H100e by stack as stacked areas, one panel per bloc: the mean over runs of one
    design point; with ``points`` (up to MAX_FACETS of them), one row of panels per point.
    Raises InputError for more points (a mean across them would mix different designs)."""
    _require(adoption, ["run_id", "date", "bloc", "stack", "installed_h100e"], "adoption table")
    k = n_points(points)
    if k > MAX_FACETS:
        raise InputError(f"installed-compute figure: {k} design points, at most {MAX_FACETS} "
                         "can be drawn side by side (a mean across points would mix them)")
    rows = split_points(adoption, points)
    blocs = [b for b in BLOCS if b in set(adoption["bloc"])]
    n_all = _n_runs(adoption)
    with _style():
        fig = _new_figure(13, 4.6 if len(rows) == 1 else 2.9 * len(rows) + 1.2)
        grid = fig.subplots(len(rows), len(blocs), sharex=True, squeeze=False)
        for r, (label, part) in enumerate(rows):
            n = _n_runs(part)
            keys = ["run_id", "date", "bloc", "stack"]
            per_run = part.groupby(keys, observed=True)["installed_h100e"].sum()
            mean = per_run.groupby(level=["date", "bloc", "stack"]).sum() / max(n, 1)
            for ax, bloc in zip(grid[r], blocs):
                w = (mean.xs(bloc, level="bloc").unstack("stack", fill_value=0.0)
                     .reindex(columns=list(STACKS), fill_value=0.0).sort_index())
                x = month_time(w.index)
                ax.stackplot(x, *(w[s].to_numpy() / 1e6 for s in STACKS),
                             colors=[STACK_COLOURS[s] for s in STACKS], alpha=0.9, lw=0)
                final_m = w.iloc[-1].sum() / 1e6
                title = f"{BLOC_LABELS.get(bloc, bloc)} (final {final_m:,.2f} M H100e)"
                ax.set_title(f"{title}\n{label}, {n} runs" if label else title,
                             fontsize=10 if label else 12)
                ax.set_ylim(bottom=0)
                ax.margins(x=0)
            grid[r][0].set_ylabel("installed compute (million H100e)")
        for ax in grid[-1]:
            ax.set_xlabel("month")
        for ax in grid.flat:
            _date_axis(ax)
        if k > 1:
            avg = f"{k} design points, each the mean over its own replications ({n_all} runs)"
        else:
            avg = "1 run" if n_all <= 1 else f"mean over {n_all} runs"
        fig.suptitle(f"Installed compute by stack, per bloc ({avg}; each panel has its own scale)")
        _stack_legend(fig, STACKS, patches=True)
    return fig


def fig_installed(adoption: pd.DataFrame, out_path: str | Path,
                  points: pd.Series | None = None) -> Path:
    """PNG of make_installed."""
    return save_figure(make_installed(adoption, points), out_path)


