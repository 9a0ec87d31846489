"""The live dashboard: a Mesa SolaraViz page over the same ChipMarketModel the runs use.

Served by ``chipwar dashboard`` (``experiments/commands/dashboard.py``). The page has the
scenario picker and lever sliders (SolaraViz "Model Parameters"), step/play/reset, live plots
of stack shares by bloc, the bifurcation index and China's domestic share, and a table of the
offering prices the core set this month. Everything shown is read from the model (its tables,
data collector and offering arrays); the page computes only shares and formats.

Why ``DashboardModel`` exists: on Reset, Mesa 3.5's SolaraViz rebuilds the model as
``type(model)(**params)`` and, because every mesa.Model has a ``scenario`` property holding a
``mesa.experimental.scenarios.Scenario``, it also passes ``scenario=Scenario(...)`` to any
class whose ``__init__`` takes ``scenario`` or ``**kwargs``. ChipMarketModel takes
``scenario`` as a scenario *name* (and ``**overrides``), so a plain Reset fails with
``TypeError: argument should be a str or an os.PathLike object ..., not 'Scenario'`` and a
"scenario" Select would be overwritten. DashboardModel only renames that keyword to
``scenario_name`` and lists the levers explicitly; it adds no behaviour.
"""

from __future__ import annotations

from html import escape
from typing import Any

import matplotlib
import matplotlib.patches
import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from mesa.visualization import SolaraViz
from mesa.visualization.components.matplotlib_components import PlotMatplotlib
from mesa.visualization.utils import update_counter

from model.market_model import ChipMarketModel
from model.params import PARAMETERS, defaults
from model.scenario import available_scenarios, month_label
from model.types import BLOCS, STACKS

matplotlib.use("Agg")  # the server renders PNGs; never open a window

# Levers shown as sliders: (parameter, label, step). Bounds and defaults come from the registry.
LEVERS: tuple[tuple[str, str, float], ...] = (
    ("us_control_level", "US control level", 0.01),
    ("licence_levy", "Licence levy, US→China", 0.05),
    ("rare_earth_base", "Rare-earth restriction", 0.05),
    ("kappa", "Switching cost κ", 0.5),
    ("cn_subsidy_after", "China domestic-chip subsidy", 0.05),
)
REACTION_START_DEFAULT = "2026-01"
STACK_COLOURS: dict[str, str] = {"cuda": "#59a14f", "rocm": "#4e79a7", "cann": "#e15759",
                                 "other_cn": "#f28e2b"}
STACK_LABELS: dict[str, str] = {"cuda": "CUDA (Nvidia)", "rocm": "ROCm (AMD)",
                                "cann": "CANN (Huawei Ascend)", "other_cn": "other Chinese"}
BLOC_LABELS: dict[str, str] = {"us": "US & Tier-1 allies", "cn": "China", "gs": "Global South"}
TITLE = "chipwar — AI-accelerator market"
METRIC_LABELS: dict[str, str] = {
    "bifurcation_index": "bifurcation index  I(region; stack) / H(stack)",
    "bloc_jsd": "US-bloc vs China stack divergence (JSD)",
    "cn_domestic_share": "China's purchases on Chinese chips",
    "nvidia_china_revenue_share": "Nvidia revenue share from China",
}


class DashboardModel(ChipMarketModel):
    """ChipMarketModel under a keyword signature that SolaraViz can rebuild on Reset.

    The levers are explicit keywords (no ``**kwargs``, no ``scenario``) so Mesa passes exactly
    the page's parameters; they override the scenario file's values, as ``--set`` does.
    """

    def __init__(self, scenario_name: str = "baseline", seed: int = 0,
                 us_control_level: float = defaults()["us_control_level"],
                 licence_levy: float = defaults()["licence_levy"],
                 rare_earth_base: float = defaults()["rare_earth_base"],
                 kappa: float = defaults()["kappa"],
                 cn_subsidy_after: float = defaults()["cn_subsidy_after"],
                 reaction_start: str = REACTION_START_DEFAULT) -> None:
        super().__init__(scenario=scenario_name, rng=int(seed),
                         run_id=f"dashboard-{scenario_name}-{int(seed)}",
                         us_control_level=float(us_control_level), licence_levy=float(licence_levy),
                         rare_earth_base=float(rare_earth_base), kappa=float(kappa),
                         cn_subsidy_after=float(cn_subsidy_after), reaction_start=reaction_start)


