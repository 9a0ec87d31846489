"""Figures 1-2: installed share of each stack per bloc, and installed compute by stack."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.plots.common import (
    BLOC_LABELS,
    STACK_COLORS,
    STACK_LABELS,
    _date_axis,
    _draw_band,
    _n_runs,
    _new_figure,
    _require,
    _runs_phrase,
    _stack_legend,
    _style,
    _wide,
    month_time,
    save_figure,
)
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


