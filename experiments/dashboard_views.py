"""What the dashboard draws: figures and HTML from recorded runs (experiments/dashboard_runs.py).

Pure functions of a run and the number of months shown: no model logic, no Solara. Colours
and labels are the output schema's (model/outputs.py), the same as the figures'.
"""

from __future__ import annotations

import io
from html import escape

import matplotlib
import matplotlib.patches
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, PercentFormatter

from experiments.dashboard_runs import LEVERS, Comparison, RecordedRun, SeedBand
from model.outputs import BLOC_LABELS, METRIC_LABELS, STACK_COLOURS, STACK_LABELS
from model.types import BLOCS, STACKS

matplotlib.use("Agg")  # the server renders PNGs; never open a window

# Lines of the metric plots: (model-table column, colour). Shares and indices in [0, 1].
BIFURCATION_LINES = (("bifurcation_index", "#7f3c8d"), ("bloc_jsd", "#3969ac"))
CHINA_LINES = (("cn_domestic_share", STACK_COLOURS["cann"]), ("nvidia_china_revenue_share", STACK_COLOURS["cuda"]))
BAND_METRICS = ("bifurcation_index", "bloc_jsd", "cn_domestic_share", "gs_cuda_share")


def _years(start_month: int, steps) -> np.ndarray:
    """Decimal calendar year of a step (step 0 = the start month, as in the tables)."""
    return (start_month + np.asarray(steps, dtype=float)) / 12.0


def _year_axis(ax, start_month: int, end_month: int) -> None:
    """The whole run on the x-axis, one labelled tick every two years (readable at any horizon)."""
    first, last = start_month // 12, end_month // 12 + 1
    ax.set_xlim(start_month / 12.0, (end_month + 1) / 12.0)
    ticks = list(range(first + (first % 2), last + 1, 2))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([str(t) for t in ticks])
    ax.tick_params(labelsize=8)


def stack_share_figure(run: RecordedRun, months: int, title: str | None = None) -> Figure:
    """One panel per bloc of installed-compute share by stack, up to the last month shown."""
    fig = Figure(figsize=(6.0, 4.0))
    fig.subplots_adjust(left=0.2, right=0.98, top=0.9, bottom=0.16, hspace=0.14)
    axes = fig.subplots(len(BLOCS), 1, sharex=True)
    shares = run.shares if run.ready else None
    for ax, bloc in zip(axes, BLOCS, strict=True):
        part = None if shares is None else shares[(shares["bloc"] == bloc) & (shares["step"] < months)]
        if part is not None and len(part):
            x = _years(run.start_month, part["step"].to_numpy())
            ax.stackplot(x, [part[s].to_numpy(dtype=float) for s in STACKS],
                         colors=[STACK_COLOURS[s] for s in STACKS], alpha=0.9, linewidth=0)
        ax.set_ylabel(BLOC_LABELS[bloc].replace(" & ", " &\n"), fontsize=8, rotation=0, ha="right", va="center")
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _year_axis(ax, run.start_month, run.end_month)
    if months <= 0:
        axes[1].text(0.5, 0.5, "press Step or ▶ Play", ha="center", va="center", transform=axes[1].transAxes,
                     color="0.5")
    handles = [matplotlib.patches.Patch(color=STACK_COLOURS[s], label=STACK_LABELS[s]) for s in STACKS]
    fig.legend(handles=handles, loc="lower center", ncol=len(STACKS), fontsize=8, frameon=False)
    fig.suptitle(title or f"Installed compute by stack, share within each bloc — {run.month_label(months)}",
                 fontsize=10)
    return fig


def metric_figure(run: RecordedRun, months: int, lines, title: str) -> Figure:
    """Monthly metric lines of the model table up to the last month shown."""
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.12)
    table = run.tables["model"] if run.ready else None
    for name, colour in lines:
        if table is not None and months > 0:
            part = table[table["step"] < months]
            ax.plot(_years(run.start_month, part["step"]), part[name], color=colour, lw=1.8,
                    label=METRIC_LABELS[name])
        else:
            ax.plot([], [], color=colour, lw=1.8, label=METRIC_LABELS[name])
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    _year_axis(ax, run.start_month, run.end_month)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(f"{title} — {run.month_label(months)}", fontsize=10)
    return fig