def reaction_start_choices() -> list[str]:
    """January of each year from the default start to 2030 (when the levers may take effect)."""
    first = int(defaults()["start"][:4])
    return [f"{y}-01" for y in range(first, 2031)]


def model_params() -> dict[str, Any]:
    """SolaraViz ``model_params``: scenario picker, seed, lever sliders and their start month."""
    d = defaults()
    params: dict[str, Any] = {
        "scenario_name": {"type": "Select", "value": "baseline", "values": available_scenarios(),
                          "label": "Scenario"},
    }
    for name, label, step in LEVERS:
        p = PARAMETERS[name]
        params[name] = {"type": "SliderFloat", "value": float(d[name]), "min": float(p.low),
                        "max": float(p.high), "step": step, "label": label}
    params["reaction_start"] = {"type": "Select", "value": REACTION_START_DEFAULT,
                                "values": reaction_start_choices(), "label": "Levers act from"}
    params["seed"] = {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1,
                      "label": "Random seed"}
    return params


# ---------------------------------------------------------------- data shown (no model logic)
def current_label(model: ChipMarketModel) -> str:
    """YYYY-MM of the last simulated month, or 'not started'."""
    return month_label(model.month - 1) if model.month > model.start_month else "not started"


def stack_shares_by_bloc(model: ChipMarketModel) -> pd.DataFrame:
    """Installed H100e share of each stack within each bloc, one row per (step, bloc)."""
    ad = model.tables()["adoption"]
    if ad.empty:
        return pd.DataFrame(columns=["step", "date", "bloc", *STACKS])
    by = ad.pivot_table(index=["step", "date", "bloc"], columns="stack", values="installed_h100e",
                        aggfunc="sum", observed=True).reindex(columns=list(STACKS)).fillna(0.0)
    total = by.sum(axis=1).replace(0.0, np.nan)
    return by.div(total, axis=0).fillna(0.0).reset_index()


def price_table(model: ChipMarketModel) -> pd.DataFrame:
    """Offerings on sale in the last priced month with the core's prices, cheapest per H100e first."""
    pr, off = model.pricing, model.offerings
    if model.month <= model.start_month or pr.last_price is None:
        return pd.DataFrame()
    n = len(pr.last_price)  # offerings priced this month (variants are added before pricing)
    idx = np.flatnonzero(off.live[:n])  # the model's own "in production" rule (Eq. V8)
    cn = model.regions.index("cn")
    price = pr.last_price[idx]
    value = off.value[idx]
    df = pd.DataFrame({
        "offering": off.ids[idx].astype(str),
        "vendor": np.array(model.vendors.ids, dtype=object)[off.vendor[idx]].astype(str),
        "stack": np.array(STACKS, dtype=object)[off.stack[idx]].astype(str),
        "since": [month_label(int(a)) for a in off.available[idx]],
        "price_usd": price,
        "price_in_china_usd": pr.last_region_price[idx, cn],
        "value_h100e": value,
        "usd_per_h100e": price / value,
    })
    return df.sort_values("usd_per_h100e", ignore_index=True)


def _year(model: ChipMarketModel, steps: np.ndarray) -> np.ndarray:
    """Decimal calendar year of a step number (step 0 = the start month, as in the tables)."""
    return (model.start_month + np.asarray(steps, dtype=float)) / 12.0


def _run_years(model: ChipMarketModel) -> tuple[float, float]:
    """First and last month of the run as decimal years (a fixed time axis)."""
    return model.start_month / 12.0, model.end_month / 12.0


