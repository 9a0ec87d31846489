"""Figure 3: the bifurcation index and bloc divergence over time, with the policy levers and events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from experiments.plots.common import (
    _MODEL_BLUE,
    EVENT_LABELS,
    METRIC_LABELS,
    _date_axis,
    _draw_band,
    _n_runs,
    _new_figure,
    _require,
    _runs_phrase,
    _style,
    _wide,
    month_time,
    save_figure,
)


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