def band_figure(band: SeedBand, start_month: int, end_month: int) -> Figure:
    """Median and 10-90 % band over the finished seeds of four headline metrics."""
    fig = Figure(figsize=(9.0, 5.2))
    axes = fig.subplots(2, 2, sharex=True).ravel()
    fig.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.08, hspace=0.3, wspace=0.15)
    df = band.combined()
    k = len(band.model_tables)
    for ax, name in zip(axes, BAND_METRICS, strict=True):
        if k:
            g = df.groupby("step")[name]
            q = g.quantile([0.1, 0.5, 0.9]).unstack()
            x = _years(start_month, q.index.to_numpy())
            ax.fill_between(x, q[0.1], q[0.9], color="#4e79a7", alpha=0.25, lw=0, label="10–90 % of seeds")
            ax.plot(x, q[0.5], color="#1f3b5c", lw=1.8, label="median")
        ax.set_title(METRIC_LABELS[name], fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        _year_axis(ax, start_month, end_month)
    if k:
        axes[0].legend(loc="upper left", fontsize=8, frameon=False)
    seeds = f"seeds {band.seeds[0]}–{band.seeds[-1]}" if band.n > 1 else f"seed {band.seeds[0]}"
    fig.suptitle(f"{band.scenario}: {k} of {band.n} runs done ({seeds})", fontsize=10)
    return fig


def compare_figure(cmp: Comparison) -> Figure:
    """The four headline metrics of both scenarios over the whole run (A solid, B dashed)."""
    fig = Figure(figsize=(9.0, 5.2))
    axes = fig.subplots(2, 2, sharex=True).ravel()
    fig.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.08, hspace=0.3, wspace=0.15)
    a, b = cmp.runs
    for ax, name in zip(axes, BAND_METRICS, strict=True):
        for run, style, colour in ((a, "-", "#1f3b5c"), (b, "--", "#e15759")):
            if run.ready:
                t = run.tables["model"]
                ax.plot(_years(run.start_month, t["step"]), t[name], style, color=colour, lw=1.8, label=run.scenario)
        ax.set_title(METRIC_LABELS[name], fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        _year_axis(ax, a.start_month, max(a.end_month, b.end_month))
    axes[0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.suptitle(f"{a.scenario} (solid) vs {b.scenario} (dashed), seed {a.seed}", fontsize=10)
    return fig


def png_bytes(fig: Figure, tight: bool = True) -> bytes:
    """The figure as PNG bytes: the page's frames (``tight=False``, cheaper) and the downloads."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100 if tight else 90, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode()


# ---------------------------------------------------------------- HTML
def fmt(value: float | None, pct: bool = False) -> str:
    """A metric for display: '–' when missing, else 3 decimals or a percentage."""
    if value is None or value != value:
        return "–"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def tiles_html(metrics: dict[str, float]) -> str:
    tiles = [("Bifurcation index", fmt(metrics.get("bifurcation_index"))),
             ("Bloc JSD", fmt(metrics.get("bloc_jsd"))),
             ("China domestic share", fmt(metrics.get("cn_domestic_share"), pct=True)),
             ("US / China compute", fmt(metrics.get("us_cn_compute_ratio"))),
             ("Rare-earth restriction", fmt(metrics.get("rare_earth_restriction")))]
    return "".join(
        f'<div style="flex:1 1 0;min-width:90px;padding:6px 8px;background:#f4f6fa;border-radius:6px">'
        f'<div style="font-size:11px;color:#555">{escape(k)}</div>'
        f'<div class="chipwar-metric" style="font-size:18px;font-weight:600">{escape(v)}</div></div>'
        for k, v in tiles)


def _value(name: str, value) -> str:
    return escape(str(value)) if name in ("reaction_start", "taiwan_disruption_start") else f"{float(value):.2f}"


def status_html(run: RecordedRun, months: int, pending: dict | None = None, pending_scenario: str | None = None) -> str:
    """Month shown, headline tiles and a table of the levers: in force in this run, as the
    sidebar now sets them (applied on Reset) and as the scenario file sets them."""
    pending = pending if pending is not None else run.settings
    own = run.params  # scenario plus the settings that differ from its file
    rows = []
    for name, label in [*((n, lab) for n, lab, _s in LEVERS), ("taiwan_disruption_start", "Taiwan disruption from"),
                        ("reaction_start", "Levers act from")]:
        now, nxt = run.p[name], pending.get(name, run.p[name])
        changed = nxt != now
        style = " style='background:#fff3cd'" if changed else ""
        rows.append(f"<tr{style}><td>{escape(label)}</td><td style='text-align:right'>{_value(name, now)}</td>"
                    f"<td style='text-align:right'>{_value(name, nxt)}{' ⟲' if changed else ''}</td>"
                    f"<td style='text-align:right;color:#666'>{'you' if name in own else 'scenario'}</td></tr>")
    waiting = any(pending.get(n, run.p[n]) != run.p[n] for n in pending) or (
        pending_scenario is not None and pending_scenario != run.scenario)
    note = ("<b style='color:#8a6d00'>Settings changed: press Reset to apply them.</b> " if waiting else "")
    if run.error:
        state = f"<span style='color:#b00020'>{escape(run.error)}</span>"
    elif not run.done.is_set():
        state = f"computing the run… {run.months_done} of {run.total} months"
    else:
        state = f"run computed: {run.months} months in {run.seconds:.1f} s"
    return (
        f'<div style="font-size:13px;line-height:1.35">'
        f'<div style="font-size:17px;font-weight:600;margin-bottom:2px">'
        f'{escape(run.scenario)} · seed {run.seed} · '
        f'<span id="chipwar-month">{escape(run.month_label(months))}</span></div>'
        f'<div style="color:#555;margin-bottom:6px">{escape(run.description)}<br>'
        f'<span id="chipwar-run-state">{state}</span></div>'
        f'<div style="display:flex;gap:6px;margin-bottom:8px">{tiles_html(run.metrics(months))}</div>'
        f'<table id="chipwar-levers" style="border-collapse:collapse;width:100%;margin-bottom:6px">'
        f'<tr style="border-bottom:1px solid #ccc"><th style="text-align:left">lever</th>'
        f'<th style="text-align:right">in force</th><th style="text-align:right">on Reset</th>'
        f'<th style="text-align:right">set by</th></tr>{"".join(rows)}</table>'
        f'<div style="color:#444">{note}The sidebar\'s scenario, levers and seed apply when you press '
        f'<b>Reset</b> (a changed row is marked ⟲). Picking a scenario loads its own lever values. Levers '
        f'act from the month shown, when the regulators\' reaction functions start; the default, 2026-01, '
        f'first replays the 2022–2025 history, and a scenario\'s dated events still fire on their '
        f'dates.</div></div>')


def price_html(run: RecordedRun, months: int) -> str:
    """The price table as HTML (escaped), or a hint before the first month."""
    df = run.price_table(months)
    if df.empty:
        return ("<div style='font-size:15px;font-weight:600'>Offering prices</div>"
                "<p>Press <b>Step</b> or <b>▶</b>: the core prices the offerings every month.</p>")
    right = "style='text-align:right'"
    head = ("<tr style='border-bottom:1px solid #ccc'><th style='text-align:left'>offering</th>"
            f"<th {right}>USD/H100e</th><th {right}>USD/unit</th><th {right}>in China</th>"
            f"<th {right}>H100e</th><th>since</th><th style='text-align:left'>vendor</th></tr>")
    body = "".join(
        f"<tr><td><span title='{escape(r.stack)}' style='color:{STACK_COLOURS.get(r.stack, '#333')}'>"
        f"&#9632;</span> {escape(r.offering)}</td>"
        f"<td {right}><b>{r.usd_per_h100e:,.0f}</b></td><td {right}>{r.price_usd:,.0f}</td>"
        f"<td {right}>{r.price_in_china_usd:,.0f}</td><td {right}>{r.value_h100e:.2f}</td>"
        f"<td>{escape(r.since)}</td><td>{escape(r.vendor)}</td></tr>"
        for r in df.itertuples(index=False))
    return (f"<style>#chipwar-prices td, #chipwar-prices th {{padding:1px 5px}}</style>"
            f"<div style='font-size:15px;font-weight:600;margin-bottom:4px'>Offering prices — "
            f"{escape(run.month_label(months))}</div>"
            f"<table id='chipwar-prices' style='border-collapse:collapse;width:100%;font-size:12px;"
            f"white-space:nowrap'>{head}{body}</table>"
            f"<div style='font-size:11px;color:#555;margin-top:4px'>Square: stack colour as in the "
            f"plots. <i>USD/unit</i>: price per accelerator; <i>in China</i>: incl. the passed-on "
            f"share of any licence levy; <i>H100e</i>: effective H100-equivalents per unit on the "
            f"workload mix; cheapest per H100e first.</div>")


def end_tiles_html(run: RecordedRun) -> str:
    """A compared scenario's heading, question and its last month's tiles."""
    if run.error:
        body = f"<span style='color:#b00020'>{escape(run.error)}</span>"
    elif not run.ready:
        body = f"computing… {run.months_done} of {run.total} months"
    else:
        body = (f'<div style="display:flex;gap:6px">{tiles_html(run.metrics(run.months))}</div>')
    return (f'<div class="chipwar-compare" style="font-size:13px"><div style="font-size:16px;font-weight:600">'
            f'{escape(run.scenario)} · {escape(run.month_label(run.months))}</div>'
            f'<div style="color:#555;margin-bottom:4px">{escape(run.description)}</div>{body}</div>')