def stack_share_figure(model: ChipMarketModel) -> Figure:
    """One panel per bloc (stacked vertically) of installed-compute share by stack over time."""
    shares = stack_shares_by_bloc(model)
    fig = Figure(figsize=(6.0, 4.0))
    fig.subplots_adjust(left=0.2, right=0.98, top=0.92, bottom=0.14, hspace=0.12)
    axes = fig.subplots(len(BLOCS), 1, sharex=True)
    for ax, bloc in zip(axes, BLOCS, strict=True):
        part = shares[shares["bloc"] == bloc]
        if len(part):
            x = _year(model, part["step"].to_numpy())
            ys = [part[s].to_numpy(dtype=float) for s in STACKS]
            ax.stackplot(x, ys, colors=[STACK_COLOURS[s] for s in STACKS], alpha=0.9, linewidth=0)
        else:
            ax.text(0.5, 0.5, "press Step", ha="center", va="center", transform=ax.transAxes,
                    color="0.5")
        ax.set_ylabel(BLOC_LABELS[bloc].replace(" & ", " &\n"), fontsize=8, rotation=0,
                      ha="right", va="center")
        ax.set_xlim(*_run_years(model))
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(labelsize=8)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:.0f}"))
    handles = [matplotlib.patches.Patch(color=STACK_COLOURS[s], label=STACK_LABELS[s]) for s in STACKS]
    fig.legend(handles=handles, loc="lower center", ncol=len(STACKS), fontsize=8, frameon=False)
    fig.suptitle(f"Installed compute by stack, share within each bloc — {current_label(model)}",
                 fontsize=10)
    return fig


def _years_axis(model: ChipMarketModel, title: str, ylabel: str):
    """post_process for Mesa's PlotMatplotlib: title, [0, 1] y-range and a calendar-year top axis."""
    def post(ax) -> None:
        ax.set_title(f"{title} — {current_label(model)}", fontsize=11)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.figure.set_size_inches(6.0, 3.9)
        ax.set_xlim(0, model.end_month - model.start_month)
        top = ax.secondary_xaxis("top", functions=(lambda s: _year(model, s),
                                                   lambda y: y * 12.0 - model.start_month))
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.xaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:.0f}"))
        top.tick_params(labelsize=8)
        for line in ax.get_lines():
            line.set_label(METRIC_LABELS.get(line.get_label(), line.get_label()))
            line.set_linewidth(1.8)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    return post


# ---------------------------------------------------------------- components
def _fmt(value: float | None, pct: bool = False) -> str:
    """A metric for display: '–' when missing, else 3 decimals or a percentage."""
    if value is None or value != value:
        return "–"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def status_html(model: ChipMarketModel) -> str:
    """Current month, headline metrics and the levers in force (with the scenario's own values)."""
    m = model.recorder.latest
    tiles = [("Bifurcation index", _fmt(m.get("bifurcation_index"))),
             ("Bloc JSD", _fmt(m.get("bloc_jsd"))),
             ("China domestic share", _fmt(m.get("cn_domestic_share"), pct=True)),
             ("US / China compute", _fmt(m.get("us_cn_compute_ratio"))),
             ("Rare-earth restriction", _fmt(m.get("rare_earth_restriction")))]
    tile_html = "".join(
        f'<div style="flex:1 1 0;min-width:90px;padding:6px 8px;background:#f4f6fa;border-radius:6px">'
        f'<div style="font-size:11px;color:#555">{escape(k)}</div>'
        f'<div class="chipwar-metric" style="font-size:18px;font-weight:600">{escape(v)}</div></div>'
        for k, v in tiles)
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td style='text-align:right'>{float(model.p[name]):.2f}</td>"
        f"<td style='text-align:right;color:#666'>{float(model.spec.params.get(name, defaults()[name])):.2f}</td></tr>"
        for name, label, _step in LEVERS)
    return (
        f'<div style="font-size:13px;line-height:1.35">'
        f'<div style="font-size:17px;font-weight:600;margin-bottom:6px">'
        f'{escape(model.scenario_name)} · <span id="chipwar-month">{escape(current_label(model))}</span></div>'
        f'<div style="display:flex;gap:6px;margin-bottom:8px">{tile_html}</div>'
        f'<table id="chipwar-levers" style="border-collapse:collapse;width:100%;margin-bottom:6px">'
        f'<tr style="border-bottom:1px solid #ccc"><th style="text-align:left">lever</th>'
        f'<th style="text-align:right">in force</th><th style="text-align:right">scenario file</th></tr>'
        f'{rows}</table>'
        f'<div style="color:#444">Levers act from <b>{escape(str(model.p["reaction_start"]))}</b>, when '
        f'the regulators\' reaction functions start. The default, 2026-01, first replays the '
        f'2022–2025 history; an earlier month lets the levers act at once, but the scenario\'s '
        f'dated events still fire on their dates and win in those months (pick <i>no_controls</i> '
        f'to see the US levers alone). Sliders and the scenario apply when you press '
        f'<b>Reset</b>.</div></div>')


