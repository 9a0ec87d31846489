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
    MAX_GROUPS,
    METRIC_LABELS,
    POINT_COLOURS,
    _date_axis,
    _draw_band,
    _n_runs,
    _new_figure,
    _require,
    _style,
    _wide,
    draw_point_lines,
    month_time,
    n_points,
    points_phrase,
    save_figure,
    split_points,
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


def _levers(model: pd.DataFrame, varied: Sequence[str]) -> list[str]:
    """The monthly levers a model table holds. A lever named in ``varied`` without a
    ``param_<lever>`` column is left out: in sweeps written before the runner stamped such
    parameters as param_<name>, its column holds the swept value, not the monthly lever."""
    cols = set(model.columns)
    return [c for c in ("us_control_level", "rare_earth_restriction")
            if c in cols and (c not in set(varied) or f"param_{c}" in cols)]


def make_bifurcation(model: pd.DataFrame, events: Iterable[Any] = (),
                     varied: Sequence[str] = (), points: pd.Series | None = None) -> Figure:
    """bifurcation_index and bloc_jsd over time (top) and the policy levers (bottom), events marked.

    ``points`` (run_id -> design point or scenario label) draws each point in its own colour
    with the band of its own replications (up to MAX_GROUPS points), or one thin line per point
    (more); runs of different points are never averaged together.
    """
    _require(model, ["run_id", "date", "bifurcation_index", "bloc_jsd"], "model table")
    n = _n_runs(model)
    k = n_points(points)
    levers = _levers(model, varied)
    marks = event_marks(events)
    with _style():
        fig = _new_figure(13, 6.2)
        gs = fig.add_gridspec(2, 2, width_ratios=[3.2, 1], height_ratios=[2.2, 1])
        ax = fig.add_subplot(gs[0, 0])
        ax2 = fig.add_subplot(gs[1, 0], sharex=ax)
        key = fig.add_subplot(gs[:, 1])
        if k <= 1:
            for col, color in (("bifurcation_index", _MODEL_BLUE), ("bloc_jsd", "#b8860b")):
                _draw_band(ax, _wide(model, col), color, METRIC_LABELS[col])
            for col, color in zip(levers, ("#4c72b0", "#8c564b")):
                _draw_band(ax2, _wide(model, col), color, METRIC_LABELS[col], lw=1.6)
        elif k <= MAX_GROUPS:
            for j, (label, part) in enumerate(split_points(model, points)):
                color = POINT_COLOURS[j % len(POINT_COLOURS)]
                _draw_band(ax, _wide(part, "bifurcation_index"), color, label, runs=False)
                _draw_band(ax, _wide(part, "bloc_jsd"), color, None, runs=False, ls="--")
                for col, ls in zip(levers, ("-", "--")):
                    _draw_band(ax2, _wide(part, col), color, None, lw=1.4, runs=False, ls=ls)
        else:
            draw_point_lines(ax, model, "bifurcation_index", points, _MODEL_BLUE,
                             METRIC_LABELS["bifurcation_index"])
            draw_point_lines(ax, model, "bloc_jsd", points, "#b8860b", METRIC_LABELS["bloc_jsd"])
            for col, color in zip(levers, ("#4c72b0", "#8c564b")):
                draw_point_lines(ax2, model, col, points, color, METRIC_LABELS[col])
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("index (0 = one world, 1 = split)")
        if 1 < k <= MAX_GROUPS:
            from matplotlib.lines import Line2D

            style = [Line2D([], [], color="#444444", lw=2, label="bifurcation index (solid)"),
                     Line2D([], [], color="#444444", lw=2, ls="--", label="US-China JSD (dashed)")]
            handles, _ = ax.get_legend_handles_labels()
            ax.legend(handles=handles + style, loc="upper left", fontsize=7.5)
            lever_key = [Line2D([], [], color="#444444", lw=1.4, ls=ls, label=METRIC_LABELS[c])
                         for c, ls in zip(levers, ("-", "--"))]
            if lever_key:
                ax2.legend(handles=lever_key, loc="upper left", fontsize=7.5)
        else:
            ax.legend(loc="upper left", fontsize=8.5)
            if levers:
                ax2.legend(loc="upper left", fontsize=8)
        ax.tick_params(labelbottom=False)
        ax2.set_ylim(-0.03, 1.05)
        ax2.set_ylabel("lever (0-1)")
        ax2.set_xlabel("month")
        first, last = str(model["date"].min()), str(model["date"].max())
        t0, t1 = month_time([first, last])
        ax.set_xlim(t0, t1 + pd.DateOffset(months=1))
        _date_axis(ax2)
        _mark_events([ax, ax2], marks, first, last, key)
        fig.suptitle(f"Ecosystem bifurcation and policy levers ({points_phrase(points, n)})")
    return fig


def fig_bifurcation(model: pd.DataFrame, out_path: str | Path, events: Iterable[Any] = (),
                    varied: Sequence[str] = (), points: pd.Series | None = None) -> Path:
    """PNG of make_bifurcation."""
    return save_figure(make_bifurcation(model, events, varied, points), out_path)