@solara.component
def StatusCard(model: ChipMarketModel) -> None:
    """Current month, headline metrics and levers in force, with how the page works."""
    update_counter.get()
    solara.HTML(tag="div", unsafe_innerHTML=status_html(model))


@solara.component
def StackSharesPlot(model: ChipMarketModel) -> None:
    """Installed-compute share by stack in each bloc over time."""
    update_counter.get()
    solara.FigureMatplotlib(stack_share_figure(model), format="png", bbox_inches="tight")


def BifurcationPlot(model: ChipMarketModel):
    """Mesa's PlotMatplotlib of the bifurcation index and bloc JSD from the data collector."""
    return PlotMatplotlib(model, {"bifurcation_index": "#7f3c8d", "bloc_jsd": "#3969ac"},
                          post_process=_years_axis(model, "Bifurcation", "index (0 = one world, 1 = split)"))


def DomesticSharePlot(model: ChipMarketModel):
    """Mesa's PlotMatplotlib of China's domestic share and Nvidia's China revenue share."""
    return PlotMatplotlib(model, {"cn_domestic_share": "#e15759",
                                  "nvidia_china_revenue_share": "#59a14f"},
                          post_process=_years_axis(model, "China", "share"))


def price_html(model: ChipMarketModel) -> str:
    """The price table as HTML (escaped), or a hint before the first step."""
    df = price_table(model)
    if df.empty:
        return ("<div style='font-size:15px;font-weight:600'>Offering prices</div>"
                "<p>Press <b>Step</b>: the core prices the offerings every month.</p>")
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
            f"{escape(current_label(model))}</div>"
            f"<table id='chipwar-prices' style='border-collapse:collapse;width:100%;font-size:12px;"
            f"white-space:nowrap'>"
            f"{head}{body}</table>"
            f"<div style='font-size:11px;color:#555;margin-top:4px'>Square: stack colour as in the "
            f"plots. <i>USD/unit</i>: price per accelerator; <i>in China</i>: incl. the passed-on "
            f"share of any licence levy; <i>H100e</i>: effective H100-equivalents per unit on the "
            f"workload mix; cheapest per H100e first.</div>")


@solara.component
def PriceTable(model: ChipMarketModel) -> None:
    """Offerings on sale this month with the core's prices (USD per accelerator)."""
    update_counter.get()
    solara.HTML(tag="div", unsafe_innerHTML=price_html(model),
                style="overflow:auto;height:100%;padding-right:4px")


COMPONENTS = [(StatusCard, 0), (StackSharesPlot, 0), (BifurcationPlot, 0),
              (DomesticSharePlot, 0), (PriceTable, 0)]


@solara.component
def Page() -> None:
    """The page: one DashboardModel per browser session under Mesa's SolaraViz."""
    model = solara.use_memo(DashboardModel, dependencies=[])
    SolaraViz(model, components=COMPONENTS, model_params=model_params(), name=TITLE,
              play_interval=150)
